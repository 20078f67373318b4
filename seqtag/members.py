"""Members: the networks of an ensemble (a single model is one member), trained on one training
set one after another, or side by side in worker processes (`train --jobs`), then put together
and scored on dev.

Each member is train.fit from its own seed (train.member_seed), so side by side gives the same
members as one after another (on the CPU, with the same threads each). A resumed run restores
the members that had finished and goes on with the one in training; SIGTERM ends training as
Ctrl-C does, with the best epochs so far kept. Side by side, the checkpoint is written as each
member finishes, and an interrupted member starts over when the run is resumed.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import signal
import traceback
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from seqtag.batch import Batcher
from seqtag.checkpoint import RunCheckpoint
from seqtag.config import ModelConfig, TrainConfig
from seqtag.errors import SeqtagError
from seqtag.model import Ensemble
from seqtag.read import Sentence
from seqtag.signals import children_ignore_ctrl_c, signal_raises, signals_deferred
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
    def on_epoch(self, report: EpochReport, member: int | None = None) -> None:
        """An epoch ended; ``member`` says whose when members train side by side."""

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
    stopped_by: int | None = None  # the signal that ended members side by side

    def train(
        self,
        n_members: int,
        report: MemberReport,
        *,
        resumed: RunCheckpoint | None,
        finished: list,
        save_checkpoint,
        pretrained,
        start=None,
        jobs: int = 1,
        threads: int = 1,
    ) -> tuple[list[TrainResult], int | None]:
        """Fit the members, going on after those a resumed checkpoint holds as ``finished``,
        which grows as members finish (the checkpoint saves it): one after another here, or
        with ``jobs`` > 1 side by side in that many worker processes of ``threads`` threads.
        Returns the fitted members, in member order, the restored ones first, and the exit
        status for an interruption by Ctrl-C (130) or SIGTERM (143), or None when all
        finished; an interrupted member's best epoch so far is among the results.
        ``pretrained``: the --embeddings table; ``start``: what each member takes from a model
        trained before (transfer.Start, train --init)."""
        results = [
            restored_member(state, self.config, self.vocabularies, self.device)
            for state in finished
        ]
        first = len(results)
        data = TrainingData(self.train_set, self.dev_set, self.vocabularies, pretrained, start)
        resume = (resumed.training or None) if resumed is not None else None
        try:
            with signal_raises(signal.SIGTERM, KeyboardInterrupt) as terminated:
                if jobs > 1 and n_members - first > 1:
                    interrupted = self._side_by_side(
                        data, range(first, n_members), n_members, report, results, finished,
                        save_checkpoint, resume, jobs, threads,
                    )  # fmt: skip
                else:
                    interrupted = self._one_after_another(
                        data, range(first, n_members), n_members, report, results, finished,
                        save_checkpoint, resume,
                    )  # fmt: skip
        finally:
            report.members_done()
        if interrupted or not results:
            by_sigterm = terminated.fired or self.stopped_by == signal.SIGTERM
            return results, 143 if by_sigterm else 130
        return results, None

    def _member_training(self, member: int) -> TrainConfig:
        return dataclasses.replace(self.training, seed=member_seed(self.training.seed, member))

    def _one_after_another(
        self, data, members, n_members, report, results, finished, save_checkpoint, resume
    ) -> bool:
        """Fit ``members`` here in turn; True when interrupted."""
        for member in members:
            training = self._member_training(member)
            if n_members > 1:
                report.on_member(member, n_members, training.seed)
            hooks = Hooks(report.on_epoch, report.on_batch, save_checkpoint)
            result = fit(data, self.config, training, self.device, hooks, resume, member)
            resume = None
            if result.epochs:
                results.append(result)
            if result.interrupted:
                return True
            finished.append(finished_member(result))
        return False

    def _side_by_side(
        self, data, members, n_members, report, results, finished, save_checkpoint, resume,
        jobs, threads,
    ) -> bool:  # fmt: skip
        """Fit ``members`` in worker processes, at most ``jobs`` at a time; True when
        interrupted (each running member then ends with its best epoch so far). The
        checkpoint keeps the members finished in member order, so a resumed run goes on
        with the first one missing."""
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        messages = context.Queue()
        waiting, running = deque(members), _Running()
        done: dict[int, tuple[dict, TrainResult]] = {}  # members that trained an epoch or more
        completed: set[int] = set()  # those that finished uninterrupted
        next_finished = members[0] if members else 0
        stopping = False

        def stop_all(signum: int) -> None:
            """Start no other member, and end the running ones with their best epoch."""
            nonlocal stopping
            stopping = True
            self.stopped_by = self.stopped_by or signum
            waiting.clear()
            running.stop()

        # Ctrl-C and SIGTERM are looked at between messages, so none is lost halfway through.
        stop = signals_deferred(None, signal.SIGINT, signal.SIGTERM)
        try:
            with stop as signalled:
                while waiting or running:
                    if signalled.fired and not stopping:
                        stop_all(signalled.signum)
                    while waiting and len(running) < jobs:
                        member = waiting.popleft()
                        training = self._member_training(member)
                        job = _MemberJob(member, data, self.config, training, threads, resume)
                        resume = None
                        running.start(context, job, messages)
                        report.on_member(member, n_members, training.seed)
                    try:
                        kind, member, payload = messages.get(timeout=0.5)
                    except queue.Empty:
                        running.check(stopping=stopping)
                        continue
                    if kind == "epoch":
                        report.on_epoch(payload, member)
                        continue
                    running.ended(member)
                    if kind == "error":
                        raise _worker_error(member, payload)
                    state, member_interrupted = payload
                    if member_interrupted and not stopping:
                        # SIGTERM reached the worker itself: sent to the whole process group,
                        # as `timeout`, systemd and Slurm do. The run ends as if sent here.
                        stop_all(signal.SIGTERM)
                    if state is None:
                        continue
                    state = _as_tensors(state)
                    done[member] = (
                        state,
                        restored_member(state, self.config, self.vocabularies, self.device),
                    )
                    if member_interrupted:
                        continue
                    completed.add(member)
                    while next_finished in completed:
                        finished.append(done[next_finished][0])
                        next_finished += 1
                        if save_checkpoint is not None:
                            save_checkpoint({})  # no member in training: resume starts the next
                if signalled.fired and not stopping:  # after the last member's message
                    stop_all(signalled.signum)
        finally:
            running.kill()
        results.extend(done[member][1] for member in sorted(done))
        return stopping

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


@dataclass
class _MemberJob:
    """What a worker process needs to fit one member."""

    member: int
    data: TrainingData
    config: ModelConfig
    training: TrainConfig
    threads: int
    resume: dict[str, Any] | None
    parent: int = dataclasses.field(default_factory=os.getpid)  # the process that started it


def _train_member(inbox, messages) -> None:
    """A worker process: fit one member, posting ("epoch", member, EpochReport) after each
    epoch, then ("done", member, (best weights as numpy or None, interrupted)), or ("error",
    member, traceback). SIGTERM ends it as Ctrl-C ends fit; Ctrl-C is ignored (_Running.start)
    and left to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The first SIGTERM ends training as Ctrl-C ends fit; later ones (the parent passes on the
    # SIGTERM that a process group got too), and any once the result is on its way, are let be.
    stoppable = [True]

    def on_sigterm(_signum, _frame) -> None:
        if stoppable[0]:
            stoppable[0] = False
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        job: _MemberJob = inbox.get()
    except KeyboardInterrupt:  # stopped before its job came
        return

    def on_epoch(report: EpochReport) -> None:
        if os.getppid() != job.parent:  # the parent died (killed, out of memory): stop too
            os._exit(1)
        messages.put(("epoch", job.member, report))

    try:
        torch.set_num_threads(job.threads)
        hooks = Hooks(on_epoch=on_epoch)
        result = fit(
            job.data, job.config, job.training, torch.device("cpu"), hooks, job.resume, job.member
        )
        stoppable[0] = False
    except KeyboardInterrupt:  # stopped before training began
        messages.put(("done", job.member, (None, True)))
        return
    except SeqtagError as error:  # said to the user as any SeqtagError is
        messages.put(("error", job.member, (error.message, error.path, error.line)))
        return
    except Exception:
        messages.put(("error", job.member, traceback.format_exc()))
        return
    state = _as_arrays(finished_member(result)) if result.epochs else None
    messages.put(("done", job.member, (state, result.interrupted)))


def _worker_error(member: int, payload) -> Exception:
    """A worker's failure, raised here: a SeqtagError as itself, anything else (a bug) as a
    RuntimeError with the worker's traceback."""
    if isinstance(payload, tuple):
        return SeqtagError(*payload)
    return RuntimeError(f"ensemble member {member + 1} failed:\n{payload}")


def _as_arrays(state: dict[str, Any]) -> dict[str, Any]:
    """A finished member's state with numpy weights, which pickle by value (torch tensors
    would travel as shared memory that ends with the worker)."""
    weights = {key: value.detach().cpu().numpy() for key, value in state["best_model"].items()}
    return {**state, "best_model": weights}


def _as_tensors(state: dict[str, Any]) -> dict[str, Any]:
    weights = {key: torch.from_numpy(value) for key, value in state["best_model"].items()}
    return {**state, "best_model": weights}


class _Running:
    """The worker processes in flight, by member."""

    def __init__(self) -> None:
        self.processes: dict[int, Any] = {}
        self.inboxes: dict[int, Any] = {}  # each worker's queue its job came by
        self.silent: set[int] = set()  # found dead without a word at the last check

    def __len__(self) -> int:
        return len(self.processes)

    def start(self, context, job: _MemberJob, messages) -> None:
        """Start a worker, deaf to Ctrl-C (the parent stops workers with SIGTERM), and send
        it its job after: starting with the training data as an argument would block until
        the new process read it all, and a Ctrl-C meanwhile would be lost."""
        inbox = context.Queue()
        inbox.cancel_join_thread()  # a worker killed before it read its job must not hang us
        process = context.Process(target=_train_member, args=(inbox, messages), daemon=True)
        with children_ignore_ctrl_c():
            process.start()
        inbox.put(job)  # sent by the queue's own thread, while this one goes on
        self.processes[job.member] = process
        self.inboxes[job.member] = inbox  # kept: the worker rebuilds its lock from this one

    def ended(self, member: int) -> None:
        process = self.processes.pop(member, None)
        if process is not None:
            process.join()
        self.inboxes.pop(member, None)
        self.silent.discard(member)

    def check(self, stopping: bool) -> None:
        """A worker that died without its last message (killed, out of memory) is an error,
        found at two checks in a row (its last message may still be on its way at the
        first); when stopping, it is let go (SIGTERM may have come before training began)."""
        for member, process in list(self.processes.items()):
            if process.is_alive():
                continue
            if member in self.silent:
                self.ended(member)
                if not stopping:
                    raise SeqtagError(
                        f"the process training ensemble member {member + 1} stopped "
                        f"unexpectedly (exit status {process.exitcode}; out of memory?); "
                        "try fewer --jobs"
                    )
            else:
                self.silent.add(member)

    def stop(self) -> None:
        """SIGTERM to each: fit ends after its batch with the best epoch so far."""
        for process in self.processes.values():
            process.terminate()

    def kill(self) -> None:
        for process in self.processes.values():
            process.kill()
            process.join()
        self.processes.clear()
        self.inboxes.clear()
