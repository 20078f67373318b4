"""The command line through click's CliRunner (stdout and stderr apart) and through real pipes."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import DATA, TEST_DATA, TINY_OPTIONS

from seqtag.cli import main


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


# --- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_with_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert main.commands[command].help, f"{command} has no docstring"
    assert "seqtag " + command in result.stdout  # an example line


def test_help_never_imports_torch():
    """Importing torch takes a second or more; help and --version must not pay for it."""
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from seqtag.cli import main\n"
        "for args in (['--help'], ['--version'], *([c, '--help'] for c in main.commands)):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
        "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- train ------------------------------------------------------------------------------------


def test_train_writes_a_model_and_reports_on_stderr(tmp_path):
    out = tmp_path / "m.model"
    result = run("train", DATA / "en_ewt-excerpt-dev.conllu", "-o", out, *TINY_OPTIONS[:-1])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "No --dev given: 10 sentences held out of " in result.stderr
    assert f"Saved {out}" in result.stderr
    # stderr is no terminal (a log file): a line per epoch all the same, so a long run shows
    # it is alive; --no-progress leaves only the summary lines.
    assert "epoch   1" in result.stderr and "epoch   2" in result.stderr
    quieter = run(
        "train", DATA / "en_ewt-excerpt-dev.conllu", "-o", out, *TINY_OPTIONS[:-1], "--no-progress"
    )
    assert "epoch   1" not in quieter.stderr and f"Saved {out}" in quieter.stderr
    info = json.loads(run("info", "-m", out, "--json").stdout)
    assert info["column"] == "upos" and info["epochs_run"] == 2
    assert info["model_config"]["hidden"] == 16
    assert "10 sentences held out" in info["dev_source"]


def test_quiet_training_prints_nothing(tmp_path):
    result = run(
        "train", DATA / "en_ewt-excerpt-dev.conllu", "-o", tmp_path / "m.model", *TINY_OPTIONS
    )
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""


def test_config_file_is_read_and_the_command_line_wins(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('rnn = "gru"\nhidden = 8\nchar = false\n')
    out = tmp_path / "m.model"
    result = run(
        "train", DATA / "en_ewt-excerpt-dev.conllu", "-o", out, "--config", config, *TINY_OPTIONS
    )
    assert result.exit_code == 0, result.output
    model_config = json.loads(run("info", "-m", out, "--json").stdout)["model_config"]
    assert model_config["rnn"] == "gru" and model_config["char"] is False
    assert model_config["hidden"] == 16  # TINY_OPTIONS says --hidden 16


def test_shipped_config_files_are_valid(tmp_path):
    from conftest import ROOT

    configs = sorted((ROOT / "configs").glob("*.toml"))
    assert configs
    for config in configs:
        result = run(
            "train",
            DATA / "en_ewt-excerpt-dev.conllu",
            "-o",
            tmp_path / "m.model",
            "--config",
            config,
            *TINY_OPTIONS,
        )
        assert result.exit_code == 0, (config, result.output)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [TEST_DATA / "no-upos.conllu"],
            f"Error: {TEST_DATA / 'no-upos.conllu'}: column upos holds only '_'",
        ),
        ([TEST_DATA / "empty.conllu"], f"Error: {TEST_DATA / 'empty.conllu'}: no sentences found"),
        (
            [TEST_DATA / "bad-spaces.conllu"],
            f"Error: {TEST_DATA / 'bad-spaces.conllu'}:2: expected 10 tab-separated",
        ),
        (
            [TEST_DATA / "bad-utf8.conllu"],
            f"Error: {TEST_DATA / 'bad-utf8.conllu'}:2: invalid UTF-8",
        ),
        (["missing.conllu"], "Error: missing.conllu: cannot open: No such file or directory"),
        ([TEST_DATA / "tiny.conllu", "--column", "lemma"], "Error: unknown column 'lemma'"),
    ],
)
def test_bad_training_input_is_one_error_line_and_exit_1(tmp_path, args, message):
    out = tmp_path / "m.model"
    result = run("train", *args, "-o", out, *TINY_OPTIONS)
    assert result.exit_code == 1
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not out.exists()


def test_unknown_config_key_is_an_error(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("hiden = 8\n")
    result = run("train", TEST_DATA / "tiny.conllu", "-o", tmp_path / "m", "--config", config)
    assert result.exit_code == 1
    assert "unknown key 'hiden'; valid keys are:" in result.stderr


def test_usage_errors_exit_2(tmp_path):
    assert run("train", TEST_DATA / "tiny.conllu").exit_code == 2  # no -o
    assert (
        run("train", TEST_DATA / "tiny.conllu", "-o", tmp_path / "m", "--rnn", "rnn").exit_code == 2
    )
    assert run("eval", TEST_DATA / "tiny.conllu").exit_code == 2  # neither -m nor --pred
    assert run("tag").exit_code == 2  # no -m


def test_missing_output_directory_fails_before_training(tmp_path):
    result = run("train", TEST_DATA / "tiny.conllu", "-o", tmp_path / "no" / "m.model")
    assert result.exit_code == 1 and "the directory for the model does not exist" in result.stderr


# --- eval -------------------------------------------------------------------------------------


def test_eval_json_has_the_documented_keys(tiny_model):
    result = run("eval", "-m", tiny_model, DATA / "en_ewt-excerpt-test.conllu", "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    for key in ("accuracy", "known_accuracy", "unknown_accuracy"):
        assert 0.0 <= scores[key] <= 1.0
    assert scores["known_tokens"] + scores["unknown_tokens"] == scores["tokens"]
    assert set(scores["per_label"]) >= {"NOUN", "VERB"}


def test_eval_table(tiny_model):
    result = run("eval", "-m", tiny_model, DATA / "en_ewt-excerpt-test.conllu")
    assert result.exit_code == 0
    assert (
        "accuracy" in result.stdout
        and "unseen words" in result.stdout
        and "per label" in result.stdout
    )


def test_eval_of_a_predictions_file(tiny_model, tmp_path):
    gold = DATA / "en_ewt-excerpt-test.conllu"
    perfect = run("eval", "--pred", gold, gold, "--json")
    assert json.loads(perfect.stdout)["accuracy"] == 1.0
    predicted = tmp_path / "pred.conllu"
    predicted.write_text(
        run("tag", "-m", tiny_model, "-i", "conllu", gold).stdout, encoding="utf-8"
    )
    by_model = json.loads(run("eval", "-m", tiny_model, gold, "--json").stdout)
    by_file = json.loads(
        run(
            "eval",
            "--pred",
            predicted,
            gold,
            "--train",
            DATA / "en_ewt-excerpt-train.conllu",
            "--json",
        ).stdout
    )
    assert by_file["accuracy"] == by_model["accuracy"]
    assert by_file["known_tokens"] == by_model["known_tokens"]


def test_eval_with_a_model_cannot_score_another_column(tiny_model):
    result = run("eval", "-m", tiny_model, TEST_DATA / "tiny.conllu", "--column", "xpos")
    assert result.exit_code == 2
    assert "the model tags column upos; --column xpos would score it" in result.stderr


def test_eval_with_misaligned_predictions(tmp_path):
    result = run(
        "eval", "--pred", DATA / "en_ewt-excerpt-dev.conllu", DATA / "en_ewt-excerpt-test.conllu"
    )
    assert result.exit_code == 1 and "words differ from the gold sentence" in result.stderr


def test_eval_with_a_file_that_is_not_a_model(tmp_path):
    fake = tmp_path / "fake.model"
    fake.write_text("hello")
    result = run("eval", "-m", fake, TEST_DATA / "tiny.conllu")
    assert result.exit_code == 1 and result.stderr.startswith(
        f"Error: {fake}: not a seqtag model file"
    )


# --- tag --------------------------------------------------------------------------------------


def test_tag_raw_text_to_conllu(tiny_model):
    result = run("tag", "-m", tiny_model, input="Hello, world! It works.\n")
    assert result.exit_code == 0, result.output
    blocks = result.stdout.strip().split("\n\n")
    assert len(blocks) == 2
    first = blocks[0].splitlines()
    assert first[0] == "# text = Hello, world!"
    rows = [line.split("\t") for line in first[1:]]
    assert [r[1] for r in rows] == ["Hello", ",", "world", "!"]
    assert rows[0][9] == "SpaceAfter=No" and rows[1][9] == "_"
    assert all(r[3] not in ("", "_") for r in rows)


def test_tag_tokenized_to_tsv_and_jsonl(tiny_model):
    text = "The cat sat .\n\nDogs bark\n"
    tsv = run("tag", "-m", tiny_model, "-i", "tokenized", "-f", "tsv", input=text)
    assert tsv.exit_code == 0
    # One block per input line, the empty line an empty block: sentences stay aligned.
    tokens = [line.split("\t")[0] if line else "" for line in tsv.stdout.split("\n")]
    assert tokens == ["The", "cat", "sat", ".", "", "", "Dogs", "bark", "", ""]
    jsonl = run("tag", "-m", tiny_model, "-i", "tokenized", "-f", "jsonl", input=text)
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [r["tokens"] for r in records] == [["The", "cat", "sat", "."], [], ["Dogs", "bark"]]
    assert [len(r["tags"]) for r in records] == [4, 0, 2]


def test_tag_conllu_changes_only_the_models_column(tiny_model):
    source = (TEST_DATA / "tiny.conllu").read_text(encoding="utf-8")
    result = run("tag", "-m", tiny_model, "-i", "conllu", TEST_DATA / "tiny.conllu")
    assert result.exit_code == 0
    before, after = source.splitlines(), result.stdout.splitlines()
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        old_fields, new_fields = old.split("\t"), new.split("\t")
        if len(old_fields) == 10 and old_fields[0].isdigit():
            del old_fields[3], new_fields[3]
        assert old_fields == new_fields


def test_tag_with_a_bad_model_or_input(tiny_model, tmp_path):
    result = run("tag", "-m", tmp_path / "none.model", input="x\n")
    assert result.exit_code == 1 and "no such model file" in result.stderr
    result = run("tag", "-m", tiny_model, "-i", "conllu", TEST_DATA / "bad-id.conllu")
    assert result.exit_code == 1 and f"{TEST_DATA / 'bad-id.conllu'}:2:" in result.stderr


# --- real processes and pipes -------------------------------------------------------------------


def test_a_real_pipe_into_head_ends_quietly(tiny_model):
    text = "The cat sat on the mat.\n" * 20000
    shell = f"{sys.executable} -m seqtag tag -m {tiny_model} -f tsv | head -1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell],
        input=text,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stdout.split("\t")[0] == "The"
    assert done.stderr == ""
    assert done.returncode == 0


def test_subprocess_error_exit_code_and_message(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "seqtag", "eval", "--pred", str(TEST_DATA / "bad-id.conllu"), str(TEST_DATA / "bad-id.conllu")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert (
        done.stderr
        == f"Error: {TEST_DATA / 'bad-id.conllu'}:2: ID 'x' is not a word number (1), a multiword range (1-2) or an empty node (1.1)\n"
    )
    assert done.stdout == ""


# One process, and worker processes (tag --jobs, tests/test_parallel.py), answer alike.
JOBS = pytest.mark.parametrize("jobs", [[], ["--jobs", "2"]], ids=["one-process", "jobs-2"])


@JOBS
def test_slow_pipe_gets_answers_before_input_ends(tiny_model, jobs):
    """tag answers as lines arrive: each line is tagged before the next is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "seqtag", "tag", "-m", str(tiny_model), "-i", "tokenized", "-f", "tsv", *jobs],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
    )  # fmt: skip
    try:
        for word in ("first", "second"):
            process.stdin.write(word + "\n")
            process.stdin.flush()
            assert process.stdout.readline().split("\t")[0] == word
            assert process.stdout.readline() == "\n"
    finally:
        process.stdin.close()
        process.wait(timeout=60)
        process.stdout.close()
    assert process.returncode == 0


