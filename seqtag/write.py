"""Write: tagged sentences -> CoNLL-U, TSV or JSON lines on a text stream.

CoNLL-U input is written back line for line with only the model's column changed. Text input
becomes fresh CoNLL-U, with ``# text`` and ``SpaceAfter=No`` when it came from raw text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from seqtag.read import EMPTY, Column, Sentence

OUTPUT_FORMATS = ("conllu", "tsv", "jsonl")
_SPACE_AFTER = Column.parse("misc:SpaceAfter")


def conllu_lines(sentence: Sentence, tags: Sequence[str], column: Column) -> list[str]:
    if sentence.lines is not None:
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


def write_sentence(
    stream: TextIO, sentence: Sentence, tags: Sequence[str], output_format: str, column: Column
) -> None:
    if output_format == "conllu":
        if sentence.words:  # CoNLL-U has no way to write an empty sentence
            stream.write("\n".join(conllu_lines(sentence, tags, column)) + "\n\n")
    elif output_format == "tsv":
        stream.write(
            "".join(f"{w}\t{t}\n" for w, t in zip(sentence.words, tags, strict=True)) + "\n"
        )
    elif output_format == "jsonl":
        record = {"tokens": sentence.words, "tags": list(tags)}
        if sentence.text is not None:
            record["text"] = sentence.text
        stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        raise ValueError(f"unknown output format {output_format!r}")
