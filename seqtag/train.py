"""Train: fit a tagger with Adam, gradient clipping and early stopping on the dev score.

Progress goes to an ``on_epoch`` callback (the CLI renders it); nothing here prints. The best
epoch's weights are kept and returned, not the last epoch's.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from seqtag.batch import IGNORE, Batch, Batcher, training_order
from seqtag.config import FREQUENCY_BINS, ModelConfig, TrainConfig
from seqtag.errors import SeqtagError
from seqtag.evaluate import accuracy, entity_f1
from seqtag.model import Network, build_network
from seqtag.read import Sentence
from seqtag.torch_engine import predict
from seqtag.vocab import UNK, Vocabularies

if TYPE_CHECKING:
    import numpy

    from seqtag.transfer import Start


@dataclass
class EpochReport:
    epoch: int
    loss: float  # mean training loss per batch
    dev_score: float
    best_score: float
    best_epoch: int
    elapsed: float  # seconds since training began
    batches: int
    learning_rate: float  # the rate this epoch trained with


@dataclass
class TrainResult:
    model: Network
    best_score: float
    best_epoch: int
    epochs: list[EpochReport] = field(default_factory=list)
    stopped_early: bool = False
    interrupted: bool = False  # Ctrl-C: the result holds the best epoch finished before it
    dev_metric: str = "accuracy"


@dataclass
class TrainingData:
    """What a network learns from: train, dev (for early stopping), the vocabularies built
    from train, and with ``--embeddings`` the table of pretrained vectors (rows as in
    ``vocabularies.pretrained``, see embeddings.Vectors.model_table)."""

    train: Sequence[Sentence]
    dev: Sequence[Sentence]
    vocabularies: Vocabularies
    pretrained: numpy.ndarray | None = None
    # What each member takes from a model trained before (train --init); None: a random start.
    start: Start | None = None


@dataclass
class Hooks:
    """Callbacks of ``fit``: after each epoch and batch, and with each epoch's checkpoint
    state (which refers to live tensors: store it before returning)."""

    on_epoch: Callable[[EpochReport], None] | None = None
    on_batch: Callable[[int, int], None] | None = None
    on_checkpoint: Callable[[dict[str, Any]], None] | None = None


def split_dev(
    sentences: Sequence[Sentence], fraction: float, seed: int
) -> tuple[list[Sentence], list[Sentence]]:
    """A seeded random split of train into (train, held-out dev); at least one sentence each."""
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    n_dev = min(max(1, round(len(sentences) * fraction)), len(sentences) - 1)
    held_out = set(order[:n_dev])
    train = [s for i, s in enumerate(sentences) if i not in held_out]
    dev = [s for i, s in enumerate(sentences) if i in held_out]
    return train, dev


def word_id_counts(sentences: Sequence[Sentence], batcher: Batcher) -> Counter[int]:
    """How often each word id (the word, or its lowercased form with --lowercase) occurs."""
    return Counter(i for sentence in sentences for i in batcher.word_ids(sentence.words))


def word_dropout_table(sentences: Sequence[Sentence], batcher: Batcher, alpha: float):
    """p(word -> UNK) = alpha / (alpha + count): rare words are dropped often, so the model
    learns what to do with a word it has not seen, which is the common case on small data."""
    table = torch.zeros(len(batcher.vocabularies.words))
    if alpha > 0:
        for word_id, count in word_id_counts(sentences, batcher).items():
            table[word_id] = alpha / (alpha + count)
        table[UNK] = 0.0
    return table


def frequency_bin_table(sentences: Sequence[Sentence], batcher: Batcher):
    """Word id -> its frequency bin in ``sentences`` (see config.FREQUENCY_BINS); IGNORE for
    padding and for words absent from them."""
    table = torch.full((len(batcher.vocabularies.words),), IGNORE, dtype=torch.long)
    for word_id, count in word_id_counts(sentences, batcher).items():
        if word_id != UNK:
            table[word_id] = min(int(math.log2(count)), FREQUENCY_BINS - 1)
    return table


class WeightAverage:
    """An exponential moving average of a network's parameters over the training steps
    (Polyak averaging). The averaged weights are what dev scores, what is kept as the best
    epoch and what is saved; the optimizer goes on updating the network's own weights."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.steps = 0
        self.parameters = list(model.parameters())
        self.average = [p.detach().clone() for p in self.parameters]

    @torch.no_grad()
    def update(self) -> None:
        """Fold in the weights after an optimizer step."""
        self.steps += 1
        # Early on the average follows the weights closely ((1 + t) / (10 + t), TensorFlow's
        # num_updates rule), so it forgets the random initial weights within the first epoch.
        decay = min(self.decay, (1 + self.steps) / (10 + self.steps))
        for average, parameter in zip(self.average, self.parameters, strict=True):
            average.lerp_(parameter, 1 - decay)

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """The averaged weights in the network inside the block, its own weights after."""
        own = [p.detach().clone() for p in self.parameters]
        with torch.no_grad():
            for parameter, average in zip(self.parameters, self.average, strict=True):
                parameter.copy_(average)
        try:
            yield
        finally:
            with torch.no_grad():
                for parameter, weights in zip(self.parameters, own, strict=True):
                    parameter.copy_(weights)

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "average": self.average}

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["average"]) != len(self.average):
            raise ValueError("the weight average does not fit the model")
        self.steps = state["steps"]
        for average, stored in zip(self.average, state["average"], strict=True):
            average.copy_(stored)


