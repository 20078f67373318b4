"""--jobs: tagging with worker processes against one process, and an ensemble's members trained
side by side against one after another (issue 24, must-show 3).

tag: `seqtag tag -i tokenized -f tsv --device cpu` over one pre-tokenized sentence a line
(en_ewt train's words), with --jobs 1 and --jobs N (one thread a process), alternating, whole
processes; median words/s of the rounds, their ratio, and whether the outputs are byte-identical.

train: `seqtag train TRAIN --dev DEV --preset PRESET --no-tokenizer` of an ensemble (pos-small:
three members) with --jobs 1 and --jobs N (--threads 1 both), wall time of each, and whether
the two model files hold the same weights and dev scores.

    python benchmarks/jobs_speed.py --tokens EN_EWT_WORDS.txt --model MODEL --jobs 2 \\
        --rounds 3 --train TRAIN --dev DEV --train-jobs 3 --train-rounds 1 --out DIR

Nothing else should run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], stdin: Path | None = None, stdout: Path | None = None) -> float:
    source = stdin.open("rb") if stdin else subprocess.DEVNULL
    sink = stdout.open("wb") if stdout else subprocess.DEVNULL
    start = time.perf_counter()
    try:
        subprocess.run(command, stdin=source, stdout=sink, check=True)
    finally:
        for stream in (source, sink):
            if stream is not subprocess.DEVNULL:
                stream.close()
    return time.perf_counter() - start


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def same_model(a: Path, b: Path) -> bool:
    from safetensors.numpy import load_file

    from seqtag.modelfile import read_metadata

    first, second = load_file(str(a)), load_file(str(b))
    if first.keys() != second.keys():
        return False
    if not all((first[key] == second[key]).all() for key in first):
        return False
    one, two = read_metadata(a), read_metadata(b)
    return all(one[k] == two[k] for k in ("dev_score", "best_epoch", "epochs_run"))


def part_tag(args, work: Path) -> dict:
    seqtag = [sys.executable, "-m", "seqtag", "tag", "-m", str(args.model), "-i", "tokenized"]
    seqtag += ["-f", "tsv", "--device", "cpu", "--threads", "1"]
    words = sum(len(line.split()) for line in args.tokens.read_text("utf-8").splitlines())
    settings = {"jobs 1": ["--jobs", "1"], f"jobs {args.jobs}": ["--jobs", str(args.jobs)]}
    seconds: dict[str, list[float]] = {name: [] for name in settings}
    outputs = {}
    for round_ in range(args.rounds):
        names = list(settings) if round_ % 2 == 0 else list(settings)[::-1]
        for name in names:
            out = work / f"{name.replace(' ', '-')}.tsv"
            seconds[name].append(timed(seqtag + settings[name], args.tokens, out))
            outputs[name] = digest(out)
            print(f"tag round {round_ + 1}: {name}: {seconds[name][-1]:.2f} s", file=sys.stderr)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    rates = {name: round(words / median) for name, median in medians.items()}
    one, many = rates["jobs 1"], rates[f"jobs {args.jobs}"]
    return {
        "words": words,
        "seconds": seconds,
        "words_per_second": rates,
        "ratio": round(many / one, 3),
        "byte_identical": len(set(outputs.values())) == 1,
    }


def part_train(args, work: Path) -> dict:
    base = [sys.executable, "-m", "seqtag", "train", str(args.train), "--dev", str(args.dev)]
    base += ["--preset", args.preset, "--no-tokenizer", "--threads", "1", "-q"]
    settings = {"jobs 1": "1", f"jobs {args.train_jobs}": str(args.train_jobs)}
    seconds: dict[str, list[float]] = {name: [] for name in settings}
    models = {}
    for round_ in range(args.train_rounds):
        names = list(settings) if round_ % 2 == 0 else list(settings)[::-1]
        for name in names:
            model = work / f"train-{name.replace(' ', '-')}.model"
            seconds[name].append(timed([*base, "--jobs", settings[name], "-o", str(model)]))
            models[name] = model
            print(f"train round {round_ + 1}: {name}: {seconds[name][-1]:.1f} s", file=sys.stderr)
    medians = {name: round(statistics.median(values), 1) for name, values in seconds.items()}
    return {
        "train": str(args.train),
        "preset": args.preset,
        "seconds": seconds,
        "median_seconds": medians,
        "ratio": round(medians["jobs 1"] / medians[f"jobs {args.train_jobs}"], 3),
        "same_model": same_model(*models.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=Path, help="words to tag, one sentence a line")
    parser.add_argument("--model", type=Path, help="the model to tag with")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--train", type=Path, help="a training file for the train part")
    parser.add_argument("--dev", type=Path)
    parser.add_argument("--preset", default="pos-small")
    parser.add_argument("--train-jobs", type=int, default=3)
    parser.add_argument("--train-rounds", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jobs-speed-"))
    record: dict = {
        "command": " ".join(sys.argv),
        "cpus": os.cpu_count(),
        "machine": f"{platform.machine()}, {platform.processor()}, {platform.python_version()}",
    }
    if args.tokens:
        record["tag"] = part_tag(args, work)
    if args.train:
        record["train"] = part_train(args, work)
    print(json.dumps(record, indent=2))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "jobs-speed.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
