"""Speed and memory of seqtag on this machine: tagging, start-up, training, memory on long streams.

Every figure is a whole process (`python -m seqtag ...`), timed from outside, start-up included.
Repeated measurements report the median. Parts, each optional:

  tag      `seqtag tag` over en_ewt train (about 205k words) as pre-tokenized text (one sentence
           a line) and as CoNLL-U: words/s and peak RSS, with 1 thread and with every core. With
           --udpipe-model, UDPipe 1 (benchmarks/udpipe_reference.py) tags the same pre-tokenized
           file in the same run, runs alternating, both pinned to one core: the ratio is the
           speed-up over UDPipe 1. With --spacy-model, spaCy's tagger
           (benchmarks/spacy_reference.py) likewise.
  startup  `seqtag --help`, and tagging one line from a cold start.
  train    one epoch on en_ewt (words/s), and full default runs on en_ewt and on a small
           treebank: wall time and test accuracy (test read only after training). The en_ewt
           model is then the model of the tag and rss parts unless --model is given.
  rss      peak RSS of `seqtag tag` on streams of 10,000 and 1,000,000 lines (en_ewt train
           sentences, cycled, each with one new word) piped into stdin.

    python benchmarks/speed.py --parts train tag startup --out benchmarks/results/speed-tag-train-memory
    python benchmarks/speed.py --parts tag --model en.model --udpipe-model udpipe_en.model \\
        --udpipe-python /path/to/venv-with-ufal.udpipe/bin/python \\
        --spacy-model spacy_en/ --spacy-python /path/to/venv-with-spacy/bin/python

It prints a markdown table and writes speed.json and speed.md into --out, with the machine,
Python, torch and numpy versions and thread counts. On a machine without a GPU, `seqtag tag`
runs on numpy (seqtag/numpy_engine.py) and never imports torch; training always uses torch.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from itertools import cycle, islice
from pathlib import Path

from train_eval import ROOT, UD, seqtag, train_and_score

from seqtag.lines import open_lines
from seqtag.read import Column, read_conllu

EN_EWT = UD / "en_ewt"
SMALL_TREEBANK = "mr_ufal"  # the smallest training set of the suite (about 3,000 words)
UDPIPE_REFERENCE = ROOT / "benchmarks" / "udpipe_reference.py"
SPACY_REFERENCE = ROOT / "benchmarks" / "spacy_reference.py"
PARTS = ("train", "tag", "startup", "rss")
ONE_LINE = "The quick brown fox jumped over the lazy dog near the river bank .\n"


# Linux carries a process's memory high-water mark across fork and exec, so a child's peak RSS
# as wait4 reports it is at least what its parent held when it forked: from this script (torch
# and a corpus loaded) every figure had a floor of about 150 MB, which hid the numpy engine's
# real peak. Each measured command is therefore started by this runner, a fresh Python that
# holds almost nothing, and timed there.
RUNNER = """
import json, os, subprocess, sys, tempfile, time
command, core = json.loads(sys.argv[1]), json.loads(sys.argv[2])
if core is not None:
    os.sched_setaffinity(0, {core})
with tempfile.TemporaryFile() as stderr:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr.seek(0)
    message = stderr.read().decode(errors="replace")[-4000:]
print(json.dumps({"seconds": seconds, "exit": os.waitstatus_to_exitcode(status),
                  "peak_rss": usage.ru_maxrss * 1024, "stderr": message}))
"""


def run_process(
    command: list[str], stdin: Path | None = None, core: int | None = None
) -> tuple[float, int]:
    """Run a whole process with stdout to /dev/null: (wall seconds, peak RSS in bytes), both
    measured by RUNNER (the peak is the child's own, not a maximum over earlier runs)."""
    with open(stdin or os.devnull, "rb") as source:
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, json.dumps(command), json.dumps(core)],
            stdin=source,
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        sys.exit(f"the benchmark runner failed: {done.stderr}")
    result = json.loads(done.stdout)
    if result["exit"] != 0:
        sys.exit(f"failed ({result['exit']}): {' '.join(command)}\n{result['stderr']}")
    return result["seconds"], result["peak_rss"]


def median_of(runs: list[tuple[float, int]], words: int) -> dict:
    seconds = statistics.median(s for s, _ in runs)
    return {
        "seconds": round(seconds, 3),
        "words_per_second": round(words / seconds),
        "peak_rss_mb": round(statistics.median(r for _, r in runs) / 2**20, 1),
        "runs_seconds": [round(s, 3) for s, _ in runs],
    }


