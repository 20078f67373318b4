"""`seqtag select`: the sentences of a pool to annotate next, written ready to annotate."""

from __future__ import annotations

import sys

import click

from seqtag.cli.common import (
    TAGGING_DEVICE_HELP,
    device_option,
    encoding_errors_option,
    load_segmenter,
    model_option,
    read_tagging_input,
    tag_column_option,
    tagging_input_option,
    threads_option,
    tokenizer_options,
)
from seqtag.errors import counted
from seqtag.lines import open_lines
from seqtag.read import COLUMN_LAYOUTS, Column, read_labeled
from seqtag.select import STRATEGIES


@click.command("select")
@click.argument("pool_file", metavar="POOL", type=click.Path(allow_dash=True))
@model_option("Model file from seqtag train: the tagger whose doubts choose.")
@click.option("-n", "count", type=click.IntRange(1), help="How many sentences to choose.")
@click.option(
    "--budget-tokens",
    type=click.IntRange(1),
    help="Instead of -n: as many sentences as fit in this many tokens, in ranking order "
    "(one that would overrun the budget is passed over for the next).",
)
@click.option(
    "--strategy",
    type=click.Choice(STRATEGIES),
    default="least-confidence",
    show_default=True,
    help="How unsure the model is of a token: least-confidence (1 - the chosen tag's "
    "probability), margin (1 - best minus second best), entropy (of the label distribution, "
    "scaled to 0-1), disagreement (the share of an ensemble's members that tag it otherwise), "
    "random (the baseline). A sentence scores the mean over its tokens.",
)
@click.option(
    "--exclude",
    "exclude_file",
    type=click.Path(),
    help="Training file (CoNLL-U or columns): its sentences are never chosen again.",
)
@click.option(
    "--keep-order",
    is_flag=True,
    help="Write the chosen sentences in pool order rather than most uncertain first.",
)
@tagging_input_option
@tokenizer_options
@tag_column_option
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(["conllu", "columns"]),
    default="conllu",
    show_default=True,
    help="conllu: each chosen sentence with a comment giving its rank and score; columns "
    "(a column pool): as the pool writes them, with no comments.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of --strategy random.")
@device_option(TAGGING_DEVICE_HELP)
@threads_option
@encoding_errors_option
def select(
    pool_file,
    model_file,
    count,
    budget_tokens,
    strategy,
    exclude_file,
    keep_order,
    input_format,
    tokenizer,
    tokenizer_model,
    tag_column,
    output_format,
    seed,
    device,
    threads,
    encoding_errors,
) -> None:
    """Choose the sentences of POOL to annotate next: those the model is least sure of.

    POOL holds unlabeled sentences (raw text, one tokenized sentence a line, CoNLL-U or a
    column file, told apart as `seqtag tag` does). Each is tagged and scored by how unsure the
    model is of its tokens, on average, so long sentences are not favoured; exact duplicates
    are scored once. The chosen ones are written to stdout as CoNLL-U with the model's tags
    filled in, ready to correct, and a summary goes to stderr. Train again on the corrected
    sentences (with --exclude TRAIN next time, so none is chosen twice).

    \b
      seqtag select -m upos.model pool.txt -n 50 > batch1.conllu
      seqtag select -m upos.model pool.conllu --budget-tokens 2000 --exclude train.conllu
      seqtag select -m ner.model pool.txt -n 100 --strategy margin -f columns
    """
    from seqtag.engine import load_tagger
    from seqtag.select import select as choose
    from seqtag.write import column_lines, conllu_lines

    if (count is None) == (budget_tokens is None):
        raise click.UsageError("give exactly one of -n and --budget-tokens")
    tagger = load_tagger(model_file, device, threads)
    segmenter = load_segmenter(model_file, tokenizer, tokenizer_model)
    column = Column.parse(tagger.column)
    lines = open_lines(pool_file, encoding_errors)
    pool, input_format = read_tagging_input(lines, input_format, tag_column, tagger, segmenter)
    if output_format == "columns" and input_format not in COLUMN_LAYOUTS:
        raise click.UsageError("-f columns writes a column pool back: the pool is not one")
    exclude = []
    if exclude_file is not None:
        exclude, _ = read_labeled(exclude_file, column, encoding_errors)
    selection = choose(tagger, pool, strategy, count, budget_tokens, exclude, seed)
    if selection.pool == selection.empty:
        click.echo(f"Warning: {lines.name} holds no sentences to choose from.", err=True)
    chosen = selection.chosen
    ranks = {id(c): rank for rank, c in enumerate(chosen, start=1)}
    if keep_order:
        chosen = sorted(chosen, key=lambda c: c.position)
    out = sys.stdout
    for candidate in chosen:
        if output_format == "columns":
            lines_out = column_lines(candidate.sentence, candidate.tags)
        else:
            comment = (
                f"# selected = rank {ranks[id(candidate)]} of {len(selection.chosen)} by "
                f"{strategy}, score {candidate.score:.4f}, pool sentence {candidate.position + 1}"
            )
            lines_out = [comment, *conllu_lines(candidate.sentence, candidate.tags, column)]
        out.write("\n".join(lines_out) + "\n\n")
    tokens = sum(len(c.sentence.words) for c in chosen)
    mean = sum(c.score for c in chosen) / len(chosen) if chosen else 0.0
    skipped = [
        counted(n, what)
        for n, what in (
            (selection.duplicates, "duplicate"),
            (selection.excluded, "training sentence"),
            (selection.empty, "empty sentence"),
        )
        if n
    ]
    click.echo(
        f"Selected {counted(len(chosen), 'sentence')} ({counted(tokens, 'token')}) of "
        f"{counted(selection.pool, 'pool sentence')} by {strategy}: mean score {mean:.4f}, "
        f"pool mean {selection.mean_score:.4f}"
        + (f"; left out {', '.join(skipped)}" if skipped else "")
        + ".",
        err=True,
    )
