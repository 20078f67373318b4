"""Training and tagging time on a quiet machine and beside one busy process, by thread count.

What a user meets on a laptop running a browser or a shared CI runner: the quick start's
training command (the corpus in data/), the ensemble the excerpt gets without --preset
(train-ensemble), one epoch of en_ewt (train-ewt), and tagging en_ewt
train's words, each a whole process, on a quiet machine and with one other CPU-bound process
running (a Python busy loop, not pinned), with each of the thread settings asked for (or of
another option's, --vary=--jobs). ``default`` runs the command as a
user types it (no --threads; what that means is the code's default at the commit measured).
Each round runs every quiet run, then every busy one, the settings' order alternating between
rounds; a busy run past --busy-limit times the same quiet run's first time is stopped and
recorded as such (enough to tell whether it stays within the issue's 1.5x).

    python benchmarks/threads_under_load.py --rounds 2 --threads default,1 --out DIR \\
        [--tokens EN_EWT_WORDS.txt] [--tasks train,tag,train-ewt --en-ewt DIR]

TOKENS: one pre-tokenized sentence a line (benchmarks/speed.py writes en_ewt train's); without
it tagging reads the excerpt's test words. Nothing else should run on the machine meanwhile:
the busy process is the only load.
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
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
TRAIN = ["train", str(DATA / "en_ewt-excerpt-train.conllu"), "--preset", "pos", "-q"]
TRAIN += ["--dev", str(DATA / "en_ewt-excerpt-dev.conllu")]
# What `seqtag train` chooses for the excerpt without --preset: an ensemble of three networks.
TRAIN_ENSEMBLE = ["train", str(DATA / "en_ewt-excerpt-train.conllu"), "--no-tokenizer", "-q"]
TRAIN_ENSEMBLE += ["--dev", str(DATA / "en_ewt-excerpt-dev.conllu")]


def conllu_words(path: Path) -> str:
    """The words of a CoNLL-U file, one sentence a line, spaces inside a form as ``_``."""
    lines, words = [], []
    for line in path.read_text("utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) == 10 and fields[0].isdigit():
            words.append(fields[1].replace(" ", "_"))
        elif not line.strip() and words:
            lines.append(" ".join(words))
            words = []
    if words:
        lines.append(" ".join(words))
    return "".join(line + "\n" for line in lines)


def busy_process() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def timed(command: list[str], timeout: float, stdin_path: Path | None = None) -> float | None:
    """Seconds the command took, or None when it ran past ``timeout`` (stopped)."""
    stdin = stdin_path.open("rb") if stdin_path else subprocess.DEVNULL
    start = time.perf_counter()
    try:
        subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        if stdin_path:
            stdin.close()
    return time.perf_counter() - start


def setting_options(option: str, setting: str) -> list[str]:
    return [] if setting == "default" else [option, setting]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="default,1,2", help="comma-separated settings")
    parser.add_argument(
        "--vary", default="--threads", help="the option the settings are for (e.g. --jobs)"
    )
    parser.add_argument("--tasks", default="train,tag")
    parser.add_argument("--tokens", type=Path, help="words to tag, one sentence a line")
    parser.add_argument("--en-ewt", type=Path, help="the en_ewt folder, for task train-ewt")
    parser.add_argument("--timeout", type=float, default=600.0, help="for quiet runs")
    parser.add_argument(
        "--busy-limit",
        type=float,
        default=2.5,
        help="a busy run is stopped past this many times the same quiet run's first time",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = args.threads.split(",")
    tasks = args.tasks.split(",")
    seqtag = [sys.executable, "-m", "seqtag"]
    work = Path(tempfile.mkdtemp(prefix="threads-under-load-"))
    model = work / "tagger.model"
    tokens = args.tokens
    if tokens is None:
        tokens = work / "words.txt"
        tokens.write_text(conllu_words(DATA / "en_ewt-excerpt-test.conllu"), "utf-8")
    words = sum(len(line.split()) for line in tokens.read_text("utf-8").splitlines())
    if "tag" in tasks:  # the model tagging uses: trained once, quietly, on one thread
        subprocess.run([*seqtag, *TRAIN, "--threads", "1", "-o", str(model)], check=True)

    seconds: dict[str, list[float | None]] = {}
    for round_ in range(args.rounds):
        for load in ("quiet", "busy"):  # quiet first: it sets the busy runs' time limit
            order = settings if round_ % 2 == 0 else settings[::-1]
            busy = busy_process() if load == "busy" else None
            try:
                time.sleep(1.0 if busy else 0.0)
                for task in tasks:
                    for setting in order:
                        if task == "train":
                            command = [*seqtag, *TRAIN, "-o", str(work / "run.model")]
                            stdin = None
                        elif task == "train-ensemble":  # no --preset: the data's ensemble
                            command = [*seqtag, *TRAIN_ENSEMBLE, "-o", str(work / "e.model")]
                            stdin = None
                        elif task == "train-ewt":  # one epoch of a large treebank
                            command = [*seqtag, "train", str(args.en_ewt / "train.conllu")]
                            command += ["--dev", str(args.en_ewt / "dev.conllu"), "-q"]
                            command += ["--preset", "pos", "--no-tokenizer", "--max-epochs", "1"]
                            command += ["-o", str(work / "ewt.model")]
                            stdin = None
                        else:
                            command = [*seqtag, "tag", "-m", str(model), "-i", "tokenized"]
                            command += ["-f", "tsv", "--device", "cpu"]
                            stdin = tokens
                        name = args.vary.lstrip("-")
                        key = f"{task} {load} {name}={setting}"
                        quiet = seconds.get(f"{task} quiet {name}={setting}", [None])[0]
                        limit = args.timeout
                        if load == "busy" and quiet is not None:
                            limit = args.busy_limit * quiet
                        elapsed = timed(command + setting_options(args.vary, setting), limit, stdin)
                        seconds.setdefault(key, []).append(elapsed)
                        shown = "stopped" if elapsed is None else f"{elapsed:.1f} s"
                        print(f"round {round_ + 1}: {key}: {shown}", file=sys.stderr, flush=True)
            finally:
                if busy:
                    busy.kill()
                    busy.wait()

    def median(values):
        done = [v for v in values if v is not None]
        return round(statistics.median(done), 2) if len(done) == len(values) else None

    record = {
        "command": " ".join(sys.argv),
        "rounds": args.rounds,
        "timeout": args.timeout,
        "busy_limit": args.busy_limit,
        "tag_input": str(tokens),
        "tag_words": words,
        "seconds": seconds,
        "median_seconds": {key: median(values) for key, values in seconds.items()},
        "cpus": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "machine": f"{platform.machine()}, {platform.processor()}, {platform.python_version()}",
    }
    print(json.dumps(record, indent=2))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "threads-under-load.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