@JOBS
def test_sigterm_ends_tagging_after_whole_sentences_with_143(tiny_model, jobs):
    import signal

    process = subprocess.Popen(
        [sys.executable, "-m", "seqtag", "tag", "-m", str(tiny_model), "-i", "tokenized", "-f", "tsv", *jobs],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
    )  # fmt: skip
    try:
        process.stdin.write("a whole sentence\n")
        process.stdin.flush()
        answer = [process.stdout.readline() for _ in range(4)]
        process.send_signal(signal.SIGTERM)  # while it waits for more input
        assert process.wait(timeout=60) == 143
        assert process.stdout.read() == ""
        assert process.stderr.read() == "Terminated: output ends after the last whole sentence.\n"
    finally:
        process.kill()
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()
    assert [line.split("\t")[0] for line in answer] == ["a", "whole", "sentence", "\n"]


@pytest.mark.parametrize(("signal_name", "status"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_ctrl_c_or_sigterm_saves_the_best_model_so_far(tmp_path, signal_name, status):
    import signal

    out, ckpt = tmp_path / "m.model", tmp_path / "ckpt"
    tiny = [o for o in TINY_OPTIONS if o != "-q"]
    # 500 epochs, never stopped early: on a loaded machine the run must still be going when
    # this test reads "epoch 2" from the pipe, however far ahead of the reader it got.
    tiny[tiny.index("--max-epochs") + 1] = "500"
    process = subprocess.Popen(
        [sys.executable, "-m", "seqtag", "train", str(DATA / "en_ewt-excerpt-dev.conllu"), "-o", str(out), *tiny,
         "--patience", "500", "--max-lr-decays", "0", "--progress", "--checkpoint", str(ckpt)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        # A shell's background job (`pytest &`) ignores SIGINT, and children inherit that:
        # the child gets Python's own Ctrl-C handling back, as a terminal would give it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    for line in process.stderr:
        if line.startswith("epoch   2"):
            process.send_signal(getattr(signal, signal_name))
            break
    rest = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=120) == status
    assert f"Interrupted: saved the best model so far to {out}" in rest
    assert f"Go on with: seqtag train --resume {ckpt}" in rest
    assert "Traceback" not in rest
    from seqtag.modelfile import read_metadata

    metadata = read_metadata(out)
    assert metadata["interrupted"] is True and metadata["epochs_run"] >= 2


def test_threads_sets_torchs_cpu_threads(tmp_path):
    import torch

    before = torch.get_num_threads()
    try:
        args = ["--max-epochs", "1", "--threads", "2"]
        result = run(
            "train",
            DATA / "en_ewt-excerpt-dev.conllu",
            "-o",
            tmp_path / "m.model",
            *TINY_OPTIONS,
            *args,
        )
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_signals_during_the_final_save_wait_for_the_model_file():
    """After training, Ctrl-C or SIGTERM is recorded and said, not raised: the model file is
    written whole, then the run ends with the signal's status (no traceback)."""
    import io
    import os
    import signal

    from rich.console import Console

    from seqtag.signals import signals_deferred

    before = signal.getsignal(signal.SIGINT)
    said = io.StringIO()
    with signals_deferred(Console(file=said).print, signal.SIGINT, signal.SIGTERM) as late:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        still_here = True
    assert still_here and late.fired and late.signum == signal.SIGTERM
    assert said.getvalue().count("Writing the model file first") == 1
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "{dir}", "-o", "{dir}/m.model"], "{dir}: is a directory, not a file"),
        (
            ["train", "{train}", "--dev", "{dir}", "-o", "{dir}/m.model"],
            "{dir}: is a directory, not a file",
        ),
        (
            ["train", "{train}", "-o", "{dir}/m.model", "--config", "{dir}"],
            "{dir}: is a directory, not a config file",
        ),
        (
            ["train", "{train}", "-o", "{dir}/m.model", "--config", "{dir}/no.toml"],
            "{dir}/no.toml: cannot read config: No such file or directory",
        ),
        (["eval", "-m", "{dir}", "{train}"], "{dir}: is a directory, not a model file"),
        (["tag", "-m", "{dir}"], "{dir}: is a directory, not a model file"),
        (["tag", "-m", "{dir}/no.model"], "{dir}/no.model: no such model file"),
    ],
)
def test_a_missing_file_and_a_directory_are_alike_errors_with_exit_1(tmp_path, args, message):
    """One rule: a missing file, a directory or an unreadable one given as input is an
    `Error: PATH: ...` with status 1 (a directory used to be a usage error, status 2)."""
    fill = {"{dir}": str(tmp_path), "{train}": str(DATA / "en_ewt-excerpt-train.conllu")}

    def filled(text: str) -> str:
        for key, value in fill.items():
            text = text.replace(key, value)
        return text

    result = CliRunner().invoke(main, [filled(a) for a in args], input="")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {filled(message)}\n"


