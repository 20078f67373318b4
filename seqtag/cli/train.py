"""`seqtag train`: read the training and dev data, settle the tag scheme, the CRF and the
CoNLL-U column, fit with progress on stderr, and save one model file; --checkpoint and
--resume keep and restore the whole run, and refuse to resume on other data or settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import signal
import sys
import time
from pathlib import Path

import click

from seqtag import SeqtagError
from seqtag.cli.common import (
    device_option,
    encoding_errors_option,
    format_seconds,
    input_format_option,
    load_config,
    read_labeled,
    resolve_device_and_threads,
    stderr_console,
    tag_column_option,
    threads_option,
)
from seqtag.cli.signals import signal_raises, signals_deferred
from seqtag.config import (
    EMBEDDINGS_LIMIT,
    ENTITY_WORD_DROPOUT,
    SCHEMES,
    TAG_DICTIONARY_CHOICES,
    ModelConfig,
    TrainConfig,
    as_recorded,
)
from seqtag.read import Column

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
    from seqtag import checkpoint, modelfile
    from seqtag.config import split_options
    from seqtag.train import split_dev
    from seqtag.vocab import Vocabularies

    console = stderr_console(quiet)
    embeddings, embeddings_limit = options.pop("embeddings"), options.pop("embeddings_limit")
    resumed = None
    if resume_dir is not None:
        resumed = checkpoint.load(resume_dir)
        run = _resumed_run(ctx, resumed, resume_dir)
        train_file, dev_file, output = run["train_file"], run["dev_file"], run["output"]
        column, options = run["column"], as_recorded(run["options"])
        input_format, tag_column = run["input_format"], run["tag_column"]
        repair = run["repair"]
        embeddings = run.get("embeddings")
        embeddings_limit = run.get("embeddings_limit", EMBEDDINGS_LIMIT)
        checkpoint_dir = checkpoint_dir or resume_dir
    elif train_file is None or output is None:
        raise click.UsageError("give TRAIN.conllu and -o/--output (or --resume DIR)")
    if checkpoint_dir is not None and train_file == "-":
        raise click.UsageError("--checkpoint needs TRAIN.conllu as a file, not stdin, to resume")
    parsed_column = Column.parse(column or "upos")
    out_dir = Path(output).parent
    if not out_dir.is_dir():
        raise SeqtagError("the directory for the model does not exist", str(out_dir))
    requested_scheme, requested_crf = options.pop("scheme"), options.pop("crf")
    n_columns = len(parsed_column.names)
    if n_columns > 1:
        if requested_crf or requested_scheme not in ("auto", "none", None):
            raise click.UsageError(
                "--crf and --scheme go with one column; a model of several columns "
                f"({parsed_column.spec}) has one softmax each"
            )
        requested_scheme = "none"
    model_config, train_config = split_options(options)
    target = resolve_device_and_threads(device, threads)

    train_set, train_format = read_labeled(
        train_file, parsed_column, encoding_errors, input_format, tag_column
    )
    train_name = "<stdin>" if train_file == "-" else train_file
    if dev_file:
        dev_set, _ = read_labeled(
            dev_file, parsed_column, encoding_errors, input_format, tag_column
        )
        dev_source = dev_file
    else:
        if len(train_set) < 2:
            raise SeqtagError(
                "need at least 2 sentences to hold one out as dev; give --dev", train_name
            )
        train_set, dev_set = split_dev(train_set, train_config.dev_fraction, train_config.seed)
        dev_source = f"{len(dev_set)} sentences held out of {train_name} (seed {train_config.seed})"
        console.print(f"No --dev given: holding out {dev_source} for early stopping.")

    digest = _data_digest(train_set, dev_set)
    scheme = _span_scheme(train_set, requested_scheme, repair, train_name, console)
    model_config = _with_output_layer(ctx, model_config, scheme, requested_crf, console)
    # What is done with the --tag-dictionary asked for; train_config keeps the request, so a
    # checkpoint resumes with the command that started it.
    tag_dictionary = _tag_dictionary_choice(ctx, train_config, scheme, n_columns, console)
    if scheme is not None and resumed is None and not _given(ctx, "word_dropout"):
        # A resumed run keeps the value it recorded (it may have been asked for).
        train_config = dataclasses.replace(train_config, word_dropout=ENTITY_WORD_DROPOUT)
    pretrained = None
    if resumed is None:
        vocabularies = Vocabularies.build(train_set, model_config, n_columns)
        if embeddings is not None:
            vocabularies, pretrained = _read_embeddings(
                embeddings, embeddings_limit, vocabularies, train_set, console
            )
            model_config = dataclasses.replace(model_config, pretrained_dim=pretrained.shape[1])
    else:
        if digest != resumed["run"]["data_digest"]:
            raise SeqtagError(
                "the training or dev data changed since the checkpoint was written; "
                "resuming would not give the run it started",
                train_file,
            )
        vocabularies = Vocabularies.from_dict(resumed["vocabularies"])
    if train_format != "conllu" and column is None:
        parsed_column = Column.parse(_conllu_column_for(vocabularies.labels.to_list()))
    source = f"column {parsed_column.spec}"
    if train_format != "conllu":
        source = f"a {train_format} file (CoNLL-U output: {parsed_column.spec})"
    words = sum(len(s.words) for s in train_set)
    console.print(
        f"Training on {len(train_set)} sentences ({words} words), "
        f"{' + '.join(str(len(labels)) for labels in vocabularies.label_sets)} labels "
        f"from {source}; dev {len(dev_set)} sentences; device {target.type}."
    )
    if scheme is not None:
        output_layer = "a CRF" if model_config.crf else "a softmax"
        console.print(
            f"Entity labels ({scheme.upper()}): {output_layer} output layer, word dropout "
            f"{train_config.word_dropout:g}, dev scored by entity F1."
        )
    n_members = model_config.ensemble
    member_config = dataclasses.replace(model_config, ensemble=1)
    # Ensemble members that finished before the checkpoint; "training" is the next one's state.
    finished = list(resumed.get("finished", [])) if resumed is not None else []
    if resumed is not None:
        member = f" of ensemble member {len(finished) + 1}" if n_members > 1 else ""
        console.print(
            f"Resuming from {resume_dir} after epoch {resumed['training']['epoch']}{member} "
            f"(best dev {resumed['training']['best_score']:.4f})."
        )
    save_checkpoint = None
    if checkpoint_dir is not None:
        run_record = {
            "train_file": str(Path(train_file).resolve()) if train_file != "-" else "-",
            "dev_file": str(Path(dev_file).resolve()) if dev_file else None,
            "output": str(Path(output).resolve()),
            "column": parsed_column.spec,
            "input_format": input_format,
            "tag_column": tag_column,
            "repair": repair,
            "embeddings": str(Path(embeddings).resolve()) if embeddings else None,
            "embeddings_limit": embeddings_limit,
            "options": {**dataclasses.asdict(model_config), **dataclasses.asdict(train_config)},
            "data_digest": digest,
        }

        def save_checkpoint(state: dict) -> None:
            checkpoint.save(
                checkpoint_dir,
                {
                    "run": run_record,
                    "vocabularies": vocabularies.to_dict(),
                    "finished": finished,
                    "training": state,
                },
            )

    display = _EpochDisplay(console, quiet, progress, model_config.scheme is None)
    results, interrupt_status = _train_members(
        train_set,
        dev_set,
        vocabularies,
        member_config,
        train_config,
        n_members,
        target,
        display,
        resumed=resumed,
        finished=finished,
        save_checkpoint=save_checkpoint,
        pretrained=pretrained,
    )
    interrupted = interrupt_status is not None
    if not results:
        console.print("Interrupted before the first epoch ended: no model written.")
        sys.exit(interrupt_status)
    # Ctrl-C or SIGTERM from here on waits until the model file is written (scoring an
    # ensemble on dev can take a while), instead of ending in a traceback.
    with signals_deferred(console, signal.SIGINT, signal.SIGTERM) as late:
        seconds = sum(r.epochs[-1].elapsed for r in results)
        model, dev_score = _final_model(results, model_config, vocabularies, dev_set, target)
        vocabularies, dev_score, dictionary_scores = _settle_tag_dictionary(
            tag_dictionary,
            model,
            model_config,
            vocabularies,
            (train_set, dev_set, dev_score),
            target,
            console,
        )
        best_epoch = [r.best_epoch for r in results]
        epochs_run = [len(r.epochs) for r in results]
        if len(results) == 1:
            best_epoch, epochs_run = best_epoch[0], epochs_run[0]
            detail = f"at epoch {best_epoch} of {epochs_run}"
        else:
            alone = ", ".join(f"{r.best_score:.4f}" for r in results)
            detail = f"with {len(results)} members (alone: {alone})"
        modelfile.save(
            output,
            model,
            vocabularies,
            parsed_column.spec,
            dataclasses.replace(train_config, tag_dictionary=tag_dictionary),
            {
                "dev_score": dev_score,
                "dev_metric": results[0].dev_metric,
                **({"tag_dictionary_dev": dictionary_scores} if dictionary_scores else {}),
                "best_epoch": best_epoch,
                "epochs_run": epochs_run,
                "train_sentences": len(train_set),
                "train_words": words,
                "dev_source": dev_source,
                "embeddings": embeddings,
                "training_seconds": round(seconds, 1),
                "interrupted": interrupted,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
        )
    summary = (
        f"{output}: dev {results[0].dev_metric} {dev_score:.4f} {detail} "
        f"({format_seconds(seconds)})."
    )
    if late.fired and not interrupted:
        interrupted, interrupt_status = True, 143 if late.signum == signal.SIGTERM else 130
    if interrupted:
        # Said even with -q: the user pressed Ctrl-C and must learn where the model went.
        click.echo(f"Interrupted: saved the best model so far to {summary}", err=True)
        if checkpoint_dir is not None:
            click.echo(f"Go on with: seqtag train --resume {checkpoint_dir}", err=True)
        sys.exit(interrupt_status)
    console.print(f"Saved {summary}")


def _train_members(
    train_set,
    dev_set,
    vocabularies,
    member_config: ModelConfig,
    train_config: TrainConfig,
    n_members: int,
    target,
    display: _EpochDisplay,
    *,
    resumed: dict | None,
    finished: list,
    save_checkpoint,
    pretrained,
):
    """Fit the ensemble's members one after another (a single model is one member), going on
    after those a resumed checkpoint holds as ``finished``, which grows as members finish (the
    checkpoint saves it). Returns the fitted members, the restored ones first, and the exit
    status for an interruption by Ctrl-C (130) or SIGTERM (143), or None when all finished;
    an interrupted member's best epoch so far is among the results."""
    from seqtag.train import finished_member, fit, member_seed, restored_member

    results = [restored_member(state, member_config, vocabularies, target) for state in finished]
    first, interrupted = len(results), False
    try:
        with signal_raises(signal.SIGTERM, KeyboardInterrupt) as terminated:
            for member in range(first, n_members):
                seed = member_seed(train_config.seed, member)
                if n_members > 1:
                    display.on_member(member, n_members, seed)
                result = fit(
                    train_set,
                    dev_set,
                    vocabularies,
                    member_config,
                    dataclasses.replace(train_config, seed=seed),
                    target,
                    display.on_epoch,
                    display.on_batch,
                    on_checkpoint=save_checkpoint,
                    resume=resumed["training"] if resumed is not None and member == first else None,
                    pretrained=pretrained,
                )
                if result.epochs:
                    results.append(result)
                if result.interrupted:
                    interrupted = True
                    break
                finished.append(finished_member(result))
    finally:
        display.stop()
    if interrupted or not results:
        return results, 143 if terminated.fired else 130
    return results, None


