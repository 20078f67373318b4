"""Segment raw text with numpy alone: the network of ``network.SegmenterNetwork`` without torch,
and the streaming splitter that `seqtag tag -i raw` reads sentences from.

``Segmenter.segment`` labels many texts at once: all their windows (segmenter.windows) run as
one batch through the stacked recurrences of numpy_engine.Recurrence, so a line of twenty
characters and a paragraph of twenty thousand cost about the same per character.

``LearnedSplitter`` feeds on lines as tokenize.SentenceSplitter does: a sentence may run over a
line break but never past a blank line, and a line whose end the segmenter marks as a
sentence end is answered before the next line is read. The text after the last sentence end
of a line waits for the next line and is segmented again with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from seqtag.errors import SeqtagError
from seqtag.modelfile import SEGMENTER, read_metadata
from seqtag.numpy_engine import Recurrence, both_directions, reversal_rows, reversed_within
from seqtag.read import Sentence
from seqtag.segmenter import Characters, SegmenterConfig, Span, decode, windows
from seqtag.segmenter.examples import Multiwords
from seqtag.tokenize import CLOSERS, MAX_SENTENCE_TOKENS, ends_sentence
from seqtag.tokenize import split_sentences as split_by_rules

BATCH_WINDOWS = 256
# Text waiting for a sentence end is cut here (as tokenize.MAX_SENTENCE_TOKENS cuts tokens),
# so memory and the work of segmenting it again stay bounded on any input.
MAX_PENDING_CHARS = 5_000


class Segmenter:
    def __init__(
        self,
        config: SegmenterConfig,
        characters: Characters,
        multiwords: Multiwords,
        weights: dict[str, np.ndarray],
        sentence_rules: bool = False,
    ):
        self.config, self.characters, self.multiwords = config, characters, multiwords
        # Sentence ends by the rules over the learned tokens (the training file had too few
        # inside its paragraphs to learn them from: network.MIN_INNER_SENTENCE_ENDS).
        self.sentence_rules = sentence_rules
        try:
            self.char_embed = weights["char_embed.weight"]
            self.category_embed = weights["category_embed.weight"]
            self.layers = [Recurrence(layer, weights) for layer in config.layers_of()]
            self.output_weight = np.ascontiguousarray(weights["output.weight"].T)
            self.output_bias = weights["output.bias"]
        except KeyError as error:
            raise SeqtagError(f"damaged seqtag model file: no segmenter weight {error}") from None

    @classmethod
    def from_model(cls, metadata: dict, weights: dict[str, np.ndarray]) -> Segmenter | None:
        """The segmenter a model file holds (its ``segmenter`` metadata and the weights named
        segmenter.*), or None."""
        found = metadata.get("segmenter")
        if found is None:
            return None
        try:
            config = SegmenterConfig(**found["config"])
            characters = Characters(dict(found["characters"]))
            multiwords = Multiwords(
                dict(found["multiwords"]), dict(found.get("multiword_rules", {}))
            )
        except (KeyError, TypeError, ValueError) as error:
            raise SeqtagError(f"damaged seqtag model file: bad segmenter ({error})") from None
        own = {k[len(SEGMENTER) :]: v for k, v in weights.items() if k.startswith(SEGMENTER)}
        return cls(config, characters, multiwords, own, found.get("sentences") == "rules")

    def labels(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each character's label (examples.INSIDE, TOKEN_END, SENTENCE_END) in each text."""
        c = self.config
        pieces, where = [], []
        for t, text in enumerate(texts):
            chars, categories = self.characters.encode(text)
            for start, end, core, core_end in windows(len(text), c.window, c.context):
                pieces.append((chars[start:end], categories[start:end]))
                where.append((t, start, core, core_end))
        labels = [np.zeros(len(text), dtype=np.int64) for text in texts]
        for first in range(0, len(pieces), BATCH_WINDOWS):
            found = self._label_windows(pieces[first : first + BATCH_WINDOWS])
            for row, (t, start, core, core_end) in enumerate(where[first : first + BATCH_WINDOWS]):
                labels[t][core:core_end] = found[core - start : core_end - start, row]
        return labels

    def _label_windows(self, pieces: Sequence[tuple[list[int], list[int]]]) -> np.ndarray:
        """(T, B) labels of a batch of windows (time-major; padding rows are meaningless)."""
        lengths = np.array([len(p[0]) for p in pieces])
        T, B = int(lengths.max()), len(pieces)
        chars = np.zeros((T, B), dtype=np.int64)
        categories = np.zeros((T, B), dtype=np.int64)
        for row, (c, k) in enumerate(pieces):
            chars[: len(c), row] = c
            categories[: len(k), row] = k
        x = np.concatenate([self.char_embed[chars], self.category_embed[categories]], axis=-1)
        rows = reversal_rows(lengths, T)
        for layer in self.layers:
            out = layer(both_directions(x.astype(np.float32, copy=False), rows))  # (2, T, B, H)
            x = np.concatenate([out[0], reversed_within(out[1], rows)], axis=-1)
        scores = np.matmul(x, self.output_weight) + self.output_bias
        return scores.argmax(-1)

    def segment(self, texts: Sequence[str]) -> list[list[Span]]:
        found = [decode(text, y) for text, y in zip(texts, self.labels(texts), strict=True)]
        if self.sentence_rules:
            found = [
                rule_sentence_ends(text, spans) for text, spans in zip(texts, found, strict=True)
            ]
        return found

    def sentence(self, text: str, spans: Sequence[Span], line: int) -> Sentence:
        """A Sentence of the tokens ``spans`` of ``text`` (multiword tokens expanded)."""
        words: list[str] = []
        space_after: list[bool] = []
        multiword: list[tuple[int, int, str]] = []
        start = spans[0].start
        for i, span in enumerate(spans):
            form = text[span.start : span.end]
            expanded = self.multiwords.expand(form) if span.multiword else [form]
            if len(expanded) > 1:
                multiword.append((len(words), len(words) + len(expanded) - 1, form))
            words.extend(expanded)
            space = i + 1 < len(spans) and spans[i + 1].start > span.end
            space_after.extend([False] * (len(expanded) - 1) + [space or i + 1 == len(spans)])
        return Sentence(
            words,
            line=line,
            text=text[start : spans[-1].end],
            space_after=space_after,
            multiword=multiword or None,
        )


