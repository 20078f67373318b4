"""Engine choice: a model file, loaded on the engine the device asks for, ready to tag.

On the CPU the numpy engine tags (torch is then never imported: a short job starts in a fraction
of a second); on a GPU, torch does. `seqtag tag`, `seqtag eval -m` and the Python API all load
models through ``load_tagger``, so they tag alike.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqtag.config import ModelConfig
from seqtag.predict import Confident, Engine
from seqtag.read import Sentence
from seqtag.vocab import Vocabularies


@dataclass
class LoadedTagger:
    """A model file ready to tag: what the file says beside the weights, and its engine."""

    column: str  # the CoNLL-U column(s) it tags, e.g. upos or misc:NER
    vocabularies: Vocabularies
    model_config: ModelConfig
    metadata: dict[str, Any]  # everything saved beside the weights, JSON-ready
    engine: Engine

    def __call__(self, sentences: Sequence[Sentence]) -> list[list[str]]:
        """The tags of each sentence, in input order."""
        return self.engine(sentences)

    def with_confidence(
        self,
        sentences: Sequence[Sentence],
        top: int = 0,
        spans: bool = False,
        distributions: bool = False,
    ) -> list[Confident]:
        """The tags of each sentence with the probability of each (predict.Confident), with the
        calibration training fitted on dev where the model file has one."""
        from seqtag.marginals import Calibration

        calibration = Calibration.from_metadata(self.metadata)
        return self.engine.with_confidence(sentences, top, calibration, spans, distributions)


def load_tagger(
    path: str | Path,
    device: str = "auto",
    threads: int | None = None,
    tag_dictionary: bool = True,
) -> LoadedTagger:
    """The model file at ``path`` on the engine ``device`` asks for: numpy when no GPU could be
    used, else torch on the GPU. ``tag_dictionary=False`` tags without the model's tag
    dictionary (the network's own choices), where it has one. ``threads`` sets torch's CPU
    threads; numpy's BLAS takes its count when numpy loads, which importing this module
    does, so set it before (device.set_blas_threads; the command line does while parsing)."""
    from seqtag.device import may_use_gpu

    if may_use_gpu(device):
        # oneDNN keeps a compiled kernel for each batch shape it meets (1024 by default), and
        # a long stream meets thousands: peak memory grew by 126 MB over 1,000,000 lines. A
        # small cache keeps it flat, at no measurable cost in speed. Set before torch loads.
        os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")
        from seqtag import modelfile
        from seqtag.batch import Batcher
        from seqtag.device import resolve_device, set_threads
        from seqtag.torch_engine import TorchEngine

        set_threads(threads)
        target = resolve_device(device)
        if target.type != "cpu":
            loaded = modelfile.load(path, target)
            vocabularies = _kept(loaded.vocabularies, tag_dictionary)
            engine = TorchEngine(loaded.model, Batcher(vocabularies, loaded.model_config), target)
            return LoadedTagger(
                loaded.column, vocabularies, loaded.model_config, loaded.metadata, engine
            )
    from seqtag.modelfile import read_model
    from seqtag.numpy_engine import numpy_engine

    arrays = read_model(path)
    arrays = dataclasses.replace(arrays, vocabularies=_kept(arrays.vocabularies, tag_dictionary))
    return LoadedTagger(
        arrays.column,
        arrays.vocabularies,
        arrays.model_config,
        arrays.metadata,
        numpy_engine(arrays, str(path)),
    )


def _kept(vocabularies: Vocabularies, tag_dictionary: bool) -> Vocabularies:
    """The vocabularies, less their tag dictionary unless ``tag_dictionary``."""
    if tag_dictionary:
        return vocabularies
    return dataclasses.replace(vocabularies, tag_dictionary=None)
