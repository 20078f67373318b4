"""Checkpoint: the whole state of a training run after an epoch, so `train --resume` can go on.

A checkpoint is one safetensors file, ``DIR/checkpoint.safetensors``: every tensor (weights of the
current and of the best epoch, Adam's moments, the RNG states) in the tensor table, and everything
else (epoch reports, scheduler and Python RNG state, the command's settings) as JSON in the
metadata. Nothing is pickled, so a checkpoint, like a model file, cannot run code when read. It is
replaced atomically after each epoch: killing the run leaves the previous epoch's checkpoint.

Nested state (an optimizer's ``state_dict``) is split into JSON plus tensors by ``_split``: each
tensor becomes ``{"$tensor": key}``, tuples ``{"$tuple": [...]}`` and integer-keyed dicts
``{"$intdict": [[key, value], ...]}``, so ``_join`` gives back exactly the same structure.

Large tensors with equal contents are stored once (``$tensor`` names the same key): the frozen
pretrained vectors sit in the current weights, the best epoch's weights and every finished
ensemble member's, hundreds of MB each time. ``_join`` hands out a copy for every use after the
first, so nothing read back is aliased (optimizer moments are updated in place).

A `seqtag train` run's checkpoint is a ``RunCheckpoint``: the run's settings (``RunRecord``),
its vocabularies, the ensemble members that finished and train.fit's state of the one in
training; ``save``/``load`` above are the codec it is stored with.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from seqtag.config import EMBEDDINGS_LIMIT
from seqtag.errors import SeqtagError
from seqtag.modelfile import EqualLargeTensors, save_atomically
from seqtag.version import __version__
from seqtag.vocab import Vocabularies

CHECKPOINT_FILE = "checkpoint.safetensors"
FORMAT_NAME = "seqtag-checkpoint"
FORMAT_VERSION = 1


def checkpoint_path(directory: str | Path) -> Path:
    return Path(directory) / CHECKPOINT_FILE


def save(directory: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` (nested dicts, lists, tuples, numbers, strings, tensors) atomically."""
    directory = Path(directory)
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _split(state, "", tensors, EqualLargeTensors())
    header = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "seqtag_version": __version__,
        "state": json.dumps(skeleton, ensure_ascii=False),
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SeqtagError(f"cannot write a checkpoint: {error.strerror}", str(directory)) from None
    save_atomically(tensors, header, checkpoint_path(directory), "a checkpoint")


def load(directory: str | Path) -> dict[str, Any]:
    """Read back what ``save`` wrote; a missing, foreign or damaged file is a SeqtagError."""
    path = checkpoint_path(directory)
    name = str(path)
    if not path.is_file():
        raise SeqtagError(
            "no checkpoint here; --resume takes the --checkpoint directory of an earlier run",
            str(directory),
        )
    try:
        with safe_open(name, framework="pt", device="cpu") as handle:
            header = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as error:
        raise SeqtagError(f"not a seqtag checkpoint, or a damaged one ({error})", name) from None
    if header.get("format") != FORMAT_NAME:
        raise SeqtagError("not a seqtag checkpoint (no seqtag-checkpoint header)", name)
    try:
        version = int(header["format_version"])
        skeleton = json.loads(header["state"])
    except (KeyError, ValueError):
        raise SeqtagError("damaged seqtag checkpoint: unreadable state", name) from None
    if version > FORMAT_VERSION:
        raise SeqtagError(
            f"checkpoint format {version} is newer than this seqtag ({__version__}) reads", name
        )
    try:
        return _join(skeleton, tensors, set())
    except (KeyError, TypeError, ValueError) as error:
        raise SeqtagError(f"damaged seqtag checkpoint ({error!r})", name) from None


def _split(
    value: Any, path: str, tensors: dict[str, torch.Tensor], equal_tensors: EqualLargeTensors
) -> Any:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        key = equal_tensors.stored_as(path or "tensor", value)
        if key not in tensors:
            tensors[key] = value.clone()  # a copy: safetensors refuses shared memory
        return {"$tensor": key}

    def inner(item: Any, name: Any) -> Any:
        return _split(item, f"{path}.{name}", tensors, equal_tensors)

    if isinstance(value, tuple):
        return {"$tuple": [inner(v, i) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [inner(v, i) for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: inner(v, k) for k, v in value.items()}
        if all(isinstance(k, int) for k in value):
            return {"$intdict": [[k, inner(v, k)] for k, v in value.items()]}
        raise TypeError(f"cannot checkpoint a dict with mixed key types at {path!r}")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot checkpoint a {type(value).__name__} at {path!r}")


def _join(value: Any, tensors: dict[str, torch.Tensor], used: set[str]) -> Any:
    """``used``: the keys handed out so far; a key stored once for several equal tensors gives
    each later use its own copy."""
    if isinstance(value, list):
        return [_join(v, tensors, used) for v in value]
    if isinstance(value, dict):
        if value.keys() == {"$tensor"}:
            key = value["$tensor"]
            if key in used:
                return tensors[key].clone()
            used.add(key)
            return tensors[key]
        if value.keys() == {"$tuple"}:
            return tuple(_join(v, tensors, used) for v in value["$tuple"])
        if value.keys() == {"$intdict"}:
            return {int(k): _join(v, tensors, used) for k, v in value["$intdict"]}
        return {k: _join(v, tensors, used) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class RunRecord:
    """The settings of a run, as its checkpoint keeps them so that --resume repeats them."""

    train_file: str
    dev_file: str | None
    output: str
    column: str
    input_format: str
    tag_column: int | None
    repair: bool
    embeddings: str | None
    embeddings_limit: int
    options: dict[str, Any]  # both configs' fields, as settled (scheme, CRF, word dropout)
    data_digest: str
    preset: str | None = None  # the preset the run started from (chosen or given), if any
    # Whether the run learns a segmenter once the tagger is saved (train --tokenizer); runs
    # checkpointed before the segmenter existed did not.
    tokenizer: bool = False
    # The model the run started from (train --init), and its file's sha256 when the run began.
    init: str | None = None
    init_sha256: str | None = None
    transfer_check: bool = True
    rnn_auto: bool = False  # train --rnn auto: the options name the LSTM, trained first

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> RunRecord:
        # Runs from before --embeddings existed had none.
        stored = {"embeddings": None, "embeddings_limit": EMBEDDINGS_LIMIT, **stored}
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in stored.items() if k in names})


@dataclass
class RunCheckpoint:
    """A checkpoint of a run: its settings, vocabularies, the ensemble members that finished
    and the training state of the one in training (train.fit's state, a nested dict)."""

    run: RunRecord
    vocabularies: Vocabularies
    finished: list[dict[str, Any]]
    training: dict[str, Any]

    @property
    def epoch(self) -> int:
        return self.training["epoch"]

    @property
    def best_score(self) -> float:
        return self.training["best_score"]

    def save(self, directory: str | Path) -> None:
        save(
            directory,
            {
                "run": dataclasses.asdict(self.run),
                "vocabularies": self.vocabularies.to_dict(),
                "finished": self.finished,
                "training": self.training,
            },
        )

    @classmethod
    def load(cls, directory: str | Path) -> RunCheckpoint:
        stored = load(directory)
        try:
            return cls(
                RunRecord.from_stored(stored["run"]),
                Vocabularies.from_dict(stored["vocabularies"]),
                list(stored.get("finished", [])),
                stored["training"],
            )
        except (KeyError, TypeError, ValueError) as error:
            name = str(checkpoint_path(directory))
            raise SeqtagError(f"damaged seqtag checkpoint ({error!r})", name) from None