def rule_sentence_ends(text: str, spans: Sequence[Span]) -> list[Span]:
    """The spans with sentence ends where seqtag's rules put them (tokenize.ends_sentence; a
    closing quote or bracket with no space before it stays with the sentence it closes)."""
    forms = [text[s.start : s.end] for s in spans]
    ends = [False] * len(spans)
    i = 0
    while i < len(spans):
        if ends_sentence(forms, i):
            while (
                i + 1 < len(spans)
                and forms[i + 1] in CLOSERS
                and spans[i + 1].start == spans[i].end
            ):
                i += 1
            ends[i] = True
        i += 1
    return [dataclasses.replace(s, sentence_end=end) for s, end in zip(spans, ends, strict=True)]


def read_segmenter(path: str | Path) -> Segmenter | None:
    """The segmenter a model file holds, or None; only its own weights are read."""
    from safetensors import SafetensorError, safe_open

    name = str(path)
    metadata = read_metadata(path)
    if "segmenter" not in metadata:
        return None
    try:
        with safe_open(name, framework="numpy") as handle:
            weights = {
                key: handle.get_tensor(key)
                for key in handle.keys()  # noqa: SIM118
                if key.startswith(SEGMENTER)
            }
    except (SafetensorError, OSError, RuntimeError) as error:
        raise SeqtagError(
            f"damaged seqtag model file: weights do not load ({error})", name
        ) from None
    try:
        return Segmenter.from_model(metadata, weights)
    except SeqtagError as error:
        raise SeqtagError(error.message, name) from None


class LearnedSplitter:
    """Feeds on lines, hands out sentences as the segmenter finds them complete."""

    def __init__(self, segmenter: Segmenter) -> None:
        self.segmenter = segmenter
        self._pending = ""  # text of the current paragraph after its last sentence end
        self._line = 0  # where the pending text started

    def feed_many(self, lines: Sequence[tuple[int, str]]) -> Iterator[Sentence]:
        """Sentences completed by these lines (numbered), segmented in one batch: the lines
        of a paragraph are one text, a blank line ends it."""
        paragraphs: list[tuple[str, list[tuple[int, int]], bool]] = []  # text, line starts, ended
        text, starts = self._pending, ([(0, self._line)] if self._pending else [])
        for number, line in lines:
            if not line.strip():
                if text:
                    paragraphs.append((text, starts, True))
                text, starts = "", []
                continue
            if text:
                text += " "  # a line break inside a paragraph is a space between words
            starts.append((len(text), number))
            text += line.replace("\t", " ")
        self._pending = ""
        if text:
            paragraphs.append((text, starts, False))
        segmented = self.segmenter.segment([p[0] for p in paragraphs])
        for (text, starts, ended), spans in zip(paragraphs, segmented, strict=True):
            yield from self._sentences(text, starts, spans, ended)

    def _sentences(self, text, starts, spans, ended) -> Iterator[Sentence]:
        begin = 0
        for i, span in enumerate(spans):
            last = i + 1 == len(spans)
            if span.sentence_end or (last and ended) or i + 1 - begin >= MAX_SENTENCE_TOKENS:
                line = _line_at(starts, spans[begin].start)
                yield self.segmenter.sentence(text, spans[begin : i + 1], line)
                begin = i + 1
        if begin < len(spans):
            rest_start = spans[begin].start
            rest = text[rest_start:]
            if len(rest) > MAX_PENDING_CHARS:  # run-on text with no sentence end: cut it
                yield self.segmenter.sentence(text, spans[begin:], _line_at(starts, rest_start))
                return
            self._pending = rest
            self._line = _line_at(starts, rest_start)

    def flush(self) -> Iterator[Sentence]:
        if self._pending:
            yield from self.feed_many([(self._line, "")])


def _line_at(starts: Sequence[tuple[int, int]], offset: int) -> int:
    """The number of the line that holds character ``offset`` of a paragraph."""
    line = starts[0][1] if starts else 0
    for start, number in starts:
        if start > offset:
            break
        line = number
    return line


def split_sentences(
    segmenter: Segmenter, lines: Iterable[tuple[int, str]], ready=lambda: False, most: int = 512
) -> Iterator[Sentence]:
    """Sentences from numbered raw-text lines; the lines that ``ready()`` says can be read
    without waiting (up to ``most``) are segmented together."""
    splitter = LearnedSplitter(segmenter)
    batch: list[tuple[int, str]] = []
    for numbered in lines:
        batch.append(numbered)
        if len(batch) >= most or not ready():
            yield from splitter.feed_many(batch)
            batch = []
    if batch:
        yield from splitter.feed_many(batch)
    yield from splitter.flush()


def raw_sentences(
    lines: Iterable[tuple[int, str]], segmenter: Segmenter | None = None, ready=lambda: True
) -> Iterator[Sentence]:
    """Sentences from numbered raw-text lines: split by the ``segmenter`` a model learned from
    its treebank, or by seqtag's rules (tokenize.split_sentences) without one. ``ready()`` says
    whether more lines can be read without waiting (a pipe)."""
    if segmenter is None:
        return split_by_rules(lines)
    return split_sentences(segmenter, lines, ready=ready)
