"""Input, first step: a file or stdin as numbered lines of text.

Reading bytes and decoding line by line lets every error name its line (invalid UTF-8 included,
and NUL bytes, refused here for every reader), strips a byte-order mark and CRLF endings, and
lets ``tag`` ask whether more input is ready without blocking, so it can answer as lines
arrive on a slow pipe and still batch a fast one.
"""

from __future__ import annotations

import io
import os
import select
import sys
from collections import deque
from collections.abc import Iterator
from typing import BinaryIO

from seqtag.errors import SeqtagError

ENCODING_ERRORS = ("strict", "replace")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CHUNK = 1 << 16


# Sentences tagged together when input arrives faster than we tag. Large, because a chunk is
# sorted by length before batching: with 256, batches held 49% padding on en_ewt, with 4096
# 6% (tagging 25% faster). Slow input never waits for a chunk to fill.
TAG_CHUNK_SENTENCES = 4096


class LineReader:
    """Numbered lines (1-based, newline stripped) from a binary stream, read in chunks."""

    def __init__(
        self, stream: BinaryIO, name: str, encoding_errors: str = "strict", owned: bool = False
    ):
        self.name = name
        self._owned = owned  # opened here, so closed here once the end is reached
        self.encoding_errors = encoding_errors
        self.line_number = 0  # of the last line handed out
        self._decoded = 0  # lines decoded so far, peeked ones included
        self._peeked: deque[str] = deque()
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
        return bool(self._peeked) or self._unread_ready()

    def _unread_ready(self) -> bool:
        """True when a line not yet decoded can be read without waiting."""
        if self._eof or b"\n" in self._buffer or self._fd is None:
            return True
        try:
            readable, _, _ = select.select([self._fd], [], [], 0)
        except (OSError, ValueError):  # e.g. Windows pipes: fall back to plain chunking
            return True
        return bool(readable)

    def _decode(self, raw: bytes) -> str:
        if b"\x00" in raw and not raw.startswith(_UTF16_BOMS):
            # Before any UTF-8 advice: replacing bytes would not make a binary file readable.
            raise SeqtagError("NUL byte in line; is this a binary file?", self.name, self._decoded)
        try:
            text = raw.decode("utf-8", errors=self.encoding_errors)
        except UnicodeDecodeError as error:
            message = (
                f"invalid UTF-8 (byte {error.start + 1} of the line); "
                "fix the file or pass --encoding-errors replace"
            )
            if self._decoded == 1 and raw.startswith(_UTF16_BOMS):
                message = (
                    "the file is UTF-16 (it starts with a UTF-16 byte-order mark); "
                    "convert it to UTF-8, e.g. with iconv -f UTF-16 -t UTF-8"
                )
            raise SeqtagError(message, self.name, self._decoded) from None
        if "\x00" in text:  # checked here once, for every reader, raw text included
            raise SeqtagError("NUL byte in line; is this a binary file?", self.name, self._decoded)
        if self._decoded == 1 and text.startswith("\ufeff"):
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

    def peek(self, max_lines: int) -> list[str]:
        """Up to ``max_lines`` coming lines, left in place: iteration still yields them."""
        while len(self._peeked) < max_lines:
            text = self._next_line()
            if text is None:
                break
            self._peeked.append(text)
        return list(self._peeked)

    def peek_ready(self, max_lines: int) -> list[str]:
        """Like ``peek``, but past the first line only those that can be read without waiting
        for the writer of a pipe: `tail -f log | seqtag tag` is never held back by it."""
        self.peek(1)
        # Not ready(): the lines peeked already are no sign that the writer has sent more.
        while len(self._peeked) < max_lines and self._unread_ready():
            text = self._next_line()
            if text is None:
                break
            self._peeked.append(text)
        return list(self._peeked)

    def _lines(self) -> Iterator[str]:
        while True:
            if self._peeked:
                text = self._peeked.popleft()
            else:
                text = self._next_line()
                if text is None:
                    return
            self.line_number += 1
            yield text

    def _next_line(self) -> str | None:
        """The next line decoded, or None at the end of the input."""
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                raw = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                break
            if self._eof:
                if not self._buffer:
                    return None
                raw = bytes(self._buffer)  # a last line without a newline
                self._buffer.clear()
                break
            self._read_chunk()
        self._decoded += 1
        return self._decode(raw)


def open_lines(path: str, encoding_errors: str = "strict") -> LineReader:
    """A LineReader over a file path, or stdin for ``-``. Errors name the file."""
    if path == "-":
        return LineReader(sys.stdin.buffer, "<stdin>", encoding_errors)
    if os.path.isdir(path):
        raise SeqtagError("is a directory, not a file", path)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed when the process ends or by the caller
    except OSError as error:
        raise SeqtagError(f"cannot open: {error.strerror}", path) from None
    return LineReader(stream, path, encoding_errors, owned=True)
