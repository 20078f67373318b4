"""CoNLL-U round trips: what write.conllu_lines writes, read_conllu reads back unchanged."""

from __future__ import annotations

import io

import conllu
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtag.lines import LineReader
from seqtag.read import EMPTY, Column, Sentence, read_conllu
from seqtag.write import conllu_lines, write_sentence

UPOS = Column.parse("upos")
XPOS = Column.parse("xpos")
FEATS = Column.parse("feats")
NER = Column.parse("misc:NER")
SPACE_AFTER = Column.parse("misc:SpaceAfter")

FIXTURE = (
    "# newdoc id = doc1\n"
    "# sent_id = 1\n"
    "# text = Anna's at home.\n"
    "1-2\tAnna's\t_\t_\t_\t_\t_\t_\t_\tNER=B-PER\n"
    "1\tAnna\tAnna\tPROPN\tNNP\tNumber=Sing\t3\tnsubj\t3:nsubj\tSpaceAfter=No|NER=B-PER\n"
    "2\t's\tbe\tAUX\tVBZ\tMood=Ind|Tense=Pres\t3\tcop\t3:cop\t_\n"
    "2.1\tis\tbe\t_\t_\t_\t_\t_\t3:cop\t_\n"
    "3\tat\tat\tADP\tIN\t_\t4\tcase\t4:case\t_\n"
    "4\thome\thome\tNOUN\tNN\tNumber=Sing\t0\troot\t0:root\tSpaceAfter=No\n"
    "5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t4:punct\t_\n"
    "\n"
    "# sent_id = 2\n"
    "# text = Żółw Jan śpi w Łodzi\n"
    "1\tŻółw\tżółw\tNOUN\tsubst\tCase=Nom\t3\tnsubj\t_\tNER=O|Gloss=turtle\n"
    "2\tJan\tJan\tPROPN\tsubst\t_\t1\tappos\t_\tNER=B-PER|SpaceAfter=No\n"
    "3\tśpi\tspać\tVERB\tfin\t_\t0\troot\t_\t_\n"
    "4\tw\tw\tADP\tprep\t_\t5\tcase\t_\tNER=O\n"
    "5\tŁodzi\tŁódź\tPROPN\tsubst\tCase=Loc\t3\tobl\t_\tNER=B-LOC\n"
    "\n"
)


def read(text: str, column: Column | None) -> list[Sentence]:
    return list(read_conllu(LineReader(io.BytesIO(text.encode("utf-8")), "t"), column))


def written(sentences: list[Sentence], tag_lists: list[list[str]], column: Column) -> str:
    """What write.conllu_lines gives for each sentence, as a CoNLL-U file."""
    return "".join(
        "\n".join(conllu_lines(sentence, tags, column)) + "\n\n"
        for sentence, tags in zip(sentences, tag_lists, strict=True)
    )


# Strategies

_WORD_CHAR = st.characters(exclude_categories=("Cs",)).filter(
    lambda c: not c.isspace() and c != "\x00"  # the reader rejects NUL bytes by design
)
WORDS = st.text(_WORD_CHAR, min_size=1, max_size=8).filter(lambda w: not w.startswith("#"))
TAGS = st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "NOUN", "VERB", "X", EMPTY])
COLUMNS = st.sampled_from([UPOS, XPOS, FEATS, NER])


@st.composite
def tagged_sentence(draw):
    words = draw(st.lists(WORDS, min_size=1, max_size=6))
    tags = draw(st.lists(TAGS, min_size=len(words), max_size=len(words)))
    flags = st.lists(st.booleans(), min_size=len(words), max_size=len(words))
    space_after = draw(st.none() | flags)
    text = None if space_after is None else " ".join(words)
    return Sentence(words, text=text, space_after=space_after), tags


# Written sentences come back


@settings(max_examples=200, deadline=None)
@given(st.lists(tagged_sentence(), min_size=1, max_size=3), COLUMNS)
def test_written_sentences_read_back_with_the_same_words_and_tags(pairs, column):
    sentences = [sentence for sentence, _ in pairs]
    tag_lists = [tags for _, tags in pairs]
    back = read(written(sentences, tag_lists, column), column)
    assert [s.words for s in back] == [s.words for s in sentences]
    assert [s.tags for s in back] == tag_lists


