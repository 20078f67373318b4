"""Checkpoints: the state codec, and resumed training that ends exactly where an uninterrupted
run ends (same dev scores, same weights), in process and through a killed subprocess."""

from __future__ import annotations

import math
import pickle
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors import safe_open

from seqtag import SeqtagError, checkpoint
from seqtag.cli import main
from seqtag.config import ModelConfig, TrainConfig
from seqtag.lines import open_lines
from seqtag.read import Column, read_conllu
from seqtag.train import Hooks, TrainingData, fit
from seqtag.vocab import Vocabularies
from tests.conftest import DATA, TINY_OPTIONS

TRAIN = DATA / "en_ewt-excerpt-train.conllu"
DEV = DATA / "en_ewt-excerpt-dev.conllu"
TINY_MODEL = ModelConfig(hidden=16, layers=1, word_dim=16, char_dim=8, char_hidden=8)


def read(path: Path, limit: int):
    return list(read_conllu(open_lines(str(path)), Column.parse("upos")))[
        :limit
    ]  # read whole: closed


def weights(path: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(path), framework="pt") as handle:
        return {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118


def test_nested_state_round_trips_with_tensors_tuples_and_integer_keys(tmp_path):
    state = {
        "numbers": [1, 2.5, -math.inf, None, True, "é"],
        "tuple": (3, (4, 5), None),
        "by_id": {0: {"step": torch.tensor(7.0), "moment": torch.ones(2, 3)}, 11: "x"},
        "rng": torch.get_rng_state(),
        "empty": {},
    }
    checkpoint.save(tmp_path, state)
    back = checkpoint.load(tmp_path)
    assert back["numbers"] == state["numbers"]
    assert back["tuple"] == state["tuple"] and isinstance(back["tuple"][1], tuple)
    assert set(back["by_id"]) == {0, 11}
    assert torch.equal(back["by_id"][0]["moment"], torch.ones(2, 3))
    assert back["by_id"][0]["step"].item() == 7.0
    assert torch.equal(back["rng"], state["rng"])
    assert back["empty"] == {}


def test_equal_large_tensors_are_stored_once_and_read_back_unshared(tmp_path):
    table = torch.randn(300, 300)  # frozen vectors: in the current and the best weights
    different = table.clone()
    different[0, 0] += 1
    state = {
        "weights": {"vectors": table, "small": torch.zeros(3)},
        "best": {"vectors": table.clone(), "small": torch.zeros(3), "other": different},
    }
    checkpoint.save(tmp_path, state)
    stored = weights(checkpoint.checkpoint_path(tmp_path))
    assert sorted(stored) == [".best.other", ".best.small", ".weights.small", ".weights.vectors"]
    back = checkpoint.load(tmp_path)
    assert torch.equal(back["best"]["vectors"], table)
    assert torch.equal(back["best"]["other"], different)
    back["weights"]["vectors"].add_(1)  # in place, as an optimizer updates its moments
    assert torch.equal(back["best"]["vectors"], table)


def test_a_state_that_cannot_be_stored_is_refused_before_writing(tmp_path):
    with pytest.raises(TypeError):
        checkpoint.save(tmp_path, {"object": object()})
    assert not checkpoint.checkpoint_path(tmp_path).exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no checkpoint here"),
        (b"", "not a seqtag checkpoint"),
        (pickle.dumps({"a": 1}), "not a seqtag checkpoint"),
    ],
)
def test_missing_or_foreign_checkpoints_are_clear_errors(tmp_path, content, message):
    if content is not None:
        checkpoint.checkpoint_path(tmp_path).write_bytes(content)
    with pytest.raises(SeqtagError, match=message):
        checkpoint.load(tmp_path)


