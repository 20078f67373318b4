"""`seqtag eval`: score a model, or a predictions file, against gold tags, and print the scores
as rich tables on stdout or as one JSON object."""

from __future__ import annotations

import json

import click

from seqtag.cli.common import (
    TAGGING_DEVICE_HELP,
    device_option,
    encoding_errors_option,
    input_format_option,
    load_segmenter,
    model_option,
    no_tag_dictionary_option,
    tag_column_option,
    threads_option,
    tokenizer_options,
)
from seqtag.errors import counted
from seqtag.read import Column, read_labeled


@click.command("eval")
@click.argument("gold_file", metavar="GOLD.conllu", type=click.Path(allow_dash=True))
@model_option("Tag the gold words with this model and score it.", required=False)
@click.option(
    "--pred",
    "pred_file",
    type=click.Path(),
    help="Score this predictions file (CoNLL-U, same words as gold) instead of a model.",
)
@click.option(
    "--column",
    default=None,
    help="CoNLL-U column to score with --pred [default: upos]; with -m it is the model's column.",
)
@input_format_option
@tag_column_option
@click.option(
    "--train",
    "train_file",
    type=click.Path(),
    help="With --pred: training file whose words count as known, for the known/unseen split.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option(
    "--confusion",
    is_flag=True,
    help="Also the confusions: a table of the ten most frequent (gold label, predicted label, "
    'tokens); with --json, every confusion under "confusions", most frequent first.',
)
@click.option(
    "--raw",
    is_flag=True,
    help="With -m: tag GOLD's plain text (each sentence's # text, a paragraph a line) as `seqtag "
    "tag -i raw` would, and score tokens, sentences, words and tags as the CoNLL 2018 shared "
    "task does (words aligned through their characters): what a user piping text gets.",
)
@tokenizer_options
@no_tag_dictionary_option
@device_option(TAGGING_DEVICE_HELP)
@threads_option
@encoding_errors_option
def evaluate(
    gold_file,
    model_file,
    pred_file,
    column,
    input_format,
    tag_column,
    train_file,
    as_json,
    confusion,
    raw,
    tokenizer,
    tokenizer_model,
    without_tag_dictionary,
    device,
    threads,
    encoding_errors,
) -> None:
    """Score a model, or a predictions file, against gold CoNLL-U or a column file.

    Prints accuracy, accuracy on words seen in training vs unseen ones, and per-label
    precision/recall/F1. Entity labels (IOB1, IOB2, IOBES, BILOU) also get entity-level scores
    from seqeval: micro precision/recall/F1 in its default (lenient) mode, macro F1, per entity
    type, and the same in strict mode. A model is also scored on how well its confidence
    (`seqtag tag --confidence`) is calibrated: the expected calibration error over 15 bins of
    equal width (the mean gap between confidence and accuracy of each token's bin). With
    --json, one object with accuracy, known_accuracy, unknown_accuracy, per_label, calibration
    (ece, bins, and the reliability table: per bin its tokens, mean confidence and accuracy)
    and, for entities, precision, recall, f1 (micro, default mode), macro_f1, per_type and
    strict; for a model of several columns these are per column, under columns.

    \b
      seqtag eval -m upos.model test.conllu
      seqtag eval --pred predicted.conllu --train train.conllu test.conllu --json | jq .accuracy
      seqtag eval -m ner.model test.txt --json | jq .f1
      seqtag eval -m upos.model test.conllu --confusion
      seqtag eval -m upos.model test.conllu --raw
    """
    from seqtag.engine import load_tagger
    from seqtag.evaluate import check_aligned, score, score_columns

    def read(path: str):
        return read_labeled(path, parsed_column, encoding_errors, input_format, tag_column)

    if (model_file is None) == (pred_file is None):
        raise click.UsageError("give exactly one of -m/--model or --pred")
    if without_tag_dictionary and not model_file:
        raise click.UsageError("--no-tag-dictionary goes with -m/--model")
    if train_file and not pred_file:
        raise click.UsageError("--train goes with --pred; a model knows its own training words")
    if raw:
        if model_file is None:
            raise click.UsageError("--raw tags GOLD's text with a model: give -m/--model")
        tagger = load_tagger(model_file, device, threads, tag_dictionary=not without_tag_dictionary)
        segmenter = load_segmenter(model_file, tokenizer, tokenizer_model)
        _score_raw(gold_file, tagger, segmenter, encoding_errors, as_json)
        return
    if model_file:
        tagger = load_tagger(model_file, device, threads, tag_dictionary=not without_tag_dictionary)
        if column is not None and column != tagger.column:
            raise click.UsageError(
                f"the model tags column {tagger.column}; --column {column} would score it "
                "against another column (drop --column, or use --pred)"
            )
        parsed_column = Column.parse(tagger.column)
        gold, gold_format = read(gold_file)
        confident = tagger.with_confidence(gold)
        predicted = [c.tags for c in confident]
        # Known: has its own word embedding (the lowercased form's, for a --lowercase model).
        word_vocab, lowercase = tagger.vocabularies.words, tagger.model_config.lowercase
        is_known = lambda word: (word.lower() if lowercase else word) in word_vocab  # noqa: E731
        known_labels = [labels.to_list() for labels in tagger.vocabularies.label_sets]
    else:
        confident = None
        parsed_column = Column.parse(column or "upos")
        gold, gold_format = read(gold_file)
        pred_sentences, _ = read(pred_file)
        check_aligned(gold, pred_sentences, gold_file, pred_file)
        predicted = [s.tags for s in pred_sentences]
        is_known = known_labels = None
        if train_file:
            known_words = {w for s in read(train_file)[0] for w in s.words}
            is_known = known_words.__contains__
    scored = parsed_column.spec if gold_format == "conllu" else f"{gold_format} tags"
    names = parsed_column.names
    if len(names) == 1:
        labels = None if known_labels is None else known_labels[0]
        scores = {"column": scored, **score(gold, predicted, is_known, labels)}
        per_column = {scored: scores}
    else:
        scores = {"column": scored, **score_columns(gold, predicted, names, is_known, known_labels)}
        per_column = scores["columns"]
    if confident is not None:
        for c, column_scores in enumerate(per_column.values()):
            column_scores["calibration"] = calibration_of(gold, confident, c, len(names))
    for name, column_scores in per_column.items():
        if column_scores["unseen_labels"]:
            what = "gold labels" if len(names) == 1 else f"gold {name} labels"
            click.echo(
                f"Warning: {what} the model never saw in training: "
                f"{', '.join(column_scores['unseen_labels'])}; their tokens count as errors.",
                err=True,
            )
    if not confusion:
        for column_scores in (scores, *per_column.values()):
            column_scores.pop("confusions", None)
    if as_json:
        click.echo(json.dumps(scores, ensure_ascii=False, indent=None))
        return
    if len(names) > 1:
        click.echo(
            f"{scored}: {counted(scores['sentences'], 'sentence')}, {counted(scores['tokens'], 'token')}; "
            f"all {len(names)} columns right: {scores['accuracy']:.4f} (known words "
            f"{scores['known_accuracy']:.4f}, unseen {scores['unknown_accuracy']:.4f})"
        )
    for name, column_scores in per_column.items():
        _print_scores({"column": name, **column_scores})


