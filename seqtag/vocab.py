"""Vocab: strings <-> ids for words, characters and labels, stored as plain JSON lists.

Word and character vocabularies reserve PAD=0 and UNK=1; labels have no reserved ids. Keeping the
vocabularies as lists of strings (not pickled objects) is what makes the model file safe to load.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from seqtag.config import ModelConfig

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

    @classmethod
    def build(cls, sentences: Iterable, config: ModelConfig | None = None) -> Vocabularies:
        """The vocabularies of training sentences for a model configured as ``config`` (its
        word keys, with or without affixes; default: ModelConfig())."""
        from seqtag.affixes import affix_vocab

        config = config or ModelConfig()
        sentences = list(sentences)
        words = [word for sentence in sentences for word in sentence.words]
        labels = [tag for sentence in sentences for tag in sentence.tags]
        return cls(
            Vocab.build(word_keys(words, config.lowercase)),
            Vocab.build(char for word in words for char in word),
            Vocab(sorted(set(labels)), reserved=False),
            affixes=affix_vocab(words, config.affixes) if config.affixes else None,
        )

    def with_pretrained(self, words: Iterable[str]) -> Vocabularies:
        return dataclasses.replace(self, pretrained=Vocab(words))

    def to_dict(self) -> dict[str, list[str]]:
        data = {
            "words": self.words.to_list(),
            "chars": self.chars.to_list(),
            "labels": self.labels.to_list(),
        }
        if self.pretrained is not None:
            data["pretrained"] = self.pretrained.to_list()
        if self.affixes is not None:
            data["affixes"] = self.affixes.to_list()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, list[str]]) -> Vocabularies:
        return cls(
            Vocab.from_list(data["words"]),
            Vocab.from_list(data["chars"]),
            Vocab.from_list(data["labels"], reserved=False),
            Vocab.from_list(data["pretrained"]) if "pretrained" in data else None,
            Vocab.from_list(data["affixes"]) if "affixes" in data else None,
        )
