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
