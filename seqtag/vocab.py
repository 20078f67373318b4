"""Vocab: strings <-> ids for words, characters and labels, stored as plain JSON lists.

Word and character vocabularies reserve PAD=0 and UNK=1; labels have no reserved ids. Keeping the
vocabularies as lists of strings (not pickled objects) is what makes the model file safe to load.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from seqtag.affixes import common_affixes
from seqtag.config import PLAIN_INPUTS, ModelConfig
from seqtag.read import TAG_SEPARATOR, split_tag

if TYPE_CHECKING:
    from seqtag.tagdict import TagDictionary  # imports numpy, which `seqtag --help` does not

PAD = 0
UNK = 1
RESERVED = ("<pad>", "<unk>")


class Vocab:
    """A bijection between strings and ids; ``reserved`` vocabularies map unknown items to UNK."""

    def __init__(self, items: Iterable[str], reserved: bool = True):
        self.reserved = reserved
        self.items: list[str] = [*RESERVED] if reserved else []
        for item in items:
            if reserved and item in RESERVED:
                continue  # a corpus word spelled "<unk>" shares the UNK id
            self.items.append(item)
        self.index = {item: i for i, item in enumerate(self.items)}
        if len(self.index) != len(self.items):
            raise ValueError("vocabulary items must be unique")

    @classmethod
    def build(cls, items: Iterable[str], reserved: bool = True) -> Vocab:
        """Items sorted by falling frequency, ties by first appearance (deterministic)."""
        counts = Counter(items)
        return cls([item for item, _ in counts.most_common()], reserved)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item: str) -> bool:
        return item in self.index and (not self.reserved or self.index[item] >= len(RESERVED))

    def encode(self, item: str) -> int:
        if self.reserved:
            return self.index.get(item, UNK)
        return self.index[item]

    def decode(self, item_id: int) -> str:
        return self.items[item_id]

    def to_list(self) -> list[str]:
        """The items after the reserved ones, as saved in the model file."""
        return self.items[len(RESERVED) :] if self.reserved else list(self.items)

    @classmethod
    def from_list(cls, items: list[str], reserved: bool = True) -> Vocab:
        return cls(items, reserved)


def word_keys(words: Iterable[str], lowercase: bool) -> Iterable[str]:
    """What the word vocabulary holds for each word: the word, or with --lowercase its
    lowercased form."""
    return (word.lower() for word in words) if lowercase else words


@dataclass(frozen=True)
class Vocabularies:
    words: Vocab
    chars: Vocab
    labels: Vocab
    # Words that have a pretrained vector (--embeddings), in the order of the vectors' table;
    # None when the model has none.
    pretrained: Vocab | None = None
    # Prefix and suffix keys (seqtag.affixes) when the model has affix embeddings, else None.
    affixes: Vocab | None = None
    # A model of several columns (--column upos,xpos): the label sets of the second and later
    # columns, ``labels`` being the first's; empty for a model of one column.
    more_labels: tuple[Vocab, ...] = ()
    # The tags each training word had (seqtag.tagdict), which decoding keeps to; None: tag
    # freely. Added at the end of training (train --tag-dictionary), so dev scores during
    # training are the network's own.
    tag_dictionary: TagDictionary | None = None

    @classmethod
    def build(
        cls, sentences: Iterable, config: ModelConfig | None = None, columns: int = 1
    ) -> Vocabularies:
        """The vocabularies of training sentences for a model configured as ``config`` (its
        word keys, with or without affixes; None: words as written, no affixes) that learns
        ``columns`` columns (tags of several are joined, see read.Columns)."""
        config = config or PLAIN_INPUTS
        sentences = list(sentences)
        words = [word for sentence in sentences for word in sentence.words]
        tags = [tag for sentence in sentences for tag in sentence.tags]
        per_column: list[Iterable[str]] = [tags]
        if columns > 1:
            split = [split_tag(tag) for tag in tags]
            per_column = list(zip(*split, strict=True)) if split else [()] * columns
        labels = [Vocab(sorted(set(values)), reserved=False) for values in per_column]
        return cls(
            Vocab.build(word_keys(words, config.lowercase)),
            Vocab.build(char for word in words for char in word),
            labels[0],
            affixes=Vocab(common_affixes(words, config.affixes)) if config.affixes else None,
            more_labels=tuple(labels[1:]),
        )

    @property
    def label_sets(self) -> tuple[Vocab, ...]:
        """The labels of each column the model learns, in column order."""
        return (self.labels, *self.more_labels)

    def decode_tags(self, ids: Sequence[int] | Sequence[Sequence[int]]) -> list[str]:
        """The tags of a sentence from their label ids; for a model of several columns each
        token has one id per column, and its tag is their labels joined (read.Columns)."""
        if not self.more_labels:
            return [self.labels.decode(i) for i in ids]  # type: ignore[arg-type]
        sets = self.label_sets
        return [
            TAG_SEPARATOR.join(vocab.decode(i) for vocab, i in zip(sets, token, strict=True))
            for token in ids
        ]

    def with_pretrained(self, words: Iterable[str]) -> Vocabularies:
        return dataclasses.replace(self, pretrained=Vocab(words))

    def with_tag_dictionary(self, sentences: Iterable | None) -> Vocabularies:
        """These vocabularies with the tag dictionary of training ``sentences``; None: none."""
        from seqtag.tagdict import TagDictionary

        built = None if sentences is None else TagDictionary.build(sentences, self.labels)
        return dataclasses.replace(self, tag_dictionary=built)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "words": self.words.to_list(),
            "chars": self.chars.to_list(),
            "labels": self.labels.to_list(),
        }
        if self.pretrained is not None:
            data["pretrained"] = self.pretrained.to_list()
        if self.affixes is not None:
            data["affixes"] = self.affixes.to_list()
        if self.more_labels:
            data["more_labels"] = [vocab.to_list() for vocab in self.more_labels]
        if self.tag_dictionary is not None:
            data["tag_dictionary"] = self.tag_dictionary.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabularies:
        from seqtag.tagdict import TagDictionary

        labels = Vocab.from_list(data["labels"], reserved=False)
        return cls(
            Vocab.from_list(data["words"]),
            Vocab.from_list(data["chars"]),
            labels,
            Vocab.from_list(data["pretrained"]) if "pretrained" in data else None,
            Vocab.from_list(data["affixes"]) if "affixes" in data else None,
            tuple(Vocab.from_list(items, reserved=False) for items in data.get("more_labels", [])),
            TagDictionary.from_dict(data["tag_dictionary"], len(labels))
            if "tag_dictionary" in data
            else None,
        )
