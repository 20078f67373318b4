"""Ensembles (--ensemble N): members trained from their own seeds, averaged probabilities (a
CRF's averaged scores), the same tags from both engines, and the CLI."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from click.testing import CliRunner
from conftest import DATA, TINY_ARCHITECTURE, TINY_OPTIONS

from seqtag import modelfile
from seqtag.batch import Batcher
from seqtag.cli import main
from seqtag.config import ModelConfig, TrainConfig
from seqtag.crf import viterbi
from seqtag.engine import load_tagger
from seqtag.lines import open_lines
from seqtag.model import Ensemble, build_network
from seqtag.read import Column, Sentence, read_conllu
from seqtag.torch_engine import TorchEngine
from seqtag.train import member_seed
from seqtag.vocab import Vocab, Vocabularies

TRAIN, DEV = DATA / "en_ewt-excerpt-train.conllu", DATA / "en_ewt-excerpt-dev.conllu"
CPU = torch.device("cpu")
SPAN_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


@pytest.fixture(scope="module")
def corpus() -> list[Sentence]:
    sentences = list(read_conllu(open_lines(str(TRAIN)), Column.parse("upos,xpos")))[:50]
    return sentences + [Sentence(["Zyzzyva", "", "q" * 80]), Sentence([])]


def vocabularies_for(corpus, columns: int, labels: list[str] | None) -> Vocabularies:
    tagged = [s for s in corpus if s.tags]
    if columns == 1:
        tagged = [dataclasses.replace(s, tags=[t.split("\t")[0] for t in s.tags]) for s in tagged]
    vocabularies = Vocabularies.build(tagged, ModelConfig(affixes=2), columns)
    if labels is not None:
        vocabularies = dataclasses.replace(vocabularies, labels=Vocab(labels, reserved=False))
    return vocabularies


def random_ensemble(vocabularies, **changes) -> Ensemble:
    config = ModelConfig(
        hidden=8, word_dim=6, char_dim=4, char_hidden=5, affixes=2, affix_dim=3, ensemble=3,
        **changes,
    )  # fmt: skip
    torch.manual_seed(0)
    model = build_network(config, vocabularies)
    with torch.no_grad():  # larger than the initial weights, so the members disagree
        for parameter in model.parameters():
            parameter.mul_(4.0)
    return model.eval()


def test_an_ensemble_averages_its_members_probabilities(corpus):
    vocabularies = vocabularies_for(corpus, 1, None)
    model = random_ensemble(vocabularies)
    assert isinstance(model, Ensemble) and len(model.members) == 3
    assert all(member.config.ensemble == 1 for member in model.members)
    batch = Batcher(vocabularies, model.config).batch(corpus[:6])
    with torch.no_grad():
        combined = model(batch)
        probabilities = [torch.softmax(member(batch), dim=-1) for member in model.members]
    torch.testing.assert_close(combined.exp(), sum(probabilities) / 3)
    expected = (sum(probabilities) / 3).argmax(dim=-1)
    decoded = model.decode(combined, batch.mask)
    assert decoded == [
        row[:n] for row, n in zip(expected.tolist(), batch.lengths.tolist(), strict=True)
    ]


def test_an_ensemble_of_crfs_averages_scores_and_transitions(corpus):
    vocabularies = vocabularies_for(corpus, 1, SPAN_LABELS)
    model = random_ensemble(vocabularies, scheme="iob2", crf=True)
    batch = Batcher(vocabularies, model.config).batch(corpus[:6])
    with torch.no_grad():
        combined = model(batch)
        torch.testing.assert_close(combined, sum(m(batch) for m in model.members) / 3)
        parts = [m.crf.scores() for m in model.members]
        start, end, transitions = (sum(p[i] for p in parts) / 3 for i in range(3))
    assert model.decode(combined, batch.mask) == viterbi(
        combined, batch.mask, start, end, transitions
    )


@pytest.mark.parametrize(
    ("columns", "labels", "changes"),
    [
        (1, None, {}),
        (2, None, {}),
        (1, SPAN_LABELS, {"scheme": "iob2"}),  # softmax, constrained decoding
        (1, SPAN_LABELS, {"scheme": "iob2", "crf": True}),
    ],
)
def test_both_engines_tag_an_ensemble_alike(corpus, tmp_path, columns, labels, changes):
    vocabularies = vocabularies_for(corpus, columns, labels)
    model = random_ensemble(vocabularies, **changes)
    path = tmp_path / "e.model"
    column = "upos" if columns == 1 else "upos,xpos"
    modelfile.save(path, model, vocabularies, column, TrainConfig(), {})
    loaded = modelfile.load(path)
    assert isinstance(loaded.model, Ensemble)
    expected = TorchEngine(loaded.model, Batcher(vocabularies, loaded.model.config), CPU)(corpus)
    tag = load_tagger(path, device="cpu")
    assert tag(corpus) == expected
    assert tag(corpus[::-1]) == expected[::-1]
    single = TorchEngine(loaded.model.members[0], Batcher(vocabularies, loaded.model.config), CPU)
    assert single(corpus) != expected  # the members disagree, so averaging is tested


def test_member_seeds_keep_the_first_and_never_meet_across_runs():
    assert member_seed(7, 0) == 7
    seeds = {member_seed(seed, member) for seed in (1, 2, 3) for member in range(5)}
    assert len(seeds) == 15


def test_train_an_ensemble_then_eval_and_info(tmp_path):
    model = tmp_path / "e.model"
    result = run(
        "train", TRAIN, "--dev", DEV, "-o", model, "--ensemble", "2", *TINY_ARCHITECTURE[:-1]
    )
    assert result.exit_code == 0, result.output
    assert "Ensemble member 2 of 2 (seed 1001)" in result.stderr
    assert "with 2 members (alone:" in result.stderr
    info = json.loads(run("info", "-m", model, "--json").stdout)
    assert info["model_config"]["ensemble"] == 2
    assert len(info["best_epoch"]) == 2 and len(info["epochs_run"]) == 2  # one per member
    scores = json.loads(run("eval", "-m", model, DEV, "--json").stdout)
    # Training scored dev with the torch ensemble, eval with the numpy one: the same.
    assert scores["accuracy"] == pytest.approx(info["dev_score"], abs=1e-3)
    single = tmp_path / "s.model"
    assert run("train", TRAIN, "--dev", DEV, "-o", single, *TINY_OPTIONS).exit_code == 0
    first = modelfile.read_model(single).weights
    members = modelfile.read_model(model).weights
    for name, weight in first.items():  # member 1 is the plain run of the same seed
        assert (members[f"members.0.{name}"] == weight).all(), name
    assert not math.isclose(
        float(members["members.1.output.bias"].sum()), float(first["output.bias"].sum())
    )
