"""Model: word embeddings + character BiLSTM -> BiLSTM|BiGRU -> per-token label scores.

Three verbs, each testable alone: ``forward(batch) -> emissions (B, T, K)``,
``loss(emissions, batch)`` and ``decode(emissions, mask) -> list[list[int]]``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqtag.batch import IGNORE, Batch
from seqtag.config import ModelConfig
from seqtag.vocab import PAD

RNN_CLASSES = {"lstm": nn.LSTM, "gru": nn.GRU}


class CharEncoder(nn.Module):
    """A BiLSTM over a word's characters; the final states of both directions are its vector.

    A BiLSTM rather than a CNN: it sees prefixes and suffixes of any length, which is what
    carries part of speech in morphologically rich languages.
    """

    def __init__(self, n_chars: int, char_dim: int, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(n_chars, char_dim, padding_idx=PAD)
        self.rnn = nn.LSTM(char_dim, hidden, batch_first=True, bidirectional=True)
        self.output_dim = 2 * hidden

    def forward(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        embedded = self.embed(chars)  # (U, L, C)
        packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        _, (final, _) = self.rnn(packed)  # final: (2, U, H), in the original order
        return torch.cat([final[0], final[1]], dim=-1)  # (U, 2H)


class Tagger(nn.Module):
    def __init__(self, config: ModelConfig, n_words: int, n_chars: int, n_labels: int):
        super().__init__()
        self.config = config
        self.word_embed = nn.Embedding(n_words, config.word_dim, padding_idx=PAD)
        input_dim = config.word_dim
        self.char_encoder: CharEncoder | None = None
        if config.char:
            self.char_encoder = CharEncoder(n_chars, config.char_dim, config.char_hidden)
            input_dim += self.char_encoder.output_dim
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = RNN_CLASSES[config.rnn](
            input_dim,
            config.hidden,
            num_layers=config.layers,
            batch_first=True,
            bidirectional=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        self.output = nn.Linear(2 * config.hidden, n_labels)

    def forward(self, batch: Batch) -> torch.Tensor:
        x = self.word_embed(batch.words)  # (B, T, W)
        if self.char_encoder is not None:
            spelled = self.char_encoder(batch.chars, batch.char_lengths)  # (U, 2C)
            x = torch.cat([x, spelled[batch.forms]], dim=-1)  # (B, T, W + 2C)
        x = self.dropout(x)
        T = x.size(1)
        packed = pack_padded_sequence(x, batch.lengths, batch_first=True, enforce_sorted=False)
        encoded, _ = self.rnn(packed)
        h, _ = pad_packed_sequence(encoded, batch_first=True, total_length=T)  # (B, T, 2H)
        return self.output(self.dropout(h))  # (B, T, K)

    def loss(self, emissions: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Mean cross-entropy over the real tokens of the batch."""
        K = emissions.size(-1)
        return nn.functional.cross_entropy(
            emissions.reshape(-1, K), batch.tags.reshape(-1), ignore_index=IGNORE
        )

    @staticmethod
    def decode(emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """The best label of each real token, one list per sentence."""
        best = emissions.argmax(dim=-1)  # (B, T)
        lengths = mask.sum(dim=1).tolist()
        return [row[:n] for row, n in zip(best.tolist(), lengths, strict=True)]
