"""seqtag cv: folds by document or sentence, balanced; every sentence predicted once, out of
fold; mean ± sd; the most confidently contradicted tokens; clear errors."""

from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import DATA, TINY_OPTIONS

from seqtag.cli import main
from seqtag.crossval import split_folds
from seqtag.read import Sentence

CORPUS_SENTENCES = 30
CV_OPTIONS = [option for option in TINY_OPTIONS if option != "--no-tokenizer"]  # cv trains none


def corpus(tmp_path):
    blocks = (DATA / "en_ewt-excerpt-train.conllu").read_text(encoding="utf-8").split("\n\n")
    path = tmp_path / "corpus.conllu"
    path.write_text("\n\n".join(blocks[:CORPUS_SENTENCES]) + "\n\n", encoding="utf-8")
    return path


def test_folds_take_whole_documents_when_there_are_enough_and_balance_tokens():
    sentences = []
    for doc in range(6):
        for i in range(doc + 1):  # documents of 1..6 sentences of 3 words
            lines = [f"# newdoc id = d{doc}"] if i == 0 else []
            sentences.append(Sentence(["a", "b", "c"], ["X"] * 3, lines=[*lines, "1\ta"]))
    folds, unit = split_folds(sentences, 3, seed=1)
    assert unit == "documents" and sorted(i for f in folds for i in f) == list(range(21))
    sizes = sorted(len(f) for f in folds)
    assert sizes == [7, 7, 7]  # 21 sentences of equal length: documents packed evenly
    folds, unit = split_folds(sentences, 7, seed=1)  # 6 documents < 7 folds: by sentence
    assert unit == "sentences" and sorted(len(f) for f in folds) == [3] * 7


def test_cv_predicts_every_sentence_once_and_lists_suspects(tmp_path):
    path = corpus(tmp_path)
    oof = tmp_path / "oof.conllu"
    args = ["cv", str(path), "--folds", "3", "--json", "--suspects", "4", "--predictions", str(oof)]
    result = CliRunner().invoke(main, [*args, *CV_OPTIONS])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["metric"] == "accuracy" and len(record["per_fold"]) == 3
    assert record["unit"] in ("documents", "sentences")
    assert sum(f["tokens"] for f in record["per_fold"]) == sum(
        1
        for line in path.read_text().splitlines()
        if line[:1].isdigit() and "-" not in line.split("\t")[0]
    )
    mean = sum(f["accuracy"] for f in record["per_fold"]) / 3
    assert abs(record["summary"]["accuracy"]["mean"] - mean) < 1e-9
    suspects = record["suspects"]
    assert len(suspects) == 4 and all(s["gold"] != s["predicted"] for s in suspects)
    assert [s["confidence"] for s in suspects] == sorted(
        (s["confidence"] for s in suspects), reverse=True
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    for s in suspects:  # the line number points at the token in the corpus
        assert lines[s["line"] - 1].split("\t")[1] == s["word"]
    written = oof.read_text(encoding="utf-8")
    assert written.count("# text = ") == CORPUS_SENTENCES and "Confidence=" in written
    table = CliRunner().invoke(main, ["cv", str(path), "--folds", "2", *CV_OPTIONS])
    assert table.exit_code == 0 and "mean ± sd" in table.stdout and "«" in table.stdout


def test_clear_errors(tmp_path):
    path = corpus(tmp_path)
    result = CliRunner().invoke(main, ["cv", str(path), "--folds", "31", *CV_OPTIONS])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 31 folds need at least 31 sentences; the corpus has 30")
    result = CliRunner().invoke(main, ["cv", str(path), "--column", "upos,xpos", *CV_OPTIONS])
    assert result.exit_code == 2 and "cv scores one column at a time" in result.stderr
    result = CliRunner().invoke(main, ["cv", *CV_OPTIONS])
    assert result.exit_code == 2 and "give CORPUS" in result.stderr
