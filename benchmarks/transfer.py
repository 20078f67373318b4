"""Transfer from a related language (issue 26): a small treebank trained alone, started from a
model of its neighbour (--init), and trained after its neighbour's treebank (--related).

Each TARGET:RELATED pair names a treebank of ../shared/data/ud and one of ../shared/data/
ud-related. Arms, each `seqtag train` with the defaults plus `--seed S --threads 1
--no-tokenizer` (the segmenter does not touch the tags):

- alone:   TRAIN [--dev DEV]
- init:    TRAIN [--dev DEV] --init SOURCE, where SOURCE is trained once per pair:
           `seqtag train RELATED --preset pos --seed 1 --no-tokenizer` (dev held out of RELATED,
           as a neighbour's model made without our treebank would be);
- related: TRAIN [--dev DEV] --related RELATED (the neighbour trained first, early stopping on
           our dev; its time is part of the run's).

A record per run (dev score, best epochs, wall and CPU time) goes to OUT/TARGET-ARM-seedS.json;
test is read only with --test, which adds test accuracy (known and unseen words) to the records
of the runs already trained, so the choice on dev can be written down first. Finished runs are
skipped, so it can be resumed, and several processes may share OUT (one per pair).

    python benchmarks/transfer.py lt_hse:lv_lvtb --arms alone init related --seeds 1 2 3 \\
        --out benchmarks/results/dev-transfer --work /work/transfer-runs
    python benchmarks/transfer.py lt_hse:lv_lvtb --seeds 1 2 3 --out ... --work ... --test
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import time
from pathlib import Path

from train_eval import UD, json_of, seqtag

RELATED = UD.parent / "ud-related"
ARMS = ("alone", "init", "related")


def timed(args: list[str], log: Path) -> tuple[float, float]:
    """Run `seqtag ARGS` (stderr to ``log``); its wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with log.open("w") as stderr:
        subprocess.run(seqtag(*args), check=True, stderr=stderr)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(wall, 1), round(cpu, 1)


def source_model(related: str, work: Path) -> tuple[Path, dict]:
    """The neighbour's own model (trained once; its times kept beside it)."""
    model, times = work / f"source-{related}.model", work / f"source-{related}.json"
    if not times.exists():
        args = [str(RELATED / related / "all.conllu"), "-o", str(model), "--preset", "pos"]
        args += ["--seed", "1", "--threads", "1", "--no-tokenizer", "--progress"]
        wall, cpu = timed(["train", *args], work / f"source-{related}.log")
        times.write_text(json.dumps({"train_seconds": wall, "train_cpu_seconds": cpu}) + "\n")
    return model, json.loads(times.read_text())


def run(target: str, related: str, arm: str, seed: int, out: Path, work: Path) -> dict:
    record_path = out / f"{target}-{arm}-seed{seed}.json"
    if record_path.exists():
        return json.loads(record_path.read_text())
    folder = UD / target
    model = work / f"{target}-{arm}-seed{seed}.model"
    args = [str(folder / "train.conllu"), "-o", str(model), "--seed", str(seed)]
    args += ["--threads", "1", "--no-tokenizer", "--progress"]
    if (folder / "dev.conllu").exists():
        args += ["--dev", str(folder / "dev.conllu")]
    source = {}
    if arm == "init":
        path, times = source_model(related, work)
        args += ["--init", str(path)]
        source = {"source_train_seconds": times["train_seconds"],
                  "source_train_cpu_seconds": times["train_cpu_seconds"]}  # fmt: skip
    elif arm == "related":
        args += ["--related", str(RELATED / related / "all.conllu")]
    wall, cpu = timed(["train", *args], work / f"{target}-{arm}-seed{seed}.log")
    info = json_of("info", "-m", str(model), "--json")
    record = {
        "treebank": target,
        "related": related,
        "arm": arm,
        "seed": seed,
        "train_args": args[3:],
        "train_words": info["train_words"],
        "dev_score": info["dev_score"],
        "best_epoch": info["best_epoch"],
        "preset": info.get("preset"),
        "tag_dictionary_dev": info.get("tag_dictionary_dev"),
        "started_from": info.get("started_from"),
        "train_seconds": wall,
        "train_cpu_seconds": cpu,
        **source,
    }
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def add_test(record: dict, out: Path, work: Path) -> dict:
    """The record with test accuracy, known and unseen (scored once; kept in the record)."""
    if "accuracy" in record:
        return record
    name = f"{record['treebank']}-{record['arm']}-seed{record['seed']}"
    test = UD / record["treebank"] / "test.conllu"
    scores = json_of("eval", "-m", str(work / f"{name}.model"), str(test), "--json")
    record = {
        **record,
        "accuracy": scores["accuracy"],
        "known_accuracy": scores["known_accuracy"],
        "unknown_accuracy": scores["unknown_accuracy"],
        "test_tokens": scores["tokens"],
    }
    (out / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def table(records: list[dict], with_test: bool) -> str:
    """Mean (± sd) per treebank and arm: dev, and with test the test scores; CPU minutes."""
    head = "| treebank | from | arm | seeds | dev |"
    if with_test:
        head += " test | known | unseen |"
    head += " train CPU min |"
    rows = [head, "| " + " | ".join("---" for _ in range(head.count("|") - 1)) + " |"]
    for target in dict.fromkeys(r["treebank"] for r in records):
        for arm in ARMS:
            runs = [r for r in records if r["treebank"] == target and r["arm"] == arm]
            if not runs:
                continue
            cpu = statistics.mean(
                r["train_cpu_seconds"] + r.get("source_train_cpu_seconds", 0) for r in runs
            )
            row = f"| {target} | {runs[0]['related']} | {arm} | {len(runs)} | "
            row += f"{mean_sd([r['dev_score'] for r in runs])} |"
            if with_test:
                for key in ("accuracy", "known_accuracy", "unknown_accuracy"):
                    row += f" {mean_sd([r[key] for r in runs])} |"
            rows.append(row + f" {cpu / 60:.1f} |")
    return "\n".join(rows) + "\n"


def mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{100 * values[0]:.2f}"
    return f"{100 * statistics.mean(values):.2f} ± {100 * statistics.stdev(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="+", help="TARGET:RELATED, e.g. lt_hse:lv_lvtb")
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--out", type=Path, required=True, help="where the JSON records go")
    parser.add_argument("--work", type=Path, required=True, help="where models and logs go")
    parser.add_argument("--test", action="store_true", help="score the trained runs on test")
    parser.add_argument("--report", action="store_true", help="train nothing: the table only")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    records = []
    for pair in args.pairs:
        target, related = pair.split(":")
        for arm in args.arms:
            for seed in args.seeds:
                path = args.out / f"{target}-{arm}-seed{seed}.json"
                if args.report or args.test:
                    if path.exists():
                        record = json.loads(path.read_text())
                        records.append(
                            add_test(record, args.out, args.work) if args.test else record
                        )
                    continue
                records.append(run(target, related, arm, seed, args.out, args.work))
                print(json.dumps(records[-1]), flush=True)
    with_test = all("accuracy" in r for r in records) and bool(records)
    print(table(records, with_test))


if __name__ == "__main__":
    main()
