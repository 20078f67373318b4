"""`seqtag train`: the options, the progress display on stderr and the summary line; the run
itself (data, scheme, ensemble, tag dictionary, checkpoints, the model file) is
``seqtag.run.train_run``, which this command calls once.
"""

from __future__ import annotations

import sys

import click

from seqtag.cli.common import (
    device_option,
    encoding_errors_option,
    format_seconds,
    input_format_option,
    load_config,
    stderr_console,
    tag_column_option,
    threads_option,
    usage_errors,
)
from seqtag.config import (
    EMBEDDINGS_LIMIT,
    ENTITY_WORD_DROPOUT,
    SCHEMES,
    TAG_DICTIONARY_CHOICES,
    ModelConfig,
    TrainConfig,
)

_model_defaults = ModelConfig()
_train_defaults = TrainConfig()


@click.command()
@click.argument(
    "train_file",
    metavar="TRAIN.conllu",
    required=False,
    type=click.Path(dir_okay=False, allow_dash=True),
)
@click.option(
    "--dev",
    "dev_file",
    type=click.Path(dir_okay=False),
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
    type=click.Path(exists=True, dir_okay=False),
    is_eager=True,
    expose_value=False,
    callback=load_config,
    help="TOML file of option values (keys as the long option names); the command line overrides it.",
)
@click.option(
    "--rnn",
    type=click.Choice(["lstm", "gru"]),
    default=_model_defaults.rnn,
    show_default=True,
    help="Recurrent encoder type.",
)
@click.option(
    "--layers",
    type=click.IntRange(1, 8),
    default=_model_defaults.layers,
    show_default=True,
    help="Stacked bidirectional layers.",
)
@click.option(
    "--hidden",
    type=click.IntRange(1),
    default=_model_defaults.hidden,
    show_default=True,
    help="Encoder size per direction.",
)
@click.option(
    "--word-dim",
    type=click.IntRange(1),
    default=_model_defaults.word_dim,
    show_default=True,
    help="Word embedding size.",
)
@click.option(
    "--embeddings",
    type=click.Path(dir_okay=False),
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
    "--lowercase/--no-lowercase",
    default=_model_defaults.lowercase,
    show_default=True,
    help="Key word embeddings by the lowercased form (The and the share one); characters "
    "and affixes still see the word as written.",
)
@click.option(
    "--char/--no-char",
    default=_model_defaults.char,
    show_default=True,
    help="Character BiLSTM word vectors (for unseen words).",
)
@click.option(
    "--char-dim",
    type=click.IntRange(1),
    default=_model_defaults.char_dim,
    show_default=True,
    help="Character embedding size.",
)
@click.option(
    "--char-hidden",
    type=click.IntRange(1),
    default=_model_defaults.char_hidden,
    show_default=True,
    help="Character BiLSTM size per direction.",
)
@click.option(
    "--affixes",
    type=click.IntRange(0, 10),
    default=_model_defaults.affixes,
    show_default=True,
    help="Learned embeddings of each word's lowercased prefixes and suffixes of 1..N "
    "characters (those shared by 2+ training words), beside the character BiLSTM; 0 turns "
    "them off.",
)
@click.option(
    "--affix-dim",
    type=click.IntRange(1),
    default=_model_defaults.affix_dim,
    show_default=True,
    help="Size of each affix embedding (a word gets 2N of them).",
)
@click.option(
    "--frequency-loss",
    type=click.FloatRange(0),
    default=_model_defaults.frequency_loss,
    show_default=True,
    help="Weight of an auxiliary loss: the encoder also predicts how often each word occurs "
    "in train (its log2-frequency bin; Plank et al. 2016), which teaches it what rare words "
    "look like; 0 turns it off.",
)
@click.option(
    "--dropout",
    type=click.FloatRange(0, 1, max_open=True),
    default=_model_defaults.dropout,
    show_default=True,
    help="Dropout between layers.",
)
@click.option(
    "--embedding-dropout",
    type=click.FloatRange(0, 1, max_open=True),
    default=_model_defaults.embedding_dropout,
    show_default=True,
    help="In training, zero a token's whole word vector with this probability (its spelling "
    "still counts), so the tagger learns to do without; 0 turns it off.",
)
@click.option(
    "--label-smoothing",
    type=click.FloatRange(0, 1, max_open=True),
    default=_model_defaults.label_smoothing,
    show_default=True,
    help="In training, aim the softmax at the gold label with 1-E of the probability and "
    "spread E over all labels, so the tagger is never rewarded for certainty; 0 turns it off. "
    "Not with a CRF (entity labels), which trains without it.",
)
@click.option(
    "--adversarial",
    type=click.FloatRange(0, 1),
    default=_model_defaults.adversarial,
    show_default=True,
    help="In training, also learn from each batch with its input vectors moved this share of "
    "their length in the direction that raises the loss most (adversarial training, for "
    "robustness on unseen words); twice the training time; 0 turns it off.",
)
@click.option(
    "--ensemble",
    type=click.IntRange(1, 20),
    default=_model_defaults.ensemble,
    show_default=True,
    help="Train N networks from different seeds (the run's seed, then seed+1000, ...) and tag "
    "with the mean of their label probabilities: N times the training and tagging time and "
    "model size, for steadier accuracy on small data.",
)
@click.option(
    "--tag-dictionary",
    type=click.Choice(TAG_DICTIONARY_CHOICES),
    default=_train_defaults.tag_dictionary,
    show_default=True,
    help="When tagging, keep each word seen in training to the tags it had there (a form "
    "not seen as written: the tags of its lowercase; words not in train are tagged freely): "
    "on; off; or auto, on only if it scores higher on dev. "
    "For plain tags of one column (not entity labels).",
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
    "--repair",
    is_flag=True,
    help="Make tags that break the scheme valid IOB2-style (I-X starting an entity -> B-X) "
    "instead of stopping with an error.",
)
@click.option(
    "--word-dropout",
    type=click.FloatRange(0),
    default=_train_defaults.word_dropout,
    help="Alpha: a word seen c times is replaced by UNK with p = alpha/(alpha+c); 0 turns it off. "
    f"Default {_train_defaults.word_dropout:g}, {ENTITY_WORD_DROPOUT:g} for entity labels.",
)
@click.option(
    "--seed",
    type=int,
    default=_train_defaults.seed,
    show_default=True,
    help="Random seed; the same seed repeats a CPU run.",
)
@click.option(
    "--max-epochs",
    type=click.IntRange(1),
    default=_train_defaults.max_epochs,
    show_default=True,
    help="Upper bound on epochs.",
)
@click.option(
    "--patience",
    type=click.IntRange(1),
    default=_train_defaults.patience,
    show_default=True,
    help="Stop after this many epochs without a better dev score.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=_train_defaults.batch_size,
    show_default=True,
    help="Sentences per batch.",
)
@click.option(
    "--learning-rate",
    type=click.FloatRange(0, min_open=True),
    default=_train_defaults.learning_rate,
    show_default=True,
    help="Adam learning rate.",
)
@click.option(
    "--clip",
    type=click.FloatRange(0, min_open=True),
    default=_train_defaults.clip,
    show_default=True,
    help="Gradient norm clipping.",
)
@click.option(
    "--lr-decay",
    type=click.FloatRange(0, 1, min_open=True),
    default=_train_defaults.lr_decay,
    show_default=True,
    help="Multiply the learning rate by this after each epoch without a better dev score; 1 turns it off.",
)
@click.option(
    "--max-lr-decays",
    type=click.IntRange(0),
    default=_train_defaults.max_lr_decays,
    show_default=True,
    help="Stop once --lr-decay has cut the learning rate this many times (0: no limit).",
)
@click.option(
    "--average-weights",
    type=click.FloatRange(0, 1, max_open=True),
    default=_train_defaults.average_weights,
    show_default=True,
    help="Score and save a moving average of the weights over training steps, each step "
    "keeping this share of the average (e.g. 0.99); 0 keeps the weights as trained.",
)
@click.option(
    "--epoch-size",
    type=click.IntRange(0),
    default=_train_defaults.epoch_size,
    show_default=True,
    help="Least sentences per epoch: smaller training sets are passed over several times "
    "between dev checks (0: one pass).",
)
@click.option(
    "--dev-fraction",
    type=click.FloatRange(0, 0.5, min_open=True),
    default=_train_defaults.dev_fraction,
    show_default=True,
    help="Share of train held out as dev when no --dev is given.",
)
@device_option("auto picks a GPU when there is one.")
@threads_option
@encoding_errors_option("strict: stop at invalid UTF-8; replace: go on with U+FFFD.")
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
    default=None,
    help="Per-epoch progress on stderr [default: only when stderr is a terminal].",
)
@click.option("-q", "--quiet", is_flag=True, help="Nothing on stderr but errors.")
@click.pass_context
def train(
    ctx: click.Context,
    train_file,
    dev_file,
    output,
    column,
    input_format,
    tag_column,
    device,
    threads,
    encoding_errors,
    checkpoint_dir,
    resume_dir,
    repair,
    progress,
    quiet,
    **options,
) -> None:
    """Train a tagger on CoNLL-U or a column file (NER) and save it to one model file.

    Progress (epoch, loss, dev score, time) goes to stderr when it is a terminal, or always
    with --progress (for log files); -q silences everything but errors. The model of the best
    epoch on dev is kept. Ctrl-C (or SIGTERM) saves the best model so far and exits with
    status 130 (143). With --checkpoint DIR the whole training state is kept after each epoch,
    and `seqtag train --resume DIR` goes on from the last finished epoch to the same model an
    uninterrupted run would have given (on CPU, with the same --threads).

    \b
      seqtag train train.conllu --dev dev.conllu -o upos.model
      seqtag train train.conllu --column xpos --rnn gru --no-char -o xpos.model
      seqtag train train.conllu --column upos,xpos,feats -o morph.model
      seqtag train train.conllu --embeddings cc.wo.300.vec.gz -o upos.model
      seqtag train train.conllu --column misc:NER --config configs/ner.toml -o ner.model
      seqtag train train.conllu --dev dev.conllu -o upos.model --checkpoint ckpt/
      seqtag train --resume ckpt/
    """
    from seqtag.config import split_options
    from seqtag.run import TrainRequest, train_run

    console = stderr_console(quiet)
    scheme, crf = options.pop("scheme"), options.pop("crf")
    embeddings, embeddings_limit = options.pop("embeddings"), options.pop("embeddings_limit")
    model_config, train_config = split_options(options)
    given = {name: value for name, value in ctx.params.items() if _given(ctx, name)}
    request = TrainRequest(
        train_file=train_file,
        output=output,
        dev_file=dev_file,
        column=column,
        input_format=input_format,
        tag_column=tag_column,
        encoding_errors=encoding_errors,
        scheme=scheme,
        crf=crf,
        repair=repair,
        embeddings=embeddings,
        embeddings_limit=embeddings_limit,
        model=model_config,
        training=train_config,
        device=device,
        threads=threads,
        checkpoint_dir=checkpoint_dir,
        resume_dir=resume_dir,
        given=given,
        typed=frozenset(n for n in given if ctx.get_parameter_source(n) in _ON_COMMAND_LINE),
    )
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


class _EpochDisplay:
    """Training progress on stderr: a line per epoch (loss, dev score, time) when stderr is a
    terminal or with --progress, and a bar over the epoch's batches on a terminal."""

    def __init__(self, console, quiet: bool, progress: bool | None):
        terminal = sys.stderr.isatty()
        self.console = console
        self.show = not quiet and (progress if progress is not None else terminal)
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

    def on_epoch(self, report) -> None:
        if not self.show:
            return
        mark = "*" if report.best_epoch == report.epoch else " "
        self.console.print(
            f"epoch {report.epoch:3d}  loss {report.loss:.4f}  "
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
