"""Select: which unlabeled sentences to annotate next, the ones the model is least sure of.

Each sentence of a pool is tagged with confidence (seqtag.marginals, calibrated) and scored by
a strategy, as the mean over its tokens of how unsure the model is of each, so that a long
sentence is not chosen for its length (annotation costs by the token):

- least-confidence: 1 - the probability of the chosen tag;
- margin: 1 - (the best label's probability - the second best's);
- entropy: the entropy of the label distribution, divided by log K (0 sure, 1 even);
- disagreement (ensembles): the share of members whose own tag differs from the ensemble's;
- random: a seeded uniform score, the baseline active learning is measured against.

For a model of several columns a token's score is the mean over its columns. Exact duplicates
(the same tokens) are scored once, and sentences whose tokens are in the training file are
left out.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seqtag.errors import SeqtagError
from seqtag.read import Sentence

if TYPE_CHECKING:  # numpy, which `seqtag --help` does not import
    from seqtag.engine import LoadedTagger
    from seqtag.predict import Confident

STRATEGIES = ("least-confidence", "margin", "entropy", "disagreement", "random")


@dataclass
class Candidate:
    """A pool sentence with the model's tags and its score (higher: annotate sooner)."""

    position: int  # in the pool, counted from 0
    sentence: Sentence
    tags: list[str]
    score: float


@dataclass
class Selection:
    chosen: list[Candidate]  # in ranking order
    pool: int  # sentences read
    duplicates: int  # left out as exact repeats of an earlier pool sentence
    excluded: int  # left out as sentences of the training file
    empty: int  # left out with no tokens
    mean_score: float  # over the candidates scored


def token_scores(confident: Confident, strategy: str, sizes: Sequence[int]) -> list[float]:
    """How unsure the model is of each token of a sentence (``sizes``: each column's labels),
    from the chosen tags' probabilities or, for margin and entropy, every label's
    (``confident.distribution``); the mean over columns."""
    if strategy == "least-confidence":
        per_column = [_columns(c) for c in confident.confidence]
        return [sum(1 - p for p in ps) / len(ps) for ps in per_column]
    import numpy as np

    ends = np.cumsum(sizes)
    scores = np.zeros(len(confident.tags))
    for block, size in zip(np.split(confident.distribution, ends[:-1], axis=1), sizes, strict=True):
        if strategy == "margin":
            ordered = -np.sort(-block, axis=1)
            second = ordered[:, 1] if size > 1 else 0.0
            scores += 1 - (ordered[:, 0] - second)
        elif size > 1:  # entropy, scaled to 0-1 by its largest value, log K
            safe = np.where(block > 0, block, 1.0)
            scores += -(block * np.log(safe)).sum(axis=1) / np.log(size)
    return (scores / len(sizes)).tolist()


def _columns(confidence) -> tuple[float, ...]:
    return confidence if isinstance(confidence, tuple) else (confidence,)


def select(
    tagger: LoadedTagger,
    pool: Iterable[Sentence],
    strategy: str,
    count: int | None = None,
    budget_tokens: int | None = None,
    exclude: Iterable[Sentence] = (),
    seed: int = 1,
    chunk: int = 256,
) -> Selection:
    """The ``count`` most uncertain sentences of ``pool`` (or as many as fit in
    ``budget_tokens`` tokens, in ranking order, skipping those that would overrun it)."""
    if strategy not in STRATEGIES:
        raise SeqtagError(f"unknown strategy {strategy!r}; the strategies are {STRATEGIES}")
    members = getattr(tagger.engine, "members", None)
    if strategy == "disagreement":
        if tagger.model_config.ensemble < 2:
            raise SeqtagError(
                "the disagreement strategy needs an ensemble (a model trained with --ensemble 2 "
                "or more); choose another strategy"
            )
        if not members:
            raise SeqtagError("the disagreement strategy runs on the CPU: add --device cpu")
    known = {tuple(s.words) for s in exclude}
    seen: set[tuple[str, ...]] = set()
    sizes = [len(labels) for labels in tagger.vocabularies.label_sets]
    candidates: list[Candidate] = []
    counts = {"pool": 0, "duplicates": 0, "excluded": 0, "empty": 0}
    rng = random.Random(seed)
    waiting: list[tuple[int, Sentence]] = []

    def score(batch: list[tuple[int, Sentence]]) -> None:
        sentences = [s for _, s in batch]
        every = strategy in ("margin", "entropy")
        confident = tagger.with_confidence(sentences, distributions=every)
        if strategy == "disagreement":
            votes = [member(sentences) for member in members]
        for row, ((position, sentence), tagged) in enumerate(zip(batch, confident, strict=True)):
            if strategy == "random":
                value = rng.random()
            elif strategy == "disagreement":
                differing = [
                    sum(vote[row][t] != tag for vote in votes) / len(votes)
                    for t, tag in enumerate(tagged.tags)
                ]
                value = sum(differing) / len(differing)
            else:
                tokens = token_scores(tagged, strategy, sizes)
                value = sum(tokens) / len(tokens)
            candidates.append(Candidate(position, sentence, tagged.tags, value))

    for position, sentence in enumerate(pool):
        counts["pool"] += 1
        key = tuple(sentence.words)
        if not key:
            counts["empty"] += 1
        elif key in known:
            counts["excluded"] += 1
        elif key in seen:
            counts["duplicates"] += 1
        else:
            seen.add(key)
            waiting.append((position, sentence))
            if len(waiting) >= chunk:
                score(waiting)
                waiting = []
    if waiting:
        score(waiting)
    ranked = sorted(candidates, key=lambda c: (-c.score, c.position))
    chosen = []
    if budget_tokens is None:
        chosen = ranked[:count]
    else:
        left = budget_tokens
        for candidate in ranked:
            size = len(candidate.sentence.words)
            if size <= left:
                chosen.append(candidate)
                left -= size
    mean = sum(c.score for c in candidates) / len(candidates) if candidates else 0.0
    return Selection(chosen, counts["pool"], counts["duplicates"], counts["excluded"],
                     counts["empty"], mean)  # fmt: skip