def prepare_inputs(work: Path) -> tuple[Path, Path, int]:
    """en_ewt train as pre-tokenized text (one sentence a line) and as CoNLL-U; the word count."""
    conllu = EN_EWT / "train.conllu"
    tokenized = work / "en_ewt-train.txt"
    if not tokenized.exists():
        # A form holding a space (rare in UD) stays one token.
        sentences = read_conllu(open_lines(str(conllu)), Column.parse("upos"))
        lines = (" ".join(w.replace(" ", "_") for w in sentence.words) for sentence in sentences)
        tokenized.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    words = sum(len(line.split()) for line in tokenized.read_text(encoding="utf-8").splitlines())
    return tokenized, conllu, words


def interleaved(commands: dict[str, Callable[[], tuple[float, int]]], runs: int) -> dict:
    """Run each command ``runs`` times, alternating between them, so that a slow spell on a
    shared machine falls on all of them alike."""
    results: dict[str, list] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            results[name].append(command())
    return results


def part_tag(model: Path, work: Path, args) -> dict:
    tokenized, conllu, words = prepare_inputs(work)
    all_cores = os.cpu_count() or 1
    commands: dict[str, Callable[[], tuple[float, int]]] = {}
    for threads in sorted({1, all_cores}):
        for input_format, path in (("tokenized", tokenized), ("conllu", conllu)):
            command = seqtag("tag", "-m", str(model), "-i", input_format, "--threads", str(threads))
            core = 0 if threads == 1 else None
            commands[f"seqtag {input_format}, {threads} thread(s)"] = (
                lambda c=command, p=path, k=core: run_process(c, p, k)
            )
    if args.udpipe_model:
        udpipe = [args.udpipe_python, str(UDPIPE_REFERENCE), "tag", str(args.udpipe_model)]
        commands["UDPipe 1 tokenized, 1 thread"] = lambda: run_process(udpipe, tokenized, 0)
    if args.spacy_model:
        spacy = [args.spacy_python, str(SPACY_REFERENCE), "tag", str(args.spacy_model)]
        commands["spaCy tokenized, 1 thread"] = lambda: run_process(spacy, tokenized, 0)
    measured = interleaved(commands, args.runs)
    report = {name: median_of(runs, words) for name, runs in measured.items()}
    result = {"words": words, "model": str(model), "results": report}
    if args.udpipe_model:
        ours = report["seqtag tokenized, 1 thread(s)"]["words_per_second"]
        theirs = report["UDPipe 1 tokenized, 1 thread"]["words_per_second"]
        result["speedup_over_udpipe_1_thread"] = round(ours / theirs, 2)
    if args.spacy_model:
        ours = report["seqtag tokenized, 1 thread(s)"]["words_per_second"]
        theirs = report["spaCy tokenized, 1 thread"]["words_per_second"]
        result["speedup_over_spacy_1_thread"] = round(ours / theirs, 2)
    return result


def part_startup(model: Path, work: Path, args) -> dict:
    one_line = work / "one-line.txt"
    one_line.write_text(ONE_LINE, encoding="utf-8")
    measured = interleaved(
        {
            "seqtag --help": lambda: run_process(seqtag("--help")),
            "tag one line, cold start": lambda: run_process(
                seqtag("tag", "-m", str(model)), one_line
            ),
        },
        max(args.runs, 5),
    )
    return {
        name: {"seconds": round(statistics.median(s for s, _ in runs), 3)}
        for name, runs in measured.items()
    }


def part_train(work: Path, args) -> dict:
    result = {}
    epoch = train_and_score(
        EN_EWT / "train.conllu",
        EN_EWT / "dev.conllu",
        EN_EWT / "test.conllu",
        work,
        "en_ewt-one-epoch",
        1,
        ["--max-epochs", "1", *args.train_args],
    )
    result["en_ewt one epoch"] = {
        "seconds": epoch["train_seconds"],
        "words_per_second": round(epoch["train_words"] / epoch["train_seconds"]),
        "note": "whole process: reading, vocabulary, one epoch, one dev pass, saving",
    }
    for name, folder in (("en_ewt", EN_EWT), (SMALL_TREEBANK, UD / SMALL_TREEBANK)):
        run = train_and_score(
            folder / "train.conllu",
            folder / "dev.conllu",
            folder / "test.conllu",
            work,
            f"{name}-default",
            1,
            list(args.train_args),
        )
        result[f"{name} full default run"] = {
            "seconds": run["train_seconds"],
            "train_words": run["train_words"],
            "epochs_run": run["epochs_run"],
            "best_epoch": run["best_epoch"],
            "test_accuracy": run["scores"]["accuracy"],
            "seed": 1,
        }
    return result


def stream_file(work: Path, lines: int) -> Path:
    """en_ewt train sentences, cycled, each ending in a token never seen before (``n4711``): the
    caches of word forms fill to their bounds, as they would on a large varied corpus."""
    path = work / f"stream-{lines}.txt"
    if not path.exists():
        tokenized, _, _ = prepare_inputs(work)
        source = tokenized.read_text(encoding="utf-8").splitlines()
        with path.open("w", encoding="utf-8") as handle:
            for number, line in enumerate(islice(cycle(source), lines)):
                handle.write(f"{line} n{number}\n")
    return path