@pytest.mark.parametrize("average_weights", [0.0, 0.9])
def test_resumed_fit_equals_an_uninterrupted_one(tmp_path, average_weights):
    train, dev = read(TRAIN, 120), read(DEV, 40)
    vocabularies = Vocabularies.build(train, TINY_MODEL)
    config = TrainConfig(
        epoch_size=0, max_epochs=4, patience=4, batch_size=16, average_weights=average_weights
    )

    def keep(state):  # the state refers to live tensors: store it, as the CLI does
        checkpoint.save(tmp_path / str(state["epoch"]), state)

    whole = fit(
        TrainingData(train, dev, vocabularies),
        TINY_MODEL,
        config,
        torch.device("cpu"),
        hooks=Hooks(on_checkpoint=keep),
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1", "2", "3", "4"]
    saved = checkpoint.load(tmp_path / "2")
    resumed = fit(
        TrainingData(train, dev, vocabularies),
        TINY_MODEL,
        config,
        torch.device("cpu"),
        resume=saved,
    )
    assert [r.dev_score for r in resumed.epochs] == [r.dev_score for r in whole.epochs]
    assert [r.loss for r in resumed.epochs] == [r.loss for r in whole.epochs]
    for (name, a), b in zip(
        whole.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def test_resuming_a_finished_run_trains_no_more(tmp_path):
    train, dev = read(TRAIN, 60), read(DEV, 20)
    vocabularies = Vocabularies.build(train, TINY_MODEL)
    config = TrainConfig(epoch_size=0, max_epochs=2, batch_size=16)
    fit(
        TrainingData(train, dev, vocabularies),
        TINY_MODEL,
        config,
        torch.device("cpu"),
        hooks=Hooks(on_checkpoint=lambda s: checkpoint.save(tmp_path, s)),
    )
    again = fit(
        TrainingData(train, dev, vocabularies),
        TINY_MODEL,
        config,
        torch.device("cpu"),
        resume=checkpoint.load(tmp_path),
    )
    assert len(again.epochs) == 2


def _train_args(out: Path, *extra: str) -> list[str]:
    tiny = list(TINY_OPTIONS)
    # Six epochs that always all run: the killed run must still be going when the test reads
    # "epoch 2" from the pipe, even on a loaded machine where the child gets ahead of it.
    tiny[tiny.index("--max-epochs") + 1] = "6"
    return [
        "train",
        str(TRAIN),
        "--dev",
        str(DEV),
        "-o",
        str(out),
        *tiny,
        "--patience",
        "6",
        "--max-lr-decays",
        "0",
        "--threads",  # one thread in process and in the subprocess: the same float sums
        "1",
        *extra,
    ]


def test_killed_then_resumed_training_gives_the_uninterrupted_model(tmp_path):
    runner = CliRunner()
    whole = tmp_path / "whole.model"
    assert runner.invoke(main, _train_args(whole)).exit_code == 0

    # A real process, killed without warning once its second epoch is on disk.
    killed = tmp_path / "killed.model"
    ckpt = tmp_path / "ckpt"
    args = [a for a in _train_args(killed, "--checkpoint", str(ckpt), "--progress") if a != "-q"]
    process = subprocess.Popen(
        [sys.executable, "-m", "seqtag", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    for line in process.stderr:
        if line.startswith("epoch   2"):
            process.send_signal(signal.SIGKILL)
            break
    process.stderr.close()
    process.wait(timeout=60)
    assert not killed.exists()
    assert checkpoint.load(ckpt)["training"]["epoch"] >= 2

    result = runner.invoke(main, ["train", "--resume", str(ckpt), "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert f"Resuming from {ckpt} after epoch" in result.stderr
    from seqtag.modelfile import read_metadata

    assert read_metadata(killed)["dev_score"] == read_metadata(whole)["dev_score"]
    # The preset the data chose is recorded by the resumed run as by the whole one.
    assert read_metadata(killed)["preset"] == read_metadata(whole)["preset"] == "pos-small"
    a, b = weights(whole), weights(killed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def whole_ensemble(tmp_path_factory) -> Path:
    whole = tmp_path_factory.mktemp("ensemble") / "whole.model"
    assert CliRunner().invoke(main, _train_args(whole, "--ensemble", "2")).exit_code == 0
    return whole


@pytest.mark.parametrize(
    "kill_after, resumed_at",
    [
        ("Ensemble member 2 of 2", r"after epoch \d+ of ensemble member 1 "),
        ("epoch   1", "after epoch 1 of ensemble member 2 "),
    ],
    ids=["between-members", "in-member-2"],
)
def test_a_killed_ensemble_resumes_to_the_uninterrupted_one(
    tmp_path, whole_ensemble, kill_after, resumed_at
):
    """Members that finished are kept in the checkpoint; the one in training goes on from its
    last epoch (or, finished, is taken as it is); the ones not begun start as they would have."""
    runner = CliRunner()
    whole = whole_ensemble

    killed, ckpt = tmp_path / "killed.model", tmp_path / "ckpt"
    args = [
        a
        for a in _train_args(killed, "--ensemble", "2", "--checkpoint", str(ckpt), "--progress")
        if a != "-q"
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "seqtag", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    in_member_2 = False
    for line in process.stderr:
        in_member_2 = in_member_2 or line.startswith("Ensemble member 2")
        if in_member_2 and line.startswith(kill_after):
            process.send_signal(signal.SIGKILL)
            break
    process.stderr.close()
    process.wait(timeout=60)
    assert not killed.exists()

    result = runner.invoke(main, ["train", "--resume", str(ckpt), "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert re.search(
        f"Resuming from {re.escape(str(ckpt))} {resumed_at}", " ".join(result.stderr.split())
    )
    from seqtag.modelfile import read_metadata

    assert read_metadata(killed)["dev_score"] == read_metadata(whole)["dev_score"]
    # The preset the data chose is recorded by the resumed run as by the whole one.
    assert read_metadata(killed)["preset"] == read_metadata(whole)["preset"] == "pos-small"
    assert read_metadata(killed)["epochs_run"] == read_metadata(whole)["epochs_run"]
    a, b = weights(whole), weights(killed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_accepts_the_original_command_and_refuses_changed_settings(tmp_path):
    runner = CliRunner()
    out, ckpt = tmp_path / "m.model", tmp_path / "ckpt"
    args = _train_args(out, "--checkpoint", str(ckpt))
    assert runner.invoke(main, args).exit_code == 0

    same = runner.invoke(main, [*args, "--resume", str(ckpt)])
    assert same.exit_code == 0, same.output

    changed = runner.invoke(main, ["train", "--resume", str(ckpt), "--hidden", "32"])
    assert changed.exit_code == 2
    assert "--hidden is 32, but the run in" in changed.stderr

    other_dev = runner.invoke(main, ["train", "--resume", str(ckpt), "--dev", str(TRAIN)])
    assert other_dev.exit_code == 2 and "--dev is" in other_dev.stderr


def test_resume_refuses_data_that_changed(tmp_path):
    runner = CliRunner()
    train = tmp_path / "train.conllu"
    train.write_text(TRAIN.read_text(encoding="utf-8"), encoding="utf-8")
    out, ckpt = tmp_path / "m.model", tmp_path / "ckpt"
    args = _train_args(out, "--checkpoint", str(ckpt))
    args[1] = str(train)
    assert runner.invoke(main, args).exit_code == 0
    train.write_text(
        TRAIN.read_text(encoding="utf-8").replace("\tNOUN\t", "\tVERB\t", 1), encoding="utf-8"
    )
    result = runner.invoke(main, ["train", "--resume", str(ckpt)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {train.resolve()}: the training or dev data changed")


def test_train_needs_data_and_output_unless_resuming(tmp_path):
    result = CliRunner().invoke(main, ["train", str(TRAIN)])
    assert (
        result.exit_code == 2
        and "give TRAIN.conllu and -o/--output (or --resume DIR)" in result.stderr
    )
    result = CliRunner().invoke(main, ["train", "--resume", str(tmp_path)])
    assert result.exit_code == 1
    assert "no checkpoint here" in result.stderr


def test_a_checkpoint_from_before_later_options_resumes_with_them_off(tmp_path):
    """A run recorded before an option existed trained without the feature: resuming it must
    not switch today's default on halfway (affixes, label smoothing, ...)."""
    from seqtag.config import ADDED_LATER
    from seqtag.modelfile import read_metadata

    out, ckpt = tmp_path / "m.model", tmp_path / "ckpt"
    off = ["--affixes", "0", "--label-smoothing", "0", "--epoch-size", "0", "--max-lr-decays", "0"]
    args = _train_args(out, "--checkpoint", str(ckpt), *off)
    assert CliRunner().invoke(main, args).exit_code == 0
    state = checkpoint.load(ckpt)
    for name in ADDED_LATER:
        state["run"]["options"].pop(name, None)
    checkpoint.save(ckpt, state)
    result = CliRunner().invoke(main, ["train", "--resume", str(ckpt)])
    assert result.exit_code == 0, result.output
    config = read_metadata(out)["model_config"]
    assert config["affixes"] == 0 and config["label_smoothing"] == 0.0