class _EpochDisplay:
    """Training progress on stderr: a line per epoch (loss, dev score, time) when stderr is a
    terminal or with --progress, and a bar over the epoch's batches on a terminal."""

    def __init__(self, console, quiet: bool, progress: bool | None, accuracy: bool):
        terminal = sys.stderr.isatty()
        self.console = console
        self.show = not quiet and (progress if progress is not None else terminal)
        self.metric = "acc" if accuracy else "F1"
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

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _with_output_layer(
    ctx: click.Context, model_config, scheme: str | None, requested_crf: bool | None, console
):
    """The model config with its tag scheme and CRF settled: a CRF by default for entity
    labels. Label smoothing is for a softmax: asked for on the command line with a CRF it is a
    usage error; from a --config file (a POS config used for entities) it is said and dropped."""
    crf = requested_crf if requested_crf is not None else scheme is not None
    if crf and model_config.label_smoothing > 0:
        source = ctx.get_parameter_source("label_smoothing")
        if source in _ON_COMMAND_LINE:
            raise click.UsageError(
                "--label-smoothing applies to a softmax output; a CRF scores whole tag sequences "
                "(train with --no-crf, or leave --label-smoothing out)"
            )
        if source == click.core.ParameterSource.DEFAULT_MAP:
            console.print("label-smoothing from --config does not apply to a CRF: trained without.")
    # ModelConfig itself zeroes label smoothing for a CRF (a default value is no request).
    return dataclasses.replace(model_config, scheme=scheme, crf=crf)


