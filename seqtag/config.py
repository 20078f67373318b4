"""Configuration: the frozen dataclasses that describe a model and a training run.

Defaults live here, each with the reason for its value. A config is saved by value in the model
file, so the file alone rebuilds the network. ``--config FILE.toml`` is read by ``load_toml`` and
fed to click's ``default_map``: the command line beats the file, which beats these defaults.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqtag.errors import SeqtagError

RNN_TYPES = ("lstm", "gru")
# Pretrained vectors kept from an --embeddings file: its first N (files list the most frequent
# words first) plus those of every training word; 60 MB of model file at 300 dimensions.
EMBEDDINGS_LIMIT = 50_000
# Targets of the auxiliary frequency loss (--frequency-loss): int(log2(count)) of each training
# word, capped, so bin 0 holds words seen once and bin 15 words seen 32,768 times or more.
FREQUENCY_BINS = 16
SCHEMES = ("iob1", "iob2", "iobes", "bilou")  # span tag schemes (seqtag.scheme implements them)
TAG_DICTIONARY_CHOICES = ("off", "on", "auto")  # train --tag-dictionary (seqtag.tagdict)


@dataclass(frozen=True)
class ModelConfig:
    """The architecture: everything needed to rebuild the network from the model file."""

    rnn: str = "lstm"  # LSTM edges out GRU on most tagging benchmarks; GRU trains a little faster
    layers: int = 2  # a second layer helps on the larger treebanks and costs little on small ones
    # Per direction. 128 rather than 200: on the dev sets of the nine small treebanks (seed 1)
    # no worse (mean +0.3 points), and it tags and trains about twice as fast on a CPU.
    hidden: int = 128
    word_dim: int = 100  # word embeddings trained from scratch: small data cannot fill more
    # Word embeddings keyed by the lowercased form ("The" and "the" share one); the character
    # encoder and the affixes still see the word as written.
    lowercase: bool = False
    char: bool = True  # character BiLSTM: the main source of accuracy on unseen words
    char_dim: int = 50  # character embedding size
    char_hidden: int = 100  # per direction, so each word gets a 200-dim character vector
    # Embeddings of each word's lowercased prefixes and suffixes of 1..affixes characters
    # (seqtag.affixes), affix_dim wide each; 0: none. Chosen on dev (session 5): over the
    # character BiLSTM alone, +0.7 points mean dev accuracy on lt_hse, mr_ufal and ta_ttb (seeds
    # 1-2) and higher on four of the five larger treebanks checked (gl_treegal -0.2); 3
    # characters with 20 dimensions each beat 4 with 10 (ta_ttb -1.0).
    affixes: int = 3
    affix_dim: int = 20
    # Weight of the auxiliary loss of predicting each word's frequency bin (model.FREQUENCY_BINS);
    # 0: none (and no such output layer).
    frequency_loss: float = 0.0
    dropout: float = 0.33  # between every layer; the usual value for BiLSTM taggers on UD
    # Training only: the probability that a token's whole word vector (trained and pretrained)
    # is zeroed, beside word dropout's UNK replacement of rare words; 0: off.
    embedding_dropout: float = 0.0
    # Training only: the share of each token's target probability spread over all labels
    # (cross-entropy against 1-E on the gold label plus E/K on each); 0: one-hot targets.
    # Softmax outputs only: a CRF's loss is over whole tag sequences, so with crf it is 0.
    # Chosen on dev (benchmarks/results/dev-label-smoothing): 0.1 against one-hot targets, +0.29 points mean
    # dev accuracy in 11 runs; on the three smallest treebanks (seeds 1-2) +0.49, 5 of 6 runs
    # higher; on five larger ones (seed 1) +0.06: cy_ccg +0.35, the others within 0.1.
    label_smoothing: float = 0.1
    # Training only: adversarial training (Yasunaga, Kasai and Radev 2018). Each batch is also
    # trained on its input vectors moved, per sentence, in the direction that raises the loss
    # most, by this fraction of their length; 0: off. Doubles the cost of a training step.
    # Measured on dev (benchmarks/results/dev-word-dropout-adversarial): 0.05 gave +0.14 over six runs, up on mr_ufal,
    # down on ta_ttb; off by default.
    adversarial: float = 0.0
    # Size of the frozen pretrained word vectors (--embeddings) beside the trained ones; 0: none.
    pretrained_dim: int = 0
    # Networks trained from different seeds whose predictions are averaged (model.Ensemble);
    # each one is the whole network above.
    ensemble: int = 1
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

    seed: int = 1
    max_epochs: int = 30  # early stopping usually ends runs well before this
    patience: int = 5  # epochs without a better dev score before stopping
    batch_size: int = 32  # sentences per batch: small batches generalise better on small data
    learning_rate: float = 2e-3  # Adam; with clipping this is stable and converges quickly
    clip: float = 5.0  # gradient norm clipping keeps the recurrent layers from blowing up
    lr_decay: float = 0.5  # learning rate x this after an epoch without a better dev score; 1 = off
    # Stop once the learning rate has been cut this many times (0: no limit). Chosen on dev: on
    # the suite and en_ewt, epochs after the fifth cut (rate 1/32 of the start) moved dev
    # accuracy by 0.0001 on average while taking 18% of the training time.
    max_lr_decays: int = 5
    # Alpha: a word seen c times becomes UNK with p = alpha / (alpha + c); entity labels get
    # ENTITY_WORD_DROPOUT instead unless it is asked for.
    word_dropout: float = 0.25
    # Decay of an exponential moving average of the weights over training steps, which is
    # then what dev scores and what is saved (train.WeightAverage); 0: the weights as trained.
    average_weights: float = 0.0
    dev_fraction: float = 0.1  # held out from train when no --dev is given
    # An epoch is at least this many sentences (the data shuffled and passed over again): a
    # treebank of 150 sentences is then trained for as many steps between dev checks as one
    # of 1000, so patience and the learning-rate decay mean the same on small and large data.
    # Chosen on dev (lt_hse, mr_ufal, ta_ttb, seeds 1-2): mean dev accuracy 0.8125 with one pass
    # per epoch, 0.83 with 1000; larger treebanks (and en_ewt) are not affected.
    epoch_size: int = 1000
    # After training, whether decoding keeps each training word to the tags it had in train
    # (seqtag.tagdict): "off", "on", or "auto", on when dev accuracy is higher with it. Plain
    # tags of one column only. configs/pos-small.toml says auto (dev +0.36 on average over
    # nine small treebanks, benchmarks/results/pos-suite-ensemble-tagdict); the built-in
    # default stays off: measured with ensembles only, and on none of the larger treebanks.
    tag_dictionary: str = "off"


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


# Word dropout for entity labels (IOB and kin) unless asked otherwise: names are mostly rare or
# unseen words, so the model should lean on spelling more than on a word's own vector. On the
# ten MasakhaNER dev sets (seeds 1-2) 1.0 beat 0.25 by 0.34 F1 on average, on seven of ten
# (benchmarks/results/ner-masakhaner-word-dropout); for POS 0.5 and 1.0 were measured and lost.
ENTITY_WORD_DROPOUT = 1.0


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


def load_toml(path: str | Path, valid_keys: list[str]) -> dict[str, Any]:
    """Read a flat TOML config into a dict keyed by option names (``max-epochs`` -> ``max_epochs``).

    Unknown keys are an error that lists the valid ones, so a typo never goes unnoticed.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except OSError as error:
        raise SeqtagError(f"cannot read config: {error.strerror}", str(path)) from None
    except tomllib.TOMLDecodeError as error:
        raise SeqtagError(f"not valid TOML: {error}", str(path)) from None
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in valid_keys:
            valid = ", ".join(sorted(k.replace("_", "-") for k in valid_keys))
            raise SeqtagError(f"unknown key {key!r}; valid keys are: {valid}", str(path))
        values[name] = value
    return values


# What Batcher and Vocabularies.build assume without a model's config: words as written, no
# affixes (the inputs of a model without those options).
PLAIN_INPUTS = ModelConfig(affixes=0, lowercase=False)
