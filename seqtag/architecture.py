"""Architecture: the network's layers and every weight's name and shape, stated once.

A ``ModelConfig`` and the sizes of the vocabularies determine the whole network. This module
derives it: the width of each token's input vector, the recurrent layers (character encoder and
sentence encoder, both directions), the output layer, and from those the name and shape of every
weight. The torch network (model.Network) builds its modules from this description, the numpy
engine (numpy_engine.py) builds its recurrences from it, and a model file's weights are checked
against ``weight_shapes`` before tagging. Neither torch nor numpy is imported here.

Word vectors come first in a token's input, then the pretrained vector, the character vector and
the affix embeddings: the order model.Network.inputs concatenates them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from seqtag.config import FREQUENCY_BINS, ModelConfig
from seqtag.errors import SeqtagError

if TYPE_CHECKING:
    from seqtag.vocab import Vocabularies

# The four weights of one direction of an LSTM or GRU layer, as torch names them.
LAYER_WEIGHTS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
GATES = {"lstm": 4, "gru": 3}


@dataclass(frozen=True)
class Sizes:
    """What the vocabularies contribute to the network's shape."""

    words: int
    chars: int
    labels: tuple[int, ...]  # per column: the first is the tagged column's, then the others
    pretrained: int = 0  # rows of the frozen pretrained vectors
    affixes: int = 0  # size of the affix vocabulary

    @classmethod
    def of(cls, vocabularies: Vocabularies, config: ModelConfig) -> Sizes:
        def rows(wanted: bool, vocab, what: str) -> int:
            """The size of an optional vocabulary the configuration asks for (else 0)."""
            if not wanted:
                return 0
            if vocab is None:  # only a damaged file can get here: training builds both
                raise SeqtagError(f"damaged seqtag model file: it wants {what} but has none")
            return len(vocab)

        return cls(
            len(vocabularies.words),
            len(vocabularies.chars),
            tuple(len(labels) for labels in vocabularies.label_sets),
            rows(config.pretrained_dim > 0, vocabularies.pretrained, "pretrained vectors"),
            rows(config.affixes > 0, vocabularies.affixes, "affix embeddings"),
        )


@dataclass(frozen=True)
class Recurrent:
    """One bidirectional recurrent layer: each direction a one-way LSTM or GRU whose weights
    are named ``{prefix}{weight}{suffix}`` (``forward`` and ``backward`` are (prefix, suffix))."""

    kind: str  # lstm or gru
    input_dim: int
    hidden: int  # per direction
    forward: tuple[str, str]
    backward: tuple[str, str]

    @property
    def gates(self) -> int:
        return GATES[self.kind]

    def names(self, direction: tuple[str, str]) -> dict[str, str]:
        """torch's name of each of LAYER_WEIGHTS -> the weight's name in the model."""
        prefix, suffix = direction
        return {weight: f"{prefix}{weight}{suffix}" for weight in LAYER_WEIGHTS}

    def shapes(self) -> dict[str, tuple[int, ...]]:
        rows = self.gates * self.hidden
        shapes = ((rows, self.input_dim), (rows, self.hidden), (rows,), (rows,))
        return {
            name: shape
            for direction in (self.forward, self.backward)
            for name, shape in zip(self.names(direction).values(), shapes, strict=True)
        }


@dataclass(frozen=True)
class Architecture:
    """The network of one model (an ensemble's members each have this network)."""

    config: ModelConfig
    sizes: Sizes

    @classmethod
    def of(cls, config: ModelConfig, vocabularies: Vocabularies) -> Architecture:
        return cls(config, Sizes.of(vocabularies, config))

    @property
    def char_vector_dim(self) -> int:
        """Width of a word's character vector: the final states of both directions."""
        return 2 * self.config.char_hidden if self.config.char else 0

    @property
    def token_dim(self) -> int:
        """Width of a token's input vector to the sentence encoder."""
        c = self.config
        affixes = 2 * c.affixes * c.affix_dim if c.affixes else 0
        return c.word_dim + c.pretrained_dim + self.char_vector_dim + affixes

    @property
    def char_encoder(self) -> Recurrent | None:
        """The character BiLSTM (a packed nn.LSTM: the backward weights end in _reverse)."""
        c = self.config
        if not c.char:
            return None
        prefix = "char_encoder.rnn."
        return Recurrent("lstm", c.char_dim, c.char_hidden, (prefix, ""), (prefix, "_reverse"))

    @property
    def sentence_layers(self) -> list[Recurrent]:
        """The sentence encoder's stacked bidirectional layers (rnn.BiRNN)."""
        c = self.config
        widths = [self.token_dim] + [2 * c.hidden] * (c.layers - 1)
        return [
            Recurrent(
                c.rnn,
                width,
                c.hidden,
                (f"rnn.forward_layers.{depth}.", ""),
                (f"rnn.backward_layers.{depth}.", ""),
            )
            for depth, width in enumerate(widths)
        ]

    @property
    def encoder_dim(self) -> int:
        """Width of the sentence encoder's output at each token."""
        return 2 * self.config.hidden

    @property
    def outputs(self) -> int:
        """Rows of the output layer: the labels of every column, side by side."""
        return sum(self.sizes.labels)

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """The name and shape of every weight (and saved buffer) of the network."""
        c, sizes = self.config, self.sizes
        shapes: dict[str, tuple[int, ...]] = {"word_embed.weight": (sizes.words, c.word_dim)}
        if c.pretrained_dim:
            shapes["pretrained_vectors"] = (sizes.pretrained, c.pretrained_dim)
        if self.char_encoder is not None:
            shapes["char_encoder.embed.weight"] = (sizes.chars, c.char_dim)
            shapes |= self.char_encoder.shapes()
        if c.affixes:
            shapes["affix_embed.weight"] = (sizes.affixes, c.affix_dim)
        for layer in self.sentence_layers:
            shapes |= layer.shapes()
        shapes["output.weight"] = (self.outputs, self.encoder_dim)
        shapes["output.bias"] = (self.outputs,)
        if c.frequency_loss > 0:  # trained, saved, never used when tagging
            shapes["frequency_head.weight"] = (FREQUENCY_BINS, self.encoder_dim)
            shapes["frequency_head.bias"] = (FREQUENCY_BINS,)
        if c.crf:
            n_labels = sizes.labels[0]
            shapes |= {"crf.start": (n_labels,), "crf.end": (n_labels,)}
            shapes["crf.transitions"] = (n_labels, n_labels)
        return shapes
