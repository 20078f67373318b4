"""`seqtag train`: the options, the progress display on stderr and the summary line; the run
itself (data, scheme, ensemble, tag dictionary, checkpoints, the model file) is
``seqtag.run.train_run``, which this command calls once.
"""

from __future__ import annotations

import dataclasses
import sys

import click

from seqtag.cli.common import (
    config_options,
    device_option,
    encoding_errors_option,
    format_seconds,
    input_format_option,
    jobs_option,
    load_config,
    stderr_console,
    tag_column_option,
    threads_option,
    usage_errors,
)
from seqtag.config import (
    EMBEDDINGS_LIMIT,
    RNN_AUTO,
    RNN_TYPES,
    SCHEMES,
    ModelConfig,
    TrainConfig,
)
from seqtag.presets import auto_rule


@click.command()
@click.argument(
    "train_file",
    metavar="TRAIN.conllu",
    required=False,
    type=click.Path(allow_dash=True),
)
@click.option(
    "--dev",
    "dev_file",
    type=click.Path(),
    help="Dev CoNLL-U for early stopping; without it a seeded --dev-fraction of train is held out.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Where to write the model file (atomically). Required, except with --resume.",
)
@click.option(
    "--column",
    default=None,
    help="CoNLL-U column to learn: upos, xpos, feats or misc:KEY (e.g. misc:NER) [default: "
    "upos]; several, comma-separated (upos,xpos,feats), are learned together by one shared "
    "encoder with an output layer each. With a column file, where CoNLL-U output puts the "
    "tags [default: misc:NER for entity tags, else xpos].",
)
@input_format_option
@tag_column_option
@click.option(
    "--config",
    type=click.Path(),
    is_eager=True,
    expose_value=False,
    callback=load_config,
    help='TOML file of option values, keyed by the long option names (dev = "dev.conllu", '
    "max-epochs = 20); the command line overrides it.",
)
@click.option(
    "--preset",
    is_eager=True,
    expose_value=False,
    callback=load_config,
    metavar="NAME",
    help="Start from a preset that ships with seqtag (see `seqtag presets`): pos, pos-small, "
    "ner, ner-ensemble; --config and the command line override it. [default: auto, the "
    f"preset {auto_rule()[:-1]}; the choice is said]",
)
@config_options(ModelConfig, TrainConfig)
@click.option(
    "--embeddings",
    type=click.Path(),
    default=None,
    help="Pretrained word vectors (word2vec/fastText text: .vec or .txt, or gzipped), kept "
    "frozen beside the trained word embeddings: words absent from train but in the file are "
    "known when tagging.",
)
@click.option(
    "--embeddings-limit",
    type=click.IntRange(1),
    default=EMBEDDINGS_LIMIT,
    show_default=True,
    help="Vectors kept in the model: the file's first N (the most frequent) plus those of every "
    "training word. Each adds 4 bytes per dimension to the model file.",
)
@click.option(
    "--init",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="MODEL",
    help="Start from a model trained before, e.g. on a related language: its network shape, "
    "its character and sentence encoders, and its word, affix and label weights wherever the "
    "two vocabularies share the string. Labels are matched by name.",
)
@click.option(
    "--related",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="A treebank of a related language (same column): one network is trained on it first "
    "(early stopping on this run's --dev; without one, on a tenth of FILE), saved as "
    "OUTPUT.related, and this run starts from it as with --init.",
)
@click.option(
    "--transfer-check/--no-transfer-check",
    default=True,
    show_default=True,
    help="With --init or --related: also train the same networks (the model's shape) from a "
    "random start and keep whichever scores higher on dev (twice the training time), so that a "
    "neighbour that does not help costs no dev accuracy.",
)
@click.option(
    "--scheme",
    type=click.Choice(["auto", "none", *SCHEMES]),
    default="auto",
    show_default=True,
    help="Tag scheme of entity labels; auto detects it; none treats labels as plain tags.",
)
@click.option(
    "--crf/--no-crf",
    default=None,
    help="CRF output layer [default: on for entity labels (a scheme), off otherwise].",
)
@click.option(
    "--repair/--strict-scheme",
    default=True,
    show_default=True,
    help="Entity tags that break the scheme (I-X after O, as official corpora hold a few) are "
    "made valid (I-X that starts an entity becomes B-X) with a warning naming where; "
    "--strict-scheme stops with an error instead.",
)
@click.option(
    "--tokenizer/--no-tokenizer",
    default=True,
    show_default=True,
    help="From a CoNLL-U training file, also learn to split raw text into its sentences and "
    "words as the treebank does (its # text, token and sentence boundaries, multiword tokens), "
    "kept in the model file for `seqtag tag` and `seqtag tokenize`: a few CPU minutes more. "
    "Column files have no raw text to learn from.",
)
@device_option("auto picks a GPU when there is one.")
@threads_option
@jobs_option(
    "Train an ensemble's members side by side in N processes on the CPU: the same model as "
    "one after another, in about 1/N of the time where N cores are free. With --checkpoint, "
    "a resumed run keeps the members that had finished and trains the others from their start."
)
@encoding_errors_option
@click.option(
    "--checkpoint",
    "checkpoint_dir",
    type=click.Path(file_okay=False),
    help="Directory that keeps the whole training state after each epoch, for --resume.",
)
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(file_okay=False),
    help="Go on with the run whose --checkpoint directory this is, with that run's settings.",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="A line per epoch on stderr (loss, dev score, time), also in a log file, so a long "
    "run shows it is alive; a live bar over each epoch's batches only on a terminal.",
)
@click.option("-q", "--quiet", is_flag=True, help="Nothing on stderr but errors.")
@click.pass_context
def train(ctx: click.Context, progress: bool, quiet: bool, **_options) -> None:
    """Train a tagger on CoNLL-U or a column file (NER) and save it to one model file.

    A line per epoch (loss, dev score, time) goes to stderr, a terminal or a log file, with a
    live bar on a terminal; -q silences everything but errors. The model of the best
    epoch on dev is kept. Ctrl-C (or SIGTERM) saves the best model so far and exits with
    status 130 (143). With --checkpoint DIR the whole training state is kept after each epoch,
    and `seqtag train --resume DIR` goes on from the last finished epoch to the same model an
    uninterrupted run would have given (on CPU, with the same --threads).

    \b
      seqtag train train.conllu --dev dev.conllu -o upos.model
      seqtag train train.conllu --column xpos --rnn gru --no-char -o xpos.model
      seqtag train train.conllu --column upos,xpos,feats -o morph.model
      seqtag train train.conllu --embeddings cc.wo.300.vec.gz -o upos.model
      seqtag train train.conllu --column misc:NER --preset ner -o ner.model
      seqtag train train.conllu --dev dev.conllu --preset pos-small -o upos.model
      seqtag train lt-train.conllu --dev lt-dev.conllu --related lv.conllu -o upos.model
      seqtag train lt-train.conllu --dev lt-dev.conllu --init lv.model -o upos.model
      seqtag train train.conllu --dev dev.conllu -o upos.model --checkpoint ckpt/
      seqtag train --resume ckpt/
    """
    from seqtag.run import train_run

    console = stderr_console(quiet)
    request = build_request(ctx)
    display = _EpochDisplay(console, quiet, progress)
    with usage_errors():
        outcome = train_run(request, display)
    if not outcome.saved:
        console.print("Interrupted before the first epoch ended: no model written.")
        sys.exit(outcome.interrupted)
    if len(outcome.best_epochs) == 1:
        detail = f"at epoch {outcome.best_epochs[0]} of {outcome.epochs_run[0]}"
    else:
        alone = ", ".join(f"{score:.4f}" for score in outcome.member_scores)
        detail = f"with {len(outcome.member_scores)} members (alone: {alone})"
    summary = (
        f"{outcome.output}: dev {outcome.dev_metric} {outcome.dev_score:.4f} {detail} "
        f"({format_seconds(outcome.seconds)})."
    )
    if outcome.interrupted is not None:
        # Said even with -q: the user pressed Ctrl-C and must learn where the model went.
        click.echo(f"Interrupted: saved the best model so far to {summary}", err=True)
        if outcome.checkpoint_dir is not None:
            click.echo(f"Go on with: seqtag train --resume {outcome.checkpoint_dir}", err=True)
        sys.exit(outcome.interrupted)
    console.print(f"Saved {summary}")


