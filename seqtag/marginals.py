"""Marginals: how probable each label is at each token, the confidence `seqtag tag` reports.

For a softmax tagger it is the softmax of the label scores (per column, for a model of several
columns; for an ensemble, of the log of its members' mean probabilities, which is that mean).
For a chain, a CRF or a softmax tagger kept to a tag scheme, it is the marginal probability of
the label at that position over every tag path the chain allows (forward-backward), not the
score of the best path: P(tag_t = k | sentence), summed over all paths through k at t.

numpy only, so tagging with confidence never imports torch on the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Calibration:
    """What training fitted on dev so that probabilities mean what they say
    (seqtag.calibration): a temperature per column, and for a model with a tag dictionary the
    score penalty a ruled-out tag gets when probabilities are computed (decoding still rules
    it out): a word seen with one tag in training is then not certain to have it."""

    temperature: tuple[float, ...] | None = None
    dictionary_penalty: float | None = None

    def soften(self, penalties: np.ndarray | None) -> np.ndarray | None:
        """The tag dictionary's penalties as probabilities should see them."""
        if penalties is None or self.dictionary_penalty is None:
            return penalties
        return np.where(penalties < 0, -self.dictionary_penalty, 0.0).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {
            "temperature": list(self.temperature or []),
            "dictionary_penalty": self.dictionary_penalty,
        }

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> Calibration | None:
        """The calibration a model file records, or None (a model from before calibration)."""
        found = metadata.get("calibration")
        if not isinstance(found, dict):
            return None
        temperature = tuple(float(t) for t in found.get("temperature") or []) or None
        penalty = found.get("dictionary_penalty")
        return cls(temperature, None if penalty is None else float(penalty))


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Log-probabilities over the last axis."""
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(scores: np.ndarray) -> np.ndarray:
    """Probabilities over the last axis."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def column_softmax(
    scores: np.ndarray, column_ends: np.ndarray, temperature: Sequence[float] | None = None
) -> np.ndarray:
    """Probabilities over each column's block of labels (``column_ends``: where each ends),
    each block's scores divided by its column's temperature."""
    blocks = np.split(scores, column_ends[:-1], axis=-1)
    temperature = temperature or [1.0] * len(blocks)
    return np.concatenate(
        [softmax(block / t) for block, t in zip(blocks, temperature, strict=True)], axis=-1
    )


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = x.max(axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.log(np.exp(x - top).sum(axis=axis)) + np.squeeze(top, axis=axis)


@dataclass
class Chain:
    """A linear chain whose path score is start[y0] + sum_t emissions[t, y_t] +
    sum_t transitions[y_t-1, y_t] + end[y_last], as numpy_engine.viterbi decodes it; float64 log
    space, so forbidden moves (large negative scores) cost no precision."""

    emissions: np.ndarray  # (B, T, K)
    lengths: np.ndarray  # (B,)
    start: np.ndarray  # (K,)
    end: np.ndarray  # (K,)
    transitions: np.ndarray  # (K, K): from, to
    _cached: tuple | None = field(default=None, repr=False, compare=False)

    @classmethod
    def tempered(
        cls,
        emissions: np.ndarray,
        lengths: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        transitions: np.ndarray,
        temperature: Sequence[float] | None = None,
        log_softmax_first: bool = False,
    ) -> Chain:
        """The chain of a model's scores. ``temperature`` (one value): a CRF's scores are all
        divided by it, which leaves the best path as it is. ``log_softmax_first``: the
        emissions are a softmax tagger's scores, kept to a scheme by 0/forbidden ``start``,
        ``end`` and ``transitions``; each token's probabilities are then tempered (softmax of
        scores / temperature) before the chain, as decoding takes the log-softmax first."""
        t = float(temperature[0]) if temperature else 1.0
        emissions = emissions.astype(np.float64) / t
        if log_softmax_first:
            emissions = log_softmax(emissions)
            t = 1.0  # the constraints are 0 or forbidden: nothing to temper
        return cls(
            emissions,
            np.asarray(lengths),
            start.astype(np.float64) / t,
            end.astype(np.float64) / t,
            transitions.astype(np.float64) / t,
        )

    def _forward(self, emissions: np.ndarray) -> np.ndarray:
        alpha = np.empty(emissions.shape)
        alpha[:, 0] = self.start + emissions[:, 0]
        for t in range(1, emissions.shape[1]):
            step = alpha[:, t - 1, :, None] + self.transitions
            alpha[:, t] = _logsumexp(step, axis=1) + emissions[:, t]
        return alpha

    def _log_partition(self, alpha: np.ndarray, rows: np.ndarray) -> np.ndarray:
        last = self.lengths[rows] - 1
        return _logsumexp(alpha[np.arange(len(rows)), last] + self.end, axis=1)

    def _sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """alpha and beta (B, T, K) and log Z (B,), computed once: alpha[t, k] the log score of
        every path prefix ending in k at t, beta[t, k] of every way on from k at t (at the last
        token, end)."""
        if self._cached is None:
            B, T, _ = self.emissions.shape
            alpha = self._forward(self.emissions)
            last = self.lengths - 1
            beta = np.zeros(self.emissions.shape)
            beta[np.arange(B), last] = self.end
            for t in range(T - 2, -1, -1):
                ahead = (self.emissions[:, t + 1] + beta[:, t + 1])[:, None, :]
                onward = _logsumexp(self.transitions + ahead, 2)
                beta[:, t] = np.where((t < last)[:, None], onward, beta[:, t])
            self._cached = (alpha, beta, self._log_partition(alpha, np.arange(B)))
        return self._cached

    def marginals(self) -> np.ndarray:
        """P(y_t = k) (B, T, K), summed over every path; 0 past each sentence's end."""
        alpha, beta, log_z = self._sums()
        marginals = np.exp(alpha + beta - log_z[:, None, None])
        T = self.emissions.shape[1]
        marginals[np.arange(T)[None, :] >= self.lengths[:, None]] = 0.0
        return marginals

    def sequence_probability(
        self,
        row: int,
        first: int,
        tags: Sequence[int],
        not_before: Sequence[int] = (),
        not_after: Sequence[int] = (),
    ) -> float:
        """P(y[first + i] = tags[i] for every i, the tag before them not in ``not_before`` and
        the tag after them not in ``not_after``) in sentence ``row``, over all paths: e.g. that
        an entity is exactly these tokens with these tags (neither neighbour continuing it).
        Costs the span's length, from the forward and backward sums."""
        alpha, beta, log_z = self._sums()
        emissions, transitions = self.emissions[row], self.transitions
        last = first + len(tags) - 1
        if first > 0 and len(not_before):
            allowed = np.ones(len(self.start), dtype=bool)
            allowed[list(not_before)] = False
            into = alpha[row, first - 1, allowed] + transitions[allowed, tags[0]]
            with np.errstate(divide="ignore"):
                score = _logsumexp(into, axis=0) + emissions[first, tags[0]]
        else:
            score = alpha[row, first, tags[0]]
        for i in range(1, len(tags)):
            score += transitions[tags[i - 1], tags[i]] + emissions[first + i, tags[i]]
        if last + 1 < self.lengths[row] and len(not_after):
            allowed = np.ones(len(self.start), dtype=bool)
            allowed[list(not_after)] = False
            onward = transitions[tags[-1], allowed] + emissions[last + 1, allowed]
            with np.errstate(divide="ignore"):
                score += _logsumexp(onward + beta[row, last + 1, allowed], axis=0)
        else:
            score += beta[row, last, tags[-1]]
        return float(np.exp(score - log_z[row]))
