"""Tokenize: raw text lines -> sentences of tokens, each knowing whether a space followed it.

A deliberately simple, language-neutral, rule-based splitter: punctuation and symbols (Unicode
categories P* and S*) become tokens of their own, except inside numbers (3.14, 1,000), inside
words (don't, well-known) and in URLs and e-mail addresses. Combining marks stay inside their
word, so Indic and other abugida scripts are not torn apart. No character is ever lost: the
tokens of a sentence joined give back its text without the whitespace.

A sentence ends after . ! ? and their relatives (plus closing quotes and brackets) unless the
period follows a single letter or a common abbreviation, or the next word starts in lower case.
A sentence may run on over a line break, but never past a blank line; so wrapped paragraphs
work, and a line that ends a sentence is tagged as soon as it arrives.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache

from seqtag.read import Sentence

SENTENCE_END = frozenset({".", "!", "?", "…", "。", "！", "？", "।", "॥", "؟", "۔", "።"})
CLOSERS = frozenset({'"', "'", ")", "]", "}", "”", "’", "»", "›", "」", "』"})
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc e.g i.e cf no fig vol pp ca approx dept est inc ltd co".split()  # noqa: SIM905
)
_INNER_WORD = frozenset("'’-‐‑")  # joins two word pieces: don't, well-known
_INNER_NUMBER = frozenset(".,:/")  # joins two digit runs: 3.14, 1,000, 12:30, 1/2
# The look-behind before the address makes a search try each run of address characters once,
# from its start: without it a long chunk with no "@" costs time quadratic in its length.
_URL = re.compile(
    r"(?<!\w)(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE
)
_URL_TRAIL = ".,;:!?)]}\"'”’"
MAX_SENTENCE_TOKENS = 1000  # run-on text is cut here so memory stays bounded on any input


@lru_cache(maxsize=4096)
def _is_punctuation(char: str) -> bool:
    # U+FFFD (a symbol) stands for bytes that were not UTF-8 (--encoding-errors replace): it
    # stays inside its word, as the bytes were, instead of cutting the word in three.
    return char != "\ufffd" and unicodedata.category(char)[0] in "PS"


def split_chunk(chunk: str) -> list[str]:
    """Split one whitespace-free chunk into tokens."""
    # A URL or address stays whole wherever it sits in the chunk, as in (https://x.org), and a
    # loop (not recursion) takes them out one by one: a chunk may hold thousands (a,b,c,...).
    tokens: list[str] = []
    while url := _URL.search(chunk):
        start, end = url.start(), url.start() + len(url.group().rstrip(_URL_TRAIL))
        if end <= start:
            break
        tokens += _split_punctuation(chunk[:start])
        tokens.append(chunk[start:end])
        chunk = chunk[end:]
    return tokens + _split_punctuation(chunk)


def _split_punctuation(chunk: str) -> list[str]:
    """Split a chunk that holds no URL or address at its punctuation."""
    tokens: list[str] = []
    start = 0
    length = len(chunk)
    i = 0
    while i < length:
        char = chunk[i]
        if not _is_punctuation(char):
            i += 1
            continue
        before = chunk[i - 1] if i > 0 else ""
        after = chunk[i + 1] if i + 1 < length else ""
        joins_word = char in _INNER_WORD and before and after
        joins_word = joins_word and not _is_punctuation(before) and not _is_punctuation(after)
        joins_number = char in _INNER_NUMBER and before.isdigit() and after.isdigit()
        if joins_word or joins_number:
            i += 1
            continue
        if start < i:
            tokens.append(chunk[start:i])
        run_end = i + 1
        while run_end < length and chunk[run_end] == char:  # "...", "!!!", "--" stay whole
            run_end += 1
        tokens.append(chunk[i:run_end])
        start = i = run_end
    if start < length:
        tokens.append(chunk[start:])
    return tokens


def tokenize_line(text: str) -> tuple[list[str], list[bool]]:
    """Tokens of one line and, for each, whether whitespace followed it in the line."""
    tokens: list[str] = []
    space_after: list[bool] = []
    for match in re.finditer(r"\S+", text):
        pieces = split_chunk(match.group())
        tokens.extend(pieces)
        space_after.extend([False] * (len(pieces) - 1))
        space_after.append(match.end() < len(text))
    return tokens, space_after


def _is_terminal(token: str) -> bool:
    return token[0] in SENTENCE_END or set(token) <= set(".!?…")


def ends_sentence(tokens: list[str], i: int) -> bool:
    """Does a sentence end after a terminal at tokens[i], given what comes next?"""
    if not _is_terminal(tokens[i]):
        return False
    if i + 1 < len(tokens) and _is_terminal(tokens[i + 1]):
        return False  # "?!": the sentence ends after the last mark
    if tokens[i] == ".":
        previous = tokens[i - 1] if i > 0 else ""
        if (len(previous) == 1 and previous.isalpha()) or previous.lower() in ABBREVIATIONS:
            return False
    following = i + 1  # the next token that is not a closing quote or bracket
    while following < len(tokens) and tokens[following] in CLOSERS:
        following += 1  # an index, not a slice of the rest: a long line stays linear
    return following == len(tokens) or not tokens[following][0].islower()


class SentenceSplitter:
    """Feeds on lines, hands out sentences as soon as they are complete."""

    def __init__(self) -> None:
        self._tokens: list[str] = []
        self._space: list[bool] = []
        self._line = 0  # where the pending sentence started
        self._current_line = 0

    def feed(self, text: str, line_number: int) -> Iterator[Sentence]:
        if not text.strip():
            yield from self.flush()
            return
        self._current_line = line_number
        if not self._tokens:
            self._line = line_number
        elif self._space:
            self._space[-1] = True  # the line break was a space between the two lines' words
        tokens, space = tokenize_line(text)
        judged = len(self._tokens)
        self._tokens.extend(tokens)
        self._space.extend(space)
        yield from self._complete_sentences(judged)

    def flush(self) -> Iterator[Sentence]:
        if self._tokens:
            yield self._take(len(self._tokens))

    def _complete_sentences(self, judged: int) -> Iterator[Sentence]:
        """Called at the end of a line: a terminal there ends the sentence.

        The first ``judged`` tokens were found to end no sentence when earlier lines came, and
        what follows them cannot change that (a terminal followed by nothing ends a sentence),
        so the scan starts after them: a long run of lines with no sentence end (a word list)
        is not scanned again from its start at every line.
        """
        i = judged
        while i < len(self._tokens):
            if i + 1 >= MAX_SENTENCE_TOKENS:
                yield self._take(i + 1)
                i = 0
                continue
            if ends_sentence(self._tokens, i):
                end = i + 1
                # A closing quote or bracket belongs here only if no space comes before it.
                while (
                    end < len(self._tokens)
                    and self._tokens[end] in CLOSERS
                    and not self._space[end - 1]
                ):
                    end += 1
                yield self._take(end)
                i = 0
                continue
            i += 1

    def _take(self, count: int) -> Sentence:
        words, space = self._tokens[:count], self._space[:count]
        del self._tokens[:count], self._space[:count]
        space[-1] = True  # nothing to mark after the last word of a sentence
        text = "".join(w + (" " if s else "") for w, s in zip(words, space, strict=True)).rstrip()
        sentence = Sentence(words, line=self._line, text=text, space_after=space)
        self._line = self._current_line
        return sentence


def split_sentences(lines: Iterable[tuple[int, str]]) -> Iterator[Sentence]:
    """Sentences from numbered raw-text lines."""
    splitter = SentenceSplitter()
    for number, text in lines:
        yield from splitter.feed(text, number)
    yield from splitter.flush()


def tokenize_text(text: str) -> list[Sentence]:
    """Sentences of a string by the rules (tokenize_line and the sentence rules above)."""
    return list(split_sentences(enumerate(text.splitlines(), start=1)))