def build_request(ctx: click.Context, **fixed):
    """The run.TrainRequest of a `seqtag train` command line (or of a command that takes its
    options, as `seqtag cv` does); ``fixed``: fields to set whatever the options say."""
    from seqtag.config import split_options
    from seqtag.presets import AUTO
    from seqtag.run import TrainRequest

    options = dict(ctx.params)
    fields = {f.name for f in dataclasses.fields(TrainRequest)}
    # --rnn auto: the run trains an LSTM first (the configs name a network), then a GRU.
    rnn_auto = options.get("rnn") == RNN_AUTO
    if rnn_auto:
        options["rnn"] = RNN_TYPES[0]
    # --scheme and --crf are the request's (settled from the data), not the model config's yet.
    model_config, train_config = split_options(
        {k: v for k, v in options.items() if k not in ("scheme", "crf")}
    )
    given = {name: value for name, value in ctx.params.items() if _given(ctx, name)}
    settings = {
        name: options[name]
        for name in (
            "train_file", "output", "dev_file", "column", "input_format", "tag_column",
            "encoding_errors", "scheme", "crf", "repair", "embeddings", "embeddings_limit", "init",
            "related", "transfer_check",
            "device", "threads", "jobs", "checkpoint_dir", "resume_dir", "tokenizer",
        )
        if name in options and name in fields
    }  # fmt: skip
    return TrainRequest(
        **settings,
        model=model_config,
        training=train_config,
        preset=ctx.meta.get("seqtag.preset_name", AUTO),
        rnn_auto=rnn_auto,
        given=given,
        typed=frozenset(n for n in given if ctx.get_parameter_source(n) in _ON_COMMAND_LINE),
        **fixed,
    )


