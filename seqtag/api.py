"""Python API: load a model once, tag token lists or plain text from a notebook or script.

>>> from seqtag import Tagger
>>> tagger = Tagger.load("upos.model")
>>> tagger.tag([["The", "cat", "sat", "."]])
[['DET', 'NOUN', 'VERB', 'PUNCT']]
>>> [(s.tokens, s.tags) for s in tagger.tag_text("The cat sat. It slept.")]
>>> tagger.tag([["The", "cat", "sat", "."]], confidence=True)
[[('DET', 0.9993), ('NOUN', 0.9871), ('VERB', 0.9412), ('PUNCT', 1.0)]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from seqtag.engine import LoadedTagger, load_tagger
from seqtag.errors import SeqtagError
from seqtag.read import Sentence, split_tag


@dataclass
class TaggedSentence:
    tokens: list[str]
    tags: list  # a tag per token; for a model of several columns, a tuple of tags per token
    text: str


class Tagger:
    """A loaded model. Build it with ``Tagger.load(path)``."""

    def __init__(self, loaded: LoadedTagger, segmenter=None):
        self._loaded = loaded
        self._segmenter = segmenter  # segmenter.engine.Segmenter, or None: the rules

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", tag_dictionary: bool = True) -> Tagger:
        """``device``: cpu (numpy, as `seqtag tag` on the CPU: torch is not imported), cuda, or
        auto (the GPU when there is one). ``tag_dictionary=False``: tag without the model's
        tag dictionary, where it has one (`seqtag tag --no-tag-dictionary`)."""
        from seqtag.segmenter.engine import read_segmenter

        return cls(load_tagger(path, device, tag_dictionary=tag_dictionary), read_segmenter(path))

    @property
    def column(self) -> str:
        """The CoNLL-U column the model was trained on, e.g. ``upos`` or ``misc:NER``."""
        return self._loaded.column

    @property
    def columns(self) -> list[str]:
        """The columns the model tags: one, or several learned together (upos, xpos, ...)."""
        return self.column.split(",")

    @property
    def labels(self) -> list[str] | dict[str, list[str]]:
        """The labels the model can write; for a model of several columns, by column."""
        label_sets = [labels.to_list() for labels in self._loaded.vocabularies.label_sets]
        if len(label_sets) == 1:
            return label_sets[0]
        return dict(zip(self.columns, label_sets, strict=True))

    @property
    def metadata(self) -> dict:
        """Everything saved in the model file beside the weights (configs, dev score, ...)."""
        return self._loaded.metadata

    def tag(self, sentences: Sequence[Sequence[str]], confidence: bool = False) -> list[list]:
        """Tags for pre-tokenized sentences: one list of tags per list of tokens (for a model of
        several columns, a tuple of tags per token, in the order of ``columns``). With
        ``confidence``, each tag comes as (tag, probability): its probability, or for a CRF its
        marginal probability (as `seqtag tag --confidence`; a tuple of each for several
        columns)."""
        if isinstance(sentences, str):
            raise SeqtagError("tag() takes a list of token lists; use tag_text() for a string")
        sentences = list(sentences)
        if any(isinstance(tokens, str) for tokens in sentences):
            raise SeqtagError(
                "tag() takes a list of token lists, e.g. [['The', 'cat', 'sat', '.']], and got "
                "a list of strings: split each into tokens, or use tag_text() for running text"
            )
        records = [Sentence(list(tokens)) for tokens in sentences]
        if not confidence:
            return self._tags(records)
        confident = self._loaded.with_confidence(records)
        tagged = self._split([c.tags for c in confident])
        return [
            list(zip(tags, c.confidence, strict=True))
            for tags, c in zip(tagged, confident, strict=True)
        ]

    def _tags(self, sentences: list[Sentence]) -> list[list]:
        return self._split(self._loaded(sentences))

    def _split(self, predicted: list[list[str]]) -> list[list]:
        if len(self.columns) == 1:
            return predicted
        return [[tuple(split_tag(tag)) for tag in tags] for tags in predicted]

    def tag_text(self, text: str, tokenizer: str = "auto") -> list[TaggedSentence]:
        """Split plain text into sentences and words, then tag it. ``tokenizer``: "model", the
        segmenter the model learned from its treebank (multiword tokens come back as their
        words); "rules", seqtag's rule-based tokenizer; "auto", the model's where it has one."""
        if tokenizer not in ("auto", "model", "rules"):
            raise ValueError(f"tokenizer must be auto, model or rules, not {tokenizer!r}")
        if tokenizer == "model" and self._segmenter is None:
            raise SeqtagError("this model has no segmenter for raw text; use tokenizer='rules'")
        from seqtag.segmenter.engine import raw_sentences

        segmenter = None if tokenizer == "rules" else self._segmenter
        sentences = list(raw_sentences(enumerate(text.splitlines(), start=1), segmenter))
        tags = self._tags(sentences)
        return [
            TaggedSentence(s.words, t, s.text or "") for s, t in zip(sentences, tags, strict=True)
        ]
