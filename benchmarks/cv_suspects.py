"""Does `seqtag cv --suspects` find annotation errors? Inject random tag errors into a treebank's
training file, cross-validate it, and count how many injected errors are near the top of the
suspects list (issue 25, must-show 3).

A seeded share of the tokens (default 2%) get their UPOS replaced by another UPOS drawn
uniformly from the tags of the file, in place (line numbers kept). `seqtag cv --json --suspects
N` (N: every disagreement) ranks the tokens where the out-of-fold model contradicts the corpus,
most confident first; the record gives, for the top 1%, 2% and 5% of the corpus's tokens, the
share of that top that was injected (precision) and the share of the injected errors it holds
(recall). Finished treebanks are skipped.

    python benchmarks/cv_suspects.py lt_hse cy_ccg --out benchmarks/results/cv-injected-errors \
        -- --preset pos-small --ensemble 1 --threads 1
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_eval import UD, each_treebank, seqtag  # noqa: E402

TOPS = (0.01, 0.02, 0.05)


def inject(source: Path, target: Path, share: float, seed: int) -> tuple[set[int], int]:
    """Copy source to target with ``share`` of its words' UPOS changed; returns the changed
    lines (1-based) and the number of words."""
    lines = source.read_text(encoding="utf-8").split("\n")
    words = [
        i for i, line in enumerate(lines)
        if line and line[0].isdigit() and line.split("\t")[0].isdigit()
    ]  # fmt: skip
    tags = sorted({lines[i].split("\t")[3] for i in words})
    rng = random.Random(seed)
    changed = set()
    for i in sorted(rng.sample(words, round(share * len(words)))):
        fields = lines[i].split("\t")
        fields[3] = rng.choice([t for t in tags if t != fields[3]])
        lines[i] = "\t".join(fields)
        changed.add(i + 1)
    target.write_text("\n".join(lines), encoding="utf-8")
    return changed, len(words)


def run_one(treebank: str, share: float, seed: int, out: Path, extra: list[str]) -> dict:
    record_path = out / f"{treebank}-seed{seed}.json"
    if record_path.exists():
        return json.loads(record_path.read_text())
    noisy = out / f"{treebank}-noisy.conllu"
    injected, words = inject(UD / treebank / "train.conllu", noisy, share, seed)
    start = time.perf_counter()
    done = subprocess.run(
        seqtag("cv", str(noisy), "--folds", "10", "--seed", str(seed), "--json",
               "--suspects", str(words), "-q", *extra),
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    cv = json.loads(done.stdout)
    ranked = [s["line"] in injected for s in cv["suspects"]]
    tops = {}
    for top in TOPS:
        k = math.ceil(top * words)
        found = sum(ranked[:k])
        tops[f"{top:.0%}"] = {
            "tokens": k,
            "injected_found": found,
            "precision": found / k,
            "recall": found / len(injected),
        }
    record = {
        "treebank": treebank,
        "seed": seed,
        "share": share,
        "options": extra,
        "words": words,
        "injected": len(injected),
        "disagreements": len(ranked),
        "injected_disagreeing": sum(ranked),
        "cv_accuracy": cv["summary"]["accuracy"],
        "cv_seconds": round(seconds, 1),
        "tops": tops,
    }
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    noisy.unlink()
    return record


def table(records: list[dict]) -> str:
    rows = [
        "| treebank | words | injected | disagreements (injected among them) "
        + "".join(f"| top {t:.0%}: found, precision, recall " for t in TOPS)
        + "| CV time |",
        "| --- | --- | --- | --- " + "| --- " * len(TOPS) + "| --- |",
    ]
    for r in records:
        cells = "".join(
            f"| {v['injected_found']} of {v['tokens']}, {v['precision']:.2f}, {v['recall']:.2f} "
            for v in r["tops"].values()
        )
        rows.append(
            f"| {r['treebank']} | {r['words']} | {r['injected']} "
            f"| {r['disagreements']} ({r['injected_disagreeing']}) {cells}"
            f"| {r['cv_seconds'] / 60:.1f} min |"
        )
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("treebanks", nargs="+")
    parser.add_argument("--share", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    each_treebank(
        args.treebanks,
        args.out,
        lambda treebank: run_one(treebank, args.share, args.seed, args.out, extra),
        table,
    )


if __name__ == "__main__":
    main()
