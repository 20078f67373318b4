import pytest

from seqtag import SeqtagError, Tagger


def test_tag_token_lists_and_text(tiny_model):
    tagger = Tagger.load(tiny_model, device="cpu")
    assert tagger.column == "upos"
    assert "NOUN" in tagger.labels
    tags = tagger.tag([["The", "cat", "sat", "."], [], ["Hello"]])
    assert [len(t) for t in tags] == [4, 0, 1]
    assert all(tag in tagger.labels for sentence in tags for tag in sentence)
    tagged = tagger.tag_text("The cat sat. It slept on the mat.")
    assert [s.tokens for s in tagged] == [
        ["The", "cat", "sat", "."],
        ["It", "slept", "on", "the", "mat", "."],
    ]
    assert [s.text for s in tagged] == ["The cat sat.", "It slept on the mat."]
    assert [len(s.tags) for s in tagged] == [4, 6]
    # The API and the CLI share one model and one decoder: the same words get the same tags.
    assert tagger.tag([tagged[0].tokens]) == [tagged[0].tags]


def test_a_string_passed_to_tag_is_a_clear_error(tiny_model):
    with pytest.raises(SeqtagError, match="use tag_text"):
        Tagger.load(tiny_model, device="cpu").tag("The cat sat.")


def test_a_list_of_strings_passed_to_tag_is_a_clear_error(tiny_model):
    """Once tagged one tag per character; now the message says how to fix the call."""
    tagger = Tagger.load(tiny_model, device="cpu")
    with pytest.raises(SeqtagError) as caught:
        tagger.tag(["The cat sat ."])
    assert str(caught.value) == (
        "tag() takes a list of token lists, e.g. [['The', 'cat', 'sat', '.']], and got a list "
        "of strings: split each into tokens, or use tag_text() for running text"
    )
    assert tagger.tag(s.split() for s in ["The cat sat ."]) == tagger.tag(
        [["The", "cat", "sat", "."]]
    )
