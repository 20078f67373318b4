"""Input, first step: a file or stdin as numbered lines of text.

Reading bytes and decoding line by line lets every error name its line (invalid UTF-8 included),
strips a byte-order mark and CRLF endings, and lets ``tag`` ask whether more input is ready
without blocking, so it can answer as lines arrive on a slow pipe and still batch a fast one.
"""

from __future__ import annotations

import io
import os
import select
import sys
from collections.abc import Iterator
from typing import BinaryIO

from seqtag import SeqtagError

ENCODING_ERRORS = ("strict", "replace")
_CHUNK = 1 << 16


class LineReader:
    """Numbered lines (1-based, newline stripped) from a binary stream, read in chunks."""

    def __init__(
        self, stream: BinaryIO, name: str, encoding_errors: str = "strict", owned: bool = False
    ):
        self.name = name
        self._owned = owned  # opened here, so closed here once the end is reached
        self.encoding_errors = encoding_errors
        self.line_number = 0
        self._stream = stream
        self._buffer = bytearray()
        self._eof = False
        try:
            self._fd: int | None = stream.fileno()
        except (OSError, io.UnsupportedOperation, AttributeError):
            self._fd = None

    def _read_chunk(self) -> None:
        if self._fd is not None:
            data = os.read(self._fd, _CHUNK)
        else:
            reader = getattr(self._stream, "read1", self._stream.read)
            data = reader(_CHUNK)
        if data:
            self._buffer += data
        else:
            self._eof = True

    def ready(self) -> bool:
        """True when the next line can be read without waiting for the writer of a pipe."""
        if self._eof or b"\n" in self._buffer or self._fd is None:
            return True
        try:
            readable, _, _ = select.select([self._fd], [], [], 0)
        except (OSError, ValueError):  # e.g. Windows pipes: fall back to plain chunking
            return True
        return bool(readable)

    def _decode(self, raw: bytes) -> str:
        try:
            text = raw.decode("utf-8", errors=self.encoding_errors)
        except UnicodeDecodeError as error:
            raise SeqtagError(
                f"invalid UTF-8 (byte {error.start + 1} of the line); "
                "fix the file or pass --encoding-errors replace",
                self.name,
                self.line_number,
            ) from None
        if self.line_number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        if text.endswith("\r"):
            text = text[:-1]
        return text

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self._lines()
        finally:  # however reading ends: at the end, on an error, or abandoned
            self.close()

    def close(self) -> None:
        if self._owned:
            self._stream.close()
            self._fd = None

    def _lines(self) -> Iterator[str]:
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                if self._eof:
                    if self._buffer:  # a last line without a newline
                        raw = bytes(self._buffer)
                        self._buffer.clear()
                        self.line_number += 1
                        yield self._decode(raw)
                    return
                self._read_chunk()
                continue
            raw = bytes(self._buffer[:newline])
            del self._buffer[: newline + 1]
            self.line_number += 1
            yield self._decode(raw)


def open_lines(path: str, encoding_errors: str = "strict") -> LineReader:
    """A LineReader over a file path, or stdin for ``-``. Errors name the file."""
    if path == "-":
        return LineReader(sys.stdin.buffer, "<stdin>", encoding_errors)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed when the process ends or by the caller
    except OSError as error:
        raise SeqtagError(f"cannot open: {error.strerror}", path) from None
    return LineReader(stream, path, encoding_errors, owned=True)
