"""`seqtag tag`: read text in one of the input formats, tag it in chunks and stream it to stdout;
SIGTERM ends the output after the last whole sentence."""

from __future__ import annotations

import contextlib
import signal
import sys

import click

from seqtag.cli.common import (
    TAGGING_DEVICE_HELP,
    device_option,
    encoding_errors_option,
    jobs_option,
    load_segmenter,
    model_option,
    no_tag_dictionary_option,
    read_tagging_input,
    tag_column_option,
    tagging_input_option,
    threads_option,
    tokenizer_options,
)
from seqtag.lines import TAG_CHUNK_SENTENCES, open_lines
from seqtag.read import COLUMN_LAYOUTS, Column
from seqtag.write import OUTPUT_FORMATS


class Terminated(Exception):
    """SIGTERM arrived while tagging; raised only between whole sentences of output."""


class _WholeSentences:
    """SIGTERM ends `tag` cleanly: at once while reading or tagging, but never in the middle of
    writing a chunk, so the output ends with whole sentences (a second SIGTERM does not wait)."""

    def __init__(self) -> None:
        self.writing = False
        self.pending = False

    def _handler(self, _signum, _frame) -> None:
        if self.writing and not self.pending:
            self.pending = True
        else:
            raise Terminated

    @contextlib.contextmanager
    def installed(self):
        previous = signal.signal(signal.SIGTERM, self._handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGTERM, previous)

    @contextlib.contextmanager
    def write(self):
        self.writing = True
        try:
            yield
        finally:
            self.writing = False
        if self.pending:
            raise Terminated


@click.command()
@click.argument("input_file", metavar="[FILE|-]", default="-", type=click.Path(allow_dash=True))
@model_option("Model file from seqtag train.")
@tagging_input_option
@tokenizer_options
@tag_column_option
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(OUTPUT_FORMATS),
    default=None,
    help="conllu; columns (column input written back with its tag field set); tsv (token TAB "
    "tag, blank line between sentences); jsonl (one object a sentence, with entity spans for "
    "an NER model) [default: columns for column input, else conllu].",
)
@click.option(
    "--confidence",
    is_flag=True,
    help="Also write how probable each chosen tag is: for a softmax model its probability (an "
    "ensemble's mean), for a CRF or a model kept to a tag scheme its marginal probability "
    "over all tag paths (forward-backward), not the best path's score. A MISC key in CoNLL-U "
    "(Confidence=0.9731), a last field in columns and tsv (give `eval --pred` --tag-column "
    'for such a file), "confidence" in jsonl; a model '
    "of several columns gives one per column. Calibrated on dev when the model was trained "
    "(seqtag eval reports the calibration error).",
)
@click.option(
    "--top",
    type=click.IntRange(1),
    default=None,
    metavar="K",
    help="With -f jsonl: the K most probable labels of each token with their probabilities "
    '("top"), most probable first; implies --confidence. With a tag dictionary a label it '
    "rules out can be listed (the calibration gives such labels a small probability), though "
    "it is never the tag.",
)
@no_tag_dictionary_option
@device_option(TAGGING_DEVICE_HELP)
@threads_option
@jobs_option(
    "Tag with N worker processes on the CPU, each loading the model once: on N free cores "
    "close to N times the words a second, the same output in input order, streamed. Reading, "
    "raw-text splitting and writing stay in this process."
)
@encoding_errors_option
def tag(
    input_file,
    model_file,
    input_format,
    tokenizer,
    tokenizer_model,
    tag_column,
    output_format,
    confidence,
    top,
    without_tag_dictionary,
    device,
    threads,
    jobs,
    encoding_errors,
) -> None:
    """Tag text from FILE or stdin and write it to stdout, streaming.

    Input is read and tagged in chunks, so memory stays flat and a slow pipe gets answers as
    its lines arrive. CoNLL-U input comes back byte for byte except the model's column.
    SIGTERM stops after the last whole sentence written (exit 143).

    \b
      echo "The cat sat on the mat." | seqtag tag -m upos.model --format tsv
      seqtag tag -m upos.model -i tokenized -f jsonl tokens.txt
      seqtag tag -m upos.model -i conllu test.conllu > tagged.conllu
      seqtag tag -m ner.model -i columns test.txt > tagged.txt
      seqtag tag -m upos.model --confidence -f tsv text.txt
      seqtag tag -m upos.model -f jsonl --top 3 text.txt
      seqtag tag -m upos.model -i tokenized --jobs 4 big.txt > big.conllu
    """
    from seqtag.engine import load_tagger
    from seqtag.parallel import JOB_CHUNK_SENTENCES, TagRequest, tagged_chunks
    from seqtag.write import write_sentence

    if jobs > 1:
        if device == "cuda":
            raise click.UsageError(
                "--jobs N tags with N processes on the CPU: not with --device cuda"
            )
        device = "cpu"

    tagger = load_tagger(model_file, device, threads, tag_dictionary=not without_tag_dictionary)
    segmenter = load_segmenter(model_file, tokenizer, tokenizer_model)
    column = Column.parse(tagger.column)
    lines = open_lines(input_file, encoding_errors)
    sentences, input_format = read_tagging_input(lines, input_format, tag_column, tagger, segmenter)
    if output_format is None:
        output_format = "columns" if input_format in COLUMN_LAYOUTS else "conllu"
    if top is not None and output_format != "jsonl":
        raise click.UsageError("--top K lists labels in JSON: it goes with -f jsonl")
    confidence = confidence or top is not None
    if output_format == "columns" and len(column.names) > 1:
        raise click.UsageError(
            f"the model tags {len(column.names)} columns ({column.spec}) and a column file has "
            "one tag field: choose -f conllu, tsv or jsonl"
        )
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(encoding="utf-8", newline="\n")

    guard = _WholeSentences()
    with_entities = tagger.model_config.scheme is not None
    # only jsonl writes entities, so only it needs their spans' probabilities
    request = TagRequest(confidence, top or 0, spans=with_entities and output_format == "jsonl")
    size = TAG_CHUNK_SENTENCES if jobs == 1 else JOB_CHUNK_SENTENCES
    with guard.installed(), _workers(model_file, jobs, threads, without_tag_dictionary) as pool:
        chunks = _chunks(sentences, lines.ready, size)
        for chunk, predicted, sure in tagged_chunks(chunks, request, tagger, pool):
            with guard.write():
                for sentence, tags, one in zip(chunk, predicted, sure, strict=True):
                    write_sentence(out, sentence, tags, output_format, column, with_entities, one)
                out.flush()


def _chunks(sentences, ready, size: int):
    """Chunks of at most ``size`` sentences, each with whether nothing more can be read yet
    (a slow pipe): then what was read is answered before waiting."""
    chunk = []
    for sentence in sentences:
        chunk.append(sentence)
        waiting = not ready()
        if len(chunk) >= size or waiting:
            yield chunk, waiting
            chunk = []
    if chunk:
        yield chunk, True


@contextlib.contextmanager
def _workers(model_file: str, jobs: int, threads: int, without_tag_dictionary: bool):
    """The worker processes of --jobs, or None for one process."""
    if jobs == 1:
        yield None
        return
    from seqtag.parallel import TaggingPool

    with TaggingPool(model_file, jobs, threads, not without_tag_dictionary) as pool:
        yield pool
