"""Tagging with several worker processes (`seqtag tag --jobs N`), answers in input order.

Each worker loads the model file once (numpy engine, its own thread count) and tags the chunks
of sentences it is sent; the caller reads, splits and writes. At most two chunks a worker are in
flight, so memory stays flat however long the input; ``drain`` lets a caller answer every
sentence read so far before it waits on a slow pipe, so streaming works as with one process.
Workers are started with ``spawn`` (no state copied from the caller) and ignore Ctrl-C, which
the caller handles; only the words of each sentence travel to them.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from seqtag.errors import SeqtagError
from seqtag.read import Sentence
from seqtag.signals import children_ignore_ctrl_c

IN_FLIGHT_PER_WORKER = 2
# Sentences a worker is sent at a time: small enough that the workers share out even a short
# input (en_ewt train is 13 chunks), large enough that batching by length still pays. Tried on
# en_ewt train with 2 workers on 2 cores: 512 took 4.86 s, 1024 4.51 s, 2048 4.45 s (2 runs).
JOB_CHUNK_SENTENCES = 1024


@dataclass(frozen=True)
class TagRequest:
    """How to tag: the model's tags alone, or with confidence (top labels, entity spans)."""

    confidence: bool = False
    top: int = 0
    spans: bool = False


def tag_chunk(tagger, chunk: Sequence[Sentence], request: TagRequest) -> tuple[list, list]:
    """The tags of each sentence and, with confidence, each one's predict.Confident (else
    None for each)."""
    if request.confidence:
        confident = tagger.with_confidence(chunk, request.top, spans=request.spans)
        return [c.tags for c in confident], confident
    return tagger(chunk), [None] * len(chunk)


_tagger: Any = None  # the worker's model


def _load(model_file: str, threads: int, tag_dictionary: bool) -> None:
    global _tagger
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's (see TaggingPool)
    from seqtag.device import set_blas_threads

    set_blas_threads(threads)  # before numpy loads, which load_tagger's module does
    from seqtag.engine import load_tagger

    _tagger = load_tagger(model_file, "cpu", threads, tag_dictionary=tag_dictionary)


def _tag(words: list[list[str]], request: TagRequest) -> tuple[list, list]:
    return tag_chunk(_tagger, [Sentence(w) for w in words], request)


class TaggingPool:
    """``jobs`` worker processes tagging with one model file; results in submission order."""

    def __init__(self, model_file: str, jobs: int, threads: int, tag_dictionary: bool = True):
        import multiprocessing

        self.jobs = jobs
        self._executor = ProcessPoolExecutor(
            jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load,
            initargs=(os.fspath(model_file), threads, tag_dictionary),
        )
        self._pending: deque[tuple[list[Sentence], Future]] = deque()

    def submit(self, chunk: list[Sentence], request: TagRequest) -> Iterator[tuple]:
        """Send a chunk to the workers; yields the chunks (sentences, tags, confidences) done
        by then, in order, waiting for the oldest only while too many are in flight."""
        try:
            with children_ignore_ctrl_c():  # workers start inside submit
                future = self._executor.submit(_tag, [s.words for s in chunk], request)
        except BrokenProcessPool:
            raise _broken() from None
        self._pending.append((chunk, future))
        while self._pending and (
            len(self._pending) > self.jobs * IN_FLIGHT_PER_WORKER or self._pending[0][1].done()
        ):
            yield self._done()

    def drain(self) -> Iterator[tuple]:
        """Every chunk still in flight, in order, waiting for each."""
        while self._pending:
            yield self._done()

    def _done(self) -> tuple:
        chunk, future = self._pending.popleft()
        try:
            tags, confident = future.result()
        except BrokenProcessPool:
            raise _broken() from None
        return chunk, tags, confident

    def close(self) -> None:
        """Stop the workers; chunks not yet tagged are dropped."""
        for _, future in self._pending:
            future.cancel()
        self._pending.clear()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> TaggingPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _broken() -> SeqtagError:
    return SeqtagError(
        "a tagging worker process stopped unexpectedly (out of memory, or killed); try fewer --jobs"
    )


def tagged_chunks(
    chunks: Iterable[tuple[list[Sentence], bool]],
    request: TagRequest,
    tagger=None,
    pool: TaggingPool | None = None,
) -> Iterator[tuple]:
    """(sentences, tags, confidences) of each chunk, in order, tagged by the ``pool`` or else
    here by the ``tagger``. Each chunk comes with whether every sentence read so far must be
    answered before the next chunk is read (a pipe with nothing more to read yet)."""
    for chunk, answer_all in chunks:
        if pool is None:
            yield chunk, *tag_chunk(tagger, chunk, request)
            continue
        yield from pool.submit(chunk, request)
        if answer_all:
            yield from pool.drain()
    if pool is not None:
        yield from pool.drain()