TOP_CONFUSIONS = 10  # confusions the table shows


def _score_raw(gold_file, tagger, segmenter, encoding_errors, as_json) -> None:
    """eval --raw: tag gold's plain text and score it as the CoNLL 2018 shared task does."""
    from rich.console import Console
    from rich.table import Table

    from seqtag import rawscore
    from seqtag.segmenter.engine import raw_sentences

    column = Column.parse(tagger.column)
    gold, gold_format = read_labeled(gold_file, column, encoding_errors, "auto", None)
    if gold_format != "conllu":
        raise click.UsageError("--raw needs gold CoNLL-U: a column file has no text to tag")
    text = rawscore.plain_text(gold)
    sentences = list(raw_sentences(enumerate(text.splitlines(), start=1), segmenter))
    tags = tagger(sentences)
    scores = rawscore.score(
        rawscore.gold_spans(gold), rawscore.system_spans(sentences, tags), gold_file
    )
    scores = {
        "column": column.spec,
        "tokenizer": "rules" if segmenter is None else "model",
        **scores,
    }
    if as_json:
        click.echo(json.dumps(scores, ensure_ascii=False))
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"{gold_file} from raw text ({scores['tokenizer']} tokenizer):")
    table = Table()
    for name in ("", "precision", "recall", "F1"):
        table.add_column(name, justify="left" if not name else "right")
    for key, name in (("tokens", "tokens"), ("sentences", "sentences"), ("words", "words"),
                      ("tags", column.spec)):  # fmt: skip
        values = scores[key]
        table.add_row(name, *(f"{100 * values[k]:.2f}" for k in ("precision", "recall", "f1")))
    console.print(table)


