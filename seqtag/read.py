"""Read: CoNLL-U and text input as ``Sentence`` records.

A CoNLL-U sentence keeps its original lines, so writing it back changes only the tagged column
and every other byte (comments, multiword tokens ``1-2``, empty nodes ``1.1``, MISC) stays as it
was. Errors name the file and line and say what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from seqtag import SeqtagError
from seqtag.lines import LineReader

CONLLU_FIELDS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
TAG_COLUMNS = ("upos", "xpos", "feats")
EMPTY = "_"  # CoNLL-U's "no value"

_WORD_ID = re.compile(r"[1-9][0-9]*")
_RANGE_ID = re.compile(r"[1-9][0-9]*-[1-9][0-9]*")
_EMPTY_NODE_ID = re.compile(r"[0-9]+\.[1-9][0-9]*")


@dataclass(frozen=True)
class Column:
    """Which CoNLL-U field holds the tags: ``upos``, ``xpos``, ``feats`` or ``misc:KEY``."""

    spec: str
    index: int
    misc_key: str | None = None

    @classmethod
    def parse(cls, spec: str) -> Column:
        if spec in TAG_COLUMNS:
            return cls(spec, CONLLU_FIELDS.index(spec))
        if spec.startswith("misc:") and len(spec) > len("misc:") and "=" not in spec:
            return cls(spec, CONLLU_FIELDS.index("misc"), spec[len("misc:") :])
        raise SeqtagError(
            f"unknown column {spec!r}; choose upos, xpos, feats or misc:KEY (e.g. misc:NER)"
        )

    def get(self, fields: list[str]) -> str:
        value = fields[self.index]
        if self.misc_key is None:
            return value
        prefix = self.misc_key + "="
        for item in value.split("|"):
            if item.startswith(prefix):
                return item[len(prefix) :]
        return EMPTY

    def set(self, fields: list[str], tag: str) -> None:
        if self.misc_key is None:
            fields[self.index] = tag
            return
        prefix = self.misc_key + "="
        items = [] if fields[self.index] == EMPTY else fields[self.index].split("|")
        kept = [item for item in items if not item.startswith(prefix)]
        if tag != EMPTY:
            # Replace in place when the key was there, so the MISC order is kept.
            position = next((i for i, item in enumerate(items) if item.startswith(prefix)), None)
            kept.insert(len(kept) if position is None else position, prefix + tag)
        fields[self.index] = "|".join(kept) if kept else EMPTY


@dataclass
class Sentence:
    """Words with optional tags, and what is needed to write the sentence back as it came."""

    words: list[str]
    tags: list[str] | None = None
    line: int = 0  # 1-based line where the sentence starts in its file
    # CoNLL-U input: the sentence's lines (no newline) and, for each word, the index of its line.
    lines: list[str] | None = None
    word_lines: list[int] | None = None
    # Raw-text input: the text and whether each token was followed by a space.
    text: str | None = None
    space_after: list[bool] | None = None


def read_conllu(lines: LineReader, column: Column | None = None) -> Iterator[Sentence]:
    """Sentences from CoNLL-U lines; with a column, each sentence carries that column's tags."""
    name = lines.name
    block: list[str] = []
    start = 0
    for text in lines:
        number = lines.line_number
        if not text.strip():
            if block:
                yield _conllu_sentence(block, start, name, column)
                block = []
            continue
        if not block:
            start = number
        if "\x00" in text:
            raise SeqtagError("NUL byte in line; is this a binary file?", name, number)
        block.append(text)
    if block:
        yield _conllu_sentence(block, start, name, column)


def _conllu_sentence(block: list[str], start: int, name: str, column: Column | None) -> Sentence:
    words: list[str] = []
    tags: list[str] = []
    word_lines: list[int] = []
    for offset, text in enumerate(block):
        number = start + offset
        if text.startswith("#"):
            continue
        fields = text.split("\t")
        if len(fields) != 10:
            hint = " (spaces where tabs belong?)" if len(fields) < 10 and " " in text else ""
            raise SeqtagError(
                f"expected 10 tab-separated CoNLL-U fields, found {len(fields)}{hint}", name, number
            )
        token_id = fields[0]
        if _WORD_ID.fullmatch(token_id):
            if int(token_id) != len(words) + 1:
                raise SeqtagError(
                    f"expected word ID {len(words) + 1}, found {token_id!r} "
                    "(is a blank line missing between sentences?)",
                    name,
                    number,
                )
            if not fields[1]:
                raise SeqtagError("empty FORM field", name, number)
            words.append(fields[1])
            word_lines.append(offset)
            if column is not None:
                tags.append(column.get(fields))
        elif not (_RANGE_ID.fullmatch(token_id) or _EMPTY_NODE_ID.fullmatch(token_id)):
            raise SeqtagError(
                f"ID {token_id!r} is not a word number (1), a multiword range (1-2) "
                "or an empty node (1.1)",
                name,
                number,
            )
    if not words:
        raise SeqtagError("sentence has comment lines but no words", name, start)
    return Sentence(
        words,
        tags if column is not None else None,
        line=start,
        lines=list(block),
        word_lines=word_lines,
    )


def read_tokenized(lines: LineReader) -> Iterator[Sentence]:
    """One sentence per line, tokens separated by whitespace, never re-split.

    An empty line is an empty sentence, so outputs stay aligned with input lines.
    """
    for text in lines:
        if "\x00" in text:
            raise SeqtagError(
                "NUL byte in line; is this a binary file?", lines.name, lines.line_number
            )
        yield Sentence(text.split(), line=lines.line_number)


def require_tags(sentences: Iterable[Sentence], name: str, column: Column) -> list[Sentence]:
    """The sentences of a training or gold file, checked to be usable for training or scoring."""
    corpus = list(sentences)
    if not corpus:
        raise SeqtagError("no sentences found (empty file?)", name)
    if all(tag == EMPTY for sentence in corpus for tag in sentence.tags or []):
        raise SeqtagError(
            f"column {column.spec} holds only '_' in every sentence; "
            "choose the column that holds the tags with --column",
            name,
        )
    return corpus
