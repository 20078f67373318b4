"""Python API: load a model once, tag token lists or plain text from a notebook or script.

>>> from seqtag import Tagger
>>> tagger = Tagger.load("upos.model")
>>> tagger.tag([["The", "cat", "sat", "."]])
[['DET', 'NOUN', 'VERB', 'PUNCT']]
>>> [(s.tokens, s.tags) for s in tagger.tag_text("The cat sat. It slept.")]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from seqtag import SeqtagError, modelfile
from seqtag.decode import load_predictor
from seqtag.read import Sentence
from seqtag.tokenize import tokenize_text


@dataclass
class TaggedSentence:
    tokens: list[str]
    tags: list[str]
    text: str


class Tagger:
    """A loaded model. Build it with ``Tagger.load(path)``."""

    def __init__(self, loaded: modelfile.LoadedModel | modelfile.ModelArrays, predict):
        self._loaded = loaded
        self._predict = predict

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> Tagger:
        """``device``: cpu (numpy, as `seqtag tag` on the CPU: torch is not imported), cuda, or
        auto (the GPU when there is one)."""
        return cls(*load_predictor(path, device))

    @property
    def column(self) -> str:
        """The CoNLL-U column the model was trained on, e.g. ``upos`` or ``misc:NER``."""
        return self._loaded.column

    @property
    def labels(self) -> list[str]:
        return self._loaded.vocabularies.labels.to_list()

    @property
    def metadata(self) -> dict:
        """Everything saved in the model file beside the weights (configs, dev score, ...)."""
        return self._loaded.metadata

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """Tags for pre-tokenized sentences: one list of tags per list of tokens."""
        if isinstance(sentences, str):
            raise SeqtagError("tag() takes a list of token lists; use tag_text() for a string")
        records = [Sentence(list(tokens)) for tokens in sentences]
        return self._predict(records)

    def tag_text(self, text: str) -> list[TaggedSentence]:
        """Split and tokenize plain text with seqtag's rule-based tokenizer, then tag it."""
        sentences = tokenize_text(text)
        tags = self._predict(sentences)
        return [
            TaggedSentence(s.words, t, s.text or "") for s, t in zip(sentences, tags, strict=True)
        ]
