"""Form cache: each word form's character vector computed once while the weights stay fixed.

In running text most tokens are forms seen a moment ago, so this removes most of the character
encoder's work when tagging. It knows nothing of torch or numpy: each engine (torch_engine.py,
numpy_engine.py) keeps a cache of its own arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

FORM_CACHE_SIZE = 30_000  # forms whose character vectors are kept: 24 MB at the default sizes


class FormVectors:
    """Character vectors of word forms, each computed once while the encoder's weights stay
    fixed. Bounded: when full it starts over, so memory stays flat on endless input.

    ``encode(forms)`` computes the vectors (U, D) of a list of forms; ``allocate(n)`` makes an
    empty table (n, D) to keep them in. Any array type that slices and takes a list of row
    numbers as an index will do (torch tensors, numpy arrays).
    """

    def __init__(
        self,
        encode: Callable[[Sequence[str]], Any],
        allocate: Callable[[int], Any],
        capacity: int = FORM_CACHE_SIZE,
    ):
        self.encode = encode
        self.allocate = allocate
        self.capacity = capacity
        self.rows: dict[str, int] = {}
        self.table = None  # (capacity, D), allocated on first use

    def __call__(self, spellings: Sequence[str]):
        """The vectors (U, D) of distinct word forms, in the order given."""
        if len(spellings) > self.capacity:  # one huge sentence: no room to keep them
            return self.encode(spellings)
        missing = [form for form in spellings if form not in self.rows]
        if len(self.rows) + len(missing) > self.capacity:
            self.rows.clear()
            missing = list(spellings)
        if missing:
            if self.table is None:
                self.table = self.allocate(self.capacity)
            start = len(self.rows)
            self.table[start : start + len(missing)] = self.encode(missing)
            self.rows.update((form, start + offset) for offset, form in enumerate(missing))
        return self.table[[self.rows[form] for form in spellings]]
