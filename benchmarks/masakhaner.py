"""Train and score seqtag NER on MasakhaNER 2.0: test F1 (seqeval, default mode) per language.

For each language and seed: `seqtag train train.txt --dev dev.txt` (dev for early stopping),
then `seqtag eval -m MODEL test.txt --json` once, then the tagging speed: `seqtag tag -i columns`
over test, whole process, start-up included. One JSON record per run (finished runs are
skipped, so it resumes), and a markdown and JSON table of the means.

    python benchmarks/masakhaner.py --seeds 1 2 3 --out benchmarks/results/masakhaner
    python benchmarks/masakhaner.py hau yor --seeds 1 -- --no-crf
    python benchmarks/masakhaner.py --report --out OUT --choose-from DEFAULTS WD1

`--choose-from` reports, for each language, the runs of whichever folder of runs (one setting
each) has the higher mean dev F1 over `--choice-seeds`: a setting chosen per language on dev,
as the CRF's c1/c2 were. Only dev scores enter the choice.

Arguments after `--` go to `seqtag train` unchanged (e.g. `--repair` is added by default,
because most MasakhaNER training files hold a few I- tags that start an entity).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from train_eval import ROOT, mean_sd, seqtag, train_and_score

MASAKHANER = ROOT.parent / "shared" / "data" / "ner" / "masakhaner2"
LANGUAGES = ("hau", "ibo", "kin", "lug", "luo", "pcm", "swa", "wol", "yor", "zul")
# The tuned feature CRF's test F1 (sklearn-crfsuite, seqeval default mode): the bar to clear.
CRF_F1 = {
    "hau": 0.7275, "ibo": 0.8607, "kin": 0.7829, "lug": 0.8450, "luo": 0.7490,
    "pcm": 0.8050, "swa": 0.8918, "wol": 0.8095, "yor": 0.8209, "zul": 0.8181,
}  # fmt: skip


def tagging_speed(model: Path, test: Path) -> float:
    """Words per second of `seqtag tag -i columns` over the test file, start-up included."""
    words = sum(1 for line in test.read_text(encoding="utf-8").splitlines() if line.strip())
    start = time.perf_counter()
    subprocess.run(
        seqtag("tag", "-m", str(model), "-i", "columns", str(test)),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return words / (time.perf_counter() - start)


def run_one(language: str, seed: int, out: Path, extra: list[str]) -> dict:
    record_path = out / f"{language}-seed{seed}.json"
    if record_path.exists():
        return json.loads(record_path.read_text())
    folder = MASAKHANER / language
    name = f"{language}-seed{seed}"
    run = train_and_score(
        folder / "train.txt", folder / "dev.txt", folder / "test.txt", out, name, seed, extra
    )
    scores = run.pop("scores")
    record = {
        "language": language,
        **run,
        "f1": scores["f1"],
        "precision": scores["precision"],
        "recall": scores["recall"],
        "strict_f1": (scores.get("strict") or {}).get("f1"),
        "per_type": scores["per_type"],
        "tag_words_per_second": round(tagging_speed(out / f"{name}.model", folder / "test.txt")),
    }
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def recorded_runs(folder: Path, languages: list[str], seeds: list[int]) -> list[dict]:
    """The records of the runs that `folder` holds for these languages and seeds."""
    paths = (folder / f"{lang}-seed{seed}.json" for lang in languages for seed in seeds)
    return [json.loads(path.read_text()) for path in paths if path.exists()]


def setting(record: dict) -> str:
    """The training options of a run that are not bookkeeping (threads, --repair)."""
    args, kept = record["train_args"], []
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
        elif arg == "--threads":
            skip_next = True
        elif arg != "--repair":
            kept.append(arg)
    return " ".join(kept) or "defaults"


def choose_on_dev(
    language: str, folders: list[Path], choice_seeds: list[int]
) -> tuple[Path | None, str]:
    """The folder whose runs of `language` have the highest mean dev F1 over `choice_seeds`
    (the first on a tie), and a line saying why; None while a run the choice needs is missing.
    Reads nothing but dev scores."""
    means = []
    for folder in folders:
        paths = [folder / f"{language}-seed{seed}.json" for seed in choice_seeds]
        missing = [p.name for p in paths if not p.exists()]
        if missing:
            return None, f"{language}: no choice yet, {folder} lacks {', '.join(missing)}"
        records = [json.loads(p.read_text()) for p in paths]
        means.append((statistics.mean(r["dev_score"] for r in records), setting(records[0])))
    best = max(range(len(folders)), key=lambda i: (means[i][0], -i))
    why = ", ".join(f"{label} {mean:.4f}" for mean, label in means)
    return folders[best], f"{language}: {means[best][1]} (dev F1 {why})"


def table(records: list[dict], chosen: bool = False) -> tuple[str, list[dict]]:
    """Markdown and summary of the runs by language; `chosen` adds each language's setting."""
    rows = [
        "| language | seeds | test F1 | CRF | train time | train CPU time | tag words/s |"
        + (" setting |" if chosen else ""),
        "| --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if chosen else ""),
    ]
    summary = []
    for language in dict.fromkeys(r["language"] for r in records):
        runs = [r for r in records if r["language"] == language]
        f1 = [r["f1"] for r in runs]
        sd = statistics.stdev(f1) if len(f1) > 1 else None  # one seed has no spread
        minutes = statistics.median(r["train_seconds"] for r in runs) / 60
        # CPU time as well: it stays honest when a run shares the machine or is paused.
        cpu_minutes = statistics.median(r["train_cpu_seconds"] for r in runs) / 60
        speed = statistics.median(r["tag_words_per_second"] for r in runs)
        summary.append(
            {"language": language, "seeds": len(runs), "f1_mean": statistics.mean(f1), "f1_sd": sd}
        )
        rows.append(
            f"| {language} | {len(runs)} | {mean_sd(f1, scale=1, digits=4)} "
            f"| {CRF_F1[language]:.4f} | {minutes:.1f} min | {cpu_minutes:.1f} min | {speed:,.0f} |"
            + (f" {setting(runs[0])} |" if chosen else "")
        )
    if summary:
        mean = statistics.mean(s["f1_mean"] for s in summary)
        crf = statistics.mean(CRF_F1[s["language"]] for s in summary)
        rows.append(
            f"| mean of {len(summary)} | | {mean:.4f} | {crf:.4f} | | | |"
            + (" |" if chosen else "")
        )
    return "\n".join(rows) + "\n", summary


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("languages", nargs="*", default=list(LANGUAGES), help="default: all ten")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "masakhaner")
    parser.add_argument(
        "--report",
        action="store_true",
        help="train nothing: write the tables from the runs already recorded in --out",
    )
    parser.add_argument(
        "--choose-from",
        type=Path,
        nargs="+",
        metavar="FOLDER",
        help="with --report: per language, report the folder of runs with the best mean dev F1",
    )
    parser.add_argument(
        "--choice-seeds",
        type=int,
        nargs="+",
        default=[1, 2],
        help="the seeds whose dev F1 decides --choose-from (default: 1 2)",
    )
    args = parser.parse_args(argv)
    if args.choose_from and not args.report:
        parser.error("--choose-from only reports: add --report")
    if not MASAKHANER.is_dir():
        sys.exit(f"no MasakhaNER data at {MASAKHANER}")
    unknown = sorted(set(args.languages) - set(LANGUAGES))
    if unknown:
        sys.exit(f"unknown languages {unknown}; choose from {', '.join(LANGUAGES)}")
    if "--repair" not in extra:
        extra = ["--repair", *extra]
    args.out.mkdir(parents=True, exist_ok=True)
    if args.choose_from:
        records, reasons = [], []
        for lang in args.languages:
            folder, why = choose_on_dev(lang, args.choose_from, args.choice_seeds)
            reasons.append(why)
            if folder is not None:
                records += recorded_runs(folder, [lang], args.seeds)
        (args.out / "choices.txt").write_text("\n".join(reasons) + "\n")
        print("\n".join(reasons))
    elif args.report:
        records = recorded_runs(args.out, args.languages, args.seeds)
    else:
        records = [
            run_one(lang, seed, args.out, extra) for lang in args.languages for seed in args.seeds
        ]
    markdown, summary = table(records, chosen=bool(args.choose_from))
    (args.out / "results.md").write_text(markdown)
    (args.out / "results.json").write_text(
        json.dumps({"runs": records, "summary": summary}, indent=2) + "\n"
    )
    print(markdown)


if __name__ == "__main__":
    main()
