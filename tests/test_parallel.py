"""--jobs N: `seqtag tag` with worker processes gives the same bytes as one process, in input
order (streaming over a slow pipe and SIGTERM: tests/test_cli.py, with and without --jobs),
and bad input ends it as it ends one process;
`seqtag train` with members side by side gives the same ensemble as one after another."""

import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import DATA, TEST_DATA, TINY_ARCHITECTURE

from seqtag import parallel
from seqtag.cli import main


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 7 sentences, so the excerpt's test set is many chunks shared between workers
    and more than the workers may have in flight at once."""
    monkeypatch.setattr(parallel, "JOB_CHUNK_SENTENCES", 7)


def _words(path) -> str:
    sentences, words = [], []
    for line in path.read_text("utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) == 10 and fields[0].isdigit():
            words.append(fields[1])
        elif not line and words:
            sentences.append(" ".join(words))
            words = []
    return "".join(s + "\n" for s in sentences)


@pytest.mark.parametrize(
    "options",
    [
        ["-i", "conllu"],
        ["-i", "tokenized", "-f", "tsv", "--confidence"],
        ["-i", "tokenized", "-f", "jsonl", "--top", "2"],
        ["-i", "raw", "-f", "conllu"],
    ],
    ids=["conllu", "tsv-confidence", "jsonl-top", "raw"],
)
def test_jobs_write_the_same_bytes_as_one_process(tiny_model, small_chunks, options):
    test = DATA / "en_ewt-excerpt-test.conllu"
    if options[1] == "conllu":
        source = test.read_text("utf-8")
    elif options[1] == "raw":
        source = (DATA / "sample.txt").read_text("utf-8") * 5
    else:
        source = _words(test)
    one = run("tag", "-m", tiny_model, *options, input=source)
    assert one.exit_code == 0, one.output
    three = run("tag", "-m", tiny_model, *options, "--jobs", "3", input=source)
    assert three.exit_code == 0, three.output
    assert three.stdout == one.stdout
    assert three.stdout.count("\n") >= 100  # at least a line a sentence


def test_jobs_stop_at_bad_input_with_its_line(tiny_model, small_chunks, tmp_path):
    good = (DATA / "en_ewt-excerpt-test.conllu").read_text("utf-8")
    bad = tmp_path / "bad.conllu"
    bad.write_text(good + (TEST_DATA / "bad-id.conllu").read_text("utf-8"), "utf-8")
    line = good.count("\n") + 2
    result = run("tag", "-m", tiny_model, "-i", "conllu", "--jobs", "2", bad)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad}:{line}: ID 'x' is not a word number")
    assert "Traceback" not in result.stderr


def test_jobs_go_with_the_cpu():
    result = run("tag", "-m", "any.model", "--jobs", "2", "--device", "cuda")
    assert result.exit_code == 2
    assert "--jobs N tags with N processes on the CPU" in result.stderr


def _tag_process(model, *options):
    return subprocess.Popen(
        [sys.executable, "-m", "seqtag", "tag", "-m", str(model), "-i", "tokenized", "-f", "tsv",
         *options],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        bufsize=1,
    )  # fmt: skip


def test_jobs_end_at_eof_with_every_sentence(tiny_model):
    process = _tag_process(tiny_model, "--jobs", "2")
    out, err = process.communicate(_words(DATA / "en_ewt-excerpt-dev.conllu"), timeout=120)
    assert process.returncode == 0, err
    assert out.count("\n\n") == _words(DATA / "en_ewt-excerpt-dev.conllu").count("\n")


# --- train --jobs: ensemble members side by side ------------------------------------------------


def _weights(path):
    from safetensors.numpy import load_file

    return load_file(str(path))


def _train(tmp_path, name, *options):
    out = tmp_path / name
    result = run(
        "train", DATA / "en_ewt-excerpt-train.conllu", "--dev", DATA / "en_ewt-excerpt-dev.conllu",
        "-o", out, *TINY_ARCHITECTURE, "--ensemble", "3", *options,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_train_jobs_give_the_same_ensemble_as_one_after_another(tmp_path):
    from seqtag.checkpoint import RunCheckpoint
    from seqtag.modelfile import read_metadata

    one = _train(tmp_path, "one.model")
    side = _train(tmp_path, "side.model", "--jobs", "2", "--checkpoint", tmp_path / "ckpt")
    a, b = _weights(one), _weights(side)
    assert a.keys() == b.keys() and len(a) > 10
    for key in a:
        assert (a[key] == b[key]).all(), key
    first, second = read_metadata(one), read_metadata(side)
    for key in ("dev_score", "best_epoch", "epochs_run"):
        assert first[key] == second[key], key
    # The checkpoint holds the three members, in member order, and no member in training:
    # resuming it trains nothing and saves the same model again.
    checkpoint = RunCheckpoint.load(tmp_path / "ckpt")
    assert len(checkpoint.finished) == 3 and checkpoint.training == {}
    again = run("train", "--resume", tmp_path / "ckpt", "-q")
    assert again.exit_code == 0, again.output
    c = _weights(side)
    assert all((a[key] == c[key]).all() for key in a)


def test_train_jobs_say_whose_epoch_each_line_is(tmp_path):
    result = run(
        "train", DATA / "en_ewt-excerpt-dev.conllu", "-o", tmp_path / "m.model",
        *[o for o in TINY_ARCHITECTURE if o != "-q"], "--ensemble", "2", "--jobs", "2",
        "--max-epochs", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for member in (1, 2):
        assert f"Ensemble member {member} of 2 (seed" in result.stderr
        assert f"member {member}  epoch   1  loss" in result.stderr


def test_train_jobs_on_ctrl_c_save_every_members_best_so_far(tmp_path):
    from seqtag.modelfile import read_metadata

    out = tmp_path / "m.model"
    tiny = [o for o in TINY_ARCHITECTURE if o != "-q"]
    tiny[tiny.index("--max-epochs") + 1] = "500"
    process = subprocess.Popen(
        [sys.executable, "-m", "seqtag", "train", str(DATA / "en_ewt-excerpt-dev.conllu"),
         "-o", str(out), *tiny, "--ensemble", "2", "--jobs", "2", "--patience", "500",
         "--max-lr-decays", "0", "--progress"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    seen = set()
    for line in process.stderr:
        if line.startswith("member") and "epoch   2" in line:
            seen.add(line.split()[1])
        if len(seen) == 2:
            process.send_signal(signal.SIGINT)
            break
    rest = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=120) == 130, rest
    assert f"Interrupted: saved the best model so far to {out}" in rest
    assert "Traceback" not in rest
    metadata = read_metadata(out)
    assert metadata["interrupted"] is True
    assert len(metadata["epochs_run"]) == 2 and min(metadata["epochs_run"]) >= 2


def test_jobs_0_are_one_per_cpu_this_process_may_use(tiny_model, monkeypatch):
    from seqtag import device

    asked = []
    monkeypatch.setattr(device, "available_cpus", lambda: asked.append(1) or 2)
    words = _words(DATA / "en_ewt-excerpt-dev.conllu")
    one = run("tag", "-m", tiny_model, "-i", "tokenized", "-f", "tsv", input=words)
    auto = run("tag", "-m", tiny_model, "-i", "tokenized", "-f", "tsv", "-j", "0", input=words)
    assert auto.exit_code == 0, auto.output
    assert asked and auto.stdout == one.stdout


def test_members_side_by_side_drop_the_batch_bar():
    """On a terminal a bar follows an epoch's batches; members side by side report none, so
    their first epoch line takes the bar away rather than leave it standing still."""
    import io

    from rich.console import Console

    from seqtag.cli.train import _EpochDisplay
    from seqtag.train import EpochReport

    class Bar:
        stopped = False

        def stop(self):
            self.stopped = True

        def update(self, *args, **kwargs):
            pass

    display = _EpochDisplay(Console(file=io.StringIO()), quiet=False, progress=True)
    bar = display.bar = Bar()
    display.on_epoch(EpochReport(1, 0.5, 0.9, 0.9, 1, 3.0, 10, 0.002))
    assert display.bar is bar and not bar.stopped  # one member at a time: the bar stays
    display.on_epoch(EpochReport(1, 0.5, 0.9, 0.9, 1, 3.0, 10, 0.002), member=1)
    assert display.bar is None and bar.stopped
    assert "member 2  epoch   1" in display.console.file.getvalue()


def _side_by_side(tmp_path, *options, **popen):
    tiny = [o for o in TINY_ARCHITECTURE if o != "-q"]
    tiny[tiny.index("--max-epochs") + 1] = "500"
    return subprocess.Popen(
        [sys.executable, "-m", "seqtag", "train", str(DATA / "en_ewt-excerpt-dev.conllu"),
         "-o", str(tmp_path / "m.model"), *tiny, "--patience", "500", "--max-lr-decays", "0",
         "--progress", "--jobs", "2", *options],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, **popen,
    )  # fmt: skip


def _wait_for(process, text: str) -> None:
    for line in process.stderr:
        if text in line:
            return
    raise AssertionError(f"never said {text!r}")


def test_train_jobs_end_on_sigterm_to_the_whole_process_group(tmp_path):
    """`timeout`, systemd and Slurm signal every process of the group: the workers end first,
    and the run must still end as SIGTERM says (143, the model saved), never hang."""
    import os

    process = _side_by_side(tmp_path, "--ensemble", "3", start_new_session=True)
    _wait_for(process, "epoch   2")
    os.killpg(process.pid, signal.SIGTERM)
    rest = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=120) == 143, rest
    assert "Interrupted: saved the best model so far" in rest and "Traceback" not in rest


def test_train_jobs_say_when_a_worker_dies(tmp_path):
    import os
    from pathlib import Path

    process = _side_by_side(tmp_path, "--ensemble", "2")
    _wait_for(process, "member 2  epoch   1")
    workers = [
        int(task.name)
        for task in Path("/proc").iterdir()
        if task.name.isdigit()
        and _parent(task) == process.pid
        and b"spawn_main" in (task / "cmdline").read_bytes()
    ]
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    rest = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=120) == 1, rest
    assert "stopped unexpectedly (exit status -9" in rest and "Traceback" not in rest


def _parent(task) -> int:
    try:
        return int((task / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1
