import io

import pytest
from conftest import TEST_DATA

from seqtag import SeqtagError
from seqtag.lines import LineReader, open_lines
from seqtag.read import Column, detect_tagging_input, read_conllu, read_tokenized, require_tags


def sentences(path, column="upos"):
    return list(read_conllu(open_lines(str(path)), Column.parse(column) if column else None))


def from_text(text: str, column="upos"):
    return list(
        read_conllu(LineReader(io.BytesIO(text.encode()), "t.conllu"), Column.parse(column))
    )


def test_words_are_syntactic_words_and_ranges_and_empty_nodes_are_kept():
    first, second = sentences(TEST_DATA / "tiny.conllu")
    assert first.words == ["Żółw", "nie", "śpi", "."]
    assert first.tags == ["NOUN", "PART", "VERB", "PUNCT"]
    assert second.words == ["Vamos", "nos", "a", "el", "mar", "."]
    assert second.tags == ["VERB", "PRON", "ADP", "DET", "NOUN", "PUNCT"]
    assert any(line.startswith("1-2\t") for line in second.lines)
    assert any(line.startswith("5.1\t") for line in second.lines)
    assert (first.line, second.line) == (1, 8)


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("xpos", ["VMM", "PP", "SP", "DA", "NC", "Fp"]),
        ("misc:NER", ["_", "_", "_", "_", "B-LOC", "_"]),
        ("misc:SpaceAfter", ["_", "_", "_", "_", "No", "_"]),
    ],
)
def test_other_columns(column, expected):
    assert sentences(TEST_DATA / "tiny.conllu", column)[1].tags == expected


def test_without_a_column_no_tags_are_read():
    assert sentences(TEST_DATA / "tiny.conllu", None)[0].tags is None


@pytest.mark.parametrize("spec", ["lemma", "misc:", "misc:A=B", "UPOS"])
def test_unknown_column_is_an_error(spec):
    with pytest.raises(SeqtagError, match="unknown column"):
        Column.parse(spec)


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        (
            "bad-spaces.conllu",
            2,
            "expected 10 tab-separated CoNLL-U fields, found 1 (spaces where tabs belong?)",
        ),
        ("bad-id.conllu", 2, "ID 'x' is not a word number"),
        ("comments-only.conllu", 1, "sentence has comment lines but no words"),
        ("bad-utf8.conllu", 2, "invalid UTF-8"),
    ],
)
def test_malformed_files_name_file_and_line(name, line, message):
    with pytest.raises(SeqtagError) as caught:
        sentences(TEST_DATA / name)
    assert caught.value.path == str(TEST_DATA / name)
    assert caught.value.line == line
    assert message in caught.value.message


def test_word_ids_must_count_up():
    text = "1\ta\t_\tX\t_\t_\t_\t_\t_\t_\n1\tb\t_\tX\t_\t_\t_\t_\t_\t_\n"
    with pytest.raises(SeqtagError, match="expected word ID 2, found '1'"):
        from_text(text)


def test_nul_byte_is_an_error():
    with pytest.raises(SeqtagError, match="NUL byte"):
        from_text("1\ta\x00\t_\tX\t_\t_\t_\t_\t_\t_\n")


def test_crlf_and_bom_are_accepted():
    text = "\ufeff# c\r\n1\ta\t_\tX\t_\t_\t_\t_\t_\t_\r\n\r\n"
    [sentence] = from_text(text)
    assert sentence.words == ["a"] and sentence.tags == ["X"]


def test_require_tags_rejects_empty_and_all_underscore():
    with pytest.raises(SeqtagError, match="no sentences found"):
        require_tags([], "e.conllu", "column upos")
    corpus = sentences(TEST_DATA / "no-upos.conllu")
    with pytest.raises(SeqtagError, match="holds only '_'"):
        require_tags(corpus, "no-upos.conllu", "column upos")


def test_tokenized_lines_are_never_resplit_and_empty_lines_are_empty_sentences():
    reader = LineReader(io.BytesIO(b"Mr. Smith's  dog\n\nU.S.A. !\n"), "t")
    result = list(read_tokenized(reader))
    assert [s.words for s in result] == [["Mr.", "Smith's", "dog"], [], ["U.S.A.", "!"]]
    assert [s.line for s in result] == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# sent_id = 1\n1\tThe\t_\t_\t_\t_\t_\t_\t_\t_\n\n", "conllu"),
        ("1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n1\tdo\t_\t_\t_\t_\t_\t_\t_\t_\n", "conllu"),
        ("1\tAda\tB-PER\n2\tran\tO\n", "iob2"),
        ("Ada B-PER\nran O\n\nObi B-PER\n", "columns"),
        ("Ada NOUN X\nran VERB O\n", "columns"),  # CoNLL-2003 style: the tag is last
        ("Ada B-PER\n", "raw"),  # one line: too little to tell
        ("Ada ran home O\nObi B-PER\n", "raw"),  # unequal widths
        ("The cat sat on the mat .\nIt slept .\n", "raw"),
        ("Ada runs\nObi sits\n", "raw"),  # equal widths, but not the model's labels
        ("", "raw"),
    ],
)
def test_what_tag_is_given_is_told_from_its_first_lines(text, expected):
    lines = LineReader(io.BytesIO(text.encode("utf-8")), "in")
    assert detect_tagging_input(lines, {"B-PER", "O", "X"}) == expected
    assert "".join(f"{line}\n" for line in lines) == text  # nothing was consumed
