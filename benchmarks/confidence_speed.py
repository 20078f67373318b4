"""Tagging speed with `--confidence` against plain tagging, same model, same input, same run.

Each round runs `seqtag tag -i tokenized -f tsv --threads 1` over the input once plainly and once
with --confidence (the order alternating between rounds), each a whole process (start-up
included), pinned to one core with `taskset` when it is there. Reports words/s of each (median
of the rounds) and their ratio, and checks that the tags are the same.

    python benchmarks/confidence_speed.py MODEL TOKENS.txt --rounds 5 --core 1 --out DIR

TOKENS.txt: one pre-tokenized sentence a line (e.g. the words of en_ewt train, as
benchmarks/speed.py writes them).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(command: list[str], text: Path) -> tuple[float, str]:
    with text.open("rb") as stdin:
        start = time.perf_counter()
        done = subprocess.run(command, stdin=stdin, capture_output=True, check=True)
    return time.perf_counter() - start, done.stdout.decode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("tokens", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    words = sum(len(line.split()) for line in args.tokens.read_text("utf-8").splitlines())
    base = [sys.executable, "-m", "seqtag", "tag", "-m", args.model, "-i", "tokenized"]
    base += ["-f", "tsv", "--threads", "1", "--device", "cpu"]
    if shutil.which("taskset"):
        base = ["taskset", "-c", str(args.core), *base]
    seconds = {"plain": [], "confidence": []}
    outputs = {}
    for round_ in range(args.rounds):
        order = ["plain", "confidence"] if round_ % 2 == 0 else ["confidence", "plain"]
        for kind in order:
            command = base + (["--confidence"] if kind == "confidence" else [])
            elapsed, output = timed(command, args.tokens)
            seconds[kind].append(elapsed)
            outputs[kind] = output
    tags = [[line.split("\t")[:2] for line in outputs[k].splitlines()] for k in seconds]
    same = tags[0] == tags[1]
    medians = {kind: statistics.median(values) for kind, values in seconds.items()}
    record = {
        "model": args.model,
        "input": str(args.tokens),
        "words": words,
        "rounds": args.rounds,
        "seconds": seconds,
        "words_per_second": {kind: round(words / medians[kind]) for kind in medians},
        "ratio": round(medians["plain"] / medians["confidence"], 3),
        "same_tags": same,
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    print(json.dumps(record, indent=2))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "confidence-speed.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
