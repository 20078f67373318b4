"""Marginals (seqtag.marginals): forward-backward against brute force, the sum over every tag
path, on small chains; each position sums to 1; constrained chains give forbidden tags 0."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtag.marginals import Chain, column_softmax
from seqtag.numpy_engine import viterbi
from seqtag.scheme import span_neighbours, spans

FORBIDDEN = -10000.0  # as numpy_engine's penalties


def brute_force(emissions, length, start, end, transitions):
    """P(y_t = k) by summing exp(path score) over all K**length paths."""
    K = emissions.shape[1]
    marginals = np.zeros((length, K))
    total = 0.0
    for path in itertools.product(range(K), repeat=length):
        score = start[path[0]] + end[path[-1]]
        score += sum(emissions[t, y] for t, y in enumerate(path))
        score += sum(transitions[a, b] for a, b in itertools.pairwise(path))
        weight = np.exp(np.float64(score))
        total += weight
        for t, y in enumerate(path):
            marginals[t, y] += weight
    return marginals / total


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    batch=st.integers(1, 3),
    steps=st.integers(1, 4),
    tags=st.integers(1, 4),
    forbid=st.booleans(),
)
def test_forward_backward_equals_the_sum_over_every_path(seed, batch, steps, tags, forbid):
    rng = np.random.default_rng(seed)
    emissions = rng.normal(size=(batch, steps, tags)).astype(np.float32) * 3
    start, end = rng.normal(size=tags), rng.normal(size=tags)
    transitions = rng.normal(size=(tags, tags))
    if forbid and tags > 1:  # a scheme's constraints: forbidden moves, never all of them
        transitions[rng.random((tags, tags)) < 0.4] = FORBIDDEN
        transitions[:, 0] = np.maximum(transitions[:, 0], 0.0)
        start[1:][rng.random(tags - 1) < 0.5] = FORBIDDEN
    lengths = rng.integers(1, steps + 1, size=batch)
    lengths[0] = steps
    got = Chain.tempered(emissions, lengths, start, end, transitions).marginals()
    assert got.shape == (batch, steps, tags)
    for b, n in enumerate(lengths):
        expected = brute_force(emissions[b].astype(np.float64), n, start, end, transitions)
        np.testing.assert_allclose(got[b, :n], expected, atol=1e-9)
        np.testing.assert_allclose(got[b, :n].sum(axis=1), 1.0, atol=1e-9)
        assert not got[b, n:].any()  # padding
        if forbid and tags > 1:
            assert (got[b, 0][start < FORBIDDEN / 2] < 1e-12).all()


def test_the_best_path_under_strong_scores_has_marginals_near_one():
    emissions = np.array([[[9.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 9.0]]])
    zeros = np.zeros(3)
    lengths = np.array([3])
    got = Chain.tempered(emissions, lengths, zeros, zeros, np.zeros((3, 3))).marginals()
    path = viterbi(emissions.astype(np.float32), lengths, zeros, zeros, np.zeros((3, 3)))[0]
    assert path == [0, 1, 2]
    assert (got[0, [0, 1, 2], path] > 0.999).all()


def test_column_softmax_normalises_each_column_apart():
    scores = np.random.default_rng(0).normal(size=(2, 3, 7))
    probabilities = column_softmax(scores, np.array([4, 7]))
    np.testing.assert_allclose(probabilities[..., :4].sum(-1), 1.0)
    np.testing.assert_allclose(probabilities[..., 4:].sum(-1), 1.0)


LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.integers(1, 4), constrained=st.booleans())
def test_a_span_probability_is_the_share_of_paths_that_hold_exactly_that_span(
    seed, steps, constrained
):
    """Every path is read as scheme.spans reads tags; the probability of a span (start, end,
    type) is the total probability of the paths whose spans include it."""
    rng = np.random.default_rng(seed)
    K = len(LABELS)
    emissions = rng.normal(size=(1, steps, K)) * 2
    start, end, transitions = rng.normal(size=K), rng.normal(size=K), rng.normal(size=(K, K))
    if constrained:  # IOB2's rules, as a CRF under the scheme has them
        from seqtag.scheme import allowed_transitions

        allowed = allowed_transitions(LABELS, "iob2")
        start = np.where(allowed.start, start, FORBIDDEN)
        transitions = np.where(allowed.transitions, transitions, FORBIDDEN)
    chain = Chain(emissions, np.array([steps]), start, end, transitions)
    weights, found = {}, []
    for path in itertools.product(range(K), repeat=steps):
        score = start[path[0]] + end[path[-1]] + sum(emissions[0, t, y] for t, y in enumerate(path))
        score += sum(transitions[a, b] for a, b in itertools.pairwise(path))
        weights[path] = np.exp(score)
    total = sum(weights.values())
    for path in weights:
        for span in spans([LABELS[y] for y in path]):
            found.append((span, path[span.start : span.end]))
    for span, ids in found[:: max(1, len(found) // 12)]:  # a sample of the spans that occur
        inside = sum(
            w
            for path, w in weights.items()
            if span in spans([LABELS[y] for y in path]) and path[span.start : span.end] == ids
        )
        tags = [LABELS[y] for y in ids]
        before, after = span_neighbours(LABELS, tags[0], tags[-1])
        got = chain.sequence_probability(0, span.start, list(ids), before, after)
        assert got == pytest.approx(inside / total, rel=1e-7, abs=1e-12)
    for t in range(steps):  # one token, no neighbours: its marginal
        for k in range(K):
            assert chain.sequence_probability(0, t, [k]) == pytest.approx(
                chain.marginals()[0, t, k], rel=1e-9, abs=1e-15
            )