class _EpochDisplay:
    """Training progress on stderr: a line per epoch (loss, dev score, time) unless -q or
    --no-progress, and a bar over the epoch's batches on a terminal."""

    def __init__(self, console, quiet: bool, progress: bool):
        terminal = sys.stderr.isatty()
        self.console = console
        self.show = not quiet and progress
        self.metric = "acc"
        self.bar = self.task = None
        if self.show and terminal:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("epoch {task.fields[epoch]}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} batches"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.task = self.bar.add_task("train", total=None, epoch=1)
            self.bar.start()

    def say(self, message: str) -> None:
        self.console.print(message)

    def begin(self, dev_metric: str) -> None:
        self.metric = "acc" if dev_metric == "accuracy" else "F1"

    def on_member(self, member: int, n_members: int, seed: int) -> None:
        """An ensemble member (counted from 0) starts training."""
        self.console.print(f"Ensemble member {member + 1} of {n_members} (seed {seed}):")

    def on_batch(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total)

    def on_epoch(self, report, member: int | None = None) -> None:
        if member is not None and self.bar is not None:
            # Members side by side report no batches: a bar that never moves would mislead.
            self.bar.stop()
            self.bar = None
        if not self.show:
            return
        mark = "*" if report.best_epoch == report.epoch else " "
        whose = "" if member is None else f"member {member + 1}  "
        self.console.print(
            f"{whose}epoch {report.epoch:3d}  loss {report.loss:.4f}  "
            f"dev {self.metric} {report.dev_score:.4f}{mark} "
            f" best {report.best_score:.4f} (epoch {report.best_epoch})  "
            f"lr {report.learning_rate:.2g}  {format_seconds(report.elapsed)}"
        )
        if self.bar is not None:
            self.bar.update(self.task, completed=0, epoch=report.epoch + 1)

    def members_done(self) -> None:
        if self.bar is not None:
            self.bar.stop()


# Where a setting comes from when the user typed it (a --config file is DEFAULT_MAP): a value
# that cannot apply is then a usage error, rather than said and dropped as a config's is.
_ON_COMMAND_LINE = {click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT}
_EXPLICIT = {*_ON_COMMAND_LINE, click.core.ParameterSource.DEFAULT_MAP}


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the user set the option (command line, environment or --config file)."""
    return ctx.get_parameter_source(name) in _EXPLICIT
