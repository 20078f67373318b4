"""Decode: a model and sentences -> predicted tags, in input order.

Sentences are batched by length for speed (padding is wasted work), then the predictions are put
back in the order the sentences came in. Empty sentences get empty predictions. While the weights
stay fixed, each word form's character vector is computed once and cached (``FormVectors``): in
running text most tokens are forms seen a moment ago, so this removes most of the character
encoder's work. ``FormVectors`` knows nothing of torch: the numpy tagger keeps its cache with it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqtag.batch import MAX_BATCH_TOKENS, Batcher, inference_order
from seqtag.read import Sentence

if TYPE_CHECKING:
    import torch

    from seqtag.model import Ensemble, Tagger

FORM_CACHE_SIZE = 30_000  # forms whose character vectors are kept: 24 MB at the default sizes


class FormVectors:
    """Character vectors of word forms, each computed once while the encoder's weights stay
    fixed. Bounded: when full it starts over, so memory stays flat on endless input.

    ``encode(forms)`` computes the vectors (U, D) of a list of forms; ``allocate(n)`` makes an
    empty table (n, D) to keep them in. Any array type that slices and takes a list of row
    numbers as an index will do (torch tensors, numpy arrays).
    """

    def __init__(
        self,
        encode: Callable[[Sequence[str]], Any],
        allocate: Callable[[int], Any],
        capacity: int = FORM_CACHE_SIZE,
    ):
        self.encode = encode
        self.allocate = allocate
        self.capacity = capacity
        self.rows: dict[str, int] = {}
        self.table = None  # (capacity, D), allocated on first use

    def __call__(self, spellings: Sequence[str]):
        """The vectors (U, D) of distinct word forms, in the order given."""
        if len(spellings) > self.capacity:  # one huge sentence: no room to keep them
            return self.encode(spellings)
        missing = [form for form in spellings if form not in self.rows]
        if len(self.rows) + len(missing) > self.capacity:
            self.rows.clear()
            missing = list(spellings)
        if missing:
            if self.table is None:
                self.table = self.allocate(self.capacity)
            start = len(self.rows)
            self.table[start : start + len(missing)] = self.encode(missing)
            self.rows.update((form, start + offset) for offset, form in enumerate(missing))
        return self.table[[self.rows[form] for form in spellings]]


class Predictor:
    """Tags sentences with a model whose weights stay fixed for as long as the Predictor is used
    (build a new one after the weights change: the form cache would be stale)."""

    def __init__(
        self,
        model: Tagger | Ensemble,
        batcher: Batcher,
        device: torch.device,
        max_tokens: int = MAX_BATCH_TOKENS,
    ):
        self.model = model
        self.batcher = batcher
        self.device = device
        self.max_tokens = max_tokens
        self.form_vectors = None
        # An ensemble's members each have their own character encoder: no shared cache, the
        # batches carry the characters instead.
        encoder = getattr(model, "char_encoder", None)
        if encoder is not None:
            import torch

            def encode(forms: Sequence[str]) -> torch.Tensor:
                chars, lengths = batcher.spell(forms)
                return encoder(chars.to(device), lengths)

            def allocate(rows: int) -> torch.Tensor:
                return torch.empty((rows, encoder.output_dim), device=device)

            self.form_vectors = FormVectors(encode, allocate)

    def __call__(self, sentences: Sequence[Sentence]) -> list[list[str]]:
        import torch

        vocabularies = self.batcher.vocabularies
        dictionary = vocabularies.tag_dictionary  # kept to, as the numpy engine does
        predictions: list[list[str]] = [[] for _ in sentences]
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                for indices in inference_order(sentences, self.max_tokens):
                    chosen = [sentences[i] for i in indices]
                    batch = self.batcher.batch(
                        chosen, with_chars=self.form_vectors is None and self.model.config.char
                    ).to(self.device)
                    spelled = None
                    if self.form_vectors is not None:
                        spelled = self.form_vectors(batch.spellings)
                    scores = self.model(batch, spelled)
                    if dictionary is not None:
                        penalties = dictionary.penalties(chosen, scores.shape[1])
                        scores = scores + torch.from_numpy(penalties).to(scores.device)
                    best = self.model.decode(scores, batch.mask)
                    for i, ids in zip(indices, best, strict=True):
                        predictions[i] = vocabularies.decode_tags(ids)
        finally:
            self.model.train(was_training)
        return predictions


def predict(
    model: Tagger | Ensemble,
    batcher: Batcher,
    sentences: Sequence[Sentence],
    device: torch.device,
    max_tokens: int = MAX_BATCH_TOKENS,
) -> list[list[str]]:
    """One-off prediction (a fresh cache): what training uses on dev after each epoch."""
    return Predictor(model, batcher, device, max_tokens)(sentences)


def load_predictor(
    path: str | Path,
    device: str = "auto",
    threads: int | None = None,
    tag_dictionary: bool = True,
):
    """A model file ready to tag: (its contents, a function from sentences to tags), on the
    engine ``device`` asks for: numpy when no GPU could be used (torch is then never imported),
    else torch on the GPU. `seqtag tag`, `seqtag eval -m` and the Python API all load models
    through here, so they tag alike. ``tag_dictionary=False`` tags without the model's tag
    dictionary (the network's own choices), where it has one."""
    from seqtag.device import may_use_gpu

    if may_use_gpu(device):
        # oneDNN keeps a compiled kernel for each batch shape it meets (1024 by default), and
        # a long stream meets thousands: peak memory grew by 126 MB over 1,000,000 lines. A
        # small cache keeps it flat, at no measurable cost in speed. Set before torch loads.
        os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")
        from seqtag import modelfile
        from seqtag.device import resolve_device, set_threads

        set_threads(threads)
        target = resolve_device(device)
        if target.type != "cpu":
            loaded = modelfile.load(path, target)
            if not tag_dictionary:
                loaded = _without_tag_dictionary(loaded)
            return loaded, Predictor(
                loaded.model, Batcher(loaded.vocabularies, loaded.model.config), target
            )
    if threads is not None:
        # Read by numpy's BLAS when it loads, which is below (unless it is loaded already).
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = str(threads)
    from seqtag.modelfile import read_model
    from seqtag.numpy_tagger import numpy_predictor

    arrays = read_model(path)
    if not tag_dictionary:
        arrays = _without_tag_dictionary(arrays)
    return arrays, numpy_predictor(arrays, str(path))


def _without_tag_dictionary(contents):
    """A loaded model file (modelfile.LoadedModel or ModelArrays) less its tag dictionary."""
    vocabularies = dataclasses.replace(contents.vocabularies, tag_dictionary=None)
    return dataclasses.replace(contents, vocabularies=vocabularies)
