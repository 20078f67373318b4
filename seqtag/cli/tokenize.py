"""`seqtag tokenize`: raw text -> CoNLL-U of the treebank's words, nothing tagged (the file a
linguist starts annotating from); `seqtag train-tokenizer`: give a model file a segmenter learned
from a CoNLL-U file (an NER model, or one trained with --no-tokenizer)."""

from __future__ import annotations

import sys

import click

from seqtag.cli.common import (
    encoding_errors_option,
    load_segmenter,
    model_option,
    stderr_console,
    threads_option,
    tokenizer_options,
)
from seqtag.lines import open_lines
from seqtag.segmenter import MAX_EPOCHS


@click.command("tokenize")
@click.argument("input_file", metavar="[FILE|-]", default="-", type=click.Path(allow_dash=True))
@model_option("Model file whose segmenter splits the text (or the rules, --tokenizer rules).")
@tokenizer_options
@encoding_errors_option
def tokenize(input_file, model_file, tokenizer, tokenizer_model, encoding_errors) -> None:
    """Split raw text from FILE or stdin into sentences and words as the model's treebank does,
    and write CoNLL-U with every other column empty (_): the file to annotate new sentences in.

    Each sentence has its # text, multiword tokens their range line (1-2 del) over their words,
    and SpaceAfter=No where the text had no space. Streams as `seqtag tag` does: a sentence
    may run over a line break but never past a blank line.

    \b
      seqtag tokenize -m upos.model new-text.txt > to-annotate.conllu
      cat text.txt | seqtag tokenize -m upos.model --tokenizer rules
    """
    from seqtag.read import Column
    from seqtag.segmenter.engine import raw_sentences
    from seqtag.write import write_sentence

    segmenter = load_segmenter(model_file, tokenizer, tokenizer_model)
    lines = open_lines(input_file, encoding_errors)
    numbered = ((lines.line_number, text) for text in lines)
    sentences = raw_sentences(numbered, segmenter, lines.ready)
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(encoding="utf-8", newline="\n")
    column = Column.parse("upos")
    for sentence in sentences:
        write_sentence(out, sentence, ["_"] * len(sentence.words), "conllu", column)
        if not lines.ready():
            out.flush()


@click.command("train-tokenizer")
@click.argument("train_file", metavar="TRAIN.conllu", type=click.Path(dir_okay=False))
@model_option("Model file to add the segmenter to (any it had is replaced).")
@click.option(
    "--dev",
    "dev_file",
    type=click.Path(dir_okay=False),
    help="CoNLL-U for early stopping [default: a tenth of TRAIN held out].",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--max-epochs",
    type=click.IntRange(1),
    default=MAX_EPOCHS,
    show_default=True,
    help="Upper bound on epochs (each at least 50 batches of 32 windows); training stops "
    "earlier after 3 epochs without a better dev score. seqtag train uses the default.",
)
@threads_option
@encoding_errors_option
@click.option("-q", "--quiet", is_flag=True, help="Nothing on stderr but errors.")
def train_tokenizer(
    train_file, model_file, dev_file, seed, max_epochs, threads, encoding_errors, quiet
):
    """Learn how a treebank splits raw text (sentences, words, multiword tokens) from
    TRAIN.conllu, and store it in the model file: what `seqtag train` does by itself for a
    CoNLL-U training file, for a model that has no segmenter, e.g. an NER model trained on a
    column file, given the UD treebank of its language.

    \b
      seqtag train-tokenizer ud-train.conllu --dev ud-dev.conllu -m ner.model
    """
    from seqtag.device import set_threads
    from seqtag.modelfile import read_metadata
    from seqtag.read import read_conllu
    from seqtag.segmenter.network import train_into
    from seqtag.train import split_dev

    read_metadata(model_file)  # a model file, before minutes of training
    set_threads(threads)

    def read(path: str) -> list:
        return [s for s in read_conllu(open_lines(path, encoding_errors)) if s.words]

    train = read(train_file)
    if dev_file is not None:
        dev = read(dev_file)
    elif len(train) >= 2:
        train, dev = split_dev(train, 0.1, seed)
    else:
        raise click.UsageError("TRAIN.conllu has one sentence: give --dev")
    console = stderr_console(quiet)
    train_into(model_file, train, dev, seed, console.print, max_epochs=max_epochs)