def finished_member(result: TrainResult) -> dict[str, Any]:
    """What a checkpoint keeps of an ensemble member that has finished training: its best
    weights and its epoch reports (refers to live tensors, as fit's training states do)."""
    return {
        "best_model": result.model.state_dict(),
        "best_score": result.best_score,
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "epochs": [dataclasses.asdict(report) for report in result.epochs],
    }


def restored_member(
    state: dict[str, Any],
    config: ModelConfig,
    vocabularies: Vocabularies,
    device: torch.device,
) -> TrainResult:
    """The TrainResult of a finished member kept by ``finished_member``."""
    model = build_network(config, vocabularies)
    try:
        model.load_state_dict(state["best_model"], strict=True)
        result = TrainResult(
            model.to(device).eval(),
            best_score=state["best_score"],
            best_epoch=state["best_epoch"],
            epochs=[EpochReport(**report) for report in state["epochs"]],
            stopped_early=state["stopped_early"],
        )
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise SeqtagError(f"the checkpoint does not fit this model and data ({error})") from None
    result.dev_metric, _ = dev_metric_for(config)
    return result


def member_seed(seed: int, member: int) -> int:
    """The seed of an ensemble's member: the run's own for the first (an ensemble of one is the
    plain model), far apart for the others, so the ensembles of seeds 1, 2, 3 share no member."""
    return seed + 1000 * member


