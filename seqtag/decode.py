"""Decode: a model and sentences -> predicted tags, in input order.

Sentences are batched by length for speed (padding is wasted work), then the predictions are put
back in the order the sentences came in. Empty sentences get empty predictions. While the weights
stay fixed, each word form's character vector is computed once and cached (``FormVectors``): in
running text most tokens are forms seen a moment ago, so this removes most of the character
encoder's work.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from seqtag.batch import Batcher, inference_order
from seqtag.model import CharEncoder, Tagger
from seqtag.read import Sentence

MAX_BATCH_TOKENS = 2000  # tokens per inference batch (measured: larger batches are no faster)
FORM_CACHE_SIZE = 30_000  # forms whose character vectors are kept: 24 MB at the default sizes


class FormVectors:
    """Character vectors of word forms, each computed once while the encoder's weights stay
    fixed. Bounded: when full it starts over, so memory stays flat on endless input."""

    def __init__(
        self,
        encoder: CharEncoder,
        batcher: Batcher,
        device: torch.device,
        capacity: int = FORM_CACHE_SIZE,
    ):
        self.encoder = encoder
        self.batcher = batcher
        self.device = device
        self.capacity = capacity
        self.rows: dict[str, int] = {}
        self.table: torch.Tensor | None = None  # (capacity, 2C), allocated on first use

    def _encode(self, forms: Sequence[str]) -> torch.Tensor:
        chars, lengths = self.batcher.spell(forms)
        return self.encoder(chars.to(self.device), lengths)

    def __call__(self, spellings: Sequence[str]) -> torch.Tensor:
        """The vectors (U, 2C) of distinct word forms, in the order given."""
        if len(spellings) > self.capacity:  # one huge sentence: no room to keep them
            return self._encode(spellings)
        missing = [form for form in spellings if form not in self.rows]
        if len(self.rows) + len(missing) > self.capacity:
            self.rows.clear()
            missing = list(spellings)
        if missing:
            if self.table is None:
                self.table = torch.empty(
                    (self.capacity, self.encoder.output_dim), device=self.device
                )
            start = len(self.rows)
            self.table[start : start + len(missing)] = self._encode(missing)
            self.rows.update((form, start + offset) for offset, form in enumerate(missing))
        rows = torch.tensor([self.rows[form] for form in spellings], device=self.device)
        return self.table[rows]


class Predictor:
    """Tags sentences with a model whose weights stay fixed for as long as the Predictor is used
    (build a new one after the weights change: the form cache would be stale)."""

    def __init__(
        self,
        model: Tagger,
        batcher: Batcher,
        device: torch.device,
        max_tokens: int = MAX_BATCH_TOKENS,
    ):
        self.model = model
        self.batcher = batcher
        self.device = device
        self.max_tokens = max_tokens
        encoder = model.char_encoder
        self.form_vectors = None if encoder is None else FormVectors(encoder, batcher, device)

    def __call__(self, sentences: Sequence[Sentence]) -> list[list[str]]:
        labels = self.batcher.vocabularies.labels
        predictions: list[list[str]] = [[] for _ in sentences]
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                for indices in inference_order(sentences, self.max_tokens):
                    batch = self.batcher.batch(
                        [sentences[i] for i in indices], with_chars=False
                    ).to(self.device)
                    spelled = None
                    if self.form_vectors is not None:
                        spelled = self.form_vectors(batch.spellings)
                    best = self.model.decode(self.model(batch, spelled), batch.mask)
                    for i, ids in zip(indices, best, strict=True):
                        predictions[i] = [labels.decode(label_id) for label_id in ids]
        finally:
            self.model.train(was_training)
        return predictions


def predict(
    model: Tagger,
    batcher: Batcher,
    sentences: Sequence[Sentence],
    device: torch.device,
    max_tokens: int = MAX_BATCH_TOKENS,
) -> list[list[str]]:
    """One-off prediction (a fresh cache): what training uses on dev after each epoch."""
    return Predictor(model, batcher, device, max_tokens)(sentences)
