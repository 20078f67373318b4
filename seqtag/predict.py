"""Predict: sentences -> tags, in input order, on any engine.

Sentences are batched by length for speed (padding is wasted work), each batch is scored by the
engine, kept to the model's tag dictionary where it has one, decoded, and the predictions are
put back in the order the sentences came in; empty sentences get empty predictions. The engines
(torch_engine.TorchEngine, numpy_engine.NumpyEngine and NumpyEnsemble) differ only in the array
library they compute with: they share this loop through the ``Engine`` interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from seqtag.batch import inference_order
from seqtag.read import Sentence
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


def tag_sentences(engine: Engine, sentences: Sequence[Sentence]) -> list[list[str]]:
    """Tags of sentences, in input order, kept to the model's tag dictionary when it has one."""
    vocabularies = engine.vocabularies
    dictionary = vocabularies.tag_dictionary
    predictions: list[list[str]] = [[] for _ in sentences]
    for indices in inference_order(sentences, engine.max_tokens):
        batch = [sentences[i] for i in indices]
        scores, extent = engine.emissions(batch)
        penalties = None
        if dictionary is not None:
            penalties = dictionary.penalties(batch, scores.shape[1])
        best = engine.decode(scores, extent, penalties)
        for i, ids in zip(indices, best, strict=True):
            predictions[i] = vocabularies.decode_tags(ids)
    return predictions
