"""Pretrained word vectors: read word2vec / fastText text files (``.vec``, ``.txt``, gzipped too).

The format: an optional header line ``COUNT DIMENSION``, then one word a line followed by its
DIMENSION numbers, separated by spaces. Files are usually sorted by falling frequency, so the
first ``limit`` entries are the useful ones; words of the training data are kept wherever they
stand. Only the kept lines are parsed as numbers, so reading the head of a 2-million-word file
stays quick.
"""

from __future__ import annotations

import gzip
from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqtag.config import EMBEDDINGS_LIMIT
from seqtag.errors import SeqtagError
from seqtag.vocab import RESERVED


@dataclass
class Vectors:
    words: list[str]  # in file order, each once
    table: np.ndarray  # (len(words), dimension), float32

    @property
    def dimension(self) -> int:
        return self.table.shape[1]

    def model_table(self) -> np.ndarray:
        """The table as the model holds it: zero rows for the reserved ids (PAD, UNK) first,
        then one row per word, so row i is the word of id i in ``Vocab(self.words)``."""
        return np.concatenate([np.zeros((len(RESERVED), self.dimension), np.float32), self.table])


def lookup_key(word: str, known: Container[str]) -> str | None:
    """The entry a word takes its vector from: itself, else its lowercase form, else none."""
    if word in known:
        return word
    lower = word.lower()
    return lower if lower in known else None


def read_vectors(
    path: str | Path, limit: int = EMBEDDINGS_LIMIT, wanted: Container[str] = frozenset()
) -> Vectors:
    """The first ``limit`` vectors of the file, and those of any word in ``wanted`` further
    down (give it the training words and their lowercase forms). Errors name the file and line."""
    name = str(path)
    opener = gzip.open if name.endswith(".gz") else open
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    dimension = None
    try:
        with opener(name, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8").rstrip("\r\n").rstrip(" ")
                except UnicodeDecodeError:
                    raise SeqtagError("invalid UTF-8 in the vectors file", name, number) from None
                if not line:
                    continue
                if number == 1 and _is_header(line):
                    dimension = int(line.split()[1])
                    continue
                word, _, numbers = line.partition(" ")
                if dimension is None:
                    dimension = len(numbers.split(" "))
                if word in seen or word in RESERVED or (len(words) >= limit and word not in wanted):
                    continue
                fields = numbers.split(" ")
                if len(fields) != dimension:
                    raise SeqtagError(
                        f"expected a word and {dimension} numbers separated by spaces, found "
                        f"{len(fields)} numbers after {word!r}",
                        name,
                        number,
                    )
                try:
                    rows.append(np.array(fields, dtype=np.float32))
                except ValueError:
                    raise SeqtagError(
                        f"not a number in the vector of {word!r}", name, number
                    ) from None
                words.append(word)
                seen.add(word)
    except OSError as error:
        raise SeqtagError(
            f"cannot read the vectors file: {error.strerror or error}", name
        ) from None
    except EOFError:
        raise SeqtagError("the gzipped vectors file is cut short", name) from None
    if not words:
        raise SeqtagError("no word vectors found in the file", name)
    table = np.stack(rows)
    if not np.isfinite(table).all():
        raise SeqtagError("the vectors hold inf or NaN values", name)
    return Vectors(words, table)


def _is_header(line: str) -> bool:
    fields = line.split()
    return len(fields) == 2 and all(field.isdigit() for field in fields)
