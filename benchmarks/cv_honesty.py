"""Is `seqtag cv` honest? Its K-fold estimate beside the test score of a model trained on the
same data (issue 25, must-show 1).

For each treebank: train and dev are joined into one corpus (gl_treegal has no dev: train
alone); `seqtag cv CORPUS --folds K --json` gives the cross-validated accuracy, mean and sd over
folds; then one model is trained on the whole corpus with the same options (`seqtag train`
holds out a tenth for early stopping, as each fold does) and scored on test. Test is read only
after both have finished. Finished treebanks are skipped, so a run can be resumed.

    python benchmarks/cv_honesty.py mr_ufal lt_hse --out benchmarks/results/cv-honesty \
        -- --preset pos-small --ensemble 1 --threads 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_eval import UD, each_treebank, seqtag, train_and_score  # noqa: E402


def corpus_of(treebank: str, out: Path) -> Path:
    """train (+ dev) of the treebank as one CoNLL-U file."""
    folder, corpus = UD / treebank, out / f"{treebank}-train-dev.conllu"
    parts = [folder / "train.conllu", folder / "dev.conllu"]
    text = "".join(p.read_text(encoding="utf-8").rstrip("\n") + "\n\n" for p in parts if p.exists())
    corpus.write_text(text, encoding="utf-8")
    return corpus


def run_one(treebank: str, folds: int, seed: int, out: Path, extra: list[str]) -> dict:
    record_path = out / f"{treebank}-seed{seed}.json"
    if record_path.exists():
        return json.loads(record_path.read_text())
    corpus = corpus_of(treebank, out)
    start = time.perf_counter()
    done = subprocess.run(
        seqtag("cv", str(corpus), "--folds", str(folds), "--seed", str(seed), "--json",
               "--suspects", "0", "-q", *extra),
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    cv_seconds = time.perf_counter() - start
    cv = json.loads(done.stdout)
    trained = train_and_score(
        corpus, None, UD / treebank / "test.conllu", out, f"{treebank}-seed{seed}", seed, extra
    )
    mean, sd = cv["summary"]["accuracy"]["mean"], cv["summary"]["accuracy"]["sd"]
    test = trained["scores"]["accuracy"]
    record = {
        "treebank": treebank,
        "seed": seed,
        "folds": folds,
        "options": extra,
        "corpus_words": trained["train_words"],
        "cv": cv,
        "cv_seconds": round(cv_seconds, 1),
        "test_accuracy": test,
        "test_known_accuracy": trained["scores"]["known_accuracy"],
        "test_unknown_accuracy": trained["scores"]["unknown_accuracy"],
        "train_seconds": trained["train_seconds"],
        "within_2sd": abs(test - mean) <= 2 * sd,
    }
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    (out / f"{treebank}-seed{seed}.model").unlink()  # 15-25 MB each; the record is what counts
    corpus.unlink()
    return record


def table(records: list[dict]) -> str:
    rows = [
        "| treebank | final model's training words | split by | CV accuracy, mean ± sd | test accuracy "
        "| test - CV mean | within ± 2 sd | CV time | train time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in records:
        s = r["cv"]["summary"]["accuracy"]
        rows.append(
            f"| {r['treebank']} | {r['corpus_words']} | {r['cv'].get('unit', '')} "
            f"| {100 * s['mean']:.2f} ± {100 * s['sd']:.2f} | {100 * r['test_accuracy']:.2f} "
            f"| {100 * (r['test_accuracy'] - s['mean']):+.2f} | {'yes' if r['within_2sd'] else 'no'} "
            f"| {r['cv_seconds'] / 60:.1f} min | {r['train_seconds'] / 60:.1f} min |"
        )
    inside = sum(r["within_2sd"] for r in records)
    rows.append(f"\nTest within the CV mean ± 2 sd: {inside} of {len(records)}.")
    if len(records) > 1:
        gaps = [
            100 * (r["test_accuracy"] - r["cv"]["summary"]["accuracy"]["mean"]) for r in records
        ]
        rows.append(f"Mean test - CV mean: {statistics.mean(gaps):+.2f} points.")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("treebanks", nargs="+")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    each_treebank(
        args.treebanks,
        args.out,
        lambda treebank: run_one(treebank, args.folds, args.seed, args.out, extra),
        table,
    )


if __name__ == "__main__":
    main()
