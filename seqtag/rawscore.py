"""Scores from raw text, as the CoNLL 2018 shared task counts them: tokens, sentences, words and
tags of a system's output against gold CoNLL-U, aligned through their characters.

Both sides are the same text (the system tagged gold's own), so with whitespace left out every
token, word and sentence is a span of one character sequence. Tokens and sentences match when
their spans are equal. A word that is not part of a multiword token has its token's span and
matches a word of the same span; words of multiword tokens (which share their token's span)
are matched inside each stretch of text that multiword tokens of either side cover, by the
longest common subsequence of their lowercased forms, as the shared task's evaluator does. A
tag is right on a matched word whose tags agree. Precision divides by the system's count,
recall by gold's.

``plain_text`` gives gold's raw text as the shared task built it: each sentence's ``# text``,
the sentences of a paragraph joined by a space, a blank line between paragraphs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from seqtag.errors import SeqtagError
from seqtag.read import Sentence


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    form: str
    tag: str
    multiword: bool


@dataclass
class Spans:
    """One side's tokens, sentences and words over the text without whitespace."""

    tokens: list[tuple[int, int]]
    sentences: list[tuple[int, int]]
    words: list[Word]
    characters: str


def plain_text(sentences: Sequence[Sentence]) -> str:
    """Gold CoNLL-U sentences (with their lines) as raw text: a paragraph a line (a ``#
    newpar`` or ``# newdoc`` starts one), a blank line between paragraphs."""
    from seqtag.segmenter.examples import sentence_text, tokens_of

    paragraphs: list[list[str]] = []
    for sentence in sentences:
        lines = sentence.lines or []
        starts = any(line.startswith(("# newpar", "# newdoc")) for line in lines)
        if starts or not paragraphs:
            paragraphs.append([])
        paragraphs[-1].append(sentence_text(lines, tokens_of(lines))[0])
    return "\n\n".join(" ".join(p) for p in paragraphs) + "\n"


def gold_spans(sentences: Sequence[Sentence]) -> Spans:
    """Spans of gold CoNLL-U sentences read with a column (their tags)."""
    from seqtag.segmenter.examples import tokens_of

    tokens = []
    for sentence in sentences:
        found = tokens_of(sentence.lines or [])
        words = iter(sentence.tags or [])
        tokens.append([(t.form, [(w, next(words, "_")) for w in t.words]) for t in found])
    return _spans(tokens)


def system_spans(sentences: Sequence[Sentence], tags: Sequence[Sequence[str]]) -> Spans:
    """Spans of tagged sentences from raw text (their multiword tokens as tokens)."""
    tokens = []
    for sentence, sentence_tags in zip(sentences, tags, strict=True):
        ranges = {first: (last, form) for first, last, form in sentence.multiword or ()}
        found, i = [], 0
        while i < len(sentence.words):
            last, form = ranges.get(i, (i, sentence.words[i]))
            found.append(
                (
                    form,
                    list(
                        zip(sentence.words[i : last + 1], sentence_tags[i : last + 1], strict=True)
                    ),
                )
            )
            i = last + 1
        tokens.append(found)
    return _spans(tokens)


def _spans(sentences: list[list[tuple[str, list[tuple[str, str]]]]]) -> Spans:
    tokens, spans, words, characters = [], [], [], []
    position = 0
    for sentence in sentences:
        if not sentence:
            continue
        start = position
        for form, token_words in sentence:
            bare = "".join(form.split())
            characters.append(bare)
            tokens.append((position, position + len(bare)))
            for word, tag in token_words:
                words.append(Word(position, position + len(bare), word, tag, len(token_words) > 1))
            position += len(bare)
        spans.append((start, position))
    return Spans(tokens, spans, words, "".join(characters))


