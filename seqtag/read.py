"""Read: CoNLL-U, column files (CoNLL-2003 style, Universal NER IOB2) and text as ``Sentence``s.

A CoNLL-U or column sentence keeps its original lines, so writing it back changes only the
tagged column and every other byte (comments, multiword tokens ``1-2``, empty nodes ``1.1``,
MISC, other columns) stays as it was. ``detect_format`` tells the file formats apart from their
first sentence. Errors name the file and line and say what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from seqtag.errors import SeqtagError, UsageError
from seqtag.lines import LineReader, open_lines

CONLLU_FIELDS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
TAG_COLUMNS = ("upos", "xpos", "feats")
EMPTY = "_"  # CoNLL-U's "no value"
# Joins the tags of one token when a model learns several columns (--column upos,xpos): CoNLL-U
# fields never hold a tab, so the joined tag splits back unambiguously.
TAG_SEPARATOR = "\t"

_WORD_ID = re.compile(r"[1-9][0-9]*")
_RANGE_ID = re.compile(r"[1-9][0-9]*-[1-9][0-9]*")
_EMPTY_NODE_ID = re.compile(r"[0-9]+\.[1-9][0-9]*")


@dataclass(frozen=True)
class Column:
    """Which CoNLL-U field holds the tags: ``upos``, ``xpos``, ``feats`` or ``misc:KEY``."""

    spec: str
    index: int
    misc_key: str | None = None

    @property
    def names(self) -> list[str]:
        """The columns learned together: just this one."""
        return [self.spec]

    @classmethod
    def parse(cls, spec: str) -> Column | Columns:
        """One column, or with commas several learned together (``upos,xpos,feats``)."""
        if "," in spec:
            return Columns.parse(spec)
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


@dataclass(frozen=True)
class Columns:
    """Several CoNLL-U columns learned by one model (``upos,xpos,feats``): a token's tag is the
    column values joined by TAG_SEPARATOR, so reading, batching and writing treat it as one
    string, and the model splits it into one label per column (one output layer each)."""

    spec: str
    parts: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [part.spec for part in self.parts]

    @classmethod
    def parse(cls, spec: str) -> Columns:
        names = [name.strip() for name in spec.split(",")]
        if any(not name for name in names) or len(set(names)) != len(names):
            raise SeqtagError(
                f"bad column list {spec!r}: give distinct columns separated by commas, "
                "e.g. upos,xpos,feats"
            )
        parts = tuple(Column.parse(name) for name in names)
        return cls(",".join(names), parts)  # type: ignore[arg-type]  # no commas left

    def get(self, fields: list[str]) -> str:
        return TAG_SEPARATOR.join(part.get(fields) for part in self.parts)

    def set(self, fields: list[str], tag: str) -> None:
        values = tag.split(TAG_SEPARATOR)
        if len(values) != len(self.parts):
            raise ValueError(f"{tag!r} is not a tag of the {len(self.parts)} columns {self.spec}")
        for part, value in zip(self.parts, values, strict=True):
            part.set(fields, value)


def split_tag(tag: str) -> list[str]:
    """The per-column values of a tag of several columns (a one-column tag: itself)."""
    return tag.split(TAG_SEPARATOR)


@dataclass(frozen=True)
class ColumnLayout:
    """Where token and tag sit in a column file: CoNLL-2003 style (whitespace-separated, token
    first, tag last) or Universal NER's IOB2 (tab-separated ID, token, tag, ...; # comments)."""

    name: str
    token: int  # 0-based field index
    tag: int | None  # 0-based field index; None = the last field, when a line has 2 or more
    tabs_only: bool  # fields split on tabs only (a token may then hold spaces)
    numbered: bool  # first field is the word ID 1, 2, ...; lines starting with # are comments

    def with_tag_column(self, tag_column: int | None) -> ColumnLayout:
        """The layout with a 1-based ``--tag-column`` (None keeps the default)."""
        if tag_column is None:
            return self
        return ColumnLayout(self.name, self.token, tag_column - 1, self.tabs_only, self.numbered)

    def split(self, text: str) -> list[str]:
        text = text.rstrip()  # trailing spaces are noise, never a field
        if self.tabs_only:
            return text.split("\t")
        # A line that starts with whitespace has an empty token (" O"): keep it as a field.
        return ([""] if text[:1].isspace() else []) + text.split()


