"""seqtag select: the pool's most uncertain sentences, ready to annotate; duplicates, training
sentences and the budget respected; every input format; clear errors."""

from __future__ import annotations

import math
import re

import pytest
from click.testing import CliRunner
from conftest import DATA, TINY_ARCHITECTURE

from seqtag.cli import main
from seqtag.predict import Confident
from seqtag.select import token_scores

TEXT = (
    "The cat sat on the mat. Dogs bark loudly at night.\n"
    "Zyzzyva blorped qwxz.\n"
    "The cat sat on the mat.\n"  # a duplicate of the first sentence
    "It rains.\n"
)


def run(*args, input=None):
    return CliRunner().invoke(main, ["select", *map(str, args)], input=input)


def chosen(stdout: str) -> list[tuple[int, float, str]]:
    """(rank, score, text) of each sentence written."""
    found = re.findall(r"# selected = rank (\d+) of \d+ by \S+, score ([\d.]+), pool sentence \d+"
                       r"\n# text = (.*)", stdout)  # fmt: skip
    return [(int(rank), float(score), text) for rank, score, text in found]


def test_token_scores_by_hand():
    import numpy as np

    distribution = np.array([[0.9, 0.1], [0.5, 0.5]])
    confident = Confident(["A", "B"], [0.9, 0.5], distribution=distribution)
    assert token_scores(confident, "least-confidence", [2]) == pytest.approx([0.1, 0.5])
    assert token_scores(confident, "margin", [2]) == pytest.approx([0.2, 1.0])
    entropy = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1)) / math.log(2)
    assert token_scores(confident, "entropy", [2]) == pytest.approx([entropy, 1.0])
    # Two columns (2 and 3 labels): the mean of each column's score.
    two = np.array([[0.9, 0.1, 1.0, 0.0, 0.0]])
    both = Confident(["A\tX"], [(0.9, 1.0)], distribution=two)
    assert token_scores(both, "least-confidence", [2, 3]) == pytest.approx([0.05])
    assert token_scores(both, "margin", [2, 3]) == pytest.approx([(0.2 + 0.0) / 2])
    assert token_scores(both, "entropy", [2, 3]) == pytest.approx([entropy / 2])


def test_raw_pool_ranked_most_uncertain_first_without_duplicates(tiny_model):
    result = run("-m", tiny_model, "-", "-n", "10", input=TEXT)
    assert result.exit_code == 0, result.output
    found = chosen(result.stdout)
    assert [rank for rank, _, _ in found] == [1, 2, 3, 4]
    scores = [score for _, score, _ in found]
    assert scores == sorted(scores, reverse=True)
    texts = [text for _, _, text in found]
    assert texts.count("The cat sat on the mat.") == 1
    assert "left out 1 duplicate." in result.stderr
    assert "Selected 4 sentences" in result.stderr and "of 5 pool sentences" in result.stderr
    ordered = run("-m", tiny_model, "-", "-n", "2", "--keep-order", input=TEXT)
    top_two = {text for _, _, text in found[:2]}
    assert {text for _, _, text in chosen(ordered.stdout)} == top_two
    positions = [int(p) for p in re.findall(r"pool sentence (\d+)", ordered.stdout)]
    assert positions == sorted(positions)


def test_budget_exclude_and_the_other_input_formats(tiny_model, tmp_path):
    result = run("-m", tiny_model, "-", "--budget-tokens", "8", input=TEXT)
    assert result.exit_code == 0, result.output
    words = [line for line in result.stdout.splitlines() if line[:1].isdigit()]
    assert 0 < len(words) <= 8
    gold = DATA / "en_ewt-excerpt-dev.conllu"
    pool = tmp_path / "pool.conllu"
    pool.write_text(gold.read_text(encoding="utf-8"), encoding="utf-8")
    result = run("-m", tiny_model, pool, "-n", "5", "--exclude", gold)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "left out 100 training sentences" in result.stderr
    result = run("-m", tiny_model, pool, "-n", "3", "--strategy", "margin")
    assert result.exit_code == 0 and result.stdout.count("# selected = rank") == 3
    assert result.stdout.count("# sent_id = ") == 3  # CoNLL-U comes back as it was
    tokenized = "The cat sat .\nIt rains .\n"
    result = run("-m", tiny_model, "-", "-i", "tokenized", "-n", "1", "--strategy", "entropy",
                 input=tokenized)  # fmt: skip
    assert result.exit_code == 0 and result.stdout.count("# selected = rank 1 of 1 by entropy") == 1
    first = run("-m", tiny_model, pool, "-n", "4", "--strategy", "random", "--seed", "7")
    again = run("-m", tiny_model, pool, "-n", "4", "--strategy", "random", "--seed", "7")
    assert first.stdout == again.stdout != ""


def test_a_column_pool_is_written_back_as_columns(tmp_path):
    from test_numpy_engine import OUTPUTS, make_model

    from seqtag.config import ModelConfig
    from seqtag.lines import open_lines
    from seqtag.read import Column, read_conllu

    corpus = list(read_conllu(open_lines(str(DATA / "en_ewt-excerpt-train.conllu")),
                              Column.parse("upos")))[:40]  # fmt: skip
    config = ModelConfig(hidden=8, word_dim=6, char_dim=4, char_hidden=5, scheme="iob2", crf=True)
    model = make_model(tmp_path / "ner.model", corpus, config, OUTPUTS["crf iob2"][2], seed=3)
    pool = tmp_path / "pool.txt"
    pool.write_text("Ada O\nLovelace O\n\nParis O\nsleeps O\n\nBig O\n", encoding="utf-8")
    result = run("-m", model, pool, "-n", "2", "-f", "columns", "-i", "columns")
    assert result.exit_code == 0, result.output
    blocks = result.stdout.strip().split("\n\n")
    assert len(blocks) == 2 and all(
        len(line.split(" ")) == 2 for b in blocks for line in b.split("\n")
    )
    assert "#" not in result.stdout


def test_clear_errors(tiny_model, tmp_path):
    both = run("-m", tiny_model, "-", "-n", "2", "--budget-tokens", "5", input=TEXT)
    neither = run("-m", tiny_model, "-", input=TEXT)
    for result in (both, neither):
        assert result.exit_code == 2
        assert "give exactly one of -n and --budget-tokens" in result.stderr
    result = run("-m", tiny_model, "-", "-n", "2", "--strategy", "disagreement", input=TEXT)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the disagreement strategy needs an ensemble")
    ensemble = tmp_path / "e.model"
    trained = CliRunner().invoke(
        main, ["train", str(DATA / "en_ewt-excerpt-dev.conllu"), "-o", str(ensemble),
               *TINY_ARCHITECTURE, "--ensemble", "2"],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    result = run("-m", ensemble, "-", "-n", "2", "--strategy", "disagreement", input=TEXT)
    assert result.exit_code == 0 and result.stdout.count("by disagreement") == 2
    binary = tmp_path / "pool.bin"
    binary.write_bytes(b"\x00\x01\x02 abc\n")
    result = run("-m", tiny_model, binary, "-n", "2")
    assert result.exit_code == 1 and "NUL" in result.stderr and "Traceback" not in result.output
    result = run("-m", tiny_model, "-", "-n", "1", input="")
    assert result.exit_code == 0 and result.stdout == ""
    assert "Warning: <stdin> holds no sentences to choose from." in result.stderr
    result = run("-m", tiny_model, "-", "-n", "1", "-f", "columns", input=TEXT)
    assert result.exit_code == 2 and "-f columns writes a column pool back" in result.stderr
