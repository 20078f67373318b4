"""Tokenizer and sentence splitter: examples, then properties that hold for any text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtag.tokenize import (
    MAX_SENTENCE_TOKENS,
    SentenceSplitter,
    split_chunk,
    split_sentences,
    tokenize_line,
    tokenize_text,
)


def tokens(text: str) -> list[str]:
    return tokenize_line(text)[0]


def sentences(*lines: str):
    return list(split_sentences(enumerate(lines, start=1)))


def words(*lines: str) -> list[list[str]]:
    return [sentence.words for sentence in sentences(*lines)]


# Tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, world!", ["Hello", ",", "world", "!"]),
        ("(yes)", ["(", "yes", ")"]),
        ('"Quoted"', ['"', "Quoted", '"']),
        ("a;b:c", ["a", ";", "b", ":", "c"]),
        ("50% off", ["50", "%", "off"]),
        ("$5", ["$", "5"]),
        ("x+y=z", ["x", "+", "y", "=", "z"]),
        ("end.", ["end", "."]),
        ("¿Qué?", ["¿", "Qué", "?"]),
        ("«ok»", ["«", "ok", "»"]),
        ("中文。", ["中文", "。"]),
    ],
)
def test_punctuation_and_symbols_are_split_off(text, expected):
    assert tokens(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("don't", ["don't"]),
        ("I don't know.", ["I", "don't", "know", "."]),
        ("don’t", ["don’t"]),
        ("well-known", ["well-known"]),
        ("a well-known fact", ["a", "well-known", "fact"]),
        ("mother-in-law's", ["mother-in-law's"]),
        ("'quoted'", ["'", "quoted", "'"]),
        ("-dash", ["-", "dash"]),
        ("dash-", ["dash", "-"]),
        ("a--b", ["a", "--", "b"]),
    ],
)
def test_apostrophes_and_hyphens_inside_words_stay(text, expected):
    assert tokens(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.14", ["3.14"]),
        ("1,000", ["1,000"]),
        ("1,000,000.50", ["1,000,000.50"]),
        ("12:30", ["12:30"]),
        ("1/2", ["1/2"]),
        ("pi is 3.14.", ["pi", "is", "3.14", "."]),
        ("1,000, 2,000", ["1,000", ",", "2,000"]),
        ("(3.14)", ["(", "3.14", ")"]),
        ("a.1", ["a", ".", "1"]),
    ],
)
def test_numbers_stay_whole(text, expected):
    assert tokens(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://example.com/a?b=c&d=e", ["https://example.com/a?b=c&d=e"]),
        ("http://example.org", ["http://example.org"]),
        ("www.example.com/path", ["www.example.com/path"]),
        ("see https://example.com/x.", ["see", "https://example.com/x", "."]),
        ("https://example.com/x).", ["https://example.com/x", ")", "."]),
        ("someone@example.org", ["someone@example.org"]),
        ("first.last+tag@mail.example.co.uk", ["first.last+tag@mail.example.co.uk"]),
        ("mail me@example.org.", ["mail", "me@example.org", "."]),
        ("HTTPS://EXAMPLE.COM", ["HTTPS://EXAMPLE.COM"]),
    ],
)
def test_urls_and_email_addresses_stay_whole(text, expected):
    assert tokens(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(https://example.com)", ["(", "https://example.com", ")"]),
        ('"www.example.com"', ['"', "www.example.com", '"']),
        ("<me@example.org>", ["<", "me@example.org", ">"]),
    ],
)
def test_urls_after_opening_brackets_and_quotes_stay_whole(text, expected):
    assert tokens(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("...", ["..."]),
        ("wait... what", ["wait", "...", "what"]),
        ("What?!", ["What", "?", "!"]),
        ("No!!!", ["No", "!!!"]),
        ("so…", ["so", "…"]),
    ],
)
def test_runs_of_the_same_mark_are_one_token(text, expected):
    assert tokens(text) == expected


@pytest.mark.parametrize(
    "word",
    ["தமிழ்", "हिन्दी", "संस्कृतम्", "ಕನ್ನಡ", "ภาษาไทย", "café", "e\u0301te\u0301", "한국어"],
)
def test_words_with_combining_marks_stay_one_token(word):
    assert tokens(word) == [word]
    assert tokens(f"{word}, {word}.") == [word, ",", word, "."]


def test_devanagari_danda_is_split_off():
    assert tokens("हिन्दी भाषा।") == ["हिन्दी", "भाषा", "।"]


def test_space_after_in_a_line():
    assert tokenize_line("Hello, world!") == (
        ["Hello", ",", "world", "!"],
        [False, True, False, False],
    )


def test_trailing_whitespace_counts_as_space_after():
    assert tokenize_line("  a b  ") == (["a", "b"], [True, True])


def test_tabs_and_other_whitespace_separate_tokens():
    assert tokens("a\tb\u00a0c\u3000d") == ["a", "b", "c", "d"]


def test_blank_line_has_no_tokens():
    assert tokenize_line("") == ([], [])
    assert tokenize_line(" \t ") == ([], [])


def test_split_chunk_keeps_every_character():
    assert split_chunk("(a.b,c)") == ["(", "a", ".", "b", ",", "c", ")"]


# Sentences


def test_sentences_split_after_a_period_and_a_space():
    assert words("The cat sat. The dog ran.") == [
        ["The", "cat", "sat", "."],
        ["The", "dog", "ran", "."],
    ]


@pytest.mark.parametrize("mark", ["!", "?", "…", "...", "!!!", "。", "।"])
def test_sentences_split_after_other_terminals(mark):
    assert words(f"Stop{mark} Go now") == [["Stop", *tokens(mark)], ["Go", "now"]]


@pytest.mark.parametrize("mark", ["?!", "!?", "?!?"])
def test_mixed_terminals_end_one_sentence(mark):
    assert words(f"What{mark} Go now.") == [["What", *tokens(mark)], ["Go", "now", "."]]


def test_no_split_after_an_abbreviation():
    assert words("Mr. Smith came. He left.") == [
        ["Mr", ".", "Smith", "came", "."],
        ["He", "left", "."],
    ]


@pytest.mark.parametrize("abbreviation", ["Dr", "Mrs", "Prof", "etc", "vs", "Inc"])
def test_no_split_after_other_abbreviations(abbreviation):
    assert len(sentences(f"See {abbreviation}. Brown today.")) == 1


def test_no_split_after_a_single_initial():
    assert words("J. Smith wrote it. Then he slept.") == [
        ["J", ".", "Smith", "wrote", "it", "."],
        ["Then", "he", "slept", "."],
    ]


def test_no_split_before_a_lowercase_word():
    assert words("He said no. and then he left.") == [
        ["He", "said", "no", ".", "and", "then", "he", "left", "."],
    ]


def test_split_before_a_digit_or_other_non_lowercase_start():
    assert words("It was 1999. 2000 came.") == [["It", "was", "1999", "."], ["2000", "came", "."]]


def test_no_split_inside_a_number():
    assert words("Pi is 3.14 roughly.") == [["Pi", "is", "3.14", "roughly", "."]]


def test_closing_quote_belongs_to_the_sentence_it_closes():
    assert words('He said "Stop." Then he left.') == [
        ["He", "said", '"', "Stop", ".", '"'],
        ["Then", "he", "left", "."],
    ]


def test_closing_bracket_after_a_terminal_belongs_to_the_sentence():
    assert words("(It rained.) We stayed.") == [
        ["(", "It", "rained", ".", ")"],
        ["We", "stayed", "."],
    ]


def test_sentence_runs_over_a_line_break():
    (sentence,) = sentences("The cat", "sat on the mat.")
    assert sentence.words == ["The", "cat", "sat", "on", "the", "mat", "."]
    assert sentence.text == "The cat sat on the mat."
    assert sentence.line == 1


def test_sentence_never_runs_past_a_blank_line():
    first, second = sentences("The cat", "", "sat on the mat.")
    assert first.words == ["The", "cat"]
    assert second.words == ["sat", "on", "the", "mat", "."]
    assert (first.line, second.line) == (1, 3)


def test_a_whitespace_only_line_is_blank():
    assert words("The cat", " \t ", "sat.") == [["The", "cat"], ["sat", "."]]


def test_a_line_ending_in_a_terminal_ends_the_sentence():
    splitter = SentenceSplitter()
    (first,) = splitter.feed("It rained.", 1)
    assert first.words == ["It", "rained", "."]
    assert list(splitter.feed("and then", 2)) == []
    (second,) = splitter.flush()
    assert second.words == ["and", "then"]


def test_splitter_hands_out_sentences_as_soon_as_they_are_complete():
    splitter = SentenceSplitter()
    assert list(splitter.feed("One two", 1)) == []
    done = list(splitter.feed("three. Four", 2))
    assert [s.words for s in done] == [["One", "two", "three", "."]]
    (pending,) = splitter.feed("", 3)  # the blank line flushes the rest
    assert pending.words == ["Four"]
    assert pending.line == 2
    assert list(splitter.flush()) == []


def test_blank_line_flushes_the_pending_sentence():
    splitter = SentenceSplitter()
    assert list(splitter.feed("no end here", 1)) == []
    (sentence,) = splitter.feed("", 2)
    assert sentence.words == ["no", "end", "here"]
    assert list(splitter.flush()) == []


def test_sentence_line_numbers():
    result = sentences("First one. Second", "one here.", "", "", "Third.")
    assert [s.words[0] for s in result] == ["First", "Second", "Third"]
    assert [s.line for s in result] == [1, 1, 5]


def test_text_and_space_after():
    (sentence,) = sentences("Hello, world!")
    assert sentence.text == "Hello, world!"
    assert sentence.words == ["Hello", ",", "world", "!"]
    assert sentence.space_after == [False, True, False, True]


def test_text_of_a_sentence_over_lines_and_mid_line_split():
    first, second = sentences("Hi there.   Yes,", "indeed  (really)!")
    assert first.text == "Hi there."
    assert first.space_after == [True, False, True]
    assert second.text == "Yes, indeed (really)!"
    assert second.words == ["Yes", ",", "indeed", "(", "really", ")", "!"]
    assert second.space_after == [False, True, True, False, False, False, True]


def test_tokenize_text():
    result = tokenize_text("Mr. Smith came. He left.\nIt was\nraining. Yes\n\nNew para")
    assert [s.words for s in result] == [
        ["Mr", ".", "Smith", "came", "."],
        ["He", "left", "."],
        ["It", "was", "raining", "."],
        ["Yes"],
        ["New", "para"],
    ]
    assert [s.text for s in result] == [
        "Mr. Smith came.",
        "He left.",
        "It was raining.",
        "Yes",
        "New para",
    ]
    assert [s.line for s in result] == [1, 1, 2, 3, 5]


def test_tokenize_text_of_empty_or_blank_text():
    assert tokenize_text("") == []
    assert tokenize_text("\n \n\t\n") == []


def test_run_on_text_is_cut_at_the_token_limit():
    result = sentences(" ".join(["word"] * (MAX_SENTENCE_TOKENS * 2 + 5)))
    assert [len(s.words) for s in result] == [MAX_SENTENCE_TOKENS, MAX_SENTENCE_TOKENS, 5]


def test_sentences_carry_no_tags_or_conllu_lines():
    (sentence,) = sentences("Hi.")
    assert sentence.tags is None
    assert sentence.lines is None


# Properties

# Text that often contains the characters the rules care about.
_INTERESTING = st.sampled_from(
    list(".,;:!?…'’\"-‐()[]«»。।@/+#$%0123456789aAzZ \t\n\r\x0b\x0c\x85\u00a0\u2028")
    + ["https://", "www.", "Mr.", "J.", "e.g.", "...", "3.14", "a@b.co", "தமிழ்", "हिन्दी"]
)
_TEXT = st.one_of(st.text(), st.lists(_INTERESTING | st.text(max_size=3)).map("".join))


def _no_whitespace(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_tokens_joined_give_back_the_text_without_whitespace(text):
    found, _ = tokenize_line(text)
    assert "".join(found) == _no_whitespace(text)
    assert all(token and _no_whitespace(token) == token for token in found)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_tokenize_line_space_after_has_one_entry_per_token(text):
    found, space_after = tokenize_line(text)
    assert len(space_after) == len(found)
    assert all(isinstance(flag, bool) for flag in space_after)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, max_size=8))
def test_split_sentences_loses_and_adds_no_character(lines):
    result = sentences(*lines)
    assert "".join(word for s in result for word in s.words) == _no_whitespace("".join(lines))
    assert all(s.words for s in result)
    assert all(word and _no_whitespace(word) == word for s in result for word in s.words)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, max_size=8))
def test_split_sentences_space_after_and_text_agree_with_words(lines):
    for sentence in sentences(*lines):
        assert len(sentence.space_after) == len(sentence.words)
        assert sentence.space_after[-1] is True
        assert len(sentence.words) <= MAX_SENTENCE_TOKENS
        rebuilt = "".join(
            word + (" " if space else "")
            for word, space in zip(sentence.words, sentence.space_after, strict=True)
        )
        assert sentence.text == rebuilt.rstrip()
        assert 1 <= sentence.line <= max(len(lines), 1)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, max_size=8))
def test_tokenize_text_agrees_with_tokenize_line(text_lines):
    text = "\n".join(text_lines)
    result = tokenize_text(text)
    expected = [token for line in text.splitlines() for token in tokens(line)]
    assert [word for s in result for word in s.words] == expected