COLUMN_LAYOUTS = {
    "columns": ColumnLayout("columns", token=0, tag=None, tabs_only=False, numbered=False),
    "iob2": ColumnLayout("iob2", token=1, tag=2, tabs_only=True, numbered=True),
}
FILE_FORMATS = ("conllu", *COLUMN_LAYOUTS)
DOCSTART = "-DOCSTART-"


@dataclass
class Sentence:
    """Words with optional tags, and what is needed to write the sentence back as it came."""

    words: list[str]
    tags: list[str] | None = None
    line: int = 0  # 1-based line where the sentence starts in its file
    # CoNLL-U or column input: the sentence's lines (no newline) and, for each word, the index
    # of its line; ``layout`` is None for CoNLL-U and says where the tag goes for column files.
    lines: list[str] | None = None
    word_lines: list[int] | None = None
    layout: ColumnLayout | None = None
    # Raw-text input: the text and whether each word was followed by a space; with a learned
    # segmenter, its multiword tokens as (first word, last word, surface form), word indices
    # from 0 (the words inside one have no space after them but the last's).
    text: str | None = None
    space_after: list[bool] | None = None
    multiword: list[tuple[int, int, str]] | None = None


def read_conllu(lines: LineReader, column: Column | Columns | None = None) -> Iterator[Sentence]:
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
        _check_line_ends(text, name, number)
        block.append(text)
    if block:
        yield _conllu_sentence(block, start, name, column)


def _check_line_ends(text: str, name: str, number: int) -> None:
    """A carriage return left inside a line (LineReader strips a final one) means CR line
    endings: the whole file came as one line, and would be misread as one odd sentence."""
    if "\r" in text:
        raise SeqtagError(
            "carriage return inside the line: does the file end its lines with CR alone "
            "(old Mac style)? convert them to line feeds, e.g. with tr '\\r' '\\n'",
            name,
            number,
        )


def _conllu_sentence(
    block: list[str], start: int, name: str, column: Column | Columns | None
) -> Sentence:
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


def read_columns(lines: LineReader, layout: ColumnLayout) -> Iterator[Sentence]:
    """Sentences from a column file; tags are None when its lines hold tokens only.

    Blank lines end sentences and ``-DOCSTART-`` lines are skipped. Every word line must have as
    many fields as the first one, so a stray or broken line is an error, not a silent shift.
    """
    name = lines.name
    block: list[str] = []
    start = 0
    width: tuple[int, int] | None = None  # (fields per line, the line that set it)
    for text in lines:
        number = lines.line_number
        if not text.strip() or text.split(None, 1)[0] == DOCSTART:
            if block:
                yield _column_sentence(block, start, name, layout)
                block = []
            continue
        _check_line_ends(text, name, number)
        if not block:
            start = number
        block.append(text)
        if layout.numbered and text.startswith("#"):
            continue
        fields = len(layout.split(text))
        if width is None:
            width = (fields, number)
        elif fields != width[0]:
            separated = "tab" if layout.tabs_only else "whitespace"
            raise SeqtagError(
                f"expected {width[0]} {separated}-separated fields as on line {width[1]}, "
                f"found {fields}",
                name,
                number,
            )
    if block:
        yield _column_sentence(block, start, name, layout)


