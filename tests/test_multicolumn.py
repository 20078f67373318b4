"""Several columns learned by one model (--column upos,xpos,feats): reading and writing joined
tags, the vocabularies and batches, one softmax per column, both engines, and the CLI."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
import torch
from click.testing import CliRunner
from conftest import DATA, TINY_OPTIONS
from hypothesis import given
from hypothesis import strategies as st

from seqtag import SeqtagError, Tagger, modelfile
from seqtag.batch import IGNORE, Batcher
from seqtag.cli import main
from seqtag.config import ModelConfig, TrainConfig
from seqtag.lines import LineReader, open_lines
from seqtag.model import build_network
from seqtag.numpy_engine import NumpyEngine
from seqtag.read import TAG_SEPARATOR, Column, Columns, Sentence, read_conllu
from seqtag.scheme import allowed_transitions
from seqtag.torch_engine import TorchEngine
from seqtag.vocab import Vocabularies

TRAIN, DEV = DATA / "en_ewt-excerpt-train.conllu", DATA / "en_ewt-excerpt-dev.conllu"
TEST = DATA / "en_ewt-excerpt-test.conllu"
CPU = torch.device("cpu")
FIELDS = ["1", "Dogs", "dog", "NOUN", "NNS", "Number=Plur", "2", "nsubj", "_", "NER=O"]


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def read(path, spec: str) -> list[Sentence]:
    return list(read_conllu(open_lines(str(path)), Column.parse(spec)))


# --- reading and writing joined tags ------------------------------------------------------


def test_a_column_list_reads_and_writes_every_column():
    columns = Column.parse("upos, xpos,misc:NER")
    assert isinstance(columns, Columns) and columns.names == ["upos", "xpos", "misc:NER"]
    assert columns.spec == "upos,xpos,misc:NER"
    assert columns.get(FIELDS) == TAG_SEPARATOR.join(["NOUN", "NNS", "O"])
    fields = list(FIELDS)
    columns.set(fields, TAG_SEPARATOR.join(["VERB", "VBZ", "B-PER"]))
    assert fields == [*FIELDS[:3], "VERB", "VBZ", *FIELDS[5:9], "NER=B-PER"]
    with pytest.raises(ValueError, match="not a tag of the 3 columns"):
        columns.set(fields, "VERB")
    assert Column.parse("upos").names == ["upos"]


@pytest.mark.parametrize("spec", ["upos,upos", "upos,,xpos", "upos,"])
def test_a_bad_column_list_is_refused_with_an_example(spec):
    with pytest.raises(SeqtagError, match="e.g. upos,xpos,feats"):
        Column.parse(spec)


@given(st.lists(st.text(st.characters(blacklist_characters="\t\n|="), min_size=1), min_size=3))
def test_set_then_get_gives_the_tags_back(values):
    columns = Column.parse("upos,xpos,feats")
    fields = list(FIELDS)
    tag = TAG_SEPARATOR.join(values[:3])
    columns.set(fields, tag)
    assert columns.get(fields) == tag


# --- vocabularies, batches, the model ---------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> list[Sentence]:
    return read(TRAIN, "upos,xpos,feats")[:60]


def test_vocabularies_keep_one_label_set_per_column(corpus):
    vocabularies = Vocabularies.build(corpus, columns=3)
    upos, xpos, feats = vocabularies.label_sets
    assert "NOUN" in upos.to_list() and "NN" in xpos.to_list() and "Number=Sing" in feats.items
    again = Vocabularies.from_dict(json.loads(json.dumps(vocabularies.to_dict())))
    assert [v.items for v in again.label_sets] == [v.items for v in vocabularies.label_sets]
    ids = [(upos.encode("NOUN"), xpos.encode("NN"), feats.encode("_"))]
    assert vocabularies.decode_tags(ids) == [TAG_SEPARATOR.join(["NOUN", "NN", "_"])]
    assert len(Vocabularies.build(corpus).label_sets) == 1  # joined tags as one label set


def test_batches_hold_one_label_id_per_column(corpus):
    vocabularies = Vocabularies.build(corpus, columns=3)
    batch = Batcher(vocabularies).batch(corpus[:4], with_tags=True)
    B, T = batch.words.shape
    assert batch.tags.shape == (B, T, 3)
    first = corpus[0].tags[0].split(TAG_SEPARATOR)
    expected = [
        labels.encode(value) for labels, value in zip(vocabularies.label_sets, first, strict=True)
    ]
    assert batch.tags[0, 0].tolist() == expected
    assert (batch.tags[~batch.mask] == IGNORE).all()


def test_the_loss_is_the_sum_of_one_cross_entropy_per_column(corpus):
    config = ModelConfig(hidden=8, char_hidden=5, dropout=0.0)
    vocabularies = Vocabularies.build(corpus, config, columns=3)
    torch.manual_seed(0)
    model = build_network(config, vocabularies)
    batch = Batcher(vocabularies, config).batch(corpus[:4], with_tags=True)
    emissions = model(batch)
    sizes = [len(labels) for labels in vocabularies.label_sets]
    assert emissions.shape[-1] == sum(sizes)
    expected = sum(
        torch.nn.functional.cross_entropy(
            scores.flatten(0, 1),
            batch.tags[..., i].flatten(),
            ignore_index=IGNORE,
            label_smoothing=config.label_smoothing,  # the default, 0.1: each column smoothed
        )
        for i, scores in enumerate(emissions.split(sizes, dim=-1))
    )
    assert model.loss(emissions, batch).item() == pytest.approx(expected.item(), rel=1e-6)
    decoded = model.decode(emissions, batch.mask)
    assert [len(d) for d in decoded] == batch.lengths.tolist()
    assert all(len(ids) == 3 for sentence in decoded for ids in sentence)


def test_a_crf_or_a_scheme_needs_a_single_column(corpus):
    vocabularies = Vocabularies.build(corpus, ModelConfig(), columns=3)
    with pytest.raises(SeqtagError, match="one column"):
        build_network(ModelConfig(hidden=8, crf=True), vocabularies)
    vocabularies = dataclasses.replace(vocabularies, labels=Vocabularies.build(corpus).labels)
    labels = ["O", "B-X", "I-X"]
    with pytest.raises(SeqtagError, match="one column"):
        from seqtag.architecture import Architecture, Sizes
        from seqtag.model import Network

        config = ModelConfig(hidden=8, affixes=0)
        Network(Architecture(config, Sizes(10, 10, (3, 4))), allowed_transitions(labels, "iob2"))


def test_both_engines_tag_several_columns_alike(corpus, tmp_path):
    config = ModelConfig(hidden=10, word_dim=8, char_hidden=6, char_dim=5)  # affixes too
    vocabularies = Vocabularies.build(corpus, config, columns=3)
    torch.manual_seed(1)
    model = build_network(config, vocabularies)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(3.0)
    path = tmp_path / "m.model"
    modelfile.save(path, model, vocabularies, "upos,xpos,feats", TrainConfig(), {})
    loaded = modelfile.load(path)
    plain = [Sentence(s.words) for s in corpus] + [Sentence(["Zyzzyva", ""]), Sentence([])]
    expected = TorchEngine(loaded.model, Batcher(loaded.vocabularies, config), CPU)(plain)
    assert NumpyEngine(modelfile.read_model(path))(plain) == expected
    assert all(tag.count(TAG_SEPARATOR) == 2 for tags in expected for tag in tags)


# --- the command line and the API -------------------------------------------------------------


@pytest.fixture(scope="module")
def three_column_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("columns") / "morph.model"
    result = run(
        "train", TRAIN, "--dev", DEV, "-o", path, "--column", "upos,xpos,feats", *TINY_OPTIONS
    )
    assert result.exit_code == 0, result.output
    return path


def test_eval_scores_each_column_and_all_together(three_column_model):
    result = run("eval", "-m", three_column_model, TEST, "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["column"] == "upos,xpos,feats"
    assert list(scores["columns"]) == ["upos", "xpos", "feats"]
    gold = {spec: read(TEST, spec) for spec in ("upos", "xpos", "feats")}
    tagged = run("tag", "-m", three_column_model, "-i", "conllu", TEST)
    predicted = {spec: read_predictions(tagged.stdout, spec) for spec in gold}
    for spec, sentences in gold.items():
        rows = zip(sentences, predicted[spec], strict=True)
        pairs = [(g, p) for s, ps in rows for g, p in zip(s.tags, ps, strict=True)]
        accuracy = sum(g == p for g, p in pairs) / len(pairs)
        assert scores["columns"][spec]["accuracy"] == pytest.approx(accuracy)
        assert scores["columns"][spec]["tokens"] == scores["tokens"]
    every = [
        all(gold[spec][i].tags[j] == predicted[spec][i][j] for spec in gold)
        for i, sentence in enumerate(gold["upos"])
        for j in range(len(sentence.words))
    ]
    assert scores["accuracy"] == pytest.approx(sum(every) / len(every))
    assert scores["accuracy"] <= min(c["accuracy"] for c in scores["columns"].values())
    text = run("eval", "-m", three_column_model, TEST)
    assert "all 3 columns right" in text.stdout and "feats:" in text.stdout


def read_predictions(conllu: str, spec: str) -> list[list[str]]:
    lines = LineReader(io.BytesIO(conllu.encode("utf-8")), "<stdout>")
    return [s.tags for s in read_conllu(lines, Column.parse(spec))]


def test_tag_writes_every_column_in_each_format(three_column_model):
    conllu = run("tag", "-m", three_column_model, "-i", "conllu", TEST)
    assert conllu.exit_code == 0, conllu.output
    original = TEST.read_text(encoding="utf-8").splitlines()
    written = conllu.stdout.splitlines()
    assert len(written) == len(original)
    for before, after in zip(original, written, strict=True):
        if before[:1].isdigit() and "\t" in before:
            b, a = before.split("\t"), after.split("\t")
            assert b[:3] == a[:3] and b[6:] == a[6:]  # only UPOS, XPOS and FEATS change
        else:
            assert before == after
    tsv = run(
        "tag", "-m", three_column_model, "-i", "tokenized", "-f", "tsv", input="Dogs bark .\n"
    )
    rows = [line.split("\t") for line in tsv.stdout.splitlines() if line]
    assert [row[0] for row in rows] == ["Dogs", "bark", "."] and {len(r) for r in rows} == {4}
    jsonl = run(
        "tag", "-m", three_column_model, "-i", "tokenized", "-f", "jsonl", input="Dogs bark .\n"
    )
    record = json.loads(jsonl.stdout)
    assert list(record["tags"]) == ["upos", "xpos", "feats"]
    assert [row[1:] for row in rows[:2]] == [
        [record["tags"][name][i] for name in ("upos", "xpos", "feats")] for i in range(2)
    ]
    refused = run("tag", "-m", three_column_model, "-i", "columns", "-f", "columns", input="a\n")
    assert refused.exit_code == 2 and "choose -f conllu, tsv or jsonl" in refused.stderr


def test_info_and_the_api_give_labels_by_column(three_column_model):
    info = json.loads(run("info", "-m", three_column_model, "--json").stdout)
    assert list(info["labels"]) == ["upos", "xpos", "feats"]
    assert info["vocabulary_sizes"]["labels xpos"] == len(info["labels"]["xpos"])
    tagger = Tagger.load(three_column_model, device="cpu")
    assert tagger.columns == ["upos", "xpos", "feats"]
    assert list(tagger.labels) == tagger.columns
    (tags,) = tagger.tag([["Dogs", "bark"]])
    assert [len(t) for t in tags] == [3, 3]
    assert tags[0][0] in tagger.labels["upos"] and tags[0][1] in tagger.labels["xpos"]


def test_eval_of_a_predictions_file_scores_a_column_list(three_column_model, tmp_path):
    tagged = tmp_path / "pred.conllu"
    tagged.write_text(run("tag", "-m", three_column_model, "-i", "conllu", TEST).stdout)
    by_model = json.loads(run("eval", "-m", three_column_model, TEST, "--json").stdout)
    by_file = run("eval", "--pred", tagged, "--column", "upos,feats", TEST, "--json")
    assert by_file.exit_code == 0, by_file.output
    scores = json.loads(by_file.stdout)
    for name in ("upos", "feats"):
        assert scores["columns"][name]["accuracy"] == by_model["columns"][name]["accuracy"]


def test_several_columns_are_refused_where_they_cannot_work(tmp_path):
    model = tmp_path / "m.model"
    crf = run("train", TRAIN, "--column", "upos,xpos", "--crf", "-o", model, *TINY_OPTIONS)
    assert crf.exit_code == 2 and "--crf and --scheme go with one column" in crf.stderr
    columns_file = tmp_path / "ner.txt"
    columns_file.write_text("Ada B-PER\nsings O\n\n", encoding="utf-8")
    result = run("train", columns_file, "--column", "upos,xpos", "-o", model, *TINY_OPTIONS)
    assert result.exit_code == 1
    assert "several columns (upos,xpos) are read from CoNLL-U" in result.stderr
    assert not model.exists()
