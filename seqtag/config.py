"""Configuration: the frozen dataclasses that describe a model and a training run.

Defaults live here, each with the reason for its value. A config is saved by value in the model
file, so the file alone rebuilds the network. ``--config FILE.toml`` is read by ``load_toml`` and
fed to click's ``default_map``: the command line beats the file, which beats these defaults.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqtag.errors import SeqtagError

RNN_TYPES = ("lstm", "gru")
# train --rnn auto: both are trained and the one better on dev is kept (run.py); never a
# ModelConfig's value, which names the network that was kept.
RNN_AUTO = "auto"
# Pretrained vectors kept from an --embeddings file: its first N (files list the most frequent
# words first) plus those of every training word; 60 MB of model file at 300 dimensions.
EMBEDDINGS_LIMIT = 50_000
# Targets of the auxiliary frequency loss (--frequency-loss): int(log2(count)) of each training
# word, capped, so bin 0 holds words seen once and bin 15 words seen 32,768 times or more.
FREQUENCY_BINS = 16
SCHEMES = ("iob1", "iob2", "iobes", "bilou")  # span tag schemes (seqtag.scheme implements them)
TAG_DICTIONARY_CHOICES = ("off", "on", "auto")  # train --tag-dictionary (seqtag.tagdict)


def setting(default: Any, help: str, **option: Any) -> Any:
    """A config field that is also an option of `seqtag train`: the command line's
    ``--field-name`` (and a --config file's ``field-name`` key) is generated from it, with
    ``help`` as its help. ``option`` may say ``choices``; ``minimum``, ``maximum``,
    ``min_open`` and ``max_open`` for a range; ``show_default=False``; ``command_line_choices``
    where the command line takes more than the field holds (--rnn auto). A bool becomes a pair
    of switches (--char/--no-char). Fields made with plain defaults are not options."""
    return dataclasses.field(default=default, metadata={"help": help, **option})


def option_fields(config_class: type) -> list[dataclasses.Field]:
    """The fields of a config class that are options of `seqtag train`, in order."""
    return [field for field in dataclasses.fields(config_class) if "help" in field.metadata]


# Word dropout for entity labels (IOB and kin) unless asked otherwise: names are mostly rare or
# unseen words, so the model should lean on spelling more than on a word's own vector. On the
# ten MasakhaNER dev sets (seeds 1-2) 1.0 beat 0.25 by 0.34 F1 on average, on seven of ten
# (benchmarks/results/ner-masakhaner-word-dropout); for POS 0.5 and 1.0 were measured and lost.
ENTITY_WORD_DROPOUT = 1.0


@dataclass(frozen=True)
class ModelConfig:
    """The architecture: everything needed to rebuild the network from the model file."""

    # LSTM edges out GRU on most tagging benchmarks; GRU trains a little faster
    rnn: str = setting(
        "lstm",
        "Recurrent encoder type; auto trains both an LSTM and a GRU tagger (twice the time) "
        "and keeps the one that scores higher on dev, saying both scores.",
        choices=RNN_TYPES,
        command_line_choices=(*RNN_TYPES, RNN_AUTO),
    )
    # A second layer helps on the larger treebanks and costs little on small ones
    layers: int = setting(
        2,
        "Stacked bidirectional layers.",
        minimum=1,
        maximum=8,
    )
    # Per direction. 128 rather than 200: on the dev sets of the nine small treebanks (seed 1)
    # no worse (mean +0.3 points), and it tags and trains about twice as fast on a CPU.
    hidden: int = setting(
        128,
        "Encoder size per direction.",
        minimum=1,
    )
    # Word embeddings trained from scratch: small data cannot fill more
    word_dim: int = setting(
        100,
        "Word embedding size.",
        minimum=1,
    )
    lowercase: bool = setting(
        False,
        "Key word embeddings by the lowercased form (The and the share one); characters and "
        "affixes still see the word as written.",
    )
    # The character BiLSTM: the main source of accuracy on unseen words
    char: bool = setting(
        True,
        "Character BiLSTM word vectors (for unseen words).",
    )
    char_dim: int = setting(
        50,
        "Character embedding size.",
        minimum=1,
    )
    # Per direction, so each word gets a 200-dim character vector
    char_hidden: int = setting(
        100,
        "Character BiLSTM size per direction.",
        minimum=1,
    )
    # Embeddings of each word's lowercased prefixes and suffixes of 1..affixes characters
    # (seqtag.affixes), affix_dim wide each; 0: none. Chosen on dev (session 5): over the
    # character BiLSTM alone, +0.7 points mean dev accuracy on lt_hse, mr_ufal and ta_ttb (seeds
    # 1-2) and higher on four of the five larger treebanks checked (gl_treegal -0.2); 3
    # characters with 20 dimensions each beat 4 with 10 (ta_ttb -1.0).
    affixes: int = setting(
        3,
        "Learned embeddings of each word's lowercased prefixes and suffixes of 1..N characters "
        "(those shared by 2+ training words), beside the character BiLSTM; 0 turns them off.",
        minimum=0,
        maximum=10,
    )
    affix_dim: int = setting(
        20,
        "Size of each affix embedding (a word gets 2N of them).",
        minimum=1,
    )
    # Weight of the auxiliary loss of predicting each word's frequency bin (model.FREQUENCY_BINS);
    # 0: none (and no such output layer).
    frequency_loss: float = setting(
        0.0,
        "Weight of an auxiliary loss: the encoder also predicts how often each word occurs in "
        "train (its log2-frequency bin; Plank et al. 2016), which teaches it what rare words "
        "look like; 0 turns it off.",
        minimum=0,
    )
    # between every layer; the usual value for BiLSTM taggers on UD
    dropout: float = setting(
        0.33,
        "Dropout between layers.",
        minimum=0,
        maximum=1,
        max_open=True,
    )
    # Training only: the probability that a token's whole word vector (trained and pretrained)
    # is zeroed, beside word dropout's UNK replacement of rare words; 0: off.
    embedding_dropout: float = setting(
        0.0,
        "In training, zero a token's whole word vector with this probability (its spelling "
        "still counts), so the tagger learns to do without; 0 turns it off.",
        minimum=0,
        maximum=1,
        max_open=True,
    )
    # Training only: the share of each token's target probability spread over all labels
    # (cross-entropy against 1-E on the gold label plus E/K on each); 0: one-hot targets.
    # Softmax outputs only: a CRF's loss is over whole tag sequences, so with crf it is 0.
    # Chosen on dev (benchmarks/results/dev-label-smoothing): 0.1 against one-hot targets, +0.29 points mean
    # dev accuracy in 11 runs; on the three smallest treebanks (seeds 1-2) +0.49, 5 of 6 runs
    # higher; on five larger ones (seed 1) +0.06: cy_ccg +0.35, the others within 0.1.
    label_smoothing: float = setting(
        0.1,
        "In training, aim the softmax at the gold label with 1-E of the probability and spread "
        "E over all labels, so the tagger is never rewarded for certainty; 0 turns it off. Not "
        "with a CRF (entity labels), which trains without it.",
        minimum=0,
        maximum=1,
        max_open=True,
    )
    # Training only: adversarial training (Yasunaga, Kasai and Radev 2018). Each batch is also
    # trained on its input vectors moved, per sentence, in the direction that raises the loss
    # most, by this fraction of their length; 0: off. Doubles the cost of a training step.
    # Measured on dev (benchmarks/results/dev-word-dropout-adversarial): 0.05 gave +0.14 over six runs, up on mr_ufal,
    # down on ta_ttb; off by default.
    adversarial: float = setting(
        0.0,
        "In training, also learn from each batch with its input vectors moved this share of "
        "their length in the direction that raises the loss most (adversarial training, for "
        "robustness on unseen words); twice the training time; 0 turns it off.",
        minimum=0,
        maximum=1,
    )
    # Size of the frozen pretrained word vectors (--embeddings) beside the trained ones; 0: none.
    pretrained_dim: int = 0
    # Networks trained from different seeds whose predictions are averaged (model.Ensemble);
    # each one is the whole network above.
    ensemble: int = setting(
        1,
        "Train N networks from different seeds (the run's seed, then seed+1000, ...) and tag "
        "with the mean of their label probabilities: N times the training and tagging time and "
        "model size, for steadier accuracy on small data.",
        minimum=1,
        maximum=20,
    )
    # Span labels (NER): the tag scheme of the training data, which decoding never breaks, and
    # whether a CRF scores whole tag sequences; both set from the data unless given.
    scheme: str | None = None  # iob1, iob2, iobes, bilou; None for labels that are not spans
    crf: bool = False

    def __post_init__(self) -> None:
        if self.rnn not in RNN_TYPES:
            raise SeqtagError(
                f"unknown rnn type {self.rnn!r}; choose one of {', '.join(RNN_TYPES)}"
            )
        if self.crf:
            # The default smoothing belongs to softmax outputs; the CLI refuses an explicit
            # --label-smoothing with --crf, and the saved config says what the model trained with.
            object.__setattr__(self, "label_smoothing", 0.0)
        if self.scheme is not None and self.scheme not in SCHEMES:
            raise SeqtagError(
                f"unknown tag scheme {self.scheme!r}; choose one of {', '.join(SCHEMES)}"
            )


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained; saved in the model file for the record, not needed to tag."""

    seed: int = setting(
        1,
        "Random seed; the same seed repeats a CPU run.",
    )
    # early stopping usually ends runs well before this
    max_epochs: int = setting(
        30,
        "Upper bound on epochs.",
        minimum=1,
    )
    # epochs without a better dev score before stopping
    patience: int = setting(
        5,
        "Stop after this many epochs without a better dev score.",
        minimum=1,
    )
    # sentences per batch: small batches generalise better on small data
    batch_size: int = setting(
        32,
        "Sentences per batch.",
        minimum=1,
    )
    # Adam; with clipping this is stable and converges quickly
    learning_rate: float = setting(
        2e-3,
        "Adam learning rate.",
        minimum=0,
        min_open=True,
    )
    # gradient norm clipping keeps the recurrent layers from blowing up
    clip: float = setting(
        5.0,
        "Gradient norm clipping.",
        minimum=0,
        min_open=True,
    )
    # learning rate x this after an epoch without a better dev score; 1 = off
    lr_decay: float = setting(
        0.5,
        "Multiply the learning rate by this after each epoch without a better dev score; 1 "
        "turns it off.",
        minimum=0,
        maximum=1,
        min_open=True,
    )
    # Stop once the learning rate has been cut this many times (0: no limit). Chosen on dev: on
    # the suite and en_ewt, epochs after the fifth cut (rate 1/32 of the start) moved dev
    # accuracy by 0.0001 on average while taking 18% of the training time.
    max_lr_decays: int = setting(
        5,
        "Stop once --lr-decay has cut the learning rate this many times (0: no limit).",
        minimum=0,
    )
    # Alpha: a word seen c times becomes UNK with p = alpha / (alpha + c); entity labels get
    # ENTITY_WORD_DROPOUT instead unless it is asked for.
    word_dropout: float = setting(
        0.25,
        "Alpha: a word seen c times is replaced by UNK with p = alpha/(alpha+c); 0 turns it "
        f"off. Default 0.25, {ENTITY_WORD_DROPOUT:g} for entity labels.",
        minimum=0,
        show_default=False,
    )
    # Decay of an exponential moving average of the weights over training steps, which is
    # then what dev scores and what is saved (train.WeightAverage); 0: the weights as trained.
    average_weights: float = setting(
        0.0,
        "Score and save a moving average of the weights over training steps, each step keeping "
        "this share of the average (e.g. 0.99); 0 keeps the weights as trained.",
        minimum=0,
        maximum=1,
        max_open=True,
    )
    # held out from train when no --dev is given
    dev_fraction: float = setting(
        0.1,
        "Share of train held out as dev when no --dev is given.",
        minimum=0,
        maximum=0.5,
        min_open=True,
    )
    # An epoch is at least this many sentences (the data shuffled and passed over again): a
    # treebank of 150 sentences is then trained for as many steps between dev checks as one
    # of 1000, so patience and the learning-rate decay mean the same on small and large data.
    # Chosen on dev (lt_hse, mr_ufal, ta_ttb, seeds 1-2): mean dev accuracy 0.8125 with one pass
    # per epoch, 0.83 with 1000; larger treebanks (and en_ewt) are not affected.
    epoch_size: int = setting(
        1000,
        "Least sentences per epoch: smaller training sets are passed over several times between "
        "dev checks (0: one pass).",
        minimum=0,
    )
    # After training, whether decoding keeps each training word to the tags it had in train
    # (seqtag.tagdict): "off", "on", or "auto", on when dev accuracy is higher with it. Plain
    # tags of one column only. configs/pos-small.toml says auto (dev +0.36 on average over
    # nine small treebanks, benchmarks/results/pos-suite-ensemble-tagdict); the built-in
    # default stays off: measured with ensembles only, and on none of the larger treebanks.
    tag_dictionary: str = setting(
        "off",
        "When tagging, keep each word seen in training to the tags it had there (a form not "
        "seen as written: the tags of its lowercase; words not in train are tagged freely): on; "
        "off; or auto, on only if it scores higher on dev. For plain tags of one column (not "
        "entity labels).",
        choices=TAG_DICTIONARY_CHOICES,
    )


# Options added after the first model files, with what a file or checkpoint that lacks one
# meant: it was written by a seqtag without the feature, so the feature was off (which is not
# always today's default: affixes are on and label smoothing 0.1 by default now).
ADDED_LATER: dict[str, Any] = {
    "lowercase": False,
    "affixes": 0,
    "frequency_loss": 0.0,
    "embedding_dropout": 0.0,
    "label_smoothing": 0.0,
    "pretrained_dim": 0,
    "ensemble": 1,
    "max_lr_decays": 0,
    "epoch_size": 0,
    "average_weights": 0.0,
    "adversarial": 0.0,
    "tag_dictionary": "off",
}


def as_recorded(values: dict[str, Any]) -> dict[str, Any]:
    """Option values as a model file or checkpoint recorded them, with the options it predates
    filled in as they were then (ADDED_LATER)."""
    return {**ADDED_LATER, **values}


def model_config_from_file(values: dict[str, Any]) -> ModelConfig:
    """The ModelConfig of a model file's metadata, also for files of earlier seqtag versions."""
    names = set(field_names(ModelConfig))
    return ModelConfig(**{k: v for k, v in as_recorded(values).items() if k in names})


def field_names(config_class: type) -> list[str]:
    return [field.name for field in dataclasses.fields(config_class)]


def split_options(options: dict[str, Any]) -> tuple[ModelConfig, TrainConfig]:
    """Build both configs from a flat dict of option values (as click hands them over)."""
    model = {k: v for k, v in options.items() if k in field_names(ModelConfig) and v is not None}
    train = {k: v for k, v in options.items() if k in field_names(TrainConfig) and v is not None}
    return ModelConfig(**model), TrainConfig(**train)


def load_toml(
    path: str | Path,
    keys: Mapping[str, str] | Sequence[str],
    renamed: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Read a flat TOML config: its values keyed by option names, and warnings to show.

    ``keys`` maps each valid key to the option's parameter name (``max-epochs`` ->
    ``max_epochs``, ``dev`` -> ``dev_file``); a list of parameter names means keys spelled as
    the names, with dashes or underscores. ``renamed``: an older key -> today's, read with a
    warning. Unknown keys are an error that lists the valid ones, so a typo never goes
    unnoticed.
    """
    path = Path(path)
    if not isinstance(keys, Mapping):
        keys = {name.replace("_", "-"): name for name in keys}
    renamed = renamed or {}
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except IsADirectoryError:
        raise SeqtagError("is a directory, not a config file", str(path)) from None
    except OSError as error:
        raise SeqtagError(f"cannot read config: {error.strerror}", str(path)) from None
    except tomllib.TOMLDecodeError as error:
        raise SeqtagError(f"not valid TOML: {error}", str(path)) from None
    values: dict[str, Any] = {}
    warnings = []
    for key, value in raw.items():
        dashed = key.replace("_", "-")
        if dashed not in keys and dashed in renamed:
            warnings.append(
                f"{path}: key {key!r} is now {renamed[dashed]!r} (the long option's name); "
                "read as that"
            )
            dashed = renamed[dashed]
        if dashed not in keys:
            valid = ", ".join(sorted(keys))
            raise SeqtagError(f"unknown key {key!r}; valid keys are: {valid}", str(path))
        values[keys[dashed]] = value
    return values, warnings


# What Batcher and Vocabularies.build assume without a model's config: words as written, no
# affixes (the inputs of a model without those options).
PLAIN_INPUTS = ModelConfig(affixes=0, lowercase=False)
