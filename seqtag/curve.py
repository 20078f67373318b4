"""Learning curve: how a tagger's accuracy grows with its training data, and what more data
would bring (`seqtag curve`).

The training sentences are shuffled (per seed) and trained on in growing nested shares, by
words: 1/16, 1/8, 1/4, 1/2 and all of them by default. The error rate of each share (mean over
seeds) is fitted by a power law with a floor,

    error(n) = a * n ** -b + c        (n: training words; a, b > 0; 0 <= c < the lowest error)

the usual form of learning curves (Hestness et al. 2017; Figueroa et al. 2012 for
annotation planning): each doubling of the data removes a fixed share of the error that can be
removed. ``fit`` chooses c on a grid and a, b by least squares on log(error - c); ``predict``
gives the accuracy at any size and ``words_for`` the size a target accuracy needs. The
uncertainty of a prediction comes from refitting on resampled runs (``bootstrap``): the seeds
of each share drawn with replacement, or with one seed a share, the residuals of the fit.

Everything here is arithmetic on (words, accuracy) pairs; training the points is
``train_points``, which the command calls.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from seqtag.errors import UsageError
from seqtag.read import Sentence

DEFAULT_SHARES = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)
FLOOR_STEPS = 200  # candidate floors c, evenly between 0 and the lowest error
BOOTSTRAP_ROUNDS = 500
INTERVAL = 0.8  # the central share of bootstrap predictions reported


def nested_shares(
    sentences: Sequence[Sentence], shares: Sequence[float], seed: int
) -> list[list[int]]:
    """For each share, the sentence indices of a training subset of about that share of the
    words: prefixes of one seeded shuffle, so each subset holds the smaller ones. A share's
    subset has at least one sentence and ends at the first sentence that reaches its words."""
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    total = sum(len(s.words) for s in sentences)
    subsets = []
    for share in shares:
        wanted, words, taken = share * total, 0, []
        for index in order:
            if taken and words >= wanted:
                break
            taken.append(index)
            words += len(sentences[index].words)
        subsets.append(taken)
    return subsets


@dataclass(frozen=True)
class Fit:
    """error(n) = a * n ** -b + c, n in training words."""

    a: float
    b: float
    c: float
    rmse: float  # of the fitted accuracy at the measured points

    def accuracy(self, words: float) -> float:
        return 1 - (self.a * words**-self.b + self.c)

    def words_for(self, accuracy: float) -> float | None:
        """Training words the curve needs to reach ``accuracy``; None when it never does
        (at or above its ceiling 1 - c)."""
        removable = (1 - accuracy) - self.c
        if removable <= 0:
            return None
        return (self.a / removable) ** (1 / self.b)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def fit(points: Sequence[tuple[float, float]]) -> Fit | None:
    """The power law with a floor fitted to (words, accuracy) points (several per size are
    averaged); None when it cannot be fitted: fewer than three sizes, or an error rate that
    does not fall as the data grows (b <= 0)."""
    by_size: dict[float, list[float]] = {}
    for words, accuracy in points:
        by_size.setdefault(words, []).append(1 - accuracy)
    sizes = sorted(by_size)
    if len(sizes) < 3:
        return None
    errors = [statistics.mean(by_size[n]) for n in sizes]
    lowest = min(errors)
    if lowest <= 0:
        return None  # no errors left: nothing to extrapolate
    logs = [math.log(n) for n in sizes]
    best = None
    for step in range(FLOOR_STEPS):
        c = lowest * step / FLOOR_STEPS
        ys = [math.log(e - c) for e in errors]
        slope, intercept = _line(logs, ys)
        b, a = -slope, math.exp(intercept)
        if b <= 0:
            continue
        squared = sum((a * n**-b + c - e) ** 2 for n, e in zip(sizes, errors, strict=True))
        if best is None or squared < best[0]:
            best = (squared, a, b, c)
    if best is None:
        return None
    squared, a, b, c = best
    return Fit(a, b, c, math.sqrt(squared / len(sizes)))


def _line(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares slope and intercept of ys on xs."""
    mx, my = statistics.mean(xs), statistics.mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return slope, my - slope * mx


