"""Write: tagged sentences -> CoNLL-U, column files, TSV or JSON lines on a text stream.

CoNLL-U input is written back line for line with only the model's column changed, and a column
file with only its tag field changed (or a tag field added to a file of tokens). Other input
becomes fresh CoNLL-U, with ``# text`` and ``SpaceAfter=No`` when it came from raw text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from seqtag.read import EMPTY, Column, Columns, Sentence, split_tag

OUTPUT_FORMATS = ("conllu", "columns", "tsv", "jsonl")
_SPACE_AFTER = Column.parse("misc:SpaceAfter")


def conllu_lines(sentence: Sentence, tags: Sequence[str], column: Column | Columns) -> list[str]:
    if sentence.lines is not None and sentence.layout is None:  # it was CoNLL-U
        lines = list(sentence.lines)
        for line_index, tag in zip(sentence.word_lines, tags, strict=True):
            fields = lines[line_index].split("\t")
            column.set(fields, tag)
            lines[line_index] = "\t".join(fields)
        return lines
    lines = [f"# text = {sentence.text}"] if sentence.text is not None else []
    for i, (word, tag) in enumerate(zip(sentence.words, tags, strict=True)):
        fields = [str(i + 1), word] + [EMPTY] * 8
        column.set(fields, tag)
        if sentence.space_after is not None and not sentence.space_after[i]:
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
) -> None:
    """One sentence in ``output_format``; jsonl adds the entity spans ``with_entities``."""
    if output_format == "conllu":
        if sentence.words:  # CoNLL-U has no way to write an empty sentence
            stream.write("\n".join(conllu_lines(sentence, tags, column)) + "\n\n")
    elif output_format == "columns":
        stream.write("".join(line + "\n" for line in column_lines(sentence, tags)) + "\n")
    elif output_format == "tsv":
        stream.write(
            "".join(f"{w}\t{t}\n" for w, t in zip(sentence.words, tags, strict=True)) + "\n"
        )
    elif output_format == "jsonl":
        names = column.names
        record: dict = {"tokens": sentence.words, "tags": list(tags)}
        if len(names) > 1:  # a model of several columns: a list of tags for each
            values = [split_tag(tag) for tag in tags]
            record["tags"] = {name: [v[i] for v in values] for i, name in enumerate(names)}
        if sentence.text is not None:
            record["text"] = sentence.text
        if with_entities:
            record["entities"] = entities(sentence, tags)
        stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        raise ValueError(f"unknown output format {output_format!r}")
