"""Model: word embeddings + character BiLSTM -> BiLSTM|BiGRU -> per-token label scores.

Three verbs, each testable alone: ``forward(batch) -> emissions (B, T, K)``,
``loss(emissions, batch)`` and ``decode(emissions, mask) -> list[list[int]]``. The output layer
is a softmax, or with ``config.crf`` a CRF over whole tag sequences; with a tag scheme, decoding
never writes a transition the scheme forbids (Viterbi under its constraints).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from seqtag.architecture import Architecture, Recurrent
from seqtag.batch import IGNORE, Batch
from seqtag.config import FREQUENCY_BINS, ModelConfig
from seqtag.crf import CRF, penalties, viterbi
from seqtag.errors import SeqtagError
from seqtag.rnn import BiRNN
from seqtag.scheme import Allowed, allowed_transitions
from seqtag.vocab import PAD, Vocabularies


class CharEncoder(nn.Module):
    """A BiLSTM over a word's characters; the final states of both directions are its vector.

    A BiLSTM rather than a CNN: it sees prefixes and suffixes of any length, which is what
    carries part of speech in morphologically rich languages.
    """

    def __init__(self, n_chars: int, layer: Recurrent):
        super().__init__()
        self.embed = nn.Embedding(n_chars, layer.input_dim, padding_idx=PAD)
        self.rnn = nn.LSTM(layer.input_dim, layer.hidden, batch_first=True, bidirectional=True)
        self.output_dim = 2 * layer.hidden

    def forward(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        embedded = self.embed(chars)  # (U, L, C)
        packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        _, (final, _) = self.rnn(packed)  # final: (2, U, H), in the original order
        return torch.cat([final[0], final[1]], dim=-1)  # (U, 2H)


class Network(nn.Module):
    """The tagging network of one model, built from its architecture.Architecture (which
    states every layer's size once; the numpy engine reads the same description)."""

    def __init__(self, architecture: Architecture, allowed: Allowed | None = None):
        """``allowed``: the transitions the tag scheme permits (None: any label after any).
        A model of several columns gets a softmax each; their output layers are kept as
        blocks of rows of one ``output`` layer."""
        super().__init__()
        self.architecture = architecture
        self.config = config = architecture.config
        sizes = architecture.sizes
        self.word_embed = nn.Embedding(sizes.words, config.word_dim, padding_idx=PAD)
        if config.pretrained_dim:
            # Frozen, so words that never occur in training keep vectors that fit the rest:
            # a buffer (saved with the weights), not a parameter the optimizer would move.
            self.register_buffer(
                "pretrained_vectors", torch.zeros(sizes.pretrained, config.pretrained_dim)
            )
        self.char_encoder: CharEncoder | None = None
        if architecture.char_encoder is not None:
            self.char_encoder = CharEncoder(sizes.chars, architecture.char_encoder)
        self.affix_embed: nn.Embedding | None = None
        if config.affixes:
            self.affix_embed = nn.Embedding(sizes.affixes, config.affix_dim, padding_idx=PAD)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = BiRNN(architecture.sentence_layers, config.dropout)
        self.label_sizes = list(sizes.labels)
        if len(self.label_sizes) > 1 and (config.crf or allowed is not None):
            raise SeqtagError("a CRF and tag schemes go with one column, not several")
        self.output = nn.Linear(architecture.encoder_dim, architecture.outputs)
        self.frequency_head: nn.Linear | None = None  # used in training only
        if config.frequency_loss > 0:
            self.frequency_head = nn.Linear(architecture.encoder_dim, FREQUENCY_BINS)
        self.crf = CRF(sizes.labels[0], allowed) if config.crf else None
        self.constrained = allowed is not None and self.crf is None  # softmax: decoding only
        if self.constrained:
            start, end, transitions = penalties(allowed)
            self.register_buffer("start_penalty", start, persistent=False)
            self.register_buffer("end_penalty", end, persistent=False)
            self.register_buffer("transition_penalty", transitions, persistent=False)

    def forward(self, batch: Batch, spelled: torch.Tensor | None = None) -> torch.Tensor:
        """``spelled``: the character vectors (U, 2C) of ``batch.spellings`` when the caller
        has them already (inference caches them); otherwise they come from ``batch.chars``."""
        return self.output(self.dropout(self.encode(batch, spelled)))  # (B, T, K)

    def training_loss(self, batch: Batch, frequency_bins: torch.Tensor | None = None):
        """The loss to minimise: ``loss`` of the label scores, plus with
        ``config.frequency_loss`` that weight times the cross-entropy of predicting each
        word's frequency bin ``frequency_bins`` (B, T) from the same encoder states (Plank,
        Søgaard and Goldberg 2016): the encoder must tell rare words from common ones by
        their spelling and context, which is what it needs for words it has never seen."""
        x = self.inputs(batch)
        loss = self._loss_of_inputs(x, batch, frequency_bins)
        if self.config.adversarial > 0:
            # Adversarial training (Yasunaga, Kasai and Radev 2018): the same batch again with
            # each sentence's input vectors moved where the loss rises fastest, by a share of
            # their length. Being right under the worst small change of the word, spelling and
            # affix vectors is what tagging words never seen in training needs.
            (gradient,) = torch.autograd.grad(loss, x, retain_graph=True)
            real = batch.mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1): padding is not moved
            gradient = gradient * real
            length = (x.detach() * real).flatten(1).norm(dim=1)  # (B,)
            steepness = gradient.flatten(1).norm(dim=1).clamp_min(1e-12)
            scale = (self.config.adversarial * length / steepness)[:, None, None]
            moved = x + (scale * gradient).detach()
            loss = loss + self._loss_of_inputs(moved, batch, frequency_bins)
        return loss

    def _loss_of_inputs(
        self, x: torch.Tensor, batch: Batch, frequency_bins: torch.Tensor | None
    ) -> torch.Tensor:
        h = self.rnn(self.dropout(x), batch.lengths)
        loss = self.loss(self.output(self.dropout(h)), batch)
        if self.frequency_head is not None:
            scores = self.frequency_head(self.dropout(h))
            auxiliary = nn.functional.cross_entropy(
                scores.reshape(-1, FREQUENCY_BINS), frequency_bins.reshape(-1), ignore_index=IGNORE
            )
            loss = loss + self.config.frequency_loss * auxiliary
        return loss

    def encode(self, batch: Batch, spelled: torch.Tensor | None = None) -> torch.Tensor:
        """The sentence encoder's states (B, T, 2H), not zero past each sentence's end; see
        ``forward`` for ``spelled``."""
        return self.rnn(self.dropout(self.inputs(batch, spelled)), batch.lengths)

    def inputs(self, batch: Batch, spelled: torch.Tensor | None = None) -> torch.Tensor:
        """Each token's input vector (B, T, D) to the sentence encoder: its word embedding,
        pretrained vector, character vector and affix embeddings, side by side."""
        x = self.word_embed(batch.words)  # (B, T, W)
        if self.config.pretrained_dim:
            x = torch.cat([x, self.pretrained_vectors[batch.pretrained]], dim=-1)  # (B, T, W + P)
        p = self.config.embedding_dropout
        if self.training and p > 0:
            # Whole word vectors dropped, not single dimensions: for those tokens the encoder
            # must tag from spelling and context alone, as it must for unseen words.
            keep = torch.rand(x.shape[:2], device=x.device) >= p  # (B, T)
            x = x * keep.unsqueeze(-1) / (1 - p)
        if self.char_encoder is not None:
            if spelled is None:
                spelled = self.char_encoder(batch.chars, batch.char_lengths)  # (U, 2C)
            x = torch.cat([x, spelled[batch.forms]], dim=-1)  # (B, T, W + 2C)
        if self.affix_embed is not None:
            if batch.affixes is None:
                raise ValueError(
                    "the model has affix embeddings: batch with Batcher(vocabularies, config)"
                )
            affixed = self.affix_embed(batch.affixes).flatten(1)  # (U, 2N x A)
            x = torch.cat([x, affixed[batch.forms]], dim=-1)
        return x

    def loss(self, emissions: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Per real token: mean cross-entropy (against smoothed targets with
        ``config.label_smoothing``), or the CRF's negative log-likelihood divided by the number
        of tokens (the same scale, so learning rates carry over)."""
        if self.crf is not None:
            log_likelihood = self.crf.log_likelihood(emissions, batch.tags, batch.mask)
            return -log_likelihood.sum() / batch.mask.sum()
        if len(self.label_sizes) > 1:  # one cross-entropy per column, summed
            return sum(
                nn.functional.cross_entropy(
                    scores.reshape(-1, scores.size(-1)),
                    batch.tags[..., i].reshape(-1),
                    ignore_index=IGNORE,
                    label_smoothing=self.config.label_smoothing,
                )  # fmt: skip
                for i, scores in enumerate(emissions.split(self.label_sizes, dim=-1))
            )
        K = emissions.size(-1)
        return nn.functional.cross_entropy(
            emissions.reshape(-1, K),
            batch.tags.reshape(-1),
            ignore_index=IGNORE,
            label_smoothing=self.config.label_smoothing,
        )

    def chain(self) -> tuple[bool, tuple[torch.Tensor, ...]] | None:
        """What ``decode`` runs Viterbi over, for marginals: whether the scores are first made
        log-probabilities (a softmax kept to a scheme), and start, end and transition scores;
        None for a plain softmax."""
        if self.crf is not None:
            return False, self.crf.scores()
        if self.constrained:
            return True, (self.start_penalty, self.end_penalty, self.transition_penalty)
        return None

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list]:
        """The best label sequence of each sentence (its real tokens only): label ids, or for
        a model of several columns a tuple of ids (one per column) for each token."""
        if self.crf is not None:
            return self.crf.decode(emissions, mask)
        if self.constrained:
            log_probs = torch.log_softmax(emissions, dim=-1)
            return viterbi(
                log_probs, mask, self.start_penalty, self.end_penalty, self.transition_penalty
            )
        lengths = mask.sum(dim=1).tolist()
        if len(self.label_sizes) > 1:
            split = emissions.split(self.label_sizes, dim=-1)
            best = torch.stack([scores.argmax(dim=-1) for scores in split], dim=-1)  # (B, T, C)
            rows = zip(best.tolist(), lengths, strict=True)
            return [[tuple(ids) for ids in row[:n]] for row, n in rows]
        best = emissions.argmax(dim=-1)  # (B, T)
        return [row[:n] for row, n in zip(best.tolist(), lengths, strict=True)]


class Ensemble(nn.Module):
    """Taggers of one configuration trained from different seeds (--ensemble N), tagging
    together: their label probabilities are averaged (a CRF's scores and transitions, for CRF
    taggers), which evens out the luck of any one run on small data."""

    def __init__(self, members: Sequence[Network]):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.config = dataclasses.replace(members[0].config, ensemble=len(members))
        self.label_sizes = members[0].label_sizes
        self.uses_crf = members[0].crf is not None  # decode then averages their CRFs

    def forward(self, batch: Batch, spelled: None = None) -> torch.Tensor:
        """Per column, the log of the members' mean label probabilities (B, T, K); with CRFs,
        the members' mean emission scores."""
        scores = torch.stack([member(batch) for member in self.members])  # (N, B, T, K)
        if self.uses_crf:
            return scores.mean(dim=0)
        blocks = [
            torch.logsumexp(torch.log_softmax(block, dim=-1), dim=0) - math.log(len(self.members))
            for block in scores.split(self.label_sizes, dim=-1)
        ]
        return torch.cat(blocks, dim=-1)

    def chain(self) -> tuple[bool, tuple[torch.Tensor, ...]] | None:
        """As Network.chain; CRF members' scores and transitions averaged."""
        if self.uses_crf:
            return False, tuple(
                torch.stack(parts).mean(dim=0)
                for parts in zip(*(member.crf.scores() for member in self.members), strict=True)
            )
        return self.members[0].chain()

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list]:
        if self.uses_crf:
            _, (start, end, transitions) = self.chain()
            return viterbi(emissions, mask, start, end, transitions)
        # Log-probabilities already: the first member's argmax or constrained Viterbi applies.
        return self.members[0].decode(emissions, mask)


def build_network(config: ModelConfig, vocabularies: Vocabularies) -> Network | Ensemble:
    """The untrained network of ``config``: a Network, or an Ensemble of config.ensemble."""
    if config.ensemble > 1:
        member = dataclasses.replace(config, ensemble=1)
        return Ensemble([build_network(member, vocabularies) for _ in range(config.ensemble)])
    allowed = None
    if config.scheme is not None:
        allowed = allowed_transitions(vocabularies.labels.to_list(), config.scheme)
    return Network(Architecture.of(config, vocabularies), allowed)