def fit(
    data: TrainingData,
    model_config: ModelConfig,
    train_config: TrainConfig,
    device: torch.device,
    hooks: Hooks | None = None,
    resume: dict[str, Any] | None = None,
    member: int = 0,
) -> TrainResult:
    """Train until ``patience`` epochs pass without a better dev score, the learning rate has
    been cut ``max_lr_decays`` times, or ``max_epochs``.

    The dev score is accuracy, or entity F1 (seqeval, default mode) for span labels: what the
    user will be judged on is what early stopping and the learning-rate decay look at.

    ``hooks.on_epoch`` and ``hooks.on_batch`` hear of progress. After each epoch
    ``hooks.on_checkpoint`` gets the whole training state (weights, optimizer,
    scheduler, every RNG, the reports so far), which refers to live tensors: store it (see
    seqtag.checkpoint) before the callback returns. Handing a stored state back as ``resume`` continues
    the run exactly as if it had never stopped (on CPU, given the same data and configs).

    ``member``: which member of an ensemble this is, for ``data.start`` (train --init), which
    gives each member the weights of a source member.

    """
    hooks = hooks or Hooks()
    train, dev, vocabularies, pretrained = data.train, data.dev, data.vocabularies, data.pretrained
    on_epoch, on_batch, on_checkpoint = hooks.on_epoch, hooks.on_batch, hooks.on_checkpoint
    torch.manual_seed(train_config.seed)
    order_rng = random.Random(train_config.seed)
    dropout_rng = torch.Generator().manual_seed(train_config.seed)
    model = build_network(model_config, vocabularies)
    if pretrained is not None:
        model.pretrained_vectors.copy_(torch.from_numpy(pretrained))
    if data.start is not None:
        data.start.apply(model, member)
    model = model.to(device)
    # fused: one kernel for the whole update instead of a dozen passes over every weight; on a
    # CPU the optimizer step drops from ~10% of training time to ~2%.
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.learning_rate, fused=True)
    # Smaller steps once dev stops improving: Adam at a fixed rate keeps hopping around the
    # optimum, and a decayed rate settles into it (and ends the run sooner).
    scheduler = None
    if train_config.lr_decay < 1:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=train_config.lr_decay, patience=0, threshold=0.0
        )
    averaged = None
    if train_config.average_weights > 0:
        averaged = WeightAverage(model, train_config.average_weights)
    batcher = Batcher(vocabularies, model_config)
    drop_table = word_dropout_table(train, batcher, train_config.word_dropout)
    bin_table = frequency_bin_table(train, batcher) if model.frequency_head else None
    dev_gold = [sentence.tags for sentence in dev]

    def train_epoch(batches: list[list[int]]) -> float:
        """One pass over the batches; returns the mean loss per batch."""
        model.train()
        total_loss = 0.0
        for done, indices in enumerate(batches, start=1):
            batch = batcher.batch([train[i] for i in indices], with_tags=True)
            bins = None if bin_table is None else bin_table[batch.words].to(device)
            batch = drop_words(batch, drop_table, dropout_rng).to(device)
            loss = model.training_loss(batch, bins)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), train_config.clip)
            optimizer.step()
            if averaged is not None:
                averaged.update()
            total_loss += loss.item()
            if on_batch is not None:
                on_batch(done, len(batches))
        return total_loss / max(1, len(batches))

    def training_state() -> dict[str, Any]:
        return {
            "epoch": len(result.epochs),
            "model": model.state_dict(),
            "best_model": best_state,
            "best_score": result.best_score,
            "best_epoch": result.best_epoch,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "averaged": averaged.state_dict() if averaged is not None else None,
            "rng": {
                "torch": torch.get_rng_state(),
                "word_dropout": dropout_rng.get_state(),
                "batch_order": order_rng.getstate(),
            },
            "epochs": [dataclasses.asdict(report) for report in result.epochs],
        }

    result = TrainResult(model, best_score=-1.0, best_epoch=0)
    result.dev_metric, dev_metric = dev_metric_for(model_config)
    best_state = copy.deepcopy(model.state_dict())
    if resume is not None:
        try:
            model.load_state_dict(resume["model"], strict=True)
            best_state = resume["best_model"]
            optimizer.load_state_dict(resume["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(resume["scheduler"])
            if averaged is not None:
                averaged.load_state_dict(resume["averaged"])
            torch.set_rng_state(resume["rng"]["torch"])
            dropout_rng.set_state(resume["rng"]["word_dropout"])
            order_rng.setstate(resume["rng"]["batch_order"])
            result.epochs = [EpochReport(**report) for report in resume["epochs"]]
            result.best_score, result.best_epoch = resume["best_score"], resume["best_epoch"]
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise SeqtagError(
                f"the checkpoint does not fit this model and data ({error})"
            ) from None
    passes = max(1, math.ceil(train_config.epoch_size / max(1, len(train))))
    epoch = len(result.epochs)
    start = time.perf_counter() - (result.epochs[-1].elapsed if result.epochs else 0.0)
    try:
        while epoch < train_config.max_epochs and not _should_stop(
            epoch, result.best_epoch, optimizer.param_groups[0]["lr"], train_config
        ):
            epoch += 1
            batches = [
                batch
                for _ in range(passes)
                for batch in training_order(train, train_config.batch_size, order_rng)
            ]
            learning_rate = optimizer.param_groups[0]["lr"]
            loss = train_epoch(batches)
            with averaged.applied() if averaged is not None else contextlib.nullcontext():
                dev_score = dev_metric(dev_gold, predict(model, batcher, dev, device))
                if dev_score > result.best_score:
                    result.best_score, result.best_epoch = dev_score, epoch
                    best_state = copy.deepcopy(model.state_dict())
            if scheduler is not None:
                scheduler.step(dev_score)
            elapsed = time.perf_counter() - start
            report = EpochReport(
                epoch,
                loss,
                dev_score,
                result.best_score,
                result.best_epoch,
                elapsed,
                len(batches),
                learning_rate,
            )
            result.epochs.append(report)
            if on_checkpoint is not None:
                on_checkpoint(training_state())
            if on_epoch is not None:
                on_epoch(report)
    except KeyboardInterrupt:
        result.interrupted = True
    result.stopped_early = _should_stop(
        epoch, result.best_epoch, optimizer.param_groups[0]["lr"], train_config
    )
    model.load_state_dict(best_state)
    model.eval()
    return result


def dev_metric_for(config: ModelConfig) -> tuple[str, Callable]:
    """The dev metric's name and function: entity F1 for span labels, else accuracy."""
    if config.scheme is not None:
        return "entity F1", entity_f1
    return "accuracy", accuracy


def _should_stop(epoch: int, best_epoch: int, learning_rate: float, config: TrainConfig) -> bool:
    """Early stopping: ``patience`` epochs without a better dev score, or the learning rate cut
    ``max_lr_decays`` times (after that, epochs barely move the weights)."""
    if epoch > 0 and epoch - best_epoch >= config.patience:
        return True
    return config.max_lr_decays > 0 and lr_decays(learning_rate, config) >= config.max_lr_decays


def lr_decays(learning_rate: float, config: TrainConfig) -> int:
    """How many times the learning rate has been cut, read off the rate itself (so a resumed
    run knows it without being told)."""
    if config.lr_decay >= 1 or learning_rate >= config.learning_rate:
        return 0
    return round(math.log(learning_rate / config.learning_rate) / math.log(config.lr_decay))


def drop_words(batch: Batch, table: torch.Tensor, generator: torch.Generator) -> Batch:
    """Replace words by UNK with their word-dropout probability (characters are kept)."""
    drop = torch.rand(batch.words.shape, generator=generator) < table[batch.words]
    batch.words = batch.words.masked_fill(drop, UNK)
    return batch
