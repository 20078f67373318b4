"""CRF: a linear-chain conditional random field over the encoder's emissions, and Viterbi.

Batch-first and masked: ``emissions`` (B, T, K), ``tags`` (B, T), ``mask`` (B, T) with each row
a run of True from position 0 (every sentence has at least one token). Scores of a tag path
y_1..y_n: start[y_1] + sum_t emissions[t, y_t] + sum_t transitions[y_{t-1}, y_t] + end[y_n].
Start and end are parameters of their own, not fake tags in the label set.

``viterbi`` is a plain function so the softmax tagger can use it too: with log-probabilities as
emissions and 0 / -inf transitions it gives the most probable path that a tag scheme allows.
"""

from __future__ import annotations

import torch
from torch import nn

from seqtag.scheme import FORBIDDEN, Allowed


class CRF(nn.Module):
    def __init__(self, n_tags: int, allowed: Allowed | None = None):
        super().__init__()
        self.start = nn.Parameter(torch.empty(n_tags).uniform_(-0.1, 0.1))
        self.end = nn.Parameter(torch.empty(n_tags).uniform_(-0.1, 0.1))
        self.transitions = nn.Parameter(
            torch.empty(n_tags, n_tags).uniform_(-0.1, 0.1)
        )  # [from, to]
        # What the tag scheme forbids is forbidden in training and decoding alike: the model
        # never spends probability on a path it could not output.
        start, end, transitions = penalties(allowed or Allowed.everything(n_tags))
        self.register_buffer("start_penalty", start, persistent=False)
        self.register_buffer("end_penalty", end, persistent=False)
        self.register_buffer("transition_penalty", transitions, persistent=False)

    def scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return (
            self.start + self.start_penalty,
            self.end + self.end_penalty,
            self.transitions + self.transition_penalty,
        )

    def log_likelihood(
        self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """log p(tags | emissions) per sentence: (B,)."""
        start, end, transitions = self.scores()
        return path_score(emissions, tags, mask, start, end, transitions) - log_partition(
            emissions, mask, start, end, transitions
        )

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        start, end, transitions = self.scores()
        return viterbi(emissions, mask, start, end, transitions)


def penalties(allowed: Allowed) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """0 where ``allowed`` permits, FORBIDDEN where not: start (K,), end (K,), transitions
    (K, K), added to the scores of every path."""

    def penalty(permitted) -> torch.Tensor:
        return torch.where(torch.as_tensor(permitted, dtype=torch.bool), 0.0, FORBIDDEN)

    return penalty(allowed.start), penalty(allowed.end), penalty(allowed.transitions)


def path_score(
    emissions: torch.Tensor,
    tags: torch.Tensor,
    mask: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    transitions: torch.Tensor,
) -> torch.Tensor:
    """The unnormalised score of the given tag paths: (B,)."""
    B, T, _ = emissions.shape
    tags = tags.masked_fill(~mask, 0)  # padding positions point at tag 0; masked out below
    weights = mask.to(emissions.dtype)  # (B, T)
    emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
    score = start[tags[:, 0]] + (emitted * weights).sum(dim=1)
    if T > 1:
        moved = transitions[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
        score = score + (moved * weights[:, 1:]).sum(dim=1)
    last = mask.sum(dim=1) - 1  # (B,)
    return score + end[tags.gather(1, last.unsqueeze(1)).squeeze(1)]


def log_partition(
    emissions: torch.Tensor,
    mask: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    transitions: torch.Tensor,
) -> torch.Tensor:
    """log of the summed exp-scores of every tag path (the forward algorithm): (B,)."""
    alpha = start + emissions[:, 0]  # (B, K): log-sum over paths ending in each tag
    for t in range(1, emissions.size(1)):
        # (B, K_from, 1) + (K_from, K_to) + (B, 1, K_to) -> log-sum-exp over K_from
        step = torch.logsumexp(
            alpha.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1), dim=1
        )
        alpha = torch.where(mask[:, t].unsqueeze(1), step, alpha)  # finished rows keep theirs
    return torch.logsumexp(alpha + end, dim=1)


def viterbi(
    emissions: torch.Tensor,
    mask: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    transitions: torch.Tensor,
) -> list[list[int]]:
    """The highest-scoring tag path of each sentence, as lists of tag ids."""
    B, T, _ = emissions.shape
    score = start + emissions[:, 0]  # (B, K): best path score ending in each tag
    backpointers = []
    for t in range(1, T):
        candidates = score.unsqueeze(2) + transitions  # (B, K_from, K_to)
        best, previous = candidates.max(dim=1)  # (B, K_to)
        step = best + emissions[:, t]
        live = mask[:, t].unsqueeze(1)
        score = torch.where(live, step, score)
        # For finished rows, point each tag at itself, so following pointers back is a no-op.
        keep = torch.arange(score.size(1), device=score.device).expand_as(previous)
        backpointers.append(torch.where(live, previous, keep))
    last = (score + end).argmax(dim=1)  # (B,)
    lengths = mask.sum(dim=1).tolist()
    path = [last]
    for pointers in reversed(backpointers):
        path.append(pointers.gather(1, path[-1].unsqueeze(1)).squeeze(1))
    columns = torch.stack(path[::-1], dim=1).tolist()  # (B, T)
    return [row[:n] for row, n in zip(columns, lengths, strict=True)]
