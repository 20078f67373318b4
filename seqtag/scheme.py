"""Tag schemes for spans (named entities): IOB1, IOB2, IOBES (BIOES) and BILOU.

A scheme says how a span's tokens are tagged, and so which tag may follow which. This module
detects the scheme of training tags, finds sequences that break it, repairs them (a span is read
leniently, the way seqeval's default mode reads it, and written back in the scheme), turns tags
into spans for output, and gives the transitions a decoder may use; ``span_scheme`` settles the
scheme a training run learns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seqtag.config import SCHEMES
from seqtag.errors import SeqtagError, counted

if TYPE_CHECKING:
    from seqtag.read import Sentence

__all__ = [
    "SCHEMES",
    "Allowed",
    "Span",
    "allowed_transitions",
    "detect",
    "encode",
    "repair",
    "spans",
]
OUTSIDE = "O"
# The score a decoder adds for a forbidden transition: finite, so 0 * FORBIDDEN and sums stay
# numbers, and far below any real path's score.
FORBIDDEN = -1e4
# Prefixes of each scheme: begin, inside, end, single (IOB1 and IOB2 have no end or single).
_PREFIXES = {
    "iob1": ("B", "I", None, None),
    "iob2": ("B", "I", None, None),
    "iobes": ("B", "I", "E", "S"),
    "bilou": ("B", "I", "L", "U"),
}


@dataclass(frozen=True)
class Allowed:
    """Which tags may start or end a sentence and which may follow which (a scheme's rules),
    as plain booleans: torch (crf.py) and numpy (numpy_engine.py) turn them into penalties."""

    start: Sequence[bool]  # (K,)
    end: Sequence[bool]  # (K,)
    transitions: Sequence[Sequence[bool]]  # (K, K), [from][to]

    @classmethod
    def everything(cls, n_tags: int) -> Allowed:
        every = (True,) * n_tags
        return cls(every, every, (every,) * n_tags)


@dataclass(frozen=True)
class Span:
    start: int  # token offset
    end: int  # exclusive
    label: str


def split_tag(tag: str) -> tuple[str, str | None]:
    """("B", "PER") for B-PER, ("O", None) for O; anything else is (tag, None)."""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BIESLU":
        return tag[0], tag[2:]
    return tag, None


def is_span_labels(labels: Iterable[str]) -> bool:
    """True when every label is O or PREFIX-TYPE, and at least one is not O."""
    labels = list(labels)
    return any(label != OUTSIDE for label in labels) and all(
        label == OUTSIDE or split_tag(label)[1] is not None for label in labels
    )


def detect(sentences_tags: Sequence[Sequence[str]]) -> str | None:
    """The scheme of these tag sequences, or None when they are not span labels.

    E-/S- mean IOBES, L-/U- BILOU. With B- and I- only: IOB1 when spans start with I- and B-
    appears only right after a span of its own type (IOB1's one use of B-), else IOB2.
    """
    labels = {tag for tags in sentences_tags for tag in tags}
    if not is_span_labels(labels):
        return None
    prefixes = {split_tag(label)[0] for label in labels} - {OUTSIDE}
    if prefixes & {"L", "U"}:
        return "bilou"
    if prefixes & {"E", "S"}:
        return "iobes"
    starts_with_inside = b_after_other = False
    for tags in sentences_tags:
        previous = (OUTSIDE, None)
        for tag in tags:
            prefix, kind = split_tag(tag)
            if prefix == "I" and previous[1] != kind:
                starts_with_inside = True
            if prefix == "B" and previous[1] != kind:
                b_after_other = True
            previous = (prefix, kind)
    return "iob1" if starts_with_inside and not b_after_other else "iob2"


def spans(tags: Sequence[str]) -> list[Span]:
    """The spans in a tag sequence of any scheme, read leniently: a span starts at B-, S-, U-,
    or at any tag whose type differs from the one before (an I-X after O starts a span), and
    ends before the next start, O, or after E-/L-/S-/U-."""
    found: list[Span] = []
    start, kind = None, None
    for i, tag in enumerate([*tags, OUTSIDE]):
        prefix, tag_kind = split_tag(tag)
        begins = tag_kind is not None and (prefix in "BSU" or tag_kind != kind or start is None)
        if start is not None and (tag_kind is None or begins):
            found.append(Span(start, i, kind))
            start, kind = None, None
        if begins:
            start, kind = i, tag_kind
        if start is not None and prefix in "ESLU":
            found.append(Span(start, i + 1, kind))
            start, kind = None, None
    return found


def span_neighbours(labels: Sequence[str], first: str, last: str) -> tuple[list[int], list[int]]:
    """For a span whose tags start with ``first`` and end with ``last``: the label ids that,
    before it, would make its first token continue an earlier span, and after it, would
    continue it (as ``spans`` reads tags): the neighbours that make it a different span."""
    prefix, kind = split_tag(first)
    end_prefix, _ = split_tag(last)
    parsed = [split_tag(label) for label in labels]
    before = []
    if prefix not in "BSU":  # an I-X (or E-X) starts a span only where no X span is open
        before = [i for i, (p, k) in enumerate(parsed) if k == kind and p not in "ESLU"]
    after = []
    if end_prefix not in "ESLU":  # an open span goes on into an I-X, E-X or L-X
        after = [i for i, (p, k) in enumerate(parsed) if k == kind and p not in "BSU"]
    return before, after


def encode(found: Sequence[Span], length: int, scheme: str) -> list[str]:
    """Tags for these (non-overlapping) spans in ``scheme``."""
    begin, inside, end, single = _PREFIXES[scheme]
    tags = [OUTSIDE] * length
    previous_end, previous_label = -1, None
    for span in found:
        size = span.end - span.start
        for i in range(span.start, span.end):
            tags[i] = f"{inside}-{span.label}"
        if scheme == "iob1":
            # IOB1 writes B- only where a span follows one of the same type directly.
            if span.start == previous_end and span.label == previous_label:
                tags[span.start] = f"{begin}-{span.label}"
        elif size == 1 and single is not None:
            tags[span.start] = f"{single}-{span.label}"
        else:
            tags[span.start] = f"{begin}-{span.label}"
            if end is not None:
                tags[span.end - 1] = f"{end}-{span.label}"
        previous_end, previous_label = span.end, span.label
    return tags


def invalid_positions(tags: Sequence[str], scheme: str) -> list[int]:
    """Positions where ``tags`` break ``scheme``: re-encoding the spans would change them."""
    repaired = repair(tags, scheme)
    return [i for i, (a, b) in enumerate(zip(tags, repaired, strict=True)) if a != b]


def repair(tags: Sequence[str], scheme: str) -> list[str]:
    """The same spans, read leniently, written validly (IOB2: an I-X that starts a span -> B-X)."""
    return encode(spans(tags), len(tags), scheme)


def allowed_transitions(labels: Sequence[str], scheme: str) -> Allowed:
    """Which label may start or end a sentence and which may follow which, under ``scheme``."""
    begin, inside, end, single = _PREFIXES[scheme]
    parsed = [split_tag(label) for label in labels]
    # A span continues with inside or end of its own type; it is closed after end or single.
    continues = {p for p in (inside, end) if p is not None}
    closes = {p for p in (end, single) if p is not None}
    opens = {begin} | ({single} if single else set())

    def may_start(prefix: str) -> bool:
        if prefix == OUTSIDE:
            return True
        if scheme == "iob1":
            return prefix == inside
        return prefix in opens

    def may_end(prefix: str) -> bool:
        if prefix == OUTSIDE or scheme in ("iob1", "iob2"):
            return True
        return prefix in closes

    def may_follow(a: tuple[str, str | None], b: tuple[str, str | None]) -> bool:
        (pa, ka), (pb, kb) = a, b
        open_span = ka is not None and (pa not in closes)  # a leaves a span open
        if scheme == "iob1":
            if pb == begin:
                return ka == kb  # B- only splits two spans of one type
            return True
        if pb in continues:
            return open_span and ka == kb
        return not open_span or scheme == "iob2"  # IOBES/BILOU: an open span must be closed

    return Allowed(
        tuple(may_start(p) for p, _ in parsed),
        tuple(may_end(p) for p, _ in parsed),
        tuple(tuple(may_follow(a, b) for b in parsed) for a in parsed),
    )


MAX_PLACES = 5  # places of repaired tags a warning names


def span_scheme(
    train_set: list[Sentence],
    requested: str | None,
    fix: bool,
    name: str,
    say: Callable[[str], None],
) -> str | None:
    """The tag scheme to train with (None: plain labels). Tags that break it are made valid
    (official corpora hold a few I-X after O, which other taggers train on), and that is said
    with the first MAX_PLACES places; without ``fix`` (--strict-scheme) they are an error that
    names the first one's line."""
    if requested in (None, "none"):
        return None
    tags = [s.tags for s in train_set]
    if requested != "auto" and not is_span_labels({t for ts in tags for t in ts}):
        raise SeqtagError(
            f"--scheme {requested} needs entity labels (O, B-PER, I-PER, ...); these tags are not",
            name,
        )
    scheme = detect(tags) if requested == "auto" else requested
    if scheme is None:
        return None
    broken = [(s, i) for s in train_set for i in invalid_positions(s.tags, scheme)]
    if not broken:
        return scheme

    def where(sentence, i: int) -> int:
        return sentence.line + (sentence.word_lines[i] if sentence.word_lines else 0)

    sentence, i = broken[0]
    before = f"after {sentence.tags[i - 1]}" if i else "at the start of a sentence"
    if not fix:
        raise SeqtagError(
            f"{sentence.tags[i]} {before} breaks the {scheme} scheme ({counted(len(broken), 'such tag')} "
            "in this file); fix them, leave out --strict-scheme to have them repaired (I-X that "
            "starts an entity becomes B-X), or give the right --scheme",
            name,
            where(sentence, i),
        )
    places = ", ".join(f"{name}:{where(s, i)}" for s, i in broken[:MAX_PLACES])
    more = f" and {len(broken) - MAX_PLACES} more" if len(broken) > MAX_PLACES else ""
    for sentence in {id(s): s for s, _ in broken}.values():
        sentence.tags = repair(sentence.tags, scheme)
    say(
        f"Warning: repaired {counted(len(broken), 'tag')} that broke the {scheme} scheme (I-X "
        f"that starts an entity became B-X): {places}{more}; --strict-scheme stops instead."
    )
    return scheme


def conllu_column_for(labels: list[str]) -> str:
    """Where a model trained on a column file writes CoNLL-U: entity tags go to MISC NER=,
    anything else to XPOS (the language-specific tag); --column says otherwise."""
    return "misc:NER" if is_span_labels(labels) else "xpos"
