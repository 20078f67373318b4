"""Encode: a stacked bidirectional LSTM or GRU over a padded batch of sentences.

Each direction of each layer is its own one-way RNN over the padded batch; the backward one reads
every sentence reversed within its own length. For the real tokens this computes what
``nn.LSTM(bidirectional=True)`` computes over a PackedSequence, up to float rounding (padding
only ever follows a sentence's last token, so it cannot reach back into it). On a CPU it trains
1.4x faster (en_ewt batches, one thread): the packed kernel steps through a shrinking batch one
time step at a time, while a padded batch keeps every step one matrix product. When tagging the
two are about as fast (within 10% either way, by batch shape).
Outputs at padding positions are not zero and must be masked by the caller (loss, CRF and
decoding all take the mask).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from seqtag.architecture import Recurrent

RNN_CLASSES = {"lstm": nn.LSTM, "gru": nn.GRU}


def reversal_index(lengths: torch.Tensor, steps: int, device: torch.device) -> torch.Tensor:
    """Row numbers into a (B, T, D) tensor viewed as (B * T, D) that reverse each sentence's
    first ``length`` steps and leave its padding in place. Applying it twice gives back the
    original order. (Rows picked by index_select: several times faster than a gather.)"""
    step = torch.arange(steps, device=device)[None, :]
    length = lengths.to(device)[:, None]
    within = torch.where(step < length, length - 1 - step, step)  # (B, T)
    return (within + steps * torch.arange(len(lengths), device=device)[:, None]).reshape(-1)


def reverse(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    B, T, D = x.shape
    return x.reshape(B * T, D).index_select(0, index).view(B, T, D)


class BiRNN(nn.Module):
    def __init__(self, layers: Sequence[Recurrent], dropout: float):
        """``layers``: the stacked layers (architecture.Architecture.sentence_layers);
        ``dropout`` applies between them, as nn.LSTM's argument of the same name."""
        super().__init__()

        def one_way(layer: Recurrent) -> nn.Module:
            return RNN_CLASSES[layer.kind](layer.input_dim, layer.hidden, batch_first=True)

        self.forward_layers = nn.ModuleList(one_way(layer) for layer in layers)
        self.backward_layers = nn.ModuleList(one_way(layer) for layer in layers)
        self.dropout = nn.Dropout(dropout)
        self.output_dim = 2 * layers[-1].hidden

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x: (B, T, D) padded after each sentence's ``lengths`` -> (B, T, 2H)."""
        index = reversal_index(lengths, x.size(1), x.device)
        for depth, (ahead, behind) in enumerate(
            zip(self.forward_layers, self.backward_layers, strict=True)
        ):
            if depth > 0:
                x = self.dropout(x)
            read_ahead, _ = ahead(x)
            read_behind, _ = behind(reverse(x, index))
            x = torch.cat([read_ahead, reverse(read_behind, index)], dim=-1)
        return x
