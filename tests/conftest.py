"""Shared fixtures: paths to the small shipped corpora and one tiny model trained once per run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

# Tiny test models gain nothing from threads, and on a 2-core machine they only fight each other.
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / "tests" / "data"
DATA = ROOT / "data"
SHARED = ROOT.parent / "shared" / "data"

# Tiny architecture: the suite checks behaviour, not accuracy, and must stay fast on 2 cores.
# One network: without --preset the data would choose an ensemble of three (presets.choose);
# a test of ensembles or presets gives its own options after these.
TINY_OPTIONS = [
    "--ensemble", "1", "--hidden", "16", "--layers", "1", "--word-dim", "16", "--char-dim", "8",
    "--char-hidden", "8", "--max-epochs", "2", "--batch-size", "16", "--epoch-size", "0",
    "--no-tokenizer", "-q",
]  # fmt: skip
TINY_ARCHITECTURE = TINY_OPTIONS[2:]  # the same without --ensemble 1, for tests that set it
# The tests of the segmenter train one of their own (test_segmenter.py); seqtag cv trains none.


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A model trained for two epochs on the shipped English excerpt (UPOS)."""
    from click.testing import CliRunner

    from seqtag.cli import main

    path = tmp_path_factory.mktemp("model") / "tiny.model"
    result = CliRunner().invoke(
        main,
        [
            "train",
            str(DATA / "en_ewt-excerpt-train.conllu"),
            "--dev",
            str(DATA / "en_ewt-excerpt-dev.conllu"),
            "-o",
            str(path),
            *TINY_OPTIONS,
        ],
    )
    assert result.exit_code == 0, result.output
    return path
