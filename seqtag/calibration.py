"""Calibration: fitted on dev, so that a tag given with probability 0.9 is right about 90% of
the time; and the expected calibration error that measures how far from that a model is.

A network trained to be right is seldom honest about how sure it is: label smoothing makes it
too unsure, a long run too sure. One scalar per output column (the temperature T) divides the
scores before the softmax, or all of a CRF's scores before its forward-backward; T > 1 evens
the probabilities out, T < 1 sharpens them, and the tags chosen stay the same. A tag
dictionary makes a word seen with one tag certain of it, right or not; for probabilities (not
for decoding) a ruled-out tag gets a finite score penalty instead. Both are chosen from fixed
grids as the values with the lowest expected calibration error on dev (the log-likelihood of
dev's gold tags, the usual criterion, made it worse on the smallest dev sets: a few confident
errors pull the temperature up for all the tokens).

Expected calibration error (ECE): tokens are put in BINS bins of equal width by the
probability of their chosen tag (a probability p falls in bin floor(BINS * p), 1.0 in the last);
ECE is the mean over tokens of |accuracy - mean probability| of their bin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from seqtag.marginals import Calibration
from seqtag.predict import Engine, marginals, scored_batches, tag_with_confidence
from seqtag.read import Sentence, split_tag

BINS = 15


def expected_calibration_error(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = BINS
) -> tuple[float, list[dict]]:
    """ECE of tokens whose chosen tags had these probabilities and were right or not, and the
    reliability table: per bin its range, tokens, mean probability and accuracy."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if not len(confidence):
        return 0.0, []
    which = np.minimum((confidence * bins).astype(np.int64), bins - 1)
    table, error = [], 0.0
    for b in range(bins):
        inside = which == b
        count = int(inside.sum())
        row = {"from": b / bins, "to": (b + 1) / bins, "tokens": count}
        if count:
            mean, accuracy = float(confidence[inside].mean()), float(correct[inside].mean())
            row |= {"confidence": mean, "accuracy": accuracy}
            error += count * abs(accuracy - mean)
        table.append(row)
    return error / len(confidence), table


class _Dev:
    """The dev set scored once (every batch's scores, and the gold label id of each token in
    each column, -1 where the label is not the model's), to score calibrations on."""

    def __init__(self, engine: Engine, sentences: Sequence[Sentence]):
        self.engine = engine
        sets = engine.vocabularies.label_sets
        self.starts = np.cumsum([0, *(len(labels) for labels in sets)])[:-1]
        self.batches = []
        for indices, scores, extent, penalties, best in scored_batches(engine, sentences):
            gold = np.full((len(indices), scores.shape[1], len(sets)), -1, dtype=np.int64)
            chosen = np.full_like(gold, -1)
            for row, i in enumerate(indices):
                for t, (tag, ids) in enumerate(zip(sentences[i].tags, best[row], strict=True)):
                    labels = split_tag(tag) if len(sets) > 1 else [tag]
                    chosen[row, t] = ids
                    for c, (vocab, label) in enumerate(zip(sets, labels, strict=True)):
                        gold[row, t, c] = vocab.index.get(label, -1)
            self.batches.append((scores, extent, penalties, gold, chosen))

    def error(self, column: int, calibration: Calibration) -> float:
        """ECE of ``column`` with ``calibration``."""
        sure, right = [], []
        for scores, extent, penalties, gold, chosen in self.batches:
            probabilities, _ = marginals(
                self.engine, scores, extent, calibration.soften(penalties), calibration.temperature
            )
            ids = chosen[..., column]
            real = ids >= 0
            rows, steps = np.nonzero(real)
            sure.append(probabilities[rows, steps, self.starts[column] + ids[real]])
            right.append(ids[real] == gold[..., column][real])
        return expected_calibration_error(np.concatenate(sure), np.concatenate(right))[0]


# The values searched: temperatures from 1/4 to 4 (in even steps of log T), and the score
# penalty of a tag the dictionary rules out (HARD: as good as ruled out).
TEMPERATURES = np.round(np.exp(np.linspace(math.log(0.25), math.log(4.0), 41)), 4)
HARD = 50.0
PENALTIES = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 10.0, HARD)


def fit(engine: Engine, dev: Sequence[Sentence]) -> tuple[Calibration, list[float], list[float]]:
    """The calibration with the lowest expected calibration error on dev: a temperature per
    column and, for a model with a tag dictionary, the penalty of a ruled-out tag, searched in
    turn (temperature, penalty, temperature again) over fixed grids. A tie keeps the value
    nearer no change (temperature 1, a hard dictionary). With it, each column's dev ECE
    without calibration and with it, from the same scores (dev goes through the network once)."""
    scored = _Dev(engine, [s for s in dev if s.words])
    columns = len(engine.vocabularies.label_sets)
    dictionary = engine.vocabularies.tag_dictionary is not None
    calibration = Calibration((1.0,) * columns, HARD if dictionary else None)

    def total(changed: Calibration) -> float:
        return sum(scored.error(c, changed) for c in range(columns))

    def temperatures(calibration: Calibration) -> Calibration:
        fitted = list(calibration.temperature)
        for column in range(columns):
            trials = sorted(TEMPERATURES, key=lambda t: abs(math.log(t)))  # 1 first
            errors = []
            for t in trials:
                trial = (*fitted[:column], float(t), *fitted[column + 1 :])
                errors.append(scored.error(column, replace(calibration, temperature=trial)))
            fitted[column] = float(trials[int(np.argmin(errors))])
        return replace(calibration, temperature=tuple(fitted))

    calibration = temperatures(calibration)
    if dictionary:
        trials = [replace(calibration, dictionary_penalty=d) for d in reversed(PENALTIES)]
        calibration = trials[int(np.argmin([total(trial) for trial in trials]))]
        calibration = temperatures(calibration)
    before = [scored.error(c, Calibration()) for c in range(columns)]
    after = [scored.error(c, calibration) for c in range(columns)]
    return calibration, before, after


def reliability(
    gold: Sequence[Sentence], confident: Sequence, column: int = 0, columns: int = 1
) -> tuple[float, list[dict]]:
    """ECE and reliability table of one column's chosen tags (predict.Confident) on gold."""
    sure, right = [], []
    for sentence, tagged in zip(gold, confident, strict=True):
        pairs = zip(sentence.tags, tagged.tags, tagged.confidence, strict=True)
        for wanted, predicted, p in pairs:
            if columns > 1:
                wanted, predicted = split_tag(wanted)[column], split_tag(predicted)[column]
                p = p[column]
            sure.append(p)
            right.append(wanted == predicted)
    return expected_calibration_error(sure, right)


def calibration_errors(
    engine: Engine, sentences: Sequence[Sentence], calibration: Calibration | None
) -> list[float]:
    """ECE of each column on gold-tagged sentences, with ``calibration`` (None: without)."""
    confident = tag_with_confidence(engine, sentences, 0, calibration)
    columns = len(engine.vocabularies.label_sets)
    return [reliability(sentences, confident, c, columns)[0] for c in range(columns)]
