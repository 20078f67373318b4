"""Calibration of a model's confidence on a gold file: the expected calibration error (ECE, 15
bins) of the chosen tags' probabilities without the calibration training fitted on dev (the
network's own probabilities) and with it (what `seqtag tag --confidence` writes), per column.

    PYTHONPATH=. python benchmarks/calibration.py MODEL GOLD [--json] [--fit-on DEV]

--fit-on DEV fits the calibration on DEV first, as training does (seqtag.calibration.fit), for
a model trained before training did it.

For entity models the error is over tokens (every token's tag, O included), as for POS.
"""

from __future__ import annotations

import argparse
import json

from seqtag.calibration import calibration_errors, fit
from seqtag.engine import load_tagger
from seqtag.marginals import Calibration
from seqtag.read import Column, read_labeled


def errors(
    model: str, gold_file: str, fit_on: str | None = None, tag_dictionary: bool = True
) -> dict:
    tagger = load_tagger(model, "cpu", tag_dictionary=tag_dictionary)
    column = Column.parse(tagger.column)
    gold, _ = read_labeled(gold_file, column, "strict")
    gold = [s for s in gold if s.words]
    fitted = Calibration.from_metadata(tagger.metadata)
    if fit_on is not None:
        fitted, _, _ = fit(tagger.engine, read_labeled(fit_on, column, "strict")[0])
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
    parser.add_argument("--fit-on", help="dev file to fit the calibration on first")
    parser.add_argument(
        "--no-tag-dictionary", action="store_true", help="as the model would be without one"
    )
    args = parser.parse_args()
    found = errors(args.model, args.gold, args.fit_on, not args.no_tag_dictionary)
    if args.json:
        print(json.dumps(found))
        return
    before = ", ".join(f"{e:.4f}" for e in found["ece_before"])
    after = ", ".join(f"{e:.4f}" for e in found["ece_after"])
    print(f"{args.gold}: {found['tokens']} tokens, ECE {before} uncalibrated, {after} calibrated")


if __name__ == "__main__":
    main()
