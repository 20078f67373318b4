"""`seqtag cv`: K-fold cross-validation of `seqtag train` on one corpus, with out-of-fold
predictions and the tokens whose gold tag they contradict most confidently."""

from __future__ import annotations

import json

import click

from seqtag.cli.common import format_seconds, stderr_console, usage_errors
from seqtag.cli.train import _EpochDisplay, build_request
from seqtag.cli.train import train as train_command
from seqtag.errors import counted


@click.command("cv")
@click.option(
    "--folds",
    type=click.IntRange(2),
    default=10,
    show_default=True,
    help="K: each fold is tagged by a model trained on the other K-1 (a tenth of them held out "
    "as dev). 10 is the usual choice for a few hundred sentences: 90% of the data trains each "
    "model, and every sentence is tested once.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option(
    "--predictions",
    "predictions_file",
    type=click.Path(dir_okay=False),
    help="Write every sentence's out-of-fold tags here, in the corpus's format, with each "
    "token's confidence (CoNLL-U: MISC Confidence=; columns: a last field).",
)
@click.option(
    "--suspects",
    type=click.IntRange(0),
    default=10,
    show_default=True,
    help="List the N tokens whose gold tag the out-of-fold model contradicts most confidently: "
    "where to look first for annotation errors (0: none).",
)
@click.pass_context
def cv(ctx: click.Context, folds, as_json, predictions_file, suspects, quiet, **_options):
    """Cross-validate seqtag train on CORPUS: how good is a tagger of this corpus, and where may
    its annotation be wrong?

    The corpus is split into K folds, by document where CoNLL-U marks at least K documents
    (# newdoc), else by sentence, seeded (--seed) and balanced by tokens. Each fold is tagged by
    a model trained on the others, with the options train takes (--preset, --config, network
    and training options); the scores are given per fold and as mean and standard deviation.
    Training takes K times as long as one run of seqtag train.

    \b
      seqtag cv corpus.conllu --folds 10
      seqtag cv corpus.conllu --suspects 30 --predictions oof.conllu
      seqtag cv ner.txt --folds 5 --preset ner --json | jq .summary
    """
    from seqtag.crossval import cross_validate, summary
    from seqtag.crossval import suspects as find_suspects
    from seqtag.read import Column, read_labeled
    from seqtag.write import write_sentence

    params = ctx.params
    if params["train_file"] is None:
        raise click.UsageError("give CORPUS, the tagged file to cross-validate")
    if params["related"] is not None:
        raise click.UsageError(
            "cv --related would train on the related treebank once a fold: train its model once "
            "(seqtag train RELATED -o related.model --preset pos), then cv --init related.model"
        )
    column = Column.parse(params["column"] or "upos")
    if len(column.names) > 1:
        raise click.UsageError("cv scores one column at a time: give --column with one name")
    sentences, file_format = read_labeled(
        params["train_file"], column, params["encoding_errors"], params["input_format"],
        params["tag_column"],
    )  # fmt: skip
    sentences = [s for s in sentences if s.words]
    request = build_request(ctx, output=None, dev_file=None, checkpoint_dir=None, resume_dir=None)
    console = stderr_console(quiet)
    display = _FoldDisplay(console, quiet)
    try:
        with usage_errors():
            results, predictions, unit = cross_validate(
                request, sentences, file_format, folds, display
            )
    except KeyboardInterrupt:
        click.echo("Interrupted: cross-validation stopped; nothing written.", err=True)
        raise SystemExit(130) from None
    entity = "f1" in results[0].scores
    metric = "f1" if entity else "accuracy"
    found = find_suspects(sentences, predictions, suspects)
    summarised = summary(results, metric)
    if predictions_file:
        out_column = column
        if file_format != "conllu" and params["column"] is None:
            from seqtag.scheme import conllu_column_for

            out_column = Column.parse(
                conllu_column_for(sorted({t for s in sentences for t in s.tags}))
            )
        output = "conllu" if file_format == "conllu" else "columns"
        with open(predictions_file, "w", encoding="utf-8") as out:
            for sentence, tagged in zip(sentences, predictions, strict=True):
                write_sentence(out, sentence, tagged.tags, output, out_column, confident=tagged)
    if as_json:
        record = {
            "folds": folds,
            "unit": unit,
            "metric": metric,
            "summary": summarised,
            "per_fold": [
                {"fold": f.number, "train_sentences": f.train_sentences,
                 "dev_sentences": f.dev_sentences, "seconds": round(f.seconds, 1),
                 **{k: f.scores.get(k) for k in (metric, "accuracy", "known_accuracy",
                                                  "unknown_accuracy", "tokens")}}
                for f in results
            ],
            "suspects": [vars(s) for s in found],
        }  # fmt: skip
        click.echo(json.dumps(record, ensure_ascii=False))
        return
    _print(results, summarised, metric, found, sentences)


class _FoldDisplay(_EpochDisplay):
    """Training progress on stderr, one fold after another, without the per-epoch lines."""

    def __init__(self, console, quiet: bool):
        super().__init__(console, quiet, progress=False)

    def say(self, message: str) -> None:
        if (
            message.startswith(("Training on", "Preset", "Warning", "No --dev"))
            or "folds" in message
        ):
            self.console.print(message)

    def on_fold(self, number: int, total: int) -> None:
        self.console.print(f"Fold {number} of {total}:")


def _print(results, summarised, metric, found, sentences) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    table = Table(title=f"{len(results)}-fold cross-validation")
    for name in ("fold", "train sentences", metric, "known words", "unseen words", "time"):
        table.add_column(name, justify="right")
    for f in results:
        known, unseen = f.scores.get("known_accuracy"), f.scores.get("unknown_accuracy")
        table.add_row(
            str(f.number), str(f.train_sentences), f"{f.scores[metric]:.4f}",
            "" if known is None else f"{known:.4f}", "" if unseen is None else f"{unseen:.4f}",
            format_seconds(f.seconds),
        )  # fmt: skip
    cells = []
    for key in (metric, "known_accuracy", "unknown_accuracy"):
        value = summarised.get(key)
        cells.append("" if value is None else f"{value['mean']:.4f} ± {value['sd']:.4f}")
    table.add_row("mean ± sd", "", *cells, "")
    console.print(table)
    if found:
        table = Table(title=f"the {counted(len(found), 'token')} most confidently contradicted")
        for name in ("line", "word", "gold", "predicted", "confidence", "context"):
            table.add_column(name, justify="right" if name in ("line", "confidence") else "left")
        for s in found:
            words = sentences[s.sentence].words
            context = " ".join(
                [
                    *words[max(0, s.token - 3) : s.token],
                    f"«{s.word}»",
                    *words[s.token + 1 : s.token + 4],
                ]
            )
            table.add_row(
                str(s.line), escape(s.word), escape(s.gold), escape(s.predicted),
                f"{s.confidence:.3f}", escape(context),
            )  # fmt: skip
        console.print(table)


# cv takes train's options for the model and training, but no output, dev or checkpoints, and
# its models tag gold words only (no segmenter); its corpus is train's TRAIN argument under
# another name.
_NOT_FOR_CV = {
    "train_file",
    "output",
    "dev_file",
    "checkpoint_dir",
    "resume_dir",
    "progress",
    "tokenizer",
}
cv.params = [
    click.Argument(["train_file"], metavar="CORPUS", required=False, type=click.Path()),
    *(p for p in train_command.params if p.name not in _NOT_FOR_CV),
    *cv.params,
]
