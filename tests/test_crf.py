"""The CRF checked against brute force: every tag path enumerated for the partition function,
the path score and Viterbi, with masks (padded batches) and with forbidden transitions."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from seqtag.crf import CRF, log_partition, path_score, penalties, viterbi
from seqtag.scheme import Allowed


def random_crf(n_tags: int, seed: int, allowed: Allowed | None = None) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(n_tags, allowed)
    with torch.no_grad():  # larger than the initial +-0.1, so transitions matter
        for parameter in crf.parameters():
            parameter.normal_(0, 1)
    return crf.double()  # in float64 brute force and the recursions agree to 1e-9


def batch(lengths: list[int], n_tags: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    T = max(lengths)
    emissions = torch.randn(len(lengths), T, n_tags, generator=generator, dtype=torch.float64)
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]
    return emissions, mask


def brute_force(crf: CRF, emissions: torch.Tensor, n: int):
    """Every path's score for one sentence of length n: {path: score}."""
    start, end, transitions = (s.detach() for s in crf.scores())
    scores = {}
    for path in itertools.product(range(emissions.size(-1)), repeat=n):
        score = start[path[0]] + end[path[-1]] + sum(emissions[t, y] for t, y in enumerate(path))
        score += sum(transitions[a, b] for a, b in itertools.pairwise(path))
        scores[path] = float(score)
    return scores


LENGTHS = [[1], [3], [4, 1, 2], [2, 4, 4, 3]]


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("n_tags", [1, 3])
def test_partition_path_score_and_viterbi_equal_brute_force(lengths, n_tags):
    crf = random_crf(n_tags, seed=sum(lengths))
    emissions, mask = batch(lengths, n_tags, seed=len(lengths))
    start, end, transitions = crf.scores()
    log_z = log_partition(emissions, mask, start, end, transitions)
    best = viterbi(emissions, mask, start, end, transitions)
    for b, n in enumerate(lengths):
        scores = brute_force(crf, emissions[b], n)
        assert log_z[b].item() == pytest.approx(
            math.log(sum(math.exp(s) for s in scores.values())), abs=1e-9
        )
        assert tuple(best[b]) == max(scores, key=scores.get)
        for path, score in itertools.islice(scores.items(), 5):
            tags = torch.zeros(1, mask.size(1), dtype=torch.long)
            tags[0, :n] = torch.tensor(path)
            got = path_score(emissions[b : b + 1], tags, mask[b : b + 1], start, end, transitions)
            assert got.item() == pytest.approx(score, abs=1e-9)


def test_likelihoods_are_probabilities_summing_to_one():
    crf = random_crf(3, seed=5)
    emissions, mask = batch([3], 3, seed=5)
    total = 0.0
    for path in itertools.product(range(3), repeat=3):
        tags = torch.tensor([path])
        total += crf.log_likelihood(emissions, tags, mask).exp().item()
    assert total == pytest.approx(1.0, abs=1e-9)


def test_a_batch_equals_its_sentences_one_by_one():
    crf = random_crf(4, seed=2)
    lengths = [4, 1, 3]
    emissions, mask = batch(lengths, 4, seed=9)
    tags = torch.randint(0, 4, mask.shape, generator=torch.Generator().manual_seed(1))
    together = crf.log_likelihood(emissions, tags, mask)
    decoded = crf.decode(emissions, mask)
    for b, n in enumerate(lengths):
        alone = crf.log_likelihood(
            emissions[b : b + 1, :n], tags[b : b + 1, :n], mask[b : b + 1, :n]
        )
        assert together[b].item() == pytest.approx(alone.item(), abs=1e-9)
        assert decoded[b] == crf.decode(emissions[b : b + 1, :n], mask[b : b + 1, :n])[0]


def test_forbidden_transitions_are_never_decoded_and_get_no_probability():
    # tags: 0 = O, 1 = B-X, 2 = I-X (IOB2: I-X only after B-X or I-X, never first)
    transitions = torch.ones(3, 3, dtype=torch.bool)
    transitions[0, 2] = False
    start = torch.tensor([True, True, False])
    allowed = Allowed(start, torch.ones(3, dtype=torch.bool), transitions)
    crf = random_crf(3, seed=3, allowed=allowed)
    with torch.no_grad():
        crf.start[2] = 50.0  # the learned scores push hard for the forbidden paths
        crf.transitions[0, 2] = 50.0
    emissions, mask = batch([4, 2, 3], 3, seed=4)
    for path in crf.decode(emissions, mask):
        assert path[0] != 2
        assert all((a, b) != (0, 2) for a, b in itertools.pairwise(path))
    forbidden = torch.tensor([[0, 2, 0, 0]])
    assert crf.log_likelihood(emissions[:1], forbidden, mask[:1]).exp().item() < 1e-300


def test_viterbi_over_log_softmax_constrains_a_softmax_tagger():
    log_probs = torch.log_softmax(torch.tensor([[[0.0, 0.0, 5.0], [0.0, 0.0, 5.0]]]), dim=-1)
    mask = torch.ones(1, 2, dtype=torch.bool)
    free = Allowed.everything(3)
    assert viterbi(log_probs, mask, *penalties(free)) == [[2, 2]]
    start = torch.tensor([True, True, False])
    transitions = torch.ones(3, 3, dtype=torch.bool)
    transitions[0, 2] = False  # O -> I-X
    iob2 = Allowed(start, torch.ones(3, dtype=torch.bool), transitions)
    assert viterbi(log_probs, mask, *penalties(iob2)) == [[1, 2]]


def test_the_crf_learns_a_transition_the_emissions_cannot_see():
    """Tag 1 always follows tag 0, with uninformative emissions: only transitions can learn it."""
    torch.manual_seed(0)
    crf = CRF(2)
    emissions = torch.zeros(8, 4, 2)
    tags = torch.tensor([[0, 1, 0, 1]] * 8)
    mask = torch.ones(8, 4, dtype=torch.bool)
    optimizer = torch.optim.Adam(crf.parameters(), lr=0.1)
    for _ in range(100):
        optimizer.zero_grad()
        loss = -crf.log_likelihood(emissions, tags, mask).mean()
        loss.backward()
        optimizer.step()
    assert crf.decode(emissions[:1], mask[:1]) == [[0, 1, 0, 1]]