def calibration_of(gold, confident, column: int, columns: int) -> dict:
    """ECE of one column's chosen tags and the reliability table (seqtag.calibration)."""
    from seqtag.calibration import BINS, reliability

    ece, table = reliability(gold, confident, column, columns)
    return {"ece": ece, "bins": BINS, "reliability": table}


def _print_scores(scores: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from seqtag.calibration import BINS

    console = Console(highlight=False)
    summary = Table(
        title=f"{scores['column']}: {counted(scores['sentences'], 'sentence')}, {counted(scores['tokens'], 'token')}"
    )
    for name in ("metric", "value", "tokens"):
        summary.add_column(name, justify="right" if name != "metric" else "left")
    summary.add_row("accuracy", f"{scores['accuracy']:.4f}", str(scores["tokens"]))
    if scores["known_accuracy"] is not None:
        summary.add_row(
            "known words", f"{scores['known_accuracy']:.4f}", str(scores["known_tokens"])
        )
        summary.add_row(
            "unseen words", f"{scores['unknown_accuracy']:.4f}", str(scores["unknown_tokens"])
        )
    if scores.get("calibration"):
        summary.add_row(
            f"calibration error (ECE, {BINS} bins)", f"{scores['calibration']['ece']:.4f}", ""
        )
    if "f1" in scores:
        for name in ("precision", "recall", "f1", "macro_f1"):
            summary.add_row(f"entity {name.replace('_', ' ')}", f"{scores[name]:.4f}", "")
        if scores["strict"] is not None:
            summary.add_row("strict entity f1", f"{scores['strict']['f1']:.4f}", "")
    console.print(summary)
    for title, rows in (
        ("per label", scores["per_label"]),
        ("per entity type", scores.get("per_type")),
    ):
        if not rows:
            continue
        table = Table(title=title)
        for name in ("label", "precision", "recall", "f1", "support"):
            table.add_column(name, justify="left" if name == "label" else "right")
        for label, values in rows.items():
            table.add_row(
                label,
                *(f"{values[k]:.4f}" for k in ("precision", "recall", "f1")),
                str(values["support"]),
            )
        console.print(table)
    if scores.get("confusions"):
        table = Table(title=f"most frequent confusions (of {len(scores['confusions'])})")
        for name in ("gold", "predicted", "tokens", "share of errors"):
            table.add_column(
                name, justify="right" if name in ("tokens", "share of errors") else "left"
            )
        errors = sum(c["count"] for c in scores["confusions"])
        for c in scores["confusions"][:TOP_CONFUSIONS]:
            table.add_row(c["gold"], c["predicted"], str(c["count"]), f"{c['count'] / errors:.1%}")
        console.print(table)
