"""LineReader: numbered, decoded lines from a binary stream; open_lines: the same for a path."""

from __future__ import annotations

import io
import os
import sys

import pytest

from seqtag import SeqtagError
from seqtag.lines import LineReader, open_lines

BOM = b"\xef\xbb\xbf"


def reader(data: bytes, **options) -> LineReader:
    return LineReader(io.BytesIO(data), "name", **options)


def lines_of(data: bytes, **options) -> list[str]:
    return list(reader(data, **options))


def numbered(data: bytes, **options) -> list[tuple[int, str]]:
    lines = reader(data, **options)
    return [(lines.line_number, text) for text in lines]


class Trickle(io.RawIOBase):
    """A stream without a file descriptor that hands out at most `size` bytes per read."""

    def __init__(self, data: bytes, size: int):
        self._data = data
        self._size = size

    def readable(self) -> bool:
        return True

    def read1(self, limit: int = -1) -> bytes:
        piece, self._data = self._data[: self._size], self._data[self._size :]
        return piece

    read = read1


# Numbering and line ends


def test_lines_are_numbered_from_one():
    assert numbered(b"first\nsecond\nthird\n") == [(1, "first"), (2, "second"), (3, "third")]


def test_blank_lines_are_kept_and_counted():
    assert numbered(b"a\n\n\nb\n") == [(1, "a"), (2, ""), (3, ""), (4, "b")]


def test_empty_input_has_no_lines():
    lines = reader(b"")
    assert list(lines) == []
    assert lines.line_number == 0


def test_a_single_newline_is_one_empty_line():
    assert lines_of(b"\n") == [""]


def test_last_line_without_newline_is_read():
    lines = reader(b"one\ntwo")
    assert list(lines) == ["one", "two"]
    assert lines.line_number == 2


def test_trailing_newline_does_not_add_a_line():
    lines = reader(b"one\ntwo\n")
    assert list(lines) == ["one", "two"]
    assert lines.line_number == 2


def test_crlf_is_stripped():
    assert lines_of(b"one\r\ntwo\r\n\r\nthree") == ["one", "two", "", "three"]


def test_cr_at_the_end_of_a_last_line_without_newline_is_stripped():
    assert lines_of(b"one\r\ntwo\r") == ["one", "two"]


def test_cr_inside_a_line_is_kept_and_only_one_final_cr_is_stripped():
    assert lines_of(b"a\rb\nc\r\r\n") == ["a\rb", "c\r"]


def test_other_unicode_line_breaks_do_not_split_lines():
    assert lines_of("a\u2028b\x85c\x0bd\n".encode()) == ["a\u2028b\x85c\x0bd"]


def test_name_is_kept():
    assert reader(b"x").name == "name"


# Byte-order mark


def test_bom_is_stripped_on_line_one():
    assert lines_of(BOM + b"hello\nworld\n") == ["hello", "world"]


def test_bom_is_kept_on_later_lines():
    assert lines_of(BOM + b"hello\n" + BOM + b"world\n") == ["hello", "\ufeffworld"]


def test_bom_on_line_two_after_an_empty_line_one_is_kept():
    assert lines_of(b"\n" + BOM + b"x\n") == ["", "\ufeffx"]


def test_only_one_bom_is_stripped():
    assert lines_of(BOM + BOM + b"x") == ["\ufeffx"]


def test_bom_and_crlf_together():
    assert lines_of(BOM + b"a\r\nb\r\n") == ["a", "b"]


def test_a_bom_alone_is_an_empty_line():
    assert lines_of(BOM) == [""]


# UTF-8 decoding


def test_utf8_is_decoded():
    assert lines_of("Żółw தமிழ் हिन्दी 😀\n".encode()) == ["Żółw தமிழ் हिन्दी 😀"]


def test_invalid_utf8_names_the_line():
    lines = reader(b"ok\nalso ok\nbad \xff here\nnever reached\n")
    seen = []
    with pytest.raises(SeqtagError) as caught:
        for text in lines:
            seen.append(text)
    error = caught.value
    assert seen == ["ok", "also ok"]
    assert error.line == 3
    assert error.path == "name"
    assert "--encoding-errors" in error.message
    assert "invalid UTF-8" in error.message
    assert "byte 5" in error.message
    assert str(error).startswith("name:3: ")


def test_invalid_utf8_on_a_last_line_without_newline():
    with pytest.raises(SeqtagError) as caught:
        lines_of(b"a\nb\n\xc3")
    assert caught.value.line == 3
    assert "--encoding-errors" in str(caught.value)


