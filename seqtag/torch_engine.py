"""Torch engine: tag with the torch network itself, on any device.

Training scores dev with it after each epoch (``predict``), and `seqtag tag` uses it on a GPU.
While the weights stay fixed, each word form's character vector is computed once and cached
(formcache.FormVectors).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from seqtag.batch import MAX_BATCH_TOKENS, Batcher
from seqtag.formcache import FormVectors
from seqtag.model import Ensemble, Network
from seqtag.predict import Confident, tag_sentences, tag_with_confidence
from seqtag.read import Sentence


class TorchEngine:
    """Tags sentences with a network whose weights stay fixed for as long as the engine is used
    (build a new one after the weights change: the form cache would be stale)."""

    def __init__(
        self,
        model: Network | Ensemble,
        batcher: Batcher,
        device: torch.device,
        max_tokens: int = MAX_BATCH_TOKENS,
    ):
        self.model = model
        self.batcher = batcher
        self.vocabularies = batcher.vocabularies
        self.device = device
        self.max_tokens = max_tokens
        self.form_vectors = None
        # An ensemble's members each have their own character encoder: no shared cache, the
        # batches carry the characters instead.
        encoder = getattr(model, "char_encoder", None)
        if encoder is not None:

            def encode(forms: Sequence[str]) -> torch.Tensor:
                chars, lengths = batcher.spell(forms)
                return encoder(chars.to(device), lengths)

            def allocate(rows: int) -> torch.Tensor:
                return torch.empty((rows, encoder.output_dim), device=device)

            self.form_vectors = FormVectors(encode, allocate)

    def emissions(self, sentences: Sequence[Sentence]) -> tuple[torch.Tensor, torch.Tensor]:
        """Label scores (B, T, K) and the mask (B, T) of non-empty sentences."""
        batch = self.batcher.batch(
            sentences, with_chars=self.form_vectors is None and self.model.config.char
        ).to(self.device)
        spelled = None
        if self.form_vectors is not None:
            spelled = self.form_vectors(batch.spellings)
        return self.model(batch, spelled), batch.mask

    def decode(self, scores: torch.Tensor, mask: torch.Tensor, penalties=None) -> list[list]:
        if penalties is not None:
            scores = scores + torch.from_numpy(penalties).to(scores.device)
        return self.model.decode(scores, mask)

    @property
    def scheme(self) -> str | None:
        return self.model.config.scheme

    def chain(self, scores: torch.Tensor, mask: torch.Tensor, penalties=None, temperature=None):
        """As the numpy engine's: the model's chain (seqtag.marginals.Chain) over the scores
        brought to numpy, or None for a plain softmax."""
        from seqtag.marginals import Chain

        described = self.model.chain()
        if described is None:
            return None
        if penalties is not None:
            scores = scores + torch.from_numpy(penalties).to(scores.device)
        log_probabilities, parts = described
        arrays = (p.detach().float().cpu().numpy() for p in parts)
        lengths = mask.sum(dim=1).cpu().numpy()
        values = scores.float().cpu().numpy()
        return Chain.tempered(
            values, lengths, *arrays, temperature, log_softmax_first=log_probabilities
        )

    def softmax(self, scores: torch.Tensor, mask: torch.Tensor, penalties=None, temperature=None):
        """As the numpy engine's, on the scores brought to numpy."""
        from seqtag.marginals import column_softmax

        if penalties is not None:
            scores = scores + torch.from_numpy(penalties).to(scores.device)
        values = scores.float().cpu().numpy()
        return column_softmax(values, np.cumsum(self.model.label_sizes), temperature)

    def _evaluating(self, work):
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                return work()
        finally:
            self.model.train(was_training)

    def __call__(self, sentences: Sequence[Sentence]) -> list[list[str]]:
        return self._evaluating(lambda: tag_sentences(self, sentences))

    def with_confidence(
        self,
        sentences: Sequence[Sentence],
        top: int = 0,
        calibration=None,
        spans: bool = False,
        distributions: bool = False,
    ) -> list[Confident]:
        return self._evaluating(
            lambda: tag_with_confidence(self, sentences, top, calibration, spans, distributions)
        )


def predict(
    model: Network | Ensemble,
    batcher: Batcher,
    sentences: Sequence[Sentence],
    device: torch.device,
    max_tokens: int = MAX_BATCH_TOKENS,
) -> list[list[str]]:
    """One-off prediction (a fresh cache): what training uses on dev after each epoch."""
    return TorchEngine(model, batcher, device, max_tokens)(sentences)
