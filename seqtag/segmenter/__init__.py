"""Segmenter: raw text -> sentences of the treebank's own words, learned from its training file.

A character-level bidirectional LSTM (or GRU) labels each character of the text: inside a
token, the last character of a token, or the last character of a sentence (``examples.py``
reads these labels from CoNLL-U). Each character enters as an embedding of its lowercased form
and one of its Unicode category (so case, digits and punctuation of characters never seen in
training still count). Multiword tokens are expanded by a dictionary of the training file's own.

Text is cut into windows of ``window`` characters, each read with ``context`` characters of the
text on either side, so a long paragraph costs no more per character than a short one and many
windows run as one batch. Training (``network.py``, torch) reads windows of the same width;
tagging (``engine.py``) runs on numpy alone, as the tagger does.

This module holds what both sides share: the settings, the character encoding, the windows and
the decoding of labels into tokens. Neither torch nor numpy is imported here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field

from seqtag.architecture import Recurrent
from seqtag.segmenter.examples import ENDS, LABELS, MULTIWORD_ENDS, SENTENCE_ENDS

# Unicode general categories: each character's second input.
CATEGORIES = [
    "Lu",
    "Ll",
    "Lt",
    "Lm",
    "Lo",
    "Mn",
    "Mc",
    "Me",
    "Nd",
    "Nl",
    "No",
    "Pc",
    "Pd",
    "Ps",
    "Pe",
    "Pi",
    "Pf",
    "Po",
    "Sm",
    "Sc",
    "Sk",
    "So",
    "Zs",
    "Zl",
    "Zp",
    "Cc",
    "Cf",
    "Cs",
    "Co",
    "Cn",
]
_CATEGORY_IDS = {name: i + 1 for i, name in enumerate(CATEGORIES)}  # 0 pads
PAD, UNKNOWN = 0, 1
MAX_EPOCHS = 10  # the cap on the segmenter's training epochs (train-tokenizer --max-epochs)
N_LABELS = len(LABELS)


@dataclass(frozen=True)
class SegmenterConfig:
    rnn: str = "lstm"
    layers: int = 2
    hidden: int = 64  # per direction
    char_dim: int = 32
    category_dim: int = 8
    dropout: float = 0.2
    window: int = 200  # characters labelled per window
    context: int = 50  # characters read on either side of a window

    def layers_of(self) -> list[Recurrent]:
        """The stacked bidirectional layers, named as network.SegmenterNetwork's ``rnn``."""
        widths = [self.char_dim + self.category_dim] + [2 * self.hidden] * (self.layers - 1)
        return [
            Recurrent(
                self.rnn,
                width,
                self.hidden,
                (f"rnn.forward_layers.{depth}.", ""),
                (f"rnn.backward_layers.{depth}.", ""),
            )
            for depth, width in enumerate(widths)
        ]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Characters:
    """Character ids: each lowercased character of the training text that occurs at least
    twice (others are UNKNOWN), from 2 on."""

    ids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, texts) -> Characters:
        counts: dict[str, int] = {}
        for text in texts:
            for char in text.lower():
                counts[char] = counts.get(char, 0) + 1
        kept = sorted(char for char, count in counts.items() if count >= 2)
        return cls({char: i + 2 for i, char in enumerate(kept)})

    def __len__(self) -> int:
        return len(self.ids) + 2

    def encode(self, text: str) -> tuple[list[int], list[int]]:
        """Each character's id and category id."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters lowercase to two ("İ")
            lowered = "".join(char.lower()[:1] for char in text)
        ids = self.ids
        return (
            [ids.get(char, UNKNOWN) for char in lowered],
            [_CATEGORY_IDS.get(unicodedata.category(char), 0) for char in text],
        )


def windows(length: int, window: int, context: int) -> list[tuple[int, int, int, int]]:
    """How a text of ``length`` characters is read: (start, end) of what each window reads
    and (start, end) of the characters it labels; the labelled parts tile the text."""
    found = []
    for core in range(0, length, window):
        core_end = min(core + window, length)
        found.append((max(0, core - context), min(length, core_end + context), core, core_end))
    return found


@dataclass(frozen=True)
class Span:
    """A token of the text: characters [start, end), whether a sentence ends after it, and
    whether it is a multiword token."""

    start: int
    end: int
    sentence_end: bool = False
    multiword: bool = False


def decode(text: str, labels) -> list[Span]:
    """Tokens from the characters' labels (examples.LABELS): a token ends at a character
    labelled as one of the ends, and at whitespace (which no token holds)."""
    spans: list[Span] = []
    start = None
    for i, char in enumerate(text):
        if char.isspace():
            if start is not None:
                spans.append(Span(start, i))
                start = None
            continue
        if start is None:
            start = i
        label = int(labels[i])
        if label in ENDS:
            spans.append(Span(start, i + 1, label in SENTENCE_ENDS, label in MULTIWORD_ENDS))
            start = None
    if start is not None:
        spans.append(Span(start, len(text)))
    return spans
