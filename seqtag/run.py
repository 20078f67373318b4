"""Run: a whole `seqtag train` as one library call, ``train_run(request, report)``.

What a training run decides lives here, not in the command line: reading train and dev (or
holding dev out of train), the tag scheme of entity labels and its repair, the output layer,
word dropout for entities, the vocabularies (with pretrained vectors), the members of an
ensemble trained one after another (train.fit), the tag dictionary kept or left out on dev,
the checkpoint after every epoch and the resumption of one, and the model file saved. Progress
and remarks go to a ``Report``; nothing here prints. cli/train.py parses the options into a
``TrainRequest`` and renders the report; tests and benchmarks call ``train_run`` directly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import signal
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from seqtag import modelfile, transfer
from seqtag.batch import Batcher
from seqtag.checkpoint import RunCheckpoint, RunRecord
from seqtag.config import (
    EMBEDDINGS_LIMIT,
    ENTITY_WORD_DROPOUT,
    RNN_AUTO,
    ModelConfig,
    TrainConfig,
    as_recorded,
    split_options,
)
from seqtag.device import resolve_device, set_threads
from seqtag.errors import SeqtagError, UsageError, counted
from seqtag.members import MemberReport, Members
from seqtag.presets import AUTO
from seqtag.presets import choose as choose_preset
from seqtag.presets import settings as preset_settings
from seqtag.read import PLAIN_TEXT, Column, Sentence, read_labeled
from seqtag.scheme import conllu_column_for, span_scheme
from seqtag.signals import signal_raises, signals_deferred
from seqtag.torch_engine import TorchEngine, predict
from seqtag.train import (
    EpochReport,
    dev_metric_for,
    split_dev,
)
from seqtag.vocab import Vocabularies


class Report(MemberReport, Protocol):
    """Where a run tells what it does (cli/train.py renders it on stderr): what members'
    training tells (members.MemberReport), remarks, and the dev metric before training."""

    def say(self, message: str) -> None: ...
    def begin(self, dev_metric: str) -> None: ...


class Silent:
    """A Report that keeps everything to itself."""

    def say(self, message: str) -> None:
        pass

    def begin(self, dev_metric: str) -> None:
        pass

    def on_member(self, member: int, n_members: int, seed: int) -> None:
        pass

    def on_epoch(self, report: EpochReport, member: int | None = None) -> None:
        pass

    def on_batch(self, done: int, total: int) -> None:
        pass

    def members_done(self) -> None:
        pass


@dataclass(frozen=True)
class TrainRequest:
    """What `seqtag train` was asked: the files, how to read them, the configs, where to write.

    ``given`` holds the options the user set (on the command line, in the environment or in a
    --config file), by name, with their values; ``typed`` names those set on the command line
    or in the environment. A value that cannot apply is a usage error when typed, and is said
    and dropped when it came from a --config file (a POS config used for entities). A resumed
    run (``resume_dir``) takes its settings from its checkpoint; options given must agree."""

    train_file: str | None = None
    output: str | None = None
    dev_file: str | None = None
    column: str | None = None  # None: upos, or for a column file where CoNLL-U output puts tags
    input_format: str = "auto"
    tag_column: int | None = None
    encoding_errors: str = "strict"
    scheme: str | None = "auto"  # auto, none, or one of config.SCHEMES
    crf: bool | None = None  # None: a CRF for entity labels
    repair: bool = True  # entity tags that break the scheme: repaired (False: an error)
    embeddings: str | None = None
    embeddings_limit: int = EMBEDDINGS_LIMIT
    # A model file to start from (transfer.Start): its network shape, and its weights wherever
    # the vocabularies and labels allow.
    init: str | None = None
    # A treebank of a related language: a network of one member is first trained on it (dev
    # as the run's), saved beside the output as OUTPUT.related, and the run starts from it.
    related: str | None = None
    # With init or related: also train without it, and keep whichever scores higher on dev.
    transfer_check: bool = True
    # --rnn auto: ``model`` says lstm; a GRU is trained after it and the better on dev kept.
    rnn_auto: bool = False
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainConfig = field(default_factory=TrainConfig)
    device: str = "auto"
    threads: int | None = None
    jobs: int = 1  # ensemble members trained side by side in this many processes (CPU)
    checkpoint_dir: str | None = None
    resume_dir: str | None = None
    # "auto": the preset is chosen from the data (presets.choose), as `seqtag train` does
    # without --preset, and fills what ``given`` does not hold; a name: that preset was
    # applied by the caller (recorded in the model file); None: the configs as they are.
    preset: str | None = None
    # Also learn to split raw text from a CoNLL-U training file (segmenter/); `seqtag train`
    # does unless --no-tokenizer.
    tokenizer: bool = False
    given: Mapping[str, Any] = field(default_factory=dict)
    typed: frozenset[str] = frozenset()


@dataclass
class TrainOutcome:
    """How a run ended. ``saved`` is False only when it was interrupted before its first
    epoch ended; ``interrupted`` is the exit status for Ctrl-C (130) or SIGTERM (143)."""

    output: str
    saved: bool
    dev_metric: str = "accuracy"
    dev_score: float = 0.0
    best_epochs: list[int] = field(default_factory=list)  # per member
    epochs_run: list[int] = field(default_factory=list)
    member_scores: list[float] = field(default_factory=list)  # each member's own dev score
    seconds: float = 0.0
    interrupted: int | None = None
    checkpoint_dir: str | None = None


def train_run(request: TrainRequest, report: Report | None = None) -> TrainOutcome:
    """Train and save the model ``request`` asks for (see the module's docstring)."""
    report = report or Silent()
    resumed = None
    if request.resume_dir is not None:
        resumed = RunCheckpoint.load(request.resume_dir)
        request = _resumed_request(request, resumed)
    elif request.train_file is None or request.output is None:
        raise UsageError("give TRAIN.conllu and -o/--output (or --resume DIR)")
    if request.rnn_auto and (request.init is not None or request.related is not None):
        raise UsageError(
            "--rnn auto trains both kinds from a random start; a run started from a model "
            "(--init, --related) keeps that model's kind (leave --rnn out)"
        )
    if request.related is not None:
        request, first = _after_related(request, report)
        if first is not None:  # interrupted while training on the related treebank
            return first
    if request.checkpoint_dir is not None and request.train_file == "-":
        raise UsageError("--checkpoint needs TRAIN.conllu as a file, not stdin, to resume")
    column = Column.parse(request.column or "upos")
    out_dir = Path(request.output).parent
    if not out_dir.is_dir():
        raise SeqtagError("the directory for the model does not exist", str(out_dir))
    requested_scheme, requested_crf = request.scheme, request.crf
    n_columns = len(column.names)
    if n_columns > 1:
        if requested_crf or requested_scheme not in ("auto", "none", None):
            raise UsageError(
                "--crf and --scheme go with one column; a model of several columns "
                f"({column.spec}) has one softmax each"
            )
        requested_scheme = "none"
    model_config, train_config = request.model, request.training
    set_threads(request.threads)
    target = resolve_device(request.device)

    data = read_data(request, column, train_config, report)
    train_set, dev_set, train_format = data.train, data.dev, data.format
    digest = data_digest(train_set, dev_set)
    scheme = span_scheme(train_set, requested_scheme, request.repair, data.name, report.say)
    words = sum(len(s.words) for s in train_set)
    preset = request.preset
    if preset == AUTO and resumed is None:
        preset, model_config, train_config = _chosen_preset(
            request, model_config, train_config, words, scheme is not None, report
        )
    model_config = _with_output_layer(request, model_config, scheme, requested_crf, report)
    source = None
    if request.init is not None:
        source = _init_source(request, resumed)
        typed = {name: request.given[name] for name in request.typed}
        model_config, changed = transfer.shaped_like(source, model_config, typed)
        if changed and resumed is None:
            report.say(f"The network takes {source.path}'s shape: {', '.join(changed)}.")
    # What is done with the --tag-dictionary asked for; train_config keeps the request, so a
    # checkpoint resumes with the command that started it.
    tag_dictionary = _tag_dictionary_choice(request, train_config, scheme, n_columns, report)
    if scheme is not None and resumed is None and "word_dropout" not in request.given:
        # A resumed run keeps the value it recorded (it may have been asked for).
        train_config = dataclasses.replace(train_config, word_dropout=ENTITY_WORD_DROPOUT)
    pretrained = None
    if resumed is None:
        vocabularies = Vocabularies.build(train_set, model_config, n_columns)
        if request.embeddings is not None:
            vocabularies, pretrained = _read_embeddings(
                request.embeddings, request.embeddings_limit, vocabularies, train_set, report
            )
            model_config = dataclasses.replace(model_config, pretrained_dim=pretrained.shape[1])
    else:
        if digest != resumed.run.data_digest:
            raise SeqtagError(
                "the training or dev data changed since the checkpoint was written; "
                "resuming would not give the run it started",
                request.train_file,
            )
        vocabularies = resumed.vocabularies
    if train_format != "conllu" and request.column is None:
        column = Column.parse(conllu_column_for(vocabularies.labels.to_list()))
    learned_from = f"column {column.spec}"
    if train_format != "conllu":
        kind = {"columns": "column", "iob2": "Universal NER (iob2)"}.get(train_format, train_format)
        learned_from = f"a {kind} file (CoNLL-U output: {column.spec})"
    report.say(
        f"Training on {counted(len(train_set), 'sentence')} ({counted(words, 'word')}), "
        f"{' + '.join(str(len(labels)) for labels in vocabularies.label_sets)} "
        f"label{'' if sum(map(len, vocabularies.label_sets)) == 1 else 's'} from {learned_from}; "
        f"dev {counted(len(dev_set), 'sentence')}; device {target.type}."
    )
    if scheme is not None:
        output_layer = "a CRF" if model_config.crf else "a softmax"
        report.say(
            f"Entity labels ({scheme.upper()}): {output_layer} output layer, word dropout "
            f"{train_config.word_dropout:g}, dev scored by entity F1."
        )
    start = None
    if source is not None:
        start = transfer.Start.build(source, vocabularies, model_config, tuple(column.names))
        report.say(start.summary)
    n_members = model_config.ensemble
    member_config = dataclasses.replace(model_config, ensemble=1)
    # Ensemble members that finished before the checkpoint; "training" is the next one's state.
    finished = list(resumed.finished) if resumed is not None else []
    if resumed is not None and not resumed.training:  # written by members side by side
        report.say(
            f"Resuming from {request.resume_dir}: {len(finished)} of {n_members} ensemble "
            "members had finished; the others train from their start."
        )
    elif resumed is not None:
        member = f" of ensemble member {len(finished) + 1}" if n_members > 1 else ""
        report.say(
            f"Resuming from {request.resume_dir} after epoch {resumed.epoch}{member} "
            f"(best dev {resumed.best_score:.4f})."
        )
    save_checkpoint = None
    if request.checkpoint_dir is not None:
        record = _run_record(request, column, model_config, train_config, digest, preset, source)

        def save_checkpoint(state: dict) -> None:
            RunCheckpoint(record, vocabularies, finished, state).save(request.checkpoint_dir)

    jobs = request.jobs
    if jobs > 1 and n_members > 1 and target.type != "cpu":
        report.say(f"--jobs trains members side by side on the CPU; on {target.type} they train "
                   "one after another.")  # fmt: skip
        jobs = 1
    members = Members(train_set, dev_set, vocabularies, member_config, train_config, target)
    report.begin(dev_metric_for(model_config)[0])
    how = {"pretrained": pretrained, "jobs": jobs, "threads": request.threads or 1}
    results, interrupted = members.train(
        n_members,
        report,
        resumed=resumed,
        finished=finished,
        save_checkpoint=save_checkpoint,
        start=start,
        **how,
    )
    # Training time of every network trained, those of an alternative not kept included.
    seconds = _elapsed(results)
    rnn_choice = None
    if request.rnn_auto and results and interrupted is None:
        gru = Members(train_set, dev_set, vocabularies,
                      dataclasses.replace(member_config, rnn="gru"), train_config, target)  # fmt: skip
        chosen, results, interrupted, rnn_choice, trained = _rnn_chosen_on_dev(
            (members, gru), results, model_config, report, how
        )
        seconds += _elapsed(trained)
        if chosen is gru:
            members, model_config = gru, dataclasses.replace(model_config, rnn="gru")
    check = None
    if start is not None and request.transfer_check and results and interrupted is None:
        results, interrupted, check, trained = _checked_against_alone(
            members, results, model_config, source, report, how
        )
        seconds += _elapsed(trained)
    outcome = TrainOutcome(
        request.output, saved=False, interrupted=interrupted, checkpoint_dir=request.checkpoint_dir
    )
    if not results:
        return outcome
    # Ctrl-C or SIGTERM from here on waits until the model file is written (scoring an
    # ensemble on dev can take a while), instead of ending in a traceback.
    with signals_deferred(report.say, signal.SIGINT, signal.SIGTERM) as late:
        model, dev_score = members.final_model(results, model_config)
        vocabularies, dev_score, dictionary_scores = settle_tag_dictionary(
            tag_dictionary, model, model_config, vocabularies, (train_set, dev_set, dev_score),
            target, report,
        )  # fmt: skip
        calibration = calibrate(model, model_config, vocabularies, dev_set, target, report)
        best_epoch = [r.best_epoch for r in results]
        epochs_run = [len(r.epochs) for r in results]
        modelfile.save(
            request.output,
            model,
            vocabularies,
            column.spec,
            dataclasses.replace(train_config, tag_dictionary=tag_dictionary),
            {
                "dev_score": dev_score,
                "dev_metric": results[0].dev_metric,
                **({"tag_dictionary_dev": dictionary_scores} if dictionary_scores else {}),
                **calibration,
                "best_epoch": best_epoch[0] if len(results) == 1 else best_epoch,
                "epochs_run": epochs_run[0] if len(results) == 1 else epochs_run,
                "train_sentences": len(train_set),
                "train_words": words,
                **({"preset": preset} if preset not in (None, AUTO) else {}),
                "dev_source": data.dev_source,
                "embeddings": request.embeddings,
                **_provenance(source, check),
                **({"rnn_auto": rnn_choice} if rnn_choice else {}),
                "training_seconds": round(seconds, 1),
                "interrupted": interrupted is not None,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
        )
    if late.fired and interrupted is None:
        interrupted = 143 if late.signum == signal.SIGTERM else 130
    if request.tokenizer and train_format == "conllu" and interrupted is None:
        interrupted = _train_segmenter(request, train_set, dev_set, train_config.seed, report)
    return dataclasses.replace(
        outcome,
        saved=True,
        dev_metric=results[0].dev_metric,
        dev_score=dev_score,
        best_epochs=best_epoch,
        epochs_run=epochs_run,
        member_scores=[r.best_score for r in results],
        seconds=seconds,
        interrupted=interrupted,
    )


def _train_segmenter(request, train_set, dev_set, seed: int, report: Report) -> int | None:
    """Add a segmenter to the saved model; None, or the exit status of an interruption (the
    model then stays as saved, without one)."""
    from seqtag.segmenter.network import train_into

    terminated = None
    try:
        with signal_raises(signal.SIGTERM, KeyboardInterrupt) as terminated:
            train_into(request.output, train_set, dev_set, seed, report.say)
    except KeyboardInterrupt:
        report.say(
            "Interrupted: the model is saved without a segmenter; raw text gets the rule "
            "tokenizer (seqtag tag --tokenizer rules)."
        )
        return 143 if terminated is not None and terminated.fired else 130
    return None


@dataclass
class LabeledData:
    """The tagged sentences a run learns from and stops early on."""

    train: list[Sentence]
    dev: list[Sentence]
    format: str  # the training file's: conllu, columns or iob2
    name: str  # the training file's, for messages (<stdin> for -)
    dev_source: str  # where dev came from: its file, or how it was held out of train


def read_data(
    request: TrainRequest, column: Column, train_config: TrainConfig, report: Report
) -> LabeledData:
    """Train and dev as the request says; without a dev file, a seeded share of train is
    held out as dev (and that is said)."""

    def read(path: str) -> tuple[list[Sentence], str]:
        return read_labeled(
            path, column, request.encoding_errors, request.input_format, request.tag_column
        )

    train_set, train_format = read(request.train_file)
    name = "<stdin>" if request.train_file == "-" else request.train_file
    if request.input_format == "auto" and train_format == "columns":
        _refuse_untagged_text(train_set, name)
    if request.dev_file:
        dev_set, _ = read(request.dev_file)
        return LabeledData(train_set, dev_set, train_format, name, request.dev_file)
    if len(train_set) < 2:
        raise SeqtagError("need at least 2 sentences to hold one out as dev; give --dev", name)
    train_set, dev_set = split_dev(train_set, train_config.dev_fraction, train_config.seed)
    dev_source = (
        f"{counted(len(dev_set), 'sentence')} held out of {name} (seed {train_config.seed})"
    )
    report.say(f"No --dev given: {dev_source}, for early stopping.")
    return LabeledData(train_set, dev_set, train_format, name, dev_source)


def _refuse_untagged_text(train_set: list[Sentence], name: str) -> None:
    """A file read as columns (auto-detected) whose "tags", the last word of each line, never
    repeat, or are one label only, holds no tagging to learn: plain text with lines of equal
    length looks like that."""
    tags = Counter(tag for sentence in train_set for tag in sentence.tags)
    tokens = sum(tags.values())
    if tokens >= 2 and max(tags.values()) == 1:
        raise SeqtagError(
            f"{PLAIN_TEXT}; read as a column file, no tag occurs twice ({counted(tokens, 'token')}"
            f", {counted(len(tags), 'tag')})",
            name,
        )
    if len(tags) == 1:
        raise SeqtagError(
            f"every token has the same tag ({next(iter(tags))}): nothing to learn; training "
            "needs CoNLL-U or one `word TAG` per line with several tags",
            name,
        )


def _init_source(request: TrainRequest, resumed: RunCheckpoint | None) -> transfer.Source:
    """The model the run starts from; a resumed run's must be the file it began with."""
    source = transfer.Source.read(request.init)
    if resumed is not None and source.record["sha256"] != resumed.run.init_sha256:
        raise SeqtagError(
            "the model the run started from (--init) changed since the checkpoint was written; "
            "resuming would not give the run it started",
            request.init,
        )
    return source


def _checked_against_alone(members, results, model_config, source, report: Report, how: dict):
    """The dev check of a transfer (train --transfer-check): the same members trained from a
    random start; the results kept (the transferred ones unless alone scored higher on dev),
    the exit status of an interruption (the transferred ones are then kept), the scores, and
    the results of the networks trained here (alone), kept or not, for the training time."""
    intro = (
        f"Dev check: the same {counted(len(results), 'network')} trained without "
        f"{source.path}, to keep whichever scores higher on dev (--no-transfer-check skips this)."
    )
    scores, alone, interrupted = _alternative_on_dev(
        (members, results, model_config), (members, model_config), intro, report, how
    )
    if scores is None:
        report.say(f"Dev check interrupted: keeping the start from {source.path}.")
        return results, interrupted, None, alone
    with_transfer, without = scores
    keep = with_transfer >= without
    report.say(
        f"Dev {dev_metric_for(model_config)[0]} {with_transfer:.4f} starting from "
        f"{source.path}, {without:.4f} alone: "
        + ("kept the start from it." if keep else "kept the network trained alone.")
    )
    check = {
        "dev_with": with_transfer,
        "dev_without": without,
        "kept": "transfer" if keep else "alone",
    }
    return (results if keep else alone), None, check, alone


def _rnn_chosen_on_dev(both, results, model_config, report: Report, how: dict):
    """--rnn auto: the GRU members trained after the LSTM ones (``both``: their Members); the
    Members kept (the GRU only if it scores higher on dev), their results, the exit status of
    an interruption (the LSTM is then kept), both scores, and the GRU results, kept or not,
    for the training time."""
    lstm, gru = both
    intro = (
        f"--rnn auto: now the same {counted(len(results), 'network')} with GRU layers; the one "
        "that scores higher on dev is kept."
    )
    gru_config = dataclasses.replace(model_config, rnn="gru")
    found, gru_results, interrupted = _alternative_on_dev(
        (lstm, results, model_config), (gru, gru_config), intro, report, how
    )
    if found is None:
        report.say("--rnn auto interrupted: keeping the LSTM.")
        return lstm, results, interrupted, None, gru_results
    scores = dict(zip(("lstm", "gru"), found, strict=True))
    kept = "gru" if scores["gru"] > scores["lstm"] else "lstm"
    report.say(
        f"Dev {dev_metric_for(model_config)[0]} {scores['lstm']:.4f} with LSTM layers, "
        f"{scores['gru']:.4f} with GRU: kept the {kept.upper()}."
    )
    choice = {**scores, "kept": kept}
    if kept == "gru":
        return gru, gru_results, None, choice, gru_results
    return lstm, results, None, choice, gru_results


def _alternative_on_dev(first, second, intro: str, report: Report, how: dict):
    """Train the alternative to a run's members: ``first`` is (Members, their results, model
    config), ``second`` (Members, model config) of the alternative, trained from a random
    start without a checkpoint. Returns both dev scores (None when the alternative was
    interrupted), the alternative's results and the exit status of an interruption."""
    (members, results, config), (other, other_config) = first, second
    report.say(intro)
    trained, interrupted = other.train(
        len(results), report, resumed=None, finished=[], save_checkpoint=None, **how
    )
    if interrupted is not None or len(trained) < len(results):
        return None, trained, interrupted
    scores = (members.final_model(results, config)[1], other.final_model(trained, other_config)[1])
    return scores, trained, None


def _elapsed(results) -> float:
    """Seconds the networks of ``results`` trained (each member's own, added up)."""
    return sum(r.epochs[-1].elapsed for r in results if r.epochs)


def _provenance(source: transfer.Source | None, check: dict | None) -> dict:
    """What the model file says of a transfer: ``started_from`` when its weights started from
    the source; the dev check's scores, naming the source tried when alone was kept."""
    if source is None:
        return {}
    if check is None or check["kept"] == "transfer":
        return {"started_from": source.record, **({"transfer_check": check} if check else {})}
    return {"transfer_check": {**check, "tried": source.record}}


def _after_related(
    request: TrainRequest, report: Report
) -> tuple[TrainRequest, TrainOutcome | None]:
    """--related: train a network of one member on the related treebank first (the run's
    column, options and dev; no tokenizer), saved as OUTPUT.related; the request that starts
    from it, and None, or the outcome of that training when it was interrupted."""
    if request.init is not None:
        raise UsageError(
            "give --related or --init, not both: --related trains the model to start from"
        )
    if request.checkpoint_dir is not None:
        raise UsageError(
            "--related does not go with --checkpoint yet: train on the related treebank first "
            "(seqtag train RELATED.conllu --dev DEV -o related.model --preset pos --checkpoint "
            "DIR), then train with --init related.model"
        )
    _refuse_another_kind(request)
    path = f"{request.output}.related"
    report.say(
        f"First, one network on the related treebank {request.related} (dev: "
        f"{request.dev_file or 'held out of it'}), saved as {path}:"
    )
    first = dataclasses.replace(
        request,
        train_file=request.related,
        output=path,
        related=None,
        model=dataclasses.replace(request.model, ensemble=1),
        training=dataclasses.replace(request.training, tag_dictionary="off"),
        tokenizer=False,
        preset=None,  # the run's own settings, as given, whatever preset its data may choose
    )
    outcome = train_run(first, report)
    if outcome.interrupted is not None or not outcome.saved:
        return request, outcome
    report.say(f"Then {request.train_file}, starting from {path}:")
    return dataclasses.replace(request, related=None, init=path), None


_KINDS = {"conllu": "CoNLL-U", "columns": "a column file", "iob2": "Universal NER (iob2)"}


def _refuse_another_kind(request: TrainRequest) -> None:
    """--related must be a treebank of the kind of TRAIN (both CoNLL-U, say): a column file of
    entity labels would teach a UPOS tagger labels it never uses."""
    from seqtag.lines import open_lines
    from seqtag.read import detect_format

    if request.input_format != "auto" or request.train_file == "-":
        return  # one format given for both, or a training file that cannot be read twice
    kinds = []
    for path in (request.train_file, request.related):
        lines = open_lines(path, request.encoding_errors)
        try:
            kinds.append(detect_format(lines, need_tags=True))
        finally:
            lines.close()
    if kinds[0] != kinds[1]:
        raise SeqtagError(
            f"this is {_KINDS[kinds[1]]} and {request.train_file} is {_KINDS[kinds[0]]}: "
            "--related needs a treebank of the same kind, tagged in the same column",
            request.related,
        )


def _run_record(
    request: TrainRequest, column: Column, model_config, train_config, digest: str, preset, source
):
    """The settings a checkpoint keeps, paths made absolute so --resume works from anywhere."""

    def absolute(path: str | None) -> str | None:
        return None if path is None else "-" if path == "-" else str(Path(path).resolve())

    return RunRecord(
        train_file=absolute(request.train_file),
        dev_file=absolute(request.dev_file or None),
        output=absolute(request.output),
        column=column.spec,
        input_format=request.input_format,
        tag_column=request.tag_column,
        repair=request.repair,
        embeddings=absolute(request.embeddings or None),
        embeddings_limit=request.embeddings_limit,
        options={**dataclasses.asdict(model_config), **dataclasses.asdict(train_config)},
        data_digest=digest,
        preset=preset,
        tokenizer=request.tokenizer,
        init=absolute(request.init),
        transfer_check=request.transfer_check,
        init_sha256=source.record["sha256"] if source is not None else None,
        rnn_auto=request.rnn_auto,
    )


def _chosen_preset(request, model_config, train_config, words: int, entity: bool, report):
    """The preset chosen from the data (presets.choose), said in one line, and the configs
    with its values wherever the user set nothing."""
    name, why = choose_preset(words, entity)
    settings = {k: v for k, v in preset_settings(name).items() if k not in ("scheme", "crf")}
    # The scheme and CRF are settled from the data; what the user set wins over the preset.
    values = {key: value for key, value in settings.items() if key not in request.given}
    kept = [
        f"--{key.replace('_', '-')} {request.given[key]}"
        for key in settings
        if key in request.given
    ]
    yours = f"; yours kept: {', '.join(kept)}" if kept else ""
    report.say(f"Preset {name}, chosen from the data: {why}{yours}.")
    options = {**dataclasses.asdict(model_config), **dataclasses.asdict(train_config), **values}
    return (name, *split_options(options))


def _with_output_layer(
    request: TrainRequest, model_config, scheme: str | None, requested_crf, report: Report
):
    """The model config with its tag scheme and CRF settled: a CRF by default for entity
    labels. Label smoothing is for a softmax: asked for on the command line with a CRF it is a
    usage error; from a --config file (a POS config used for entities) it is said and dropped."""
    crf = requested_crf if requested_crf is not None else scheme is not None
    if crf and model_config.label_smoothing > 0:
        if "label_smoothing" in request.typed:
            raise UsageError(
                "--label-smoothing applies to a softmax output; a CRF scores whole tag sequences "
                "(train with --no-crf, or leave --label-smoothing out)"
            )
        if "label_smoothing" in request.given:
            report.say("label-smoothing from --config does not apply to a CRF: trained without.")
    # ModelConfig itself zeroes label smoothing for a CRF (a default value is no request).
    return dataclasses.replace(model_config, scheme=scheme, crf=crf)


def _tag_dictionary_choice(
    request: TrainRequest, train_config, scheme: str | None, n_columns: int, report: Report
) -> str:
    """The --tag-dictionary choice that applies: the one asked for, or "off" where a tag
    dictionary does not apply (entity labels, several columns). There, "on" on the command
    line is a usage error; from a --config file, or "auto", it is said and turned off."""
    choice = train_config.tag_dictionary
    if choice == "off" or (scheme is None and n_columns == 1):
        return choice
    why = "entity labels" if scheme is not None else f"a model of {n_columns} columns"
    if choice == "on" and "tag_dictionary" in request.typed:
        raise UsageError(
            f"--tag-dictionary is for plain tags of one column, not {why} (leave it out, or "
            "--tag-dictionary off)"
        )
    if "tag_dictionary" in request.given:
        report.say(f"tag-dictionary {choice} does not apply to {why}: tagging without one.")
    return "off"


def settle_tag_dictionary(choice, model, model_config, vocabularies, data, target, report):
    """The vocabularies to save, with the tag dictionary of train or without, the dev score
    of what is saved, and both dev scores ({"with": ..., "without": ...}; None for "off"):
    "on" keeps the dictionary, "auto" only if dev scores higher with it (a tie leaves it out),
    "off" never builds one. ``data``: train, dev, and the dev score without a dictionary."""
    train_set, dev_set, dev_score = data
    if choice == "off":
        return vocabularies, dev_score, None
    with_dictionary = vocabularies.with_tag_dictionary(train_set)
    name, metric = dev_metric_for(model_config)
    predicted = predict(model, Batcher(with_dictionary, model_config), dev_set, target)
    score = metric([s.tags for s in dev_set], predicted)
    keep = choice == "on" or score > dev_score
    report.say(
        f"Tag dictionary of {len(with_dictionary.tag_dictionary)} training words: dev {name} "
        f"{score:.4f} with it, {dev_score:.4f} without: "
        + ("kept." if keep else "left out (auto keeps it only if dev scores higher).")
    )
    scores = {"with": score, "without": dev_score}
    return (with_dictionary, score, scores) if keep else (vocabularies, dev_score, scores)


def calibrate(model, model_config, vocabularies, dev_set, target, report: Report) -> dict:
    """The calibration fitted on dev (seqtag.calibration), said with the expected calibration
    error on dev before and after, as the model file records them."""
    import torch

    from seqtag import calibration

    engine = TorchEngine(model, Batcher(vocabularies, model_config), target)
    model.eval()
    with torch.inference_mode():
        fitted, before, after = calibration.fit(engine, dev_set)
    penalty = fitted.dictionary_penalty
    report.say(
        f"Calibrated on dev: temperature {', '.join(f'{t:.3g}' for t in fitted.temperature)}"
        + (f", tag dictionary penalty {penalty:.3g}" if penalty is not None else "")
        + f"; expected calibration error {', '.join(f'{e:.3f}' for e in before)} before, "
        f"{', '.join(f'{e:.3f}' for e in after)} after."
    )
    return {"calibration": {**fitted.to_dict(), "dev_ece_before": before, "dev_ece_after": after}}


# Settings that may differ between a run and its resumption: they change nothing in the result.
RESUME_FREE = {
    "resume_dir",
    "checkpoint_dir",
    "progress",
    "quiet",
    "device",
    "threads",
    "jobs",
    "encoding_errors",
}
_OPTION_NAMES = {"train_file": "TRAIN", "dev_file": "--dev"}  # where the name does not say it


def _resumed_request(request: TrainRequest, resumed: RunCheckpoint) -> TrainRequest:
    """The request of the run to resume, with its recorded settings; any option also given must
    agree with them, so re-running the original command with --resume added works, and a
    changed one is refused."""
    run = resumed.run
    options = as_recorded(run.options)
    recorded = {**options, **dataclasses.asdict(run)}
    del recorded["options"], recorded["data_digest"], recorded["preset"], recorded["init_sha256"]
    if run.rnn_auto:  # the command said --rnn auto; the configs name the LSTM trained first
        recorded["rnn"] = RNN_AUTO
    for name, value in request.given.items():
        if name in RESUME_FREE:
            continue
        paths = ("train_file", "dev_file", "output", "embeddings", "init")
        if name in paths and value not in (None, "-"):
            value = str(Path(value).resolve())
        if value != recorded.get(name):
            option = _OPTION_NAMES.get(name, "--" + name.replace("_", "-"))
            raise UsageError(
                f"{option} is {value}, but the run in {request.resume_dir} used "
                f"{recorded.get(name)}; --resume goes on with the run's own settings (leave "
                "the option out)"
            )
    scheme, crf = options.pop("scheme"), options.pop("crf")
    model_config, train_config = split_options(options)
    return dataclasses.replace(
        request,
        train_file=run.train_file,
        dev_file=run.dev_file,
        output=run.output,
        column=run.column,
        input_format=run.input_format,
        tag_column=run.tag_column,
        repair=run.repair,
        embeddings=run.embeddings,
        embeddings_limit=run.embeddings_limit,
        init=run.init,
        transfer_check=run.transfer_check,
        rnn_auto=run.rnn_auto,
        scheme=scheme,
        crf=crf,
        model=model_config,
        training=train_config,
        preset=run.preset,
        tokenizer=run.tokenizer,
        checkpoint_dir=request.checkpoint_dir or request.resume_dir,
    )


def _read_embeddings(path: str, limit: int, vocabularies, train_set, report: Report):
    """The vocabularies with the pretrained words added, and the vectors' table."""
    from seqtag.embeddings import lookup_key, read_vectors

    words = {word for sentence in train_set for word in sentence.words}
    vectors = read_vectors(path, limit, words | {word.lower() for word in words})
    known = set(vectors.words)
    covered = sum(lookup_key(word, known) is not None for word in words)
    report.say(
        f"Pretrained vectors: {len(vectors.words)} words of {vectors.dimension} dimensions from "
        f"{path}; {covered} of the {len(words)} training word forms have one."
    )
    return vocabularies.with_pretrained(vectors.words), vectors.model_table()


def data_digest(*datasets: Sequence[Sentence]) -> str:
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