def test_eval_confusion_adds_the_table_and_the_json_list(tiny_model):
    gold = str(DATA / "en_ewt-excerpt-test.conllu")
    plain = run("eval", "-m", tiny_model, gold, "--json")
    assert "confusions" not in json.loads(plain.stdout)  # the JSON stays as it was without it
    scores = json.loads(run("eval", "-m", tiny_model, gold, "--json", "--confusion").stdout)
    errors = round(scores["tokens"] * (1 - scores["accuracy"]))
    assert sum(c["count"] for c in scores["confusions"]) == errors
    counts = [c["count"] for c in scores["confusions"]]
    assert counts == sorted(counts, reverse=True)
    table = run("eval", "-m", tiny_model, gold, "--confusion").stdout
    assert "most frequent confusions" in table and "share of errors" in table


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
@pytest.mark.parametrize("threads", [1, 2])
def test_threads_reach_numpys_blas_when_tagging(tiny_model, threads):
    """OpenBLAS reads its thread count once, when numpy loads: --threads must be set before
    (it was not, once). Its threads stay, so the process's own count tells."""
    if threads > len(os.sched_getaffinity(0)):
        pytest.skip("OpenBLAS starts no more threads than the CPUs it may use")
    probe = (
        "import os, sys\n"
        "from seqtag.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(len(os.listdir('/proc/self/task')), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run(
        [sys.executable, "-c", probe, "tag", "-m", str(tiny_model), "-i", "tokenized",
         "--device", "cpu", "--threads", str(threads)],
        input="a few words\n", capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert int(done.stderr.split()[-1]) == threads