def bootstrap(
    points: Sequence[tuple[float, float]], sizes: Sequence[float], seed: int = 0
) -> list[tuple[float, float]] | None:
    """For each size in ``sizes``, the central INTERVAL of the accuracies predicted by fits to
    resampled points: the runs of each measured size drawn with replacement where there are
    several, else the fit's residuals added back at random. None when ``fit`` fails."""
    fitted = fit(points)
    if fitted is None:
        return None
    rng = random.Random(seed)
    by_size: dict[float, list[float]] = {}
    for words, accuracy in points:
        by_size.setdefault(words, []).append(accuracy)
    several = all(len(runs) > 1 for runs in by_size.values())
    means = {n: statistics.mean(runs) for n, runs in by_size.items()}
    residuals = [means[n] - fitted.accuracy(n) for n in by_size]
    predictions: list[list[float]] = [[] for _ in sizes]
    for _ in range(BOOTSTRAP_ROUNDS):
        if several:
            drawn = [(n, rng.choice(runs)) for n, runs in by_size.items() for _ in runs]
        else:
            drawn = [(n, fitted.accuracy(n) + rng.choice(residuals)) for n in by_size]
        refit = fit(drawn)
        if refit is None:
            continue
        for i, size in enumerate(sizes):
            predictions[i].append(refit.accuracy(size))
    if not predictions[0]:
        return None
    low, high = (1 - INTERVAL) / 2, (1 + INTERVAL) / 2
    return [(_quantile(p, low), _quantile(p, high)) for p in predictions]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


@dataclass
class Point:
    """One training run of the curve: a share of the training data and a seed."""

    share: float
    seed: int
    words: int
    sentences: int
    score: float  # accuracy, or entity F1 for entity labels (``metric``)
    known_accuracy: float | None
    unknown_accuracy: float | None
    seconds: float
    metric: str = "accuracy"


def train_points(
    request,
    sentences: Sequence[Sentence],
    dev: Sequence[Sentence],
    scored: Sequence[Sentence],
    file_format: str,
    shares: Sequence[float],
    seeds: Sequence[int],
    report,
    keep: Path | None = None,
) -> list[Point]:
    """Train a model on each share of ``sentences`` for each seed (``request``: a
    run.TrainRequest whose files and seed are replaced), early stopping on ``dev``, and score
    it on ``scored``. With ``keep``, each finished point is stored there and a later call with
    the same settings and data takes it from there instead of training it again."""
    from seqtag.engine import load_tagger
    from seqtag.evaluate import score
    from seqtag.read import Column
    from seqtag.run import data_digest, train_run

    column = Column.parse(request.column or "upos")
    suffix = ".conllu" if file_format == "conllu" else ".txt"
    fingerprint = _fingerprint(request, data_digest(sentences, dev, scored))
    points = []
    plan = [(share, seed) for seed in seeds for share in shares]
    with tempfile.TemporaryDirectory(prefix="seqtag-curve-") as work:
        work = Path(work)
        dev_path = work / f"dev{suffix}"
        _write(dev_path, dev, file_format, column)
        subsets = {seed: nested_shares(sentences, shares, seed) for seed in seeds}
        for number, (share, seed) in enumerate(plan, start=1):
            stored = keep / f"point-{share:.6g}-seed{seed}.json" if keep is not None else None
            if stored is not None and stored.exists():
                found = json.loads(stored.read_text(encoding="utf-8"))
                if found.pop("fingerprint", None) == fingerprint:
                    points.append(Point(**found))
                    report.on_point(number, len(plan), points[-1], kept=True)
                    continue
            start = time.perf_counter()
            part = [sentences[i] for i in subsets[seed][shares.index(share)]]
            train_path = work / f"train{suffix}"
            _write(train_path, part, file_format, column)
            model = work / "point.model"
            point_request = dataclasses.replace(
                request, train_file=str(train_path), dev_file=str(dev_path), output=str(model),
                input_format=file_format, tag_column=None,
                training=dataclasses.replace(request.training, seed=seed),
            )  # fmt: skip
            report.on_point(number, len(plan), None, share=share, seed=seed)
            outcome = train_run(point_request, report)
            if not outcome.saved or outcome.interrupted is not None:
                raise KeyboardInterrupt
            tagger = load_tagger(model, "cpu")
            predicted = tagger(scored)
            words, lowercase = tagger.vocabularies.words, tagger.model_config.lowercase

            def is_known(word: str, words=words, lowercase=lowercase) -> bool:
                return (word.lower() if lowercase else word) in words

            scores = score(scored, predicted, is_known, tagger.vocabularies.labels.to_list())
            metric = "f1" if "f1" in scores else "accuracy"
            point = Point(
                share, seed, sum(len(s.words) for s in part), len(part), scores[metric],
                scores.get("known_accuracy"), scores.get("unknown_accuracy"),
                round(time.perf_counter() - start, 1), metric,
            )  # fmt: skip
            points.append(point)
            if stored is not None:
                record = {**dataclasses.asdict(point), "fingerprint": fingerprint}
                stored.write_text(json.dumps(record) + "\n", encoding="utf-8")
            report.on_point(number, len(plan), point)
    return points


