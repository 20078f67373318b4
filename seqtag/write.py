"""Write: tagged sentences -> CoNLL-U, column files, TSV or JSON lines on a text stream.

CoNLL-U input is written back line for line with only the model's column changed, and a column
file with only its tag field changed (or a tag field added to a file of tokens). Other input
becomes fresh CoNLL-U, with ``# text`` and ``SpaceAfter=No`` when it came from raw text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from seqtag.read import EMPTY, Column, Columns, Sentence, split_tag

if TYPE_CHECKING:
    from seqtag.predict import Confident

OUTPUT_FORMATS = ("conllu", "columns", "tsv", "jsonl")
_SPACE_AFTER = Column.parse("misc:SpaceAfter")
# Where CoNLL-U output puts each word's confidence (tag --confidence): the MISC key
# Confidence, one probability, or for a model of several columns one per column, comma-separated
# in the order of the model's columns.
CONFIDENCE = Column.parse("misc:Confidence")


def probabilities(confidence: float | Sequence[float], separator: str) -> str:
    """A token's confidence as text: four decimals, one per column joined by ``separator``."""
    values = confidence if isinstance(confidence, tuple | list) else (confidence,)
    return separator.join(f"{value:.4f}" for value in values)


def conllu_lines(
    sentence: Sentence,
    tags: Sequence[str],
    column: Column | Columns,
    confidence: Sequence | None = None,
) -> list[str]:
    """The sentence as CoNLL-U lines with the tags (and the MISC Confidence of each word when
    ``confidence`` is given)."""
    sure = [None] * len(tags) if confidence is None else [probabilities(c, ",") for c in confidence]
    if sentence.lines is not None and sentence.layout is None:  # it was CoNLL-U
        lines = list(sentence.lines)
        for line_index, tag, p in zip(sentence.word_lines, tags, sure, strict=True):
            fields = lines[line_index].split("\t")
            column.set(fields, tag)
            if p is not None:
                CONFIDENCE.set(fields, p)
            lines[line_index] = "\t".join(fields)
        return lines
    lines = [f"# text = {sentence.text}"] if sentence.text is not None else []
    # A multiword token's range line carries its form and SpaceAfter; its words carry neither.
    ranges = {first: (last, form) for first, last, form in sentence.multiword or ()}
    inside_until = -1
    for i, (word, tag, p) in enumerate(zip(sentence.words, tags, sure, strict=True)):
        if i in ranges:
            inside_until, form = ranges[i]
            fields = [f"{i + 1}-{inside_until + 1}", form] + [EMPTY] * 8
            if not sentence.space_after[inside_until]:
                _SPACE_AFTER.set(fields, "No")
            lines.append("\t".join(fields))
        fields = [str(i + 1), word] + [EMPTY] * 8
        column.set(fields, tag)
        if p is not None:
            CONFIDENCE.set(fields, p)
        spaced = sentence.space_after is None or sentence.space_after[i]
        if i > inside_until and not spaced:
            _SPACE_AFTER.set(fields, "No")
        lines.append("\t".join(fields))
    return lines


def column_lines(sentence: Sentence, tags: Sequence[str]) -> list[str]:
    """The sentence's own column lines with the tag field set; ``token<TAB>tag`` for others."""
    layout = sentence.layout
    if layout is None or sentence.lines is None:
        return [f"{w}\t{t}" for w, t in zip(sentence.words, tags, strict=True)]
    lines = list(sentence.lines)
    for line_index, tag in zip(sentence.word_lines, tags, strict=True):
        text = lines[line_index]
        fields = layout.split(text)
        if layout.tag is None:  # the last field, or a new one after a lone token
            position = len(fields) - 1 if len(fields) > layout.token + 1 else len(fields)
        else:
            position = layout.tag
        fields += [EMPTY] * (position + 1 - len(fields))
        fields[position] = tag
        separator = "\t" if layout.tabs_only or "\t" in text else " "
        lines[line_index] = separator.join(fields)
    return lines