def _column_sentence(block: list[str], start: int, name: str, layout: ColumnLayout) -> Sentence:
    words: list[str] = []
    tags: list[str] = []
    word_lines: list[int] = []
    for offset, text in enumerate(block):
        number = start + offset
        if layout.numbered and text.startswith("#"):
            continue
        fields = layout.split(text)
        if layout.numbered and fields[0] != str(len(words) + 1):
            raise SeqtagError(
                f"expected word ID {len(words) + 1} in the first field, found {fields[0]!r} "
                "(is a blank line missing between sentences?)",
                name,
                number,
            )
        if len(fields) <= layout.token:
            raise SeqtagError(
                f"expected at least {layout.token + 1} fields ({layout.name} format), "
                f"found {len(fields)}",
                name,
                number,
            )
        words.append(fields[layout.token])
        word_lines.append(offset)
        tag = _column_tag(fields, layout, name, number)
        if tag is not None:
            tags.append(tag)
    if not words:
        raise SeqtagError("sentence has comment lines but no words", name, start)
    return Sentence(
        words,
        tags if tags else None,
        line=start,
        lines=list(block),
        word_lines=word_lines,
        layout=layout,
    )


def _column_tag(fields: list[str], layout: ColumnLayout, name: str, number: int) -> str | None:
    if layout.tag is None:  # the last field, when there is one besides the token
        return fields[-1] if len(fields) > layout.token + 1 else None
    if layout.tag >= len(fields):
        return None  # a file of tokens only; a training file is checked by require_tags
    tag = fields[layout.tag]
    if not tag:
        raise SeqtagError(f"empty tag in field {layout.tag + 1}", name, number)
    return tag


def detect_format(lines: LineReader, need_tags: bool) -> str:
    """``conllu``, ``iob2`` or ``columns``, judged from the first sentence (peeked, not read).

    A file with no sentence at all is called CoNLL-U, whose reader then says what is missing.
    """
    content: list[tuple[int, str]] = []
    for number, text in enumerate(lines.peek(500), start=lines.line_number + 1):
        if not text.strip() or text.split(None, 1)[0] == DOCSTART:
            if content:
                break
            continue
        content.append((number, text))
    words = [(n, t) for n, t in content if not t.startswith("#")]
    if not words:  # comment lines only (a column file whose first tokens all start with "#"
        return "conllu"  # reads as that too: such a file needs --input-format columns)
    # CoNLL-U if any line is (so the CoNLL-U reader names the broken ones, as for spaces where
    # tabs belong), or if all lines are 10 space-separated fields starting with an ID.
    if any(len(t.split("\t")) == 10 for _, t in words) or all(
        len(t.split()) == 10 and _WORD_ID.fullmatch(t.split()[0]) for _, t in words
    ):
        return "conllu"
    if all(
        len(t.split("\t")) >= (3 if need_tags else 2) and t.split("\t")[0] == str(i)
        for i, (_, t) in enumerate(words, start=1)
    ):
        return "iob2"
    minimum = 2 if need_tags else 1
    columns = COLUMN_LAYOUTS["columns"]
    if need_tags:
        _refuse_plain_text(lines)
    for number, text in content:
        if len(columns.split(text)) < minimum:
            raise SeqtagError(
                "cannot tell the file format: this line fits none of conllu (10 tab-separated "
                "fields), iob2 (tab-separated ID, token, tag, ...) or columns (token ... tag, "
                "whitespace-separated); fix the line or give --input-format",
                lines.name,
                number,
            )
    return "columns"


PLAIN_TEXT = (
    "this looks like plain text, not a tagged file: expected CoNLL-U or one `word TAG` per line"
)


