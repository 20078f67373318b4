"""Members: the networks of an ensemble (a single model is one member), trained one after
another on one training set, then put together and scored on dev.

Each member is train.fit from its own seed (train.member_seed). A resumed run restores the
members that had finished and goes on with the one in training; SIGTERM ends training as
Ctrl-C does, with the best epochs so far kept.
"""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from seqtag.batch import Batcher
from seqtag.checkpoint import RunCheckpoint
from seqtag.config import ModelConfig, TrainConfig
from seqtag.model import Ensemble
from seqtag.read import Sentence
from seqtag.signals import signal_raises
from seqtag.torch_engine import predict
from seqtag.train import (
    EpochReport,
    Hooks,
    TrainingData,
    TrainResult,
    dev_metric_for,
    finished_member,
    fit,
    member_seed,
    restored_member,
)
from seqtag.vocab import Vocabularies


class MemberReport(Protocol):
    """What members' training tells (run.Report is one)."""

    def on_member(self, member: int, n_members: int, seed: int) -> None: ...
    def on_epoch(self, report: EpochReport) -> None: ...
    def on_batch(self, done: int, total: int) -> None: ...
    def members_done(self) -> None: ...


@dataclass
class Members:
    """An ensemble's members (a single model is one member) on one training set."""

    train_set: list[Sentence]
    dev_set: list[Sentence]
    vocabularies: Vocabularies
    config: ModelConfig  # each member's: ensemble=1
    training: TrainConfig
    device: Any

    def train(
        self,
        n_members: int,
        report: MemberReport,
        *,
        resumed: RunCheckpoint | None,
        finished: list,
        save_checkpoint,
        pretrained,
    ) -> tuple[list[TrainResult], int | None]:
        """Fit the members one after another, going on after those a resumed checkpoint holds
        as ``finished``, which grows as members finish (the checkpoint saves it). Returns the
        fitted members, the restored ones first, and the exit status for an interruption by
        Ctrl-C (130) or SIGTERM (143), or None when all finished; an interrupted member's best
        epoch so far is among the results."""
        results = [
            restored_member(state, self.config, self.vocabularies, self.device)
            for state in finished
        ]
        first, interrupted = len(results), False
        try:
            with signal_raises(signal.SIGTERM, KeyboardInterrupt) as terminated:
                for member in range(first, n_members):
                    seed = member_seed(self.training.seed, member)
                    if n_members > 1:
                        report.on_member(member, n_members, seed)
                    data = TrainingData(self.train_set, self.dev_set, self.vocabularies, pretrained)
                    hooks = Hooks(report.on_epoch, report.on_batch, save_checkpoint)
                    resume = resumed.training if resumed is not None and member == first else None
                    training = dataclasses.replace(self.training, seed=seed)
                    result = fit(data, self.config, training, self.device, hooks, resume)
                    if result.epochs:
                        results.append(result)
                    if result.interrupted:
                        interrupted = True
                        break
                    finished.append(finished_member(result))
        finally:
            report.members_done()
        if interrupted or not results:
            return results, 143 if terminated.fired else 130
        return results, None

    def final_model(self, results: Sequence[TrainResult], model_config: ModelConfig):
        """The model to save and its dev score: the one network, or the ensemble of the
        members trained (all of them unless interrupted), scored on dev together."""
        if len(results) == 1:
            return results[0].model, results[0].best_score
        model = Ensemble([r.model for r in results])
        _, metric = dev_metric_for(model_config)
        batcher = Batcher(self.vocabularies, model_config)
        predicted = predict(model, batcher, self.dev_set, self.device)
        return model, metric([s.tags for s in self.dev_set], predicted)