def entities(sentence: Sentence, tags: Sequence[str]) -> list[dict]:
    """The spans in ``tags`` as token offsets (end exclusive), label and text."""
    from seqtag.scheme import spans

    found = []
    for span in spans(tags):
        words = sentence.words[span.start : span.end]
        if sentence.space_after is None:
            text = " ".join(words)
        else:  # raw input: join as the text had it
            spaced = sentence.space_after[span.start : span.end - 1]
            text = "".join(
                w + (" " if s else "") for w, s in zip(words, [*spaced, False], strict=True)
            )
        found.append({"start": span.start, "end": span.end, "label": span.label, "text": text})
    return found


def write_sentence(
    stream: TextIO,
    sentence: Sentence,
    tags: Sequence[str],
    output_format: str,
    column: Column | Columns,
    with_entities: bool = False,
    confident: Confident | None = None,
) -> None:
    """One sentence in ``output_format``; jsonl adds the entity spans ``with_entities``. With
    ``confident`` (predict.Confident) each token's probability is written too: a MISC key in
    CoNLL-U, a last field in columns and tsv; jsonl has "confidence", "top" when asked, and
    each entity's "confidence": the probability that its tokens carry exactly its tags."""
    confidence = confident.confidence if confident is not None else None
    if output_format == "conllu":
        if sentence.words:  # CoNLL-U has no way to write an empty sentence
            stream.write("\n".join(conllu_lines(sentence, tags, column, confidence)) + "\n\n")
    elif output_format in ("columns", "tsv"):
        if output_format == "columns":
            lines = column_lines(sentence, tags)
        else:
            lines = [f"{w}\t{t}" for w, t in zip(sentence.words, tags, strict=True)]
        if confidence is not None:
            separator = "\t" if output_format == "tsv" else None
            lines = [
                line + _field_separator(line, separator) + probabilities(c, "\t")
                for line, c in zip(lines, confidence, strict=True)
            ]
        stream.write("".join(line + "\n" for line in lines) + "\n")
    elif output_format == "jsonl":
        names = column.names
        record: dict = {"tokens": sentence.words, "tags": list(tags)}
        if len(names) > 1:  # a model of several columns: a list of tags for each
            values = [split_tag(tag) for tag in tags]
            record["tags"] = {name: [v[i] for v in values] for i, name in enumerate(names)}
        if confident is not None:
            record.update(_confidence_record(confident, names))
        if sentence.text is not None:
            record["text"] = sentence.text
        if sentence.multiword:  # the words first..last (end exclusive) are one token of the text
            record["multiword"] = [
                {"start": first, "end": last + 1, "text": form}
                for first, last, form in sentence.multiword
            ]
        if with_entities:
            record["entities"] = entities(sentence, tags)
            if confident is not None and confident.spans is not None:
                for entity, p in zip(record["entities"], confident.spans, strict=True):
                    entity["confidence"] = round(p, 4)
        stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        raise ValueError(f"unknown output format {output_format!r}")


def _field_separator(line: str, separator: str | None) -> str:
    """What goes before an added field: ``separator``, or as the line's own fields are split."""
    if separator is not None:
        return separator
    return "\t" if "\t" in line else " "


def _confidence_record(confident: Confident, names: list[str]) -> dict:
    """jsonl's "confidence" (and "top"): lists per token, or per column for several columns."""

    def rounded(value: float) -> float:
        return round(value, 4)

    record: dict = {}
    if len(names) == 1:
        record["confidence"] = [rounded(c) for c in confident.confidence]
        if confident.top is not None:
            record["top"] = [
                [[label, rounded(p)] for label, p in token[0]] for token in confident.top
            ]
        return record
    record["confidence"] = {
        name: [rounded(c[i]) for c in confident.confidence] for i, name in enumerate(names)
    }
    if confident.top is not None:
        record["top"] = {
            name: [[[label, rounded(p)] for label, p in token[i]] for token in confident.top]
            for i, name in enumerate(names)
        }
    return record
