"""Calibration (seqtag.calibration): the expected calibration error by hand, the fit never makes
dev worse and never changes a tag, training records it, eval reports it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import DATA, TINY_OPTIONS

from seqtag import calibration, modelfile
from seqtag.batch import Batcher
from seqtag.cli import main
from seqtag.config import ModelConfig, TrainConfig
from seqtag.engine import load_tagger
from seqtag.lines import open_lines
from seqtag.marginals import Calibration
from seqtag.model import build_network
from seqtag.read import Column, read_conllu
from seqtag.torch_engine import TorchEngine
from seqtag.vocab import Vocabularies

TRAIN, DEV = DATA / "en_ewt-excerpt-train.conllu", DATA / "en_ewt-excerpt-dev.conllu"


def test_expected_calibration_error_by_hand():
    # Bin 14 (0.933-1]: mean 0.95, half right; bin 8: mean 0.55, all right; 1.0 is in the last.
    ece, table = calibration.expected_calibration_error([0.95, 0.95, 0.55, 0.55], [1, 0, 1, 1])
    assert ece == pytest.approx((2 * 0.45 + 2 * 0.45) / 4)
    assert [row["tokens"] for row in table] == [0] * 8 + [2] + [0] * 5 + [2]
    assert table[14]["accuracy"] == 0.5 and table[8]["confidence"] == pytest.approx(0.55)
    ece, table = calibration.expected_calibration_error([1.0, 0.0], [1, 0])
    assert ece == 0.0 and table[14]["tokens"] == table[0]["tokens"] == 1


def test_soften_makes_the_dictionary_a_finite_penalty_and_old_files_have_none():
    penalties = np.array([[[0.0, -10000.0, 0.0]]], dtype=np.float32)
    assert Calibration((1.0,), 2.5).soften(penalties).tolist() == [[[0.0, -2.5, 0.0]]]
    assert Calibration((1.0,), None).soften(penalties) is penalties
    assert Calibration.from_metadata({}) is None
    saved = Calibration((1.3, 0.8), 4.0).to_dict()
    assert Calibration.from_metadata({"calibration": saved}) == Calibration((1.3, 0.8), 4.0)


def test_the_fit_of_a_two_column_model_never_makes_dev_worse(tmp_path):
    two = list(read_conllu(open_lines(str(TRAIN)), Column.parse("upos,xpos")))[:60]
    config = ModelConfig(hidden=12, word_dim=10, char_dim=6, char_hidden=7)
    vocabularies = Vocabularies.build(two[:40], config, 2)
    torch.manual_seed(1)
    model = build_network(config, vocabularies).eval()
    engine = TorchEngine(model, Batcher(vocabularies, config), torch.device("cpu"))
    dev = two[40:]
    with torch.inference_mode():
        fitted, fit_before, fit_after = calibration.fit(engine, dev)
        before = calibration.calibration_errors(engine, dev, None)
        after = calibration.calibration_errors(engine, dev, fitted)
        tags = [c.tags for c in engine.with_confidence(dev, 0, fitted)]
    # The fit's own errors, from dev scored once, are those of tagging dev again.
    assert fit_before == pytest.approx(before) and fit_after == pytest.approx(after)
    assert len(fitted.temperature) == 2 and fitted.dictionary_penalty is None
    assert all(a <= b + 1e-12 for a, b in zip(after, before, strict=True))
    assert tags == engine(dev)  # calibration never changes a tag
    path = tmp_path / "m.model"
    modelfile.save(path, model, vocabularies, "upos,xpos", TrainConfig(), {})
    assert load_tagger(path, "cpu").with_confidence(dev[:3])  # an old file: uncalibrated


def test_training_records_the_calibration_and_eval_reports_the_error(tmp_path):
    model = tmp_path / "m.model"
    args = ["train", str(TRAIN), "--dev", str(DEV), "-o", str(model), *TINY_OPTIONS[:-1]]
    result = CliRunner().invoke(main, [*args, "--tag-dictionary", "on"])
    assert result.exit_code == 0, result.output
    assert "Calibrated on dev: temperature " in result.stderr
    info = json.loads(CliRunner().invoke(main, ["info", "-m", str(model), "--json"]).stdout)
    fitted = info["calibration"]
    assert fitted["dictionary_penalty"] is not None and len(fitted["temperature"]) == 1
    assert fitted["dev_ece_after"][0] <= fitted["dev_ece_before"][0]
    scores = json.loads(
        CliRunner().invoke(main, ["eval", "-m", str(model), str(DEV), "--json"]).stdout
    )
    assert scores["calibration"]["ece"] == pytest.approx(fitted["dev_ece_after"][0], abs=2e-3)
    assert scores["calibration"]["bins"] == calibration.BINS
    assert sum(row["tokens"] for row in scores["calibration"]["reliability"]) == scores["tokens"]
    table = CliRunner().invoke(main, ["eval", "-m", str(model), str(DEV)]).stdout
    assert "calibration error (ECE, 15 bins)" in table
