"""Confidence (predict.tag_with_confidence): each chosen tag's probability, the same on the numpy
and torch engines, for softmax, scheme-constrained, CRF, ensemble and several-column models;
the tags are those plain tagging gives; probabilities of a token sum to 1 per column."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import DATA
from test_numpy_engine import OUTPUTS, make_model

from seqtag import modelfile
from seqtag.batch import Batcher
from seqtag.config import ModelConfig, TrainConfig
from seqtag.engine import load_tagger
from seqtag.lines import open_lines
from seqtag.model import build_network
from seqtag.read import TAG_SEPARATOR, Column, read_conllu
from seqtag.torch_engine import TorchEngine
from seqtag.vocab import Vocabularies

CPU = torch.device("cpu")
pytest_plugins = ["test_numpy_engine"]  # its corpus fixture


def engines(path):
    """The numpy engine of a model file, and the torch engine of the same file on the CPU."""
    loaded = modelfile.load(path, CPU)
    batcher = Batcher(loaded.vocabularies, loaded.model_config)
    return load_tagger(path, "cpu").engine, TorchEngine(loaded.model, batcher, CPU)


CASES = {name: dict(zip(("scheme", "crf"), OUTPUTS[name][:2], strict=True)) for name in OUTPUTS}
CASES |= {
    "ensemble softmax": {"ensemble": 2},
    "ensemble crf iob2": {"ensemble": 2, "scheme": "iob2", "crf": True},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_engines_agree_and_the_tags_are_plain_taggings(tmp_path, corpus, case):
    settings = dict(CASES[case])
    labels = OUTPUTS.get(case.removeprefix("ensemble "), (None, None, None))[2]
    config = ModelConfig(hidden=12, word_dim=10, char_dim=6, char_hidden=7, **settings)
    path = make_model(tmp_path / "m.model", corpus, config, labels, seed=5)
    numpy_engine, torch_engine = engines(path)
    sentences = corpus[:30] + corpus[-4:]
    on_numpy = numpy_engine.with_confidence(sentences, top=3)
    on_torch = torch_engine.with_confidence(sentences, top=3)
    assert [c.tags for c in on_numpy] == numpy_engine(sentences) == torch_engine(sentences)
    for mine, theirs, sentence in zip(on_numpy, on_torch, sentences, strict=True):
        assert len(mine.confidence) == len(mine.tags) == len(sentence.words)
        np.testing.assert_allclose(mine.confidence, theirs.confidence, atol=2e-4)
        for p, ranked, tag in zip(mine.confidence, mine.top, mine.tags, strict=True):
            (column,) = ranked
            assert 0 < p <= 1 + 1e-9 and len(column) == 3
            assert dict(column).get(tag, p) == pytest.approx(p)  # the tag's own probability
            probabilities = [q for _, q in column]
            assert probabilities == sorted(probabilities, reverse=True)
            if not settings.get("crf") and settings.get("scheme") is None:
                assert column[0][0] == tag  # a plain softmax tags the most probable label


def test_a_model_of_several_columns_gives_one_probability_per_column(tmp_path):
    path = str(DATA / "en_ewt-excerpt-train.conllu")
    two = list(read_conllu(open_lines(path), Column.parse("upos,xpos")))[:40]
    config = ModelConfig(hidden=12, word_dim=10, char_dim=6, char_hidden=7)
    vocabularies = Vocabularies.build(two, config, 2)
    torch.manual_seed(2)
    model = tmp_path / "m.model"
    modelfile.save(model, build_network(config, vocabularies), vocabularies, "upos,xpos",
                   TrainConfig(), {})  # fmt: skip
    numpy_engine, torch_engine = engines(model)
    on_numpy = numpy_engine.with_confidence(two[:10], top=2)
    on_torch = torch_engine.with_confidence(two[:10], top=2)
    for mine, theirs in zip(on_numpy, on_torch, strict=True):
        assert all(isinstance(c, tuple) and len(c) == 2 for c in mine.confidence)
        np.testing.assert_allclose(mine.confidence, theirs.confidence, atol=2e-4)
        for tag, ranked, sure in zip(mine.tags, mine.top, mine.confidence, strict=True):
            upos, xpos = ranked
            assert [upos[0][0], xpos[0][0]] == tag.split(TAG_SEPARATOR)  # argmax per column
            assert (upos[0][1], xpos[0][1]) == pytest.approx(sure)


def run(*args, input=None):
    from click.testing import CliRunner

    from seqtag.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], input=input)


TEXT = "The cat sat on the mat. It was green.\n"


def test_tsv_and_the_python_api_give_the_same_confidence(tiny_model):
    from seqtag import Tagger

    result = run("tag", "-m", tiny_model, "-f", "tsv", "--confidence", input=TEXT)
    assert result.exit_code == 0, result.output
    sentences = [block.splitlines() for block in result.stdout.strip().split("\n\n")]
    rows = [[line.split("\t") for line in lines] for lines in sentences]
    assert all(len(row) == 3 for sentence in rows for row in sentence)
    tokens = [[row[0] for row in sentence] for sentence in rows]
    tagged = Tagger.load(tiny_model).tag(tokens, confidence=True)
    for sentence, pairs in zip(rows, tagged, strict=True):
        assert [(row[1], row[2]) for row in sentence] == [(t, f"{p:.4f}") for t, p in pairs]


def test_conllu_keeps_every_byte_and_adds_a_misc_confidence(tiny_model, tmp_path):
    gold = DATA / "en_ewt-excerpt-test.conllu"
    lines = gold.read_text(encoding="utf-8").split("\n\n")[:5]
    source = tmp_path / "in.conllu"
    # A MISC item of its own on the first word, kept beside the new key.
    first = lines[0].split("\n")
    word = next(i for i, line in enumerate(first) if line[:1].isdigit() and "\t" in line)
    fields = first[word].split("\t")
    fields[9] = "Note=kept" if fields[9] == "_" else fields[9] + "|Note=kept"
    first[word] = "\t".join(fields)
    source.write_text("\n".join(first) + "\n\n" + "\n\n".join(lines[1:]) + "\n\n", "utf-8")
    plain = run("tag", "-m", tiny_model, source)
    sure = run("tag", "-m", tiny_model, source, "--confidence")
    assert plain.exit_code == sure.exit_code == 0
    assert "Note=kept" in sure.stdout
    stripped = []
    for line in sure.stdout.split("\n"):
        fields = line.split("\t")
        if len(fields) == 10:
            items = [i for i in fields[9].split("|") if not i.startswith("Confidence=")]
            if fields[0].isdigit():
                confidence = [i for i in fields[9].split("|") if i.startswith("Confidence=")]
                assert len(confidence) == 1 and 0 < float(confidence[0][11:]) <= 1
            fields[9] = "|".join(items) or "_"
        stripped.append("\t".join(fields))
    assert "\n".join(stripped) == plain.stdout


def test_a_crf_column_file_gets_a_last_field_and_jsonl_top_labels(tmp_path, corpus):
    config = ModelConfig(hidden=12, word_dim=10, char_dim=6, char_hidden=7, scheme="iob2", crf=True)
    labels = OUTPUTS["crf iob2"][2]
    model = make_model(tmp_path / "m.model", corpus, config, labels, seed=4)
    text = "Ada B-PER\nLovelace I-PER\nwrote O\n\nParis B-LOC\n"
    source = tmp_path / "in.txt"
    source.write_text(text, encoding="utf-8")
    result = run("tag", "-m", model, "-i", "columns", "--confidence", source)
    assert result.exit_code == 0, result.output
    rows = [line.split(" ") for line in result.stdout.split("\n") if line]
    assert [row[0] for row in rows] == ["Ada", "Lovelace", "wrote", "Paris"]
    assert all(len(row) == 3 and 0 < float(row[2]) <= 1 for row in rows)
    result = run("tag", "-m", model, "-i", "columns", "-f", "jsonl", "--top", "2", source)
    assert result.exit_code == 0, result.output
    import json

    for line in result.stdout.splitlines():
        record = json.loads(line)
        assert len(record["confidence"]) == len(record["tokens"]) == len(record["top"])
        for tag, p, top in zip(record["tags"], record["confidence"], record["top"], strict=True):
            assert len(top) == 2 and top[0][1] >= top[1][1]
            assert dict(top).get(tag, p) == pytest.approx(p, abs=1e-4)
        for entity in record["entities"]:
            # The whole span's probability: at most its least sure token's.
            tokens = record["confidence"][entity["start"] : entity["end"]]
            assert 0 < entity["confidence"] <= min(tokens) + 1e-4


def test_top_goes_with_jsonl(tiny_model):
    result = run("tag", "-m", tiny_model, "--top", "3", input=TEXT)
    assert result.exit_code == 2
    assert "Error: --top K lists labels in JSON: it goes with -f jsonl" in result.stderr
