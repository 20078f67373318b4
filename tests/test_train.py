"""Early stopping: patience, and the stop after the learning rate's last allowed cut."""

import pytest
import torch
from conftest import DATA

from seqtag.config import ModelConfig, TrainConfig
from seqtag.lines import open_lines
from seqtag.read import Column, read_conllu
from seqtag.train import _should_stop, fit, lr_decays, split_dev
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
    result = fit(train, dev, vocabularies, model, config, torch.device("cpu"))
    worse = [
        e.epoch for e in result.epochs if e.dev_score <= e.best_score and e.epoch != e.best_epoch
    ]
    assert worse == [result.epochs[-1].epoch]  # the first epoch without progress cut the rate: stop
    assert result.stopped_early and len(result.epochs) < 40
