"""Predict: sentences -> tags, in input order, on any engine.

Sentences are batched by length for speed (padding is wasted work), each batch is scored by the
engine, kept to the model's tag dictionary where it has one, decoded, and the predictions are
put back in the order the sentences came in; empty sentences get empty predictions. The engines
(torch_engine.TorchEngine, numpy_engine.NumpyEngine and NumpyEnsemble) differ only in the array
library they compute with: they share this loop through the ``Engine`` interface.
``tag_with_confidence`` is the same loop that also says how probable each chosen tag is
(seqtag.marginals: softmax probabilities, or a chain's forward-backward marginals).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from seqtag.batch import inference_order
from seqtag.marginals import Calibration, Chain
from seqtag.read import Sentence
from seqtag.scheme import span_neighbours
from seqtag.scheme import spans as entity_spans
from seqtag.vocab import Vocabularies


class Engine(Protocol):
    """What tags a batch of sentences: scores them, then decodes the scores."""

    vocabularies: Vocabularies
    max_tokens: int  # tokens per batch

    def emissions(self, sentences: Sequence[Sentence]) -> tuple[Any, Any]:
        """Label scores (B, T, K) of non-empty sentences in the engine's arrays, and what
        ``decode`` needs to know where each sentence ends (lengths, or a mask)."""
        ...

    def decode(self, scores: Any, extent: Any, penalties: Any = None) -> list[list]:
        """The best label ids of each sentence, after adding ``penalties`` (a numpy array
        (B, T, K) of 0 and large negative scores, or None) to the scores."""
        ...

    def __call__(self, sentences: Sequence[Sentence]) -> list[list[str]]:
        """The tags of each sentence (see ``tag_sentences``)."""
        ...

    def chain(
        self, scores: Any, extent: Any, penalties: Any = None, temperature: Any = None
    ) -> Chain | None:
        """The model's chain over these scores (a CRF, or a softmax kept to a scheme), as
        ``marginals`` sums over it, or None for a plain softmax; see ``softmax``."""
        ...

    def softmax(
        self, scores: Any, extent: Any, penalties: Any = None, temperature: Any = None
    ) -> np.ndarray:
        """A plain softmax model's label probabilities (numpy, per column)."""
        ...

    scheme: str | None  # the tag scheme of entity labels, or None

    def with_confidence(
        self,
        sentences: Sequence[Sentence],
        top: int = 0,
        calibration: Any = None,
        spans: bool = False,
        distributions: bool = False,
    ) -> list[Confident]:
        """The tags with their probabilities (see ``tag_with_confidence``)."""
        ...


def scored_batches(engine: Engine, sentences: Sequence[Sentence]) -> Iterator[tuple]:
    """Batches of the sentences by length: their indices, scores, extent, the tag dictionary's
    penalties (or None) and the best label ids of each (as ``decode`` gives them)."""
    dictionary = engine.vocabularies.tag_dictionary
    for indices in inference_order(sentences, engine.max_tokens):
        batch = [sentences[i] for i in indices]
        scores, extent = engine.emissions(batch)
        penalties = None
        if dictionary is not None:
            penalties = dictionary.penalties(batch, scores.shape[1])
        yield indices, scores, extent, penalties, engine.decode(scores, extent, penalties)


def tag_sentences(engine: Engine, sentences: Sequence[Sentence]) -> list[list[str]]:
    """Tags of sentences, in input order, kept to the model's tag dictionary when it has one."""
    predictions: list[list[str]] = [[] for _ in sentences]
    for indices, _, _, _, best in scored_batches(engine, sentences):
        for i, ids in zip(indices, best, strict=True):
            predictions[i] = engine.vocabularies.decode_tags(ids)
    return predictions


def marginals(
    engine: Engine, scores: Any, extent: Any, penalties: Any = None, temperature: Any = None
) -> tuple[np.ndarray, Chain | None]:
    """How probable each label is at each token, as numpy (B, T, K), after ``penalties`` (per
    column for a model of several columns; 0 past each sentence's end), with the scores
    divided by ``temperature`` (one per column; None: 1), which moves probabilities towards or
    away from even and never changes which tags ``decode`` chooses; and the model's chain when
    it has one (for the probabilities of whole spans)."""
    chain = engine.chain(scores, extent, penalties, temperature)
    if chain is not None:
        return chain.marginals(), chain
    return engine.softmax(scores, extent, penalties, temperature), None


@dataclass
class Confident:
    """A sentence's tags with the probability of each (a tuple, one per column, for a model of
    several columns), when asked for each token's most probable labels (per column a list of
    (label, probability), most probable first), and for entity labels the probability of each
    entity span as a whole: that it is exactly these tokens with these tags, no neighbour
    continuing it (scheme.spans order; when asked for)."""

    tags: list[str]
    confidence: list  # per token: float, or tuple of floats (one per column)
    top: list | None = None  # per token: per column [(label, probability), ...]
    spans: list[float] | None = None  # per entity span of ``tags``
    distribution: np.ndarray | None = None  # (tokens, labels of every column), when asked


def tag_with_confidence(
    engine: Engine,
    sentences: Sequence[Sentence],
    top: int = 0,
    calibration: Calibration | None = None,
    spans: bool = False,
    distributions: bool = False,
) -> list[Confident]:
    """``tag_sentences`` with the probability of each chosen tag, and the ``top`` most probable
    labels of each token when ``top`` > 0; ``calibration``: what training fitted on dev, or
    None for the network's own probabilities; ``spans``: also the probability of each entity
    span as a whole (models of entity labels); ``distributions``: also every label's
    probability at every token."""
    calibration = calibration or Calibration()
    vocabularies = engine.vocabularies
    sets = vocabularies.label_sets
    starts = np.cumsum([0, *(len(labels) for labels in sets)])[:-1]
    names = [labels.to_list() for labels in sets]
    results = [Confident([], [], [] if top > 0 else None) for _ in sentences]
    for indices, scores, extent, penalties, best in scored_batches(engine, sentences):
        penalties = calibration.soften(penalties)
        probabilities, chain = marginals(engine, scores, extent, penalties, calibration.temperature)
        for row, (i, ids) in enumerate(zip(indices, best, strict=True)):
            chosen = np.asarray(ids, dtype=np.int64).reshape(len(ids), len(sets)) + starts
            steps = np.arange(len(ids))[:, None]
            sure = probabilities[row, steps, chosen]  # (tokens, columns)
            if len(sets) == 1:
                confidence = sure[:, 0].tolist()
            else:
                confidence = [tuple(values) for values in sure.tolist()]
            ranked = None
            if top > 0:
                ranked = [
                    [
                        _ranked(probabilities[row, t, start : start + len(labels)], labels, top)
                        for start, labels in zip(starts, names, strict=True)
                    ]
                    for t in range(len(chosen))
                ]
            tags = vocabularies.decode_tags(ids)
            found = None
            if spans and chain is not None and engine.scheme is not None:
                found = []
                for span in entity_spans(tags):
                    before, after = span_neighbours(names[0], tags[span.start], tags[span.end - 1])
                    found.append(chain.sequence_probability(
                        row, span.start, ids[span.start : span.end], before, after
                    ))  # fmt: skip
            distribution = probabilities[row, : len(chosen)] if distributions else None
            results[i] = Confident(tags, confidence, ranked, found, distribution)
    return results


def _ranked(probabilities: np.ndarray, labels: list[str], top: int) -> list[tuple[str, float]]:
    order = np.argsort(-probabilities, kind="stable")[:top]
    return [(labels[k], float(probabilities[k])) for k in order]
