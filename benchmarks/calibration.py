"""Calibration of a model's confidence on a gold file: the expected calibration error (ECE, 15
bins) of the chosen tags' probabilities without the calibration training fitted on dev (the
network's own probabilities) and with it (what `seqtag tag --confidence` writes), per column.

    PYTHONPATH=. python benchmarks/calibration.py MODEL GOLD [--json]

For entity models the error is over tokens (every token's tag, O included), as for POS.
"""

from __future__ import annotations

import argparse
import json

from seqtag.calibration import calibration_errors
from seqtag.engine import load_tagger
from seqtag.marginals import Calibration
from seqtag.read import Column, read_labeled


def errors(model: str, gold_file: str) -> dict:
    tagger = load_tagger(model, "cpu")
    gold, _ = read_labeled(gold_file, Column.parse(tagger.column), "strict")
    gold = [s for s in gold if s.words]
    fitted = Calibration.from_metadata(tagger.metadata)
    return {
        "model": model,
        "gold": gold_file,
        "tokens": sum(len(s.words) for s in gold),
        "calibration": None if fitted is None else fitted.to_dict(),
        "ece_before": calibration_errors(tagger.engine, gold, None),
        "ece_after": calibration_errors(tagger.engine, gold, fitted),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("gold")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    found = errors(args.model, args.gold)
    if args.json:
        print(json.dumps(found))
        return
    before = ", ".join(f"{e:.4f}" for e in found["ece_before"])
    after = ", ".join(f"{e:.4f}" for e in found["ece_after"])
    print(f"{args.gold}: {found['tokens']} tokens, ECE {before} uncalibrated, {after} calibrated")


if __name__ == "__main__":
    main()
