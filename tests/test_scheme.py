"""Tag schemes: detection, spans, encoding, repair, and the transitions a decoder may use,
checked against each other with hypothesis (what encode writes is valid and reads back)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtag.scheme import (
    SCHEMES,
    Span,
    allowed_transitions,
    detect,
    encode,
    invalid_positions,
    is_span_labels,
    repair,
    spans,
)

TYPES = ["PER", "LOC", "ORG"]


def labels_of(scheme: str) -> list[str]:
    prefixes = {"iob1": "BI", "iob2": "BI", "iobes": "BIES", "bilou": "BILU"}[scheme]
    return ["O"] + [f"{p}-{t}" for t in TYPES for p in prefixes]


@st.composite
def span_sets(draw):
    """Non-overlapping spans over a sentence, adjacent ones included."""
    length = draw(st.integers(1, 12))
    found, position = [], 0
    while position < length:
        gap = draw(st.integers(0, 2))
        size = draw(st.integers(1, 3))
        start = position + gap
        if start + size > length:
            break
        found.append(Span(start, start + size, draw(st.sampled_from(TYPES))))
        position = start + size
    return found, length


@settings(max_examples=300, deadline=None)
@given(span_sets(), st.sampled_from(SCHEMES))
def test_encoded_spans_read_back_are_valid_and_allowed(case, scheme):
    found, length = case
    tags = encode(found, length, scheme)
    assert spans(tags) == found
    assert invalid_positions(tags, scheme) == []
    labels = labels_of(scheme)
    allowed = allowed_transitions(labels, scheme)
    index = {label: i for i, label in enumerate(labels)}
    assert allowed.start[index[tags[0]]]
    assert allowed.end[index[tags[-1]]]
    for a, b in itertools.pairwise(tags):
        assert allowed.transitions[index[a]][index[b]], (a, b, tags)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(labels_of("iobes")), min_size=1, max_size=10), st.sampled_from(SCHEMES)
)
def test_repair_of_any_sequence_is_valid_and_keeps_its_spans(tags, scheme):
    fixed = repair(tags, scheme)
    assert invalid_positions(fixed, scheme) == []
    assert spans(fixed) == spans(tags)


def test_allowed_transitions_forbid_exactly_the_invalid_pairs_in_iob2():
    labels = labels_of("iob2")
    allowed = allowed_transitions(labels, "iob2")
    forbidden = {
        (labels[i], labels[j])
        for i in range(len(labels))
        for j in range(len(labels))
        if not allowed.transitions[i][j]
    }
    assert ("O", "I-PER") in forbidden and ("B-LOC", "I-PER") in forbidden
    assert ("B-PER", "I-PER") not in forbidden and ("I-PER", "B-PER") not in forbidden
    assert all(b.startswith("I-") for _, b in forbidden)
    assert [label for label, ok in zip(labels, allowed.start, strict=True) if not ok] == [
        "I-PER", "I-LOC", "I-ORG",
    ]  # fmt: skip


def test_iobes_must_close_what_it_opens():
    labels = labels_of("iobes")
    allowed = allowed_transitions(labels, "iobes")
    i = labels.index
    assert not allowed.transitions[i("B-PER")][i("O")]
    assert not allowed.transitions[i("I-PER")][i("S-LOC")]
    assert allowed.transitions[i("E-PER")][i("S-LOC")]
    assert not allowed.end[i("B-PER")] and allowed.end[i("E-PER")]


@pytest.mark.parametrize(
    "tags, scheme",
    [
        ([["B-PER", "I-PER", "O", "B-LOC"]], "iob2"),
        ([["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]], "iob1"),
        ([["B-PER", "E-PER", "S-LOC"]], "iobes"),
        ([["U-PER", "O"], ["B-LOC", "L-LOC"]], "bilou"),
        ([["O", "I-PER", "B-LOC"]], "iob2"),  # B- after O is not IOB1: an IOB2 file with a slip
        ([["NOUN", "VERB"]], None),
        ([["O", "O"]], None),
    ],
)
def test_detect(tags, scheme):
    assert detect(tags) == scheme


def test_spans_are_read_leniently_like_seqeval_default_mode():
    assert spans(["O", "I-PER", "I-PER", "B-PER", "I-LOC"]) == [
        Span(1, 3, "PER"), Span(3, 4, "PER"), Span(4, 5, "LOC"),
    ]  # fmt: skip
    assert spans(["B-PER", "E-PER", "E-PER"]) == [Span(0, 2, "PER"), Span(2, 3, "PER")]


def test_an_inside_tag_that_starts_a_span_is_invalid_in_iob2_and_repaired_to_begin():
    tags = ["O", "I-PER", "I-PER", "O"]
    assert invalid_positions(tags, "iob2") == [1]
    assert repair(tags, "iob2") == ["O", "B-PER", "I-PER", "O"]
    assert invalid_positions(tags, "iob1") == []


def test_is_span_labels():
    assert is_span_labels(["O", "B-PER"])
    assert not is_span_labels(["O"])
    assert not is_span_labels(["NOUN", "B-PER"])


def test_span_scheme_repairs_and_names_the_first_places_of_many():
    from seqtag.read import Sentence
    from seqtag.scheme import MAX_PLACES, span_scheme

    train = [
        Sentence(["a", "b"], ["O", "I-PER"], line=3 * n + 1, word_lines=[0, 1])
        for n in range(MAX_PLACES + 2)
    ]
    train.append(Sentence(["c", "d"], ["B-LOC", "I-LOC"], line=100))
    said = []
    assert span_scheme(train, "auto", True, "t.txt", said.append) == "iob2"
    assert all(s.tags == ["O", "B-PER"] for s in train[:-1])
    assert said == [
        f"Warning: repaired {MAX_PLACES + 2} tags that broke the iob2 scheme (I-X that starts an "
        "entity became B-X): t.txt:2, t.txt:5, t.txt:8, t.txt:11, t.txt:14 and 2 more; "
        "--strict-scheme stops instead."
    ]
