"""Affixes: a word's prefixes and suffixes of lengths 1..N, as keys of a vocabulary.

With ``--affixes N`` every word also gets one learned embedding for each of its (lowercased)
prefixes and suffixes up to N characters, the features a CRF tagger is built on. The character
BiLSTM can learn the same from the spelling, but from a few thousand training words it learns
it slowly; a suffix embedding is shared by every word that ends that way from the first update.

Keys name their slot (``s3:ing`` is the three-letter suffix ``ing``), so a prefix and a suffix
that are spelled alike never share a vector. A word shorter than N has its whole form in the
longer slots. Only affixes that end (or start) at least ``MIN_WORD_TYPES`` distinct training
words get a key: one seen on a single word says no more than the word does, and leaving those
out is what trains the unknown-affix vector that unseen words fall back on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

MIN_WORD_TYPES = 2


def affix_keys(word: str, length: int) -> list[str]:
    """The 2 * ``length`` affix keys of a word: suffixes 1..length, then prefixes 1..length."""
    lower = word.lower()
    suffixes = [f"s{n}:{lower[-n:]}" for n in range(1, length + 1)]
    prefixes = [f"p{n}:{lower[:n]}" for n in range(1, length + 1)]
    return suffixes + prefixes


def common_affixes(words: Iterable[str], length: int) -> list[str]:
    """The affix keys of at least MIN_WORD_TYPES distinct (lowercased) words, most common
    first: the items of the affix vocabulary (vocab.Vocabularies.affixes)."""
    types = {word.lower() for word in words}
    counts = Counter(key for word in sorted(types) for key in affix_keys(word, length))
    return [key for key, count in counts.most_common() if count >= MIN_WORD_TYPES]