def _write(path: Path, sentences: Sequence[Sentence], file_format: str, column) -> None:
    from seqtag.crossval import write_sentences

    write_sentences(path, sentences, file_format, column)


def _fingerprint(request, digest: str) -> str:
    """What a kept point must have been trained with to be taken again: the settings that
    change a model (not the seed, which each point records) and the data."""
    import hashlib

    from seqtag.transfer import file_sha256

    settings = {
        "model": dataclasses.asdict(request.model),
        "training": {k: v for k, v in dataclasses.asdict(request.training).items() if k != "seed"},
        "preset": request.preset,
        "column": request.column,
        "scheme": request.scheme,
        "crf": request.crf,
        "embeddings": request.embeddings,
        "init": file_sha256(request.init)
        if request.init and Path(request.init).is_file()
        else None,
        "transfer_check": request.transfer_check,
        "rnn_auto": request.rnn_auto,
        "data": digest,
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def measured(points: Sequence[Point]) -> list[tuple[float, float]]:
    """(words, score) pairs to fit: each run at the mean word count of its share, so that the
    runs of one share (whose subsets differ by a sentence or so in words) count as repeated
    measures of one size, averaged by ``fit`` and resampled by ``bootstrap``."""
    words: dict[float, list[int]] = {}
    for p in points:
        words.setdefault(p.share, []).append(p.words)
    return [(statistics.mean(words[p.share]), p.score) for p in points]


def check_shares(shares: Sequence[float]) -> list[float]:
    """The shares sorted, each in (0, 1]; at least three, as a fit needs."""
    found = sorted(set(shares))
    if any(not 0 < share <= 1 for share in found):
        raise UsageError("each share must be above 0 and at most 1 (all of the training data)")
    if len(found) < 3:
        raise UsageError("a learning curve needs at least three shares of the training data")
    return found


def text_chart(
    points: Sequence[Point], fitted: Fit | None, until: float, width: int = 60, height: int = 12
) -> list[str]:
    """A chart for the terminal: accuracy (rows) against training words on a log scale
    (columns), the measured runs as ``o``, the fitted curve as ``·`` up to the largest share
    and ``-`` beyond it, to ``until`` words."""
    smallest = min(p.words for p in points)
    largest = max(p.words for p in points)
    until = max(until, largest)
    values = [p.score for p in points]
    if fitted is not None:
        values.append(fitted.accuracy(until))
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.005, high + 0.005
    span_x = math.log(until) - math.log(smallest) or 1.0

    def column(words: float) -> int:
        return round((math.log(words) - math.log(smallest)) / span_x * (width - 1))

    def row(accuracy: float) -> int:
        return round((high - accuracy) / (high - low) * (height - 1))

    grid = [[" "] * width for _ in range(height)]
    if fitted is not None:
        for x in range(width):
            words = math.exp(math.log(smallest) + span_x * x / (width - 1))
            y = row(fitted.accuracy(words))
            if 0 <= y < height:
                grid[y][x] = "·" if words <= largest else "-"
    for p in points:
        grid[row(p.score)][column(p.words)] = "o"
    labels = [f"{100 * (high - (high - low) * y / (height - 1)):6.2f} |" for y in range(height)]
    lines = [label + "".join(cells) for label, cells in zip(labels, grid, strict=True)]
    lines.append(" " * 7 + "+" + "-" * width)
    left, right = f"{smallest:,} words", f"{round(until):,}"
    lines.append(" " * 8 + left + right.rjust(width - len(left)))
    return lines