def part_rss(model: Path, work: Path, args) -> dict:
    result = {}
    for lines in args.rss_lines:
        path = stream_file(work, lines)
        command = seqtag(
            "tag", "-m", str(model), "-i", "tokenized", "--threads", str(args.rss_threads)
        )
        seconds, rss = run_process(command, path)
        result[f"{lines} lines"] = {
            "seconds": round(seconds, 1),
            "peak_rss_mb": round(rss / 2**20, 1),
        }
    if len(args.rss_lines) >= 2:
        small, large = (
            result[f"{n} lines"]["peak_rss_mb"] for n in (min(args.rss_lines), max(args.rss_lines))
        )
        result["ratio_largest_to_smallest"] = round(large / small, 3)
    return result


def machine() -> dict:
    import numpy
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,  # `seqtag tag` on the CPU runs on numpy (numpy_engine.py)
        "load_average_at_start": os.getloadavg()[0],
    }


def markdown(report: dict) -> str:
    rows = [
        "| measurement | seconds (median) | words/s | peak RSS MB |",
        "| --- | --- | --- | --- |",
    ]
    for part in PARTS:
        section = report.get(part)
        if not section:
            continue
        entries = section.get("results", section)
        for name, values in entries.items():
            if not isinstance(values, dict):
                continue
            extra = ""
            if "test_accuracy" in values:
                extra = f" (test acc {100 * values['test_accuracy']:.2f}, {values['epochs_run']} epochs)"
            rows.append(
                f"| {part}: {name}{extra} | {values.get('seconds', '')} "
                f"| {values.get('words_per_second', '')} | {values.get('peak_rss_mb', '')} |"
            )
    lines = ["\n".join(rows)]
    if "speedup_over_udpipe_1_thread" in report.get("tag", {}):
        lines.append(
            f"seqtag / UDPipe 1 words/s, 1 thread, pinned to one core: {report['tag']['speedup_over_udpipe_1_thread']}x"
        )
    if "speedup_over_spacy_1_thread" in report.get("tag", {}):
        lines.append(
            f"seqtag / spaCy words/s, 1 thread, pinned to one core: {report['tag']['speedup_over_spacy_1_thread']}x"
        )
    if "ratio_largest_to_smallest" in report.get("rss", {}):
        lines.append(
            f"peak RSS, largest / smallest stream: {report['rss']['ratio_largest_to_smallest']}"
        )
    return "\n\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", nargs="+", default=["tag", "startup"], choices=PARTS)
    parser.add_argument(
        "--model", type=Path, help="model to tag with (default: the train part's en_ewt model)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "speed")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "seqtag-speed",
        help="where generated inputs go (the 1,000,000-line stream is about 90 MB)",
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="runs per measurement (median reported)"
    )
    parser.add_argument(
        "--udpipe-model", type=Path, help="UDPipe 1 model from udpipe_reference.py train"
    )
    parser.add_argument("--udpipe-python", default=sys.executable, help="a Python with ufal.udpipe")
    parser.add_argument(
        "--spacy-model", type=Path, help="spaCy tagger from spacy_reference.py train (its OUTDIR)"
    )
    parser.add_argument("--spacy-python", default=sys.executable, help="a Python with spaCy")
    parser.add_argument("--rss-lines", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--rss-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--train-args", nargs=argparse.REMAINDER, default=[], help="passed to seqtag train"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    record = args.out / "speed.json"
    # Parts measured in earlier invocations stay in the record; each part keeps its command.
    report: dict = json.loads(record.read_text()) if record.exists() else {}
    report["machine"] = machine()
    command = " ".join(["python", *sys.argv])
    if "train" in args.parts:
        report["train"] = {**part_train(args.out, args), "command": command}
    model = args.model or args.out / "en_ewt-default.model"
    if {"tag", "startup", "rss"} & set(args.parts) and not model.exists():
        sys.exit(f"no model to tag with: {model} (run --parts train first, or pass --model)")
    if "tag" in args.parts:
        report["tag"] = {**part_tag(model, args.work, args), "command": command}
    if "startup" in args.parts:
        report["startup"] = {**part_startup(model, args.work, args), "command": command}
    if "rss" in args.parts:
        report["rss"] = {**part_rss(model, args.work, args), "command": command}
    text = markdown(report)
    print(text)
    record.write_text(json.dumps(report, indent=2) + "\n")
    commands = "\n".join(
        f"- {part}: `{report[part]['command']}`" for part in PARTS if part in report
    )
    (args.out / "speed.md").write_text(f"{text}\nCommands:\n{commands}\n")


if __name__ == "__main__":
    main()