def _final_model(results, model_config, vocabularies, dev_set, target):
    """The model to save and its dev score: the one network, or the ensemble of the members
    trained (all of them unless interrupted), scored on dev together."""
    from seqtag.batch import Batcher
    from seqtag.decode import predict
    from seqtag.model import Ensemble
    from seqtag.train import dev_metric_for

    if len(results) == 1:
        return results[0].model, results[0].best_score
    model = Ensemble([r.model for r in results])
    _, metric = dev_metric_for(model_config)
    batcher = Batcher(vocabularies, model_config)
    return model, metric([s.tags for s in dev_set], predict(model, batcher, dev_set, target))


def _tag_dictionary_choice(
    ctx: click.Context, train_config, scheme: str | None, n_columns: int, console
) -> str:
    """The --tag-dictionary choice that applies: the one asked for, or "off" where a tag
    dictionary does not apply (entity labels, several columns). There, "on" on the command
    line is a usage error; from a --config file, or "auto", it is said and turned off."""
    choice = train_config.tag_dictionary
    if choice == "off" or (scheme is None and n_columns == 1):
        return choice
    why = "entity labels" if scheme is not None else f"a model of {n_columns} columns"
    if choice == "on" and ctx.get_parameter_source("tag_dictionary") in _ON_COMMAND_LINE:
        raise click.UsageError(
            f"--tag-dictionary is for plain tags of one column, not {why} (leave it out, or "
            "--tag-dictionary off)"
        )
    if _given(ctx, "tag_dictionary"):
        console.print(f"tag-dictionary {choice} does not apply to {why}: tagging without one.")
    return "off"


