"""Batch: sentences -> padded tensors, in a named record.

Each distinct word form in a batch is spelled out in characters once (``chars``), and ``forms``
points every token at its row, so the character encoder never runs twice on the same word.

torch is imported inside the methods that build tensors: the numpy engine (numpy_engine.py)
uses the rest (character ids, inference order) without loading it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from seqtag.affixes import affix_keys
from seqtag.config import PLAIN_INPUTS, ModelConfig
from seqtag.embeddings import lookup_key
from seqtag.read import Sentence, split_tag
from seqtag.vocab import PAD, UNK, Vocabularies, word_keys

if TYPE_CHECKING:
    import torch

IGNORE = -100  # label id for padding; cross_entropy skips it
MAX_BATCH_TOKENS = 2000  # tokens per inference batch (measured: larger batches are no faster)
MAX_WORD_CHARS = 64  # longer words keep their first and last 32 characters (prefix and suffix)


@dataclass
class Encoded:
    """A batch as numpy id arrays, before any tensor exists (the numpy engine uses it as is)."""

    words: np.ndarray  # (B, T) word ids, PAD past each sentence's end
    spellings: list[str]  # the U distinct word forms of the batch, in row order
    forms: np.ndarray  # (B, T) row of `spellings` for each token
    lengths: np.ndarray  # (B,)
    mask: np.ndarray  # (B, T) True on real tokens
    tags: np.ndarray | None  # (B, T) label ids, IGNORE past each sentence's end; (B, T, columns)
    # for a model of several columns
    pretrained: np.ndarray | None = None  # (B, T) rows of the pretrained vectors (UNK: none)
    affixes: np.ndarray | None = None  # (U, 2N) affix ids of each distinct form (--affixes N)


@dataclass
class Batch:
    words: torch.Tensor  # (B, T) word ids, PAD past each sentence's end
    spellings: list[str]  # the U distinct word forms of the batch, in row order
    chars: torch.Tensor | None  # (U, L) their character ids (None: left to a FormVectors cache)
    char_lengths: torch.Tensor | None  # (U,)
    forms: torch.Tensor  # (B, T) row of `spellings` for each token
    lengths: torch.Tensor  # (B,) on the CPU, as pack_padded_sequence wants
    mask: torch.Tensor  # (B, T) True on real tokens
    tags: torch.Tensor | None = None  # (B, T) label ids, IGNORE past each sentence's end
    pretrained: torch.Tensor | None = None  # (B, T) rows of the pretrained vectors (UNK: none)
    affixes: torch.Tensor | None = None  # (U, 2N) affix ids of each of `spellings`

    def to(self, device: torch.device) -> Batch:
        move = lambda t: None if t is None else t.to(device, non_blocking=True)  # noqa: E731
        return Batch(
            move(self.words),
            self.spellings,
            move(self.chars),
            self.char_lengths,
            move(self.forms),
            self.lengths,
            move(self.mask),
            move(self.tags),
            move(self.pretrained),
            move(self.affixes),
        )


def spell(word: str) -> str:
    if len(word) <= MAX_WORD_CHARS:
        return word
    half = MAX_WORD_CHARS // 2
    return word[:half] + word[-half:]


class Batcher:
    """Turns lists of sentences into Batches with the model's vocabularies."""

    def __init__(self, vocabularies: Vocabularies, config: ModelConfig | None = None):
        """``config``: the model's, for the inputs it takes (lowercased word keys, affixes);
        None: words as written and no affixes."""
        config = config or PLAIN_INPUTS
        if config.affixes and vocabularies.affixes is None:
            raise ValueError("affix embeddings need an affix vocabulary")
        self.vocabularies = vocabularies
        self.affix_length = config.affixes
        self.lowercase = config.lowercase
        self._spelled: dict[str, list[int]] = {}  # bounded cache of character ids per form
        self._affixed: dict[str, list[int]] = {}  # the same for affix ids

    def char_ids(self, form: str) -> list[int]:
        """The character ids of a word form (the ids of its ``spell``), cached."""
        ids = self._spelled.get(form)
        if ids is None:
            if len(self._spelled) > 50_000:  # stays bounded (~10 MB) on endless input
                self._spelled.clear()
            encode = self.vocabularies.chars.encode
            # An empty token (column files have them: " O") is spelled as one unknown
            # character, since the character encoder needs at least one step.
            ids = self._spelled[form] = [encode(char) for char in spell(form)] or [UNK]
        return ids

    def word_ids(self, words: Sequence[str]) -> list[int]:
        """The word-embedding ids of words (of their lowercased forms with --lowercase)."""
        encode = self.vocabularies.words.encode
        return [encode(key) for key in word_keys(words, self.lowercase)]

    def affix_ids(self, form: str) -> list[int]:
        """The ids of a word form's affix keys (seqtag.affixes), cached."""
        ids = self._affixed.get(form)
        if ids is None:
            if len(self._affixed) > 50_000:
                self._affixed.clear()
            vocab = self.vocabularies.affixes
            length = self.affix_length
            ids = self._affixed[form] = [vocab.encode(key) for key in affix_keys(form, length)]
        return ids

    def spell_arrays(self, forms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Character ids (U, L), padded, and lengths (U,) of ``forms``, as numpy arrays."""
        spelled = [self.char_ids(form) for form in forms]
        lengths = np.array([len(ids) for ids in spelled], dtype=np.int64)
        chars = np.full((len(spelled), int(lengths.max())), PAD, dtype=np.int64)
        chars[np.arange(chars.shape[1])[None, :] < lengths[:, None]] = [
            char for ids in spelled for char in ids
        ]
        return chars, lengths

    def spell(self, forms: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Character ids (U, L), padded, and lengths (U,) of ``forms``."""
        import torch

        chars, lengths = self.spell_arrays(forms)
        return torch.from_numpy(chars), torch.from_numpy(lengths)

    def encode(self, sentences: Sequence[Sentence], with_tags: bool = False) -> Encoded:
        """The id arrays of non-empty sentences; with_tags needs every sentence's tags."""
        lengths = np.array([len(sentence.words) for sentence in sentences], dtype=np.int64)
        mask = np.arange(int(lengths.max()))[None, :] < lengths[:, None]
        # Tokens fill the mask's True cells in reading order: one array per field, built from
        # one flat list, instead of one per sentence.
        tokens = [word for sentence in sentences for word in sentence.words]
        words = np.full(mask.shape, PAD, dtype=np.int64)
        words[mask] = self.word_ids(tokens)
        row_of: dict[str, int] = {}
        forms = np.zeros(mask.shape, dtype=np.int64)
        forms[mask] = [row_of.setdefault(word, len(row_of)) for word in tokens]
        tags = None
        if with_tags:
            all_tags = [tag for sentence in sentences for tag in sentence.tags]
            label_sets = self.vocabularies.label_sets
            if len(label_sets) == 1:
                encode_label = self.vocabularies.labels.encode
                tags = np.full(mask.shape, IGNORE, dtype=np.int64)
                tags[mask] = [encode_label(tag) for tag in all_tags]
            else:  # one label id per column: (B, T, columns)
                tags = np.full((*mask.shape, len(label_sets)), IGNORE, dtype=np.int64)
                tags[mask] = [
                    [
                        labels.encode(value)
                        for labels, value in zip(label_sets, split_tag(tag), strict=True)
                    ]
                    for tag in all_tags
                ]
        pretrained = None
        if self.vocabularies.pretrained is not None:
            # Looked up once per distinct form (two dict lookups each), then spread to tokens.
            form_rows = np.array([self.pretrained_id(form) for form in row_of], dtype=np.int64)
            pretrained = np.full(mask.shape, PAD, dtype=np.int64)
            pretrained[mask] = form_rows[forms[mask]]
        affixes = None
        if self.affix_length:
            affixes = np.array([self.affix_ids(form) for form in row_of], dtype=np.int64)
        return Encoded(words, list(row_of), forms, lengths, mask, tags, pretrained, affixes)

    def pretrained_id(self, word: str) -> int:
        """The row of a word's pretrained vector: its own, its lowercase form's, or UNK (zeros)."""
        vocab = self.vocabularies.pretrained
        key = lookup_key(word, vocab.index)
        return UNK if key is None else vocab.encode(key)

    def batch(
        self, sentences: Sequence[Sentence], with_tags: bool = False, with_chars: bool = True
    ) -> Batch:
        """Sentences must be non-empty; with_tags needs every sentence's tags. Without
        with_chars the caller spells ``spellings`` itself (inference does, through a cache)."""
        import torch

        encoded = self.encode(sentences, with_tags)
        tensor = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
        chars, char_lengths = self.spell(encoded.spellings) if with_chars else (None, None)
        return Batch(
            tensor(encoded.words),
            encoded.spellings,
            chars,
            char_lengths,
            tensor(encoded.forms),
            tensor(encoded.lengths),
            tensor(encoded.mask),
            tensor(encoded.tags),
            tensor(encoded.pretrained),
            tensor(encoded.affixes),
        )


def training_order(
    sentences: Sequence[Sentence], batch_size: int, rng: random.Random
) -> list[list[int]]:
    """Shuffled batches of sentence indices, similar lengths together to waste little padding.

    Sentences are shuffled, sorted by length within pools of 50 batches, cut into batches, and
    the batches shuffled again: every epoch sees a different mix.
    """
    order = [i for i in range(len(sentences)) if sentences[i].words]
    rng.shuffle(order)
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: len(sentences[i].words))
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def inference_order(sentences: Sequence[Sentence], max_tokens: int) -> Iterator[list[int]]:
    """Batches of indices of the non-empty sentences, by length, capped at ~max_tokens tokens."""
    order = sorted(
        (i for i in range(len(sentences)) if sentences[i].words),
        key=lambda i: len(sentences[i].words),
    )
    batch: list[int] = []
    for i in order:
        longest = len(sentences[i].words)  # sorted, so the newest is the longest
        if batch and longest * (len(batch) + 1) > max_tokens:
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch
