"""Accuracy of several trained models tagging together, without training anything.

Averages the label probabilities of models trained on the same data (as `seqtag train
--ensemble N` does with the members it trains) and scores the result, and each model alone,
on a CoNLL-U file. It is how the ensemble of configs/pos-small.toml was chosen on dev sets from
runs already recorded by benchmarks/train_eval.py:

    python benchmarks/average_models.py ../shared/data/ud/mr_ufal/dev.conllu \
        runs/mr_ufal-seed1.model runs/mr_ufal-seed2.model runs/mr_ufal-seed3.model

A model file saved with --ensemble counts as its members. `growth` is the accuracy of the
first k models together, for k = 1 .. all: how much each further member adds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seqtag.evaluate import accuracy  # noqa: E402
from seqtag.lines import open_lines  # noqa: E402
from seqtag.modelfile import read_model  # noqa: E402
from seqtag.numpy_engine import NumpyEngine, NumpyEnsemble, numpy_engine  # noqa: E402
from seqtag.read import Column, read_conllu  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gold", help="CoNLL-U file with the models' column")
    parser.add_argument("models", nargs="+", help="model files trained on the same data")
    args = parser.parse_args()
    arrays = [read_model(path) for path in args.models]
    columns = {a.column for a in arrays}
    labels = {tuple(a.vocabularies.labels.items) for a in arrays}
    if len(columns) != 1 or len(labels) != 1:
        sys.exit("the models must tag the same column with the same labels")
    gold = list(read_conllu(open_lines(args.gold), Column.parse(columns.pop())))
    expected = [s.tags for s in gold]
    members: list[NumpyEngine] = []
    for model, path in zip(arrays, args.models, strict=True):
        predictor = numpy_engine(model, path)
        members.extend(predictor.members if isinstance(predictor, NumpyEnsemble) else [predictor])
    alone = [accuracy(expected, member(gold)) for member in members]
    growth = [
        accuracy(expected, NumpyEnsemble(members[:k])(gold)) for k in range(1, len(members) + 1)
    ]
    print(
        json.dumps(
            {
                "gold": args.gold,
                "models": args.models,
                "alone": alone,
                "alone_mean": statistics.mean(alone),
                "together": growth[-1],
                "growth": growth,
            }
        )
    )


if __name__ == "__main__":
    main()
