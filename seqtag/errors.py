"""The one exception the command line turns into ``Error: FILE:LINE: message`` (exit 1), and
``counted`` for messages that count things."""

from __future__ import annotations


class SeqtagError(Exception):
    """An expected failure the user can act on; the CLI prints it as ``Error: FILE:LINE: message``."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return where + self.message


class UsageError(SeqtagError):
    """Options that do not go together, found by library code: the CLI reports it as a usage
    error (exit 2), as click does its own."""


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 sentence``, ``2 sentences``: a count with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
