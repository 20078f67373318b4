"""Decode: a model and sentences -> predicted tags, in input order.

Sentences are batched by length for speed (padding is wasted work), then the predictions are put
back in the order the sentences came in. Empty sentences get empty predictions.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from seqtag.batch import Batcher, inference_order
from seqtag.model import Tagger
from seqtag.read import Sentence

MAX_BATCH_TOKENS = 4000  # tokens per inference batch: large enough to keep the CPU busy


def predict(
    model: Tagger,
    batcher: Batcher,
    sentences: Sequence[Sentence],
    device: torch.device,
    max_tokens: int = MAX_BATCH_TOKENS,
) -> list[list[str]]:
    labels = batcher.vocabularies.labels
    predictions: list[list[str]] = [[] for _ in sentences]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for indices in inference_order(sentences, max_tokens):
                batch = batcher.batch([sentences[i] for i in indices]).to(device)
                best = model.decode(model(batch), batch.mask)
                for i, ids in zip(indices, best, strict=True):
                    predictions[i] = [labels.decode(label_id) for label_id in ids]
    finally:
        model.train(was_training)
    return predictions