@settings(max_examples=200, deadline=None)
@given(tagged_sentence())
def test_ner_in_misc_lives_beside_space_after(pair):
    sentence, tags = pair
    (back,) = read(written([sentence], [tags], NER), NER)
    assert back.tags == tags
    (spaces,) = read(written([sentence], [tags], NER), SPACE_AFTER)
    if sentence.space_after is None:
        assert spaces.tags == [EMPTY] * len(tags)
    else:
        assert spaces.tags == ["_" if space else "No" for space in sentence.space_after]


@settings(max_examples=200, deadline=None)
@given(st.lists(tagged_sentence(), min_size=1, max_size=3), COLUMNS)
def test_reading_and_writing_back_with_its_own_tags_changes_nothing(pairs, column):
    text = written([s for s, _ in pairs], [t for _, t in pairs], column)
    stream = io.StringIO()
    for sentence in read(text, column):
        write_sentence(stream, sentence, sentence.tags, "conllu", column)
    assert stream.getvalue() == text


@settings(max_examples=200, deadline=None)
@given(st.lists(tagged_sentence(), min_size=1, max_size=3), st.data())
def test_retagging_changes_only_the_tagged_column(pairs, data):
    text = written([s for s, _ in pairs], [t for _, t in pairs], UPOS)
    original = read(text, UPOS)
    new_tags = [
        data.draw(st.lists(TAGS, min_size=len(s.words), max_size=len(s.words))) for s in original
    ]
    retagged = written(original, new_tags, UPOS)
    before = [line.split("\t") for line in text.split("\n")]
    after = [line.split("\t") for line in retagged.split("\n")]
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        assert old[:3] + old[4:] == new[:3] + new[4:]
    assert [s.tags for s in read(retagged, UPOS)] == new_tags


def test_text_comment_and_space_after_are_written():
    sentence = Sentence(
        ["Hi", ",", "you", "!"], text="Hi, you!", space_after=[False, True, False, True]
    )
    assert conllu_lines(sentence, ["INTJ", "PUNCT", "PRON", "PUNCT"], UPOS) == [
        "# text = Hi, you!",
        "1\tHi\t_\tINTJ\t_\t_\t_\t_\t_\tSpaceAfter=No",
        "2\t,\t_\tPUNCT\t_\t_\t_\t_\t_\t_",
        "3\tyou\t_\tPRON\t_\t_\t_\t_\t_\tSpaceAfter=No",
        "4\t!\t_\tPUNCT\t_\t_\t_\t_\t_\t_",
    ]


def test_tokenized_sentence_gets_no_text_comment():
    assert conllu_lines(Sentence(["a", "b"]), ["B-PER", "O"], NER) == [
        "1\ta\t_\t_\t_\t_\t_\t_\t_\tNER=B-PER",
        "2\tb\t_\t_\t_\t_\t_\t_\t_\tNER=O",
    ]


# A real CoNLL-U file written back


def test_fixture_reads_as_expected():
    first, second = read(FIXTURE, UPOS)
    assert first.words == ["Anna", "'s", "at", "home", "."]
    assert first.tags == ["PROPN", "AUX", "ADP", "NOUN", "PUNCT"]
    assert second.words == ["Żółw", "Jan", "śpi", "w", "Łodzi"]
    assert (first.line, second.line) == (1, 12)
    assert [s.tags for s in read(FIXTURE, NER)] == [
        ["B-PER", "_", "_", "_", "_"],
        ["O", "B-PER", "_", "O", "B-LOC"],
    ]


@pytest.mark.parametrize(
    "spec", ["upos", "xpos", "feats", "misc:NER", "misc:SpaceAfter", "misc:Gloss"]
)
def test_fixture_written_back_with_its_own_tags_is_byte_identical(spec):
    column = Column.parse(spec)
    stream = io.StringIO()
    for sentence in read(FIXTURE, column):
        write_sentence(stream, sentence, sentence.tags, "conllu", column)
    assert stream.getvalue().encode("utf-8") == FIXTURE.encode("utf-8")
    again = read(FIXTURE, column)
    assert written(again, [s.tags for s in again], column) == FIXTURE