def _refuse_plain_text(lines: LineReader) -> None:
    """A file about to be read as columns whose first lines hold different numbers of
    words, many of them or in more than two counts, is prose: say so, rather than that some
    line has the wrong number of fields (a column file has as many fields on every line)."""
    seen: dict[int, int] = {}  # words on a line -> the first line with that many
    for number, text in enumerate(lines.peek(500), start=lines.line_number + 1):
        if text.strip() and not text.startswith("#") and text.split(None, 1)[0] != DOCSTART:
            seen.setdefault(len(text.split()), number)
    if len(seen) > 1 and (max(seen) >= 6 or len(seen) > 2):
        (a, first), (b, second) = sorted(seen.items(), key=lambda item: item[1])[:2]
        raise SeqtagError(
            f"{PLAIN_TEXT} (line {first} has {a} words, line {second} {b})", lines.name, None
        )


def detect_tagging_input(lines: LineReader, labels: Collection[str]) -> str:
    """What `seqtag tag` is given, judged from the first lines available (never waiting for
    more on a pipe): ``conllu`` when a line has 10 tab-separated fields starting with a word
    ID; ``iob2`` when the lines are tab-separated and numbered 1, 2, ...; ``columns`` when two
    or more lines have as many fields each, the last a label of the model (``labels``);
    otherwise ``raw`` text."""
    block: list[str] = []
    for text in lines.peek_ready(500):
        if not text.strip():
            if block:
                break
            continue
        if not text.startswith("#"):
            block.append(text)
    if any(
        len(fields := text.split("\t")) == 10 and _WORD_ID.fullmatch(fields[0]) for text in block
    ):
        return "conllu"
    if len(block) >= 2 and all(
        len(text.split("\t")) >= 2 and text.split("\t")[0] == str(i)
        for i, text in enumerate(block, start=1)
    ):
        return "iob2"
    widths = {len(text.split()) for text in block}
    if (
        len(block) >= 2
        and len(widths) == 1
        and widths.pop() >= 2
        and all(text.split()[-1] in labels for text in block)
    ):
        return "columns"
    return "raw"


def read_tokenized(lines: LineReader) -> Iterator[Sentence]:
    """One sentence per line, tokens separated by whitespace, never re-split.

    An empty line is an empty sentence, so outputs stay aligned with input lines.
    """
    for text in lines:
        yield Sentence(text.split(), line=lines.line_number)


def require_tags(sentences: Iterable[Sentence], name: str, column: str) -> list[Sentence]:
    """The sentences of a training or gold file, checked to be usable for training or scoring;
    ``column`` names where the tags were read from, for the message (e.g. "column upos")."""
    corpus = list(sentences)
    if not corpus:
        raise SeqtagError("no sentences found (empty file?)", name)
    untagged = next((s for s in corpus if s.tags is None), None)
    if untagged is not None:
        raise SeqtagError(
            "sentence has tokens but no tags; a column file needs token and tag on each line "
            "(--tag-column picks the tag field)",
            name,
            untagged.line,
        )
    if all(tag == EMPTY for sentence in corpus for tag in sentence.tags or []):
        raise SeqtagError(
            f"{column} holds only '_' in every sentence; "
            "choose the column that holds the tags with --column or --tag-column",
            name,
        )
    return corpus


def read_labeled(
    path: str,
    column: Column | Columns,
    encoding_errors: str,
    input_format: str = "auto",
    tag_column: int | None = None,
):
    """The tagged sentences of a training or gold file, and the format they were read in."""
    lines = open_lines(path, encoding_errors)
    if input_format == "auto":
        input_format = detect_format(lines, need_tags=True)
    if input_format == "conllu":
        if tag_column is not None:
            raise UsageError(
                f"{lines.name} is CoNLL-U: choose its tags with --column, not --tag-column"
            )
        sentences, what = read_conllu(lines, column), f"column {column.spec}"
    else:
        if len(column.names) > 1:
            raise SeqtagError(
                f"several columns ({column.spec}) are read from CoNLL-U, and this is a "
                f"{input_format} file with one tag field",
                lines.name,
            )
        layout = COLUMN_LAYOUTS[input_format].with_tag_column(tag_column)
        sentences, what = read_columns(lines, layout), "the tag field"
    return require_tags(sentences, lines.name, what), input_format