def _f1(matched: int, system: int, gold: int) -> dict:
    precision = matched / system if system else 0.0
    recall = matched / gold if gold else 0.0
    f1 = 2 * matched / (system + gold) if system + gold else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def multiword_regions(gold: Sequence[Word], system: Sequence[Word]) -> list[tuple[int, int]]:
    """The stretches of text (start, end) where words are matched by their forms: each
    multiword token's span, grown by every word of either side that overlaps it."""
    regions = sorted((w.start, w.end) for w in (*gold, *system) if w.multiword)
    sides = [(list(words), [w.start for w in words]) for words in (gold, system)]
    grown: list[list[int]] = []
    for start, end in regions:
        if grown and start < grown[-1][1]:
            grown[-1][1] = max(grown[-1][1], end)
            continue
        grown.append([start, end])
    changed = True
    while changed:  # a word that sticks out of a region takes the region with it
        changed = False
        for region in grown:
            for words, starts in sides:
                i = max(0, bisect_left(starts, region[0]) - 1)
                while i < len(words) and words[i].start < region[1]:
                    word = words[i]
                    if word.end > region[0] and (word.start < region[0] or word.end > region[1]):
                        region[0], region[1] = min(region[0], word.start), max(region[1], word.end)
                        changed = True
                    i += 1
        merged: list[list[int]] = []
        for region in grown:
            if merged and region[0] < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], region[1])
                changed = True
            else:
                merged.append(region)
        grown = merged
    return [(a, b) for a, b in grown]


def align_words(gold: Sequence[Word], system: Sequence[Word]) -> list[tuple[Word, Word]]:
    """Pairs of matched words (gold, system), in text order."""
    regions = multiword_regions(gold, system)
    starts = [a for a, _ in regions]

    def region_of(word: Word) -> int | None:
        i = bisect_left(starts, word.end) - 1
        if i >= 0 and regions[i][0] < word.end and word.start < regions[i][1]:
            return i
        return None

    pairs = []
    by_span = {(w.start, w.end): w for w in system if region_of(w) is None}
    inside: dict[int, tuple[list[Word], list[Word]]] = {}
    for word in gold:
        region = region_of(word)
        if region is None:
            found = by_span.get((word.start, word.end))
            if found is not None:
                pairs.append((word, found))
        else:
            inside.setdefault(region, ([], []))[0].append(word)
    for word in system:
        region = region_of(word)
        if region is not None:
            inside.setdefault(region, ([], []))[1].append(word)
    for gold_words, system_words in inside.values():
        pairs.extend(_common_subsequence(gold_words, system_words))
    pairs.sort(key=lambda pair: (pair[0].start, pair[0].end))
    return pairs


def _common_subsequence(gold: Sequence[Word], system: Sequence[Word]) -> list[tuple[Word, Word]]:
    """The longest common subsequence of the two word lists by lowercased form."""
    n, m = len(gold), len(system)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if gold[i].form.lower() == system[j].form.lower():
                table[i][j] = table[i + 1][j + 1] + 1
            else:
                table[i][j] = max(table[i + 1][j], table[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if gold[i].form.lower() == system[j].form.lower():
            pairs.append((gold[i], system[j]))
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def score(gold: Spans, system: Spans, gold_name: str = "gold") -> dict:
    """Tokens, Sentences, Words and the tags' F1 (each with precision and recall)."""
    if gold.characters != system.characters:
        at = next(
            (
                i
                for i, pair in enumerate(zip(gold.characters, system.characters, strict=False))
                if pair[0] != pair[1]
            ),
            min(len(gold.characters), len(system.characters)),
        )
        raise SeqtagError(
            f"the tagged text differs from the gold words at character {at + 1} (whitespace "
            "left out): the sentences' # text and their words disagree",
            gold_name,
        )
    pairs = align_words(gold.words, system.words)
    tagged = sum(g.tag == s.tag for g, s in pairs)
    return {
        "tokens": _f1(
            len(set(gold.tokens) & set(system.tokens)), len(system.tokens), len(gold.tokens)
        ),
        "sentences": _f1(
            len(set(gold.sentences) & set(system.sentences)),
            len(system.sentences),
            len(gold.sentences),
        ),
        "words": _f1(len(pairs), len(system.words), len(gold.words)),
        "tags": _f1(tagged, len(system.words), len(gold.words)),
    }