def test_invalid_utf8_on_line_one():
    with pytest.raises(SeqtagError) as caught:
        lines_of(b"\x80abc\n")
    assert caught.value.line == 1
    assert str(caught.value).startswith("name:1: ")


@pytest.mark.parametrize(
    "bad",
    [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80"],
    ids=["ff", "overlong", "surrogate", "truncated", "beyond-max"],
)
def test_each_kind_of_invalid_utf8_is_an_error(bad):
    with pytest.raises(SeqtagError, match="invalid UTF-8"):
        lines_of(b"fine\nx" + bad + b"y\n")


def test_replace_gives_the_replacement_character():
    assert lines_of(b"ok\nbad \xff here\n", encoding_errors="replace") == [
        "ok",
        "bad \ufffd here",
    ]


def test_replace_keeps_numbering_going_after_a_bad_line():
    assert numbered(b"\xff\nnext\n", encoding_errors="replace") == [(1, "\ufffd"), (2, "next")]


def test_crlf_is_stripped_after_a_replaced_byte():
    assert lines_of(b"a\xff\r\n", encoding_errors="replace") == ["a\ufffd"]


# Chunked reading


def test_multibyte_characters_split_across_reads():
    data = BOM + "Żółw\r\nதமிழ்\n😀".encode()
    lines = LineReader(Trickle(data, 1), "trickle")
    assert list(lines) == ["Żółw", "தமிழ்", "😀"]
    assert lines.line_number == 3


def test_lines_longer_than_a_chunk():
    long_line = "é" * 100_000
    data = f"short\n{long_line}\nlast".encode()
    assert lines_of(data) == ["short", long_line, "last"]


def test_many_lines_across_chunk_boundaries():
    data = b"".join(b"line %d\n" % i for i in range(30_000))
    lines = lines_of(data)
    assert len(lines) == 30_000
    assert lines[0] == "line 0"
    assert lines[-1] == "line 29999"


def test_invalid_byte_far_into_the_input_names_its_line():
    data = b"x\n" * 50_000 + b"\xff\n"
    with pytest.raises(SeqtagError) as caught:
        lines_of(data)
    assert caught.value.line == 50_001


# ready()


def test_ready_is_true_for_bytes_io():
    lines = reader(b"a\nb")
    assert lines.ready()
    iterator = iter(lines)
    assert next(iterator) == "a"
    assert lines.ready()
    assert next(iterator) == "b"
    assert lines.ready()


def test_ready_is_true_for_empty_bytes_io():
    assert reader(b"").ready()


def test_ready_on_a_pipe_follows_what_the_writer_sent():
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(read_end, "rb", buffering=0) as stream:
            lines = LineReader(stream, "pipe")
            assert not lines.ready()
            os.write(write_end, b"hello\n")
            assert lines.ready()
            iterator = iter(lines)
            assert next(iterator) == "hello"
            os.close(write_end)
            write_end = None
            assert lines.ready()
            assert list(iterator) == []
    finally:
        if write_end is not None:
            os.close(write_end)


# open_lines


def test_open_lines_on_a_missing_path_names_the_path(tmp_path):
    path = tmp_path / "does-not-exist.conllu"
    with pytest.raises(SeqtagError) as caught:
        open_lines(str(path))
    error = caught.value
    assert error.path == str(path)
    assert error.line is None
    assert "cannot open" in error.message
    assert str(error).startswith(f"{path}: ")


def test_open_lines_on_a_directory_is_an_error(tmp_path):
    with pytest.raises(SeqtagError) as caught:
        open_lines(str(tmp_path))
    assert caught.value.path == str(tmp_path)


def test_open_lines_reads_a_file(tmp_path):
    path = tmp_path / "input.txt"
    path.write_bytes(BOM + b"one\r\ntwo\n\xffthree")
    lines = open_lines(str(path), encoding_errors="replace")
    try:
        assert lines.name == str(path)
        assert lines.ready()
        assert list(lines) == ["one", "two", "\ufffdthree"]
        assert lines.ready()
    finally:
        lines._stream.close()


def test_open_lines_on_a_file_is_strict_by_default(tmp_path):
    path = tmp_path / "input.txt"
    path.write_bytes(b"one\n\xff\n")
    lines = open_lines(str(path))
    try:
        with pytest.raises(SeqtagError) as caught:
            list(lines)
        assert caught.value.path == str(path)
        assert caught.value.line == 2
    finally:
        lines._stream.close()


def test_open_lines_dash_reads_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"from\r\nstdin")))
    lines = open_lines("-")
    assert lines.name == "<stdin>"
    assert list(lines) == ["from", "stdin"]