def _settle_tag_dictionary(choice, model, model_config, vocabularies, data, target, console):
    """The vocabularies to save, with the tag dictionary of train or without, the dev score
    of what is saved, and both dev scores ({"with": ..., "without": ...}; None for "off"):
    "on" keeps the dictionary, "auto" only if dev scores higher with it (a tie leaves it out),
    "off" never builds one. ``data``: train, dev, and the dev score without a dictionary."""
    from seqtag.batch import Batcher
    from seqtag.decode import predict
    from seqtag.train import dev_metric_for

    train_set, dev_set, dev_score = data
    if choice == "off":
        return vocabularies, dev_score, None
    with_dictionary = vocabularies.with_tag_dictionary(train_set)
    name, metric = dev_metric_for(model_config)
    predicted = predict(model, Batcher(with_dictionary, model_config), dev_set, target)
    score = metric([s.tags for s in dev_set], predicted)
    keep = choice == "on" or score > dev_score
    console.print(
        f"Tag dictionary of {len(with_dictionary.tag_dictionary)} training words: dev {name} "
        f"{score:.4f} with it, {dev_score:.4f} without: "
        + ("kept." if keep else "left out (auto keeps it only if dev scores higher).")
    )
    scores = {"with": score, "without": dev_score}
    return (with_dictionary, score, scores) if keep else (vocabularies, dev_score, scores)