def test_fixture_retagged_keeps_comments_ranges_and_empty_nodes():
    sentences = read(FIXTURE, NER)
    out = written(sentences, [["X"] * len(s.words) for s in sentences], NER)
    lines = out.split("\n")
    assert lines[:3] == FIXTURE.split("\n")[:3]
    assert lines[3] == "1-2\tAnna's\t_\t_\t_\t_\t_\t_\t_\tNER=B-PER"
    assert lines[4].endswith("\tSpaceAfter=No|NER=X")
    assert lines[6] == "2.1\tis\tbe\t_\t_\t_\t_\t_\t3:cop\t_"
    assert lines[7].endswith("\t4:case\tNER=X")
    assert "1\tŻółw\tżółw\tNOUN\tsubst\tCase=Nom\t3\tnsubj\t_\tNER=X|Gloss=turtle" in lines
    assert "2\tJan\tJan\tPROPN\tsubst\t_\t1\tappos\t_\tNER=X|SpaceAfter=No" in lines


def test_fixture_agrees_with_the_conllu_library():
    ours = read(FIXTURE, UPOS)
    theirs = conllu.parse(FIXTURE)
    assert len(ours) == len(theirs)
    for sentence, token_list in zip(ours, theirs, strict=True):
        words = [token for token in token_list if isinstance(token["id"], int)]
        assert sentence.words == [token["form"] for token in words]
        assert sentence.tags == [token["upos"] for token in words]
    ner = read(FIXTURE, NER)
    for sentence, token_list in zip(ner, theirs, strict=True):
        words = [token for token in token_list if isinstance(token["id"], int)]
        assert sentence.tags == [(token["misc"] or {}).get("NER", EMPTY) for token in words]


# Column.set on MISC


def misc_after(misc: str, tag: str, column: Column = NER) -> str:
    fields = ["1", "w", "_", "_", "_", "_", "_", "_", "_", misc]
    column.set(fields, tag)
    return fields[9]


@pytest.mark.parametrize(
    ("misc", "tag", "expected"),
    [
        ("_", "B-PER", "NER=B-PER"),
        ("SpaceAfter=No", "B-PER", "SpaceAfter=No|NER=B-PER"),
        ("SpaceAfter=No|NER=B-PER", "O", "SpaceAfter=No|NER=O"),
        ("NER=B-PER|SpaceAfter=No", "O", "NER=O|SpaceAfter=No"),
        ("A=1|NER=B-PER|B=2", "I-LOC", "A=1|NER=I-LOC|B=2"),
        ("A=1|B=2|C=3", "O", "A=1|B=2|C=3|NER=O"),
        ("NER=B-PER", "_", "_"),
        ("SpaceAfter=No|NER=B-PER", "_", "SpaceAfter=No"),
        ("A=1|NER=B-PER|B=2", "_", "A=1|B=2"),
        ("_", "_", "_"),
        ("NERD=1|XNER=2", "O", "NERD=1|XNER=2|NER=O"),
    ],
)
def test_column_set_on_misc(misc, tag, expected):
    assert misc_after(misc, tag) == expected


def test_column_set_on_a_plain_column_replaces_the_field():
    fields = ["1", "w", "_", "NOUN", "NN", "_", "_", "_", "_", "NER=O"]
    UPOS.set(fields, "VERB")
    assert fields == ["1", "w", "_", "VERB", "NN", "_", "_", "_", "_", "NER=O"]


_KEYS = st.sampled_from(["SpaceAfter", "Gloss", "Translit", "NE", "NERD", "LId"])
_VALUES = st.text(st.sampled_from("abcXYZ-09"), min_size=1, max_size=4)
_ITEMS = st.lists(st.tuples(_KEYS, _VALUES).map("=".join), max_size=5)


@settings(max_examples=200, deadline=None)
@given(_ITEMS, st.integers(min_value=0, max_value=5), st.booleans(), TAGS)
def test_column_set_on_misc_keeps_the_other_items_in_order(others, position, had_key, tag):
    position = min(position, len(others))
    items = list(others)
    if had_key:
        items.insert(position, "NER=old")
    result = misc_after("|".join(items) or EMPTY, tag)
    fields = ["1", "w", "_", "_", "_", "_", "_", "_", "_", result]
    assert NER.get(fields) == tag
    result_items = [] if result == EMPTY else result.split("|")
    assert [item for item in result_items if not item.startswith("NER=")] == others
    if tag == EMPTY:
        assert result == ("|".join(others) or EMPTY)
    elif had_key:
        assert result_items.index(f"NER={tag}") == position
    else:
        assert result_items[-1] == f"NER={tag}"
