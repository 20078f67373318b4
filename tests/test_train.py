"""Early stopping: patience, the stop after the learning rate's last allowed cut; the weight average."""

import copy

import pytest
import torch
from conftest import DATA

from seqtag.config import ModelConfig, TrainConfig
from seqtag.lines import open_lines
from seqtag.read import Column, read_conllu
from seqtag.train import Hooks, TrainingData, WeightAverage, _should_stop, fit, lr_decays, split_dev
from seqtag.vocab import Vocabularies


@pytest.mark.parametrize(
    ("rate", "decay", "expected"),
    [(2e-3, 0.5, 0), (1e-3, 0.5, 1), (6.25e-5, 0.5, 5), (2e-3 * 0.3**3, 0.3, 3), (1e-4, 1.0, 0)],
)
def test_lr_decays_are_read_off_the_rate(rate, decay, expected):
    assert lr_decays(rate, TrainConfig(learning_rate=2e-3, lr_decay=decay)) == expected


def test_should_stop_on_patience_or_on_the_last_cut():
    config = TrainConfig(learning_rate=2e-3, lr_decay=0.5, patience=3, max_lr_decays=2)
    assert not _should_stop(0, 0, 2e-3, config)
    assert not _should_stop(4, 2, 2e-3, config)
    assert _should_stop(5, 2, 2e-3, config)  # three epochs without a better score
    assert not _should_stop(4, 4, 1e-3, config)
    assert _should_stop(4, 4, 5e-4, config)  # cut twice
    unlimited = TrainConfig(learning_rate=2e-3, lr_decay=0.5, patience=3, max_lr_decays=0)
    assert not _should_stop(4, 4, 1e-9, unlimited)


def test_a_run_ends_right_after_its_last_allowed_cut():
    path = str(DATA / "en_ewt-excerpt-train.conllu")
    corpus = list(read_conllu(open_lines(path), Column.parse("upos")))[:100]
    train, dev = split_dev(corpus, 0.2, seed=1)
    config = TrainConfig(epoch_size=0, max_epochs=40, patience=40, max_lr_decays=1, seed=2)
    model = ModelConfig(layers=1, hidden=8, word_dim=8, char_dim=4, char_hidden=4)
    vocabularies = Vocabularies.build(train, model)
    result = fit(TrainingData(train, dev, vocabularies), model, config, torch.device("cpu"))
    worse = [
        e.epoch for e in result.epochs if e.dev_score <= e.best_score and e.epoch != e.best_epoch
    ]
    assert worse == [result.epochs[-1].epoch]  # the first epoch without progress cut the rate: stop
    assert result.stopped_early and len(result.epochs) < 40


def test_weight_average_follows_the_tensorflow_rule_then_the_decay():
    layer = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        layer.weight.fill_(0.0)
    average = WeightAverage(layer, decay=0.5)
    expected = 0.0
    for step, value in enumerate([10.0, 10.0, 10.0, 10.0], start=1):
        with torch.no_grad():
            layer.weight.fill_(value)
        average.update()
        decay = min(0.5, (1 + step) / (10 + step))
        expected = decay * expected + (1 - decay) * value
        assert average.average[0].item() == pytest.approx(expected)
    # (1 + t) / (10 + t) stays below 0.5 for the first 7 steps: the average moved fast
    assert average.average[0].item() > 9


def test_averaged_weights_are_applied_inside_the_block_only():
    layer = torch.nn.Linear(2, 1)
    average = WeightAverage(layer, decay=0.9)
    own = [p.detach().clone() for p in layer.parameters()]
    with torch.no_grad():
        average.average[0].fill_(3.0)
    with average.applied():
        assert torch.equal(layer.weight, torch.full((1, 2), 3.0))
    assert all(torch.equal(p, o) for p, o in zip(layer.parameters(), own, strict=True))
    with pytest.raises(RuntimeError), average.applied():
        raise RuntimeError("a failing dev pass")
    assert all(torch.equal(p, o) for p, o in zip(layer.parameters(), own, strict=True))


def test_fit_with_a_weight_average_saves_the_averaged_weights():
    """The best state is the average's: the model fit returns holds no weights it trained
    itself at the last step (they differ from the average unless the decay is 0)."""
    path = str(DATA / "en_ewt-excerpt-train.conllu")
    corpus = list(read_conllu(open_lines(path), Column.parse("upos")))[:60]
    train, dev = split_dev(corpus, 0.2, seed=1)
    model = ModelConfig(layers=1, hidden=8, word_dim=8, char_dim=4, char_hidden=4)
    vocabularies = Vocabularies.build(train, model)
    states = []
    config = TrainConfig(epoch_size=0, max_epochs=2, patience=5, average_weights=0.9)
    result = fit(
        TrainingData(train, dev, vocabularies),
        model,
        config,
        torch.device("cpu"),
        hooks=Hooks(on_checkpoint=lambda state: states.append(copy.deepcopy(state))),
    )
    best = states[result.best_epoch - 1]
    assert best["averaged"]["steps"] == sum(r.batches for r in result.epochs[: result.best_epoch])
    kept = result.model.state_dict()
    names = [name for name, _ in result.model.named_parameters()]
    for name, average in zip(names, best["averaged"]["average"], strict=True):
        assert torch.equal(kept[name], average), name
    assert any(not torch.equal(kept[name], best["model"][name]) for name in names)