# Settings that may differ between a run and its resumption: they change nothing in the result.
_RESUME_FREE = {
    "resume_dir",
    "checkpoint_dir",
    "progress",
    "quiet",
    "device",
    "threads",
    "encoding_errors",
}
# Where a setting comes from when the user typed it (a --config file is DEFAULT_MAP): a value
# that cannot apply is then a usage error, rather than said and dropped as a config's is.
_ON_COMMAND_LINE = {click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT}
_EXPLICIT = {*_ON_COMMAND_LINE, click.core.ParameterSource.DEFAULT_MAP}


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the user set the option (command line, environment or --config file)."""
    return ctx.get_parameter_source(name) in _EXPLICIT


_OPTION_NAMES = {"train_file": "TRAIN", "dev_file": "--dev"}  # where the name does not say it


def _resumed_run(ctx: click.Context, resumed: dict, resume_dir: str) -> dict:
    """The recorded settings of the run to resume; any option also given must agree with them,
    so re-running the original command with --resume added works, and a changed one is refused."""
    run = resumed["run"]
    recorded = {**as_recorded(run["options"]), "column": run["column"]}
    recorded.update(
        input_format=run["input_format"], tag_column=run["tag_column"], repair=run["repair"]
    )
    # Runs from before --embeddings existed had none.
    recorded.update(
        embeddings=run.get("embeddings"),
        embeddings_limit=run.get("embeddings_limit", EMBEDDINGS_LIMIT),
    )
    for name in ("train_file", "dev_file", "output"):
        recorded[name] = run[name]
    for name, value in ctx.params.items():
        if name in _RESUME_FREE or not _given(ctx, name):
            continue
        if name in ("train_file", "dev_file", "output", "embeddings") and value not in (None, "-"):
            value = str(Path(value).resolve())
        if value != recorded.get(name):
            option = _OPTION_NAMES.get(name, "--" + name.replace("_", "-"))
            raise click.UsageError(
                f"{option} is {value}, but the run in {resume_dir} used {recorded.get(name)}; "
                "--resume goes on with the run's own settings (leave the option out)"
            )
    return run


def _read_embeddings(path: str, limit: int, vocabularies, train_set, console):
    """The vocabularies with the pretrained words added, and the vectors' table."""
    from seqtag.embeddings import lookup_key, read_vectors

    words = {word for sentence in train_set for word in sentence.words}
    vectors = read_vectors(path, limit, words | {word.lower() for word in words})
    known = set(vectors.words)
    covered = sum(lookup_key(word, known) is not None for word in words)
    console.print(
        f"Pretrained vectors: {len(vectors.words)} words of {vectors.dimension} dimensions from "
        f"{path}; {covered} of the {len(words)} training word forms have one."
    )
    return vocabularies.with_pretrained(vectors.words), vectors.model_table()


def _data_digest(*datasets) -> str:
    """A fingerprint of the words and tags a run learns from, to refuse resuming on other data."""
    digest = hashlib.sha256()
    for sentences in datasets:
        for sentence in sentences:
            digest.update("\t".join(sentence.words).encode())
            digest.update(b"\n")
            digest.update("\t".join(sentence.tags).encode())
            digest.update(b"\n\n")
        digest.update(b"\f")
    return digest.hexdigest()


def _span_scheme(train_set, requested: str | None, repair: bool, name: str, console) -> str | None:
    """The tag scheme to train with (None: plain labels); tags that break it are an error
    naming the first one's line, or with ``repair`` are made valid, and that is said."""
    from seqtag.scheme import detect, invalid_positions, is_span_labels
    from seqtag.scheme import repair as repaired

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
    sentence, i = broken[0]
    line = sentence.line + (sentence.word_lines[i] if sentence.word_lines else 0)
    before = f"after {sentence.tags[i - 1]}" if i else "at the start of a sentence"
    if not repair:
        raise SeqtagError(
            f"{sentence.tags[i]} {before} breaks the {scheme} scheme ({len(broken)} such tags in "
            "this file); fix them, pass --repair to make them valid (I-X that starts an entity "
            "becomes B-X), or give the right --scheme",
            name,
            line,
        )
    for sentence in {id(s): s for s, _ in broken}.values():
        sentence.tags = repaired(sentence.tags, scheme)
    console.print(
        f"Repaired {len(broken)} tags that broke the {scheme} scheme (first: {name}:{line})."
    )
    return scheme


def _conllu_column_for(labels: list[str]) -> str:
    """Where a model trained on a column file writes CoNLL-U: entity tags go to MISC NER=,
    anything else to XPOS (the language-specific tag); --column says otherwise."""
    from seqtag.scheme import is_span_labels

    return "misc:NER" if is_span_labels(labels) else "xpos"
