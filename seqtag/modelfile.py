"""Model file: save and load one self-contained file, with no code executed on load.

The file is safetensors: the weights, plus JSON metadata under ``seqtag`` holding the format
version, configs, vocabularies, label set, tagged column, seqtag version and dev score. Nothing is
pickled, so loading a file from a stranger cannot run code. Saving goes through a temporary file
and an atomic rename, so an interrupted save leaves the old file or the new one, never half.

torch is imported only where weights become torch tensors (``load``, ``save``): ``read_model``
gives the same file as numpy arrays to the torch-free engine (numpy_engine.py).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError, safe_open

from seqtag.config import ModelConfig, TrainConfig, model_config_from_file
from seqtag.errors import SeqtagError
from seqtag.version import __version__
from seqtag.vocab import Vocabularies

if TYPE_CHECKING:
    import numpy
    import torch

    from seqtag.model import Ensemble, Network

FORMAT_NAME = "seqtag-model"
# Format 2 adds ``shared``: names of tensors stored once under another name (large tensors of
# equal contents, such as an ensemble's members' identical pretrained vectors). A file without
# shared tensors is still written as format 1, which every seqtag reads.
FORMAT_VERSION = 2
# The prefix of the segmenter's weights (segmenter/), stored beside the tagger's.
SEGMENTER = "segmenter."
# Tensors from this many elements on are stored once when several are equal (EqualLargeTensors).
DEDUPLICATE_FROM = 1 << 16


@dataclass
class LoadedModel:
    model: Network | Ensemble
    vocabularies: Vocabularies
    column: str
    model_config: ModelConfig
    metadata: dict[str, Any]  # everything saved beside the weights, JSON-ready


@dataclass
class ModelArrays:
    """A model file read without torch: its weights as numpy arrays, under the names of
    ``Network.state_dict()``."""

    weights: dict[str, numpy.ndarray]
    vocabularies: Vocabularies
    column: str
    model_config: ModelConfig
    metadata: dict[str, Any]


def save(
    path: str | Path,
    model: Network | Ensemble,
    vocabularies: Vocabularies,
    column: str,
    train_config: TrainConfig,
    extra: dict[str, Any],
) -> None:
    path = Path(path)
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    equal_tensors = EqualLargeTensors()
    shared = {}
    for name, tensor in list(tensors.items()):
        stored = equal_tensors.stored_as(name, tensor)
        if stored != name:
            shared[name] = stored
            del tensors[name]
    metadata = {
        "format": FORMAT_NAME,
        "format_version": 2 if shared else 1,
        "seqtag_version": __version__,
        "column": column,
        "model_config": asdict(model.config),
        "train_config": asdict(train_config),
        "vocabularies": vocabularies.to_dict(),
        **({"shared": shared} if shared else {}),
        **extra,
    }
    header = {"format": FORMAT_NAME, "seqtag": json.dumps(metadata, ensure_ascii=False)}
    save_atomically(tensors, header, path, "the model")


class EqualLargeTensors:
    """Finds, for each tensor about to be stored, an earlier one with equal contents, so that
    copies are stored once: the frozen pretrained vectors (60 MB at 300 dimensions) sit in every
    ensemble member, and a checkpoint holds them again in the best epoch's weights. Only tensors
    of ``DEDUPLICATE_FROM`` elements or more are compared: a model has a handful of those, so
    the comparisons cost little, and small ones are not worth them."""

    def __init__(self) -> None:
        self._by_kind: dict[tuple, list[tuple[str, torch.Tensor]]] = {}

    def stored_as(self, key: str, tensor: torch.Tensor) -> str:
        """The key ``tensor`` is to be stored under: that of an equal tensor seen before, or
        its own ``key`` (and it is remembered for the tensors that come later)."""
        import torch

        if tensor.numel() < DEDUPLICATE_FROM:
            return key
        kind = (tuple(tensor.shape), tensor.dtype)
        for earlier_key, earlier in self._by_kind.get(kind, []):
            if torch.equal(earlier, tensor):
                return earlier_key
        self._by_kind.setdefault(kind, []).append((key, tensor))
        return key


def save_atomically(
    tensors: dict[str, torch.Tensor], header: dict[str, str], path: Path, what: str
) -> None:
    """Write a safetensors file through a temporary file beside ``path`` and a rename, so a
    killed process leaves the old file or the new one, never half of one."""
    from safetensors.torch import save_file

    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as error:
        raise SeqtagError(f"cannot write {what}: {error.strerror}", str(path)) from None
    os.close(handle)
    try:
        save_file(tensors, temporary, metadata=header)
        # mkstemp makes the file private (0600); give it the mode a plain open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a model file, checked for format and version; weights not read."""
    name = str(path)
    if Path(path).is_dir():
        raise SeqtagError("is a directory, not a model file", name)
    if not Path(path).is_file():
        raise SeqtagError("no such model file", name)
    try:
        with safe_open(name, framework="numpy") as handle:
            header = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise SeqtagError(f"not a seqtag model file, or a damaged one ({error})", name) from None
    if header.get("format") != FORMAT_NAME or "seqtag" not in header:
        raise SeqtagError("not a seqtag model file (no seqtag metadata in it)", name)
    try:
        metadata = json.loads(header["seqtag"])
        version = int(metadata["format_version"])
    except (ValueError, KeyError, TypeError):
        raise SeqtagError("damaged seqtag model file: unreadable metadata", name) from None
    if version > FORMAT_VERSION:
        raise SeqtagError(
            f"model file format {version} is newer than this seqtag ({__version__}) reads "
            f"(format {FORMAT_VERSION}); upgrade seqtag",
            name,
        )
    return metadata


def _read(path: str | Path, framework: str) -> tuple[dict, Vocabularies, str, ModelConfig, dict]:
    """Weights (as ``framework`` tensors, under today's names), vocabularies, column, config
    and metadata of a model file, every failure a SeqtagError naming the file."""
    name = str(path)
    metadata = read_metadata(path)
    try:
        config = model_config_from_file(metadata["model_config"])
        vocabularies = Vocabularies.from_dict(metadata["vocabularies"])
        column = metadata["column"]
    except (KeyError, TypeError, ValueError) as error:
        raise SeqtagError(f"damaged seqtag model file: bad metadata ({error})", name) from None
    try:
        with safe_open(name, framework=framework, device="cpu") as handle:
            state = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, RuntimeError) as error:
        raise SeqtagError(
            f"damaged seqtag model file: weights do not load ({error})", name
        ) from None
    shared = metadata.get("shared", {})
    if not isinstance(shared, dict) or any(stored not in state for stored in shared.values()):
        raise SeqtagError("damaged seqtag model file: a shared tensor is missing", name)
    for copy, stored in shared.items():
        state[copy] = state[stored]  # one array for all: the numpy engine keeps one in memory
    # The segmenter's weights are read apart, by read_segmenter, when raw text is to be split.
    state = {key: value for key, value in state.items() if not key.startswith(SEGMENTER)}
    # Files from seqtag 0.1.0 name the sentence encoder's weights as nn.LSTM does.
    return from_bidirectional_names(state, "rnn"), vocabularies, column, config, metadata


def load(path: str | Path, device: torch.device | str = "cpu") -> LoadedModel:
    """The model as a torch network on ``device``, ready to tag (eval mode)."""
    from seqtag.model import build_network

    state, vocabularies, column, config, metadata = _read(path, "pt")
    try:
        model = build_network(config, vocabularies)
    except SeqtagError as error:
        raise SeqtagError(error.message, str(path)) from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise SeqtagError(
            f"damaged seqtag model file: weights do not load ({error})", str(path)
        ) from None
    model.to(device).eval()
    return LoadedModel(model, vocabularies, column, config, metadata)


def read_model(path: str | Path) -> ModelArrays:
    """The model file with its weights as numpy arrays; torch is not imported. The names and
    shapes are checked against the architecture when the numpy engine is built from it."""
    state, vocabularies, column, config, metadata = _read(path, "numpy")
    return ModelArrays(state, vocabularies, column, config, metadata)


_PACKED_NAME = re.compile(
    r"^(?P<prefix>.*)\.(?P<kind>weight|bias)_(?P<matrix>ih|hh)_l(?P<layer>\d+)(?P<reverse>_reverse)?$"
)


def from_bidirectional_names(state: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Rename the weights of an ``nn.LSTM/GRU(bidirectional=True)`` at ``prefix`` (model files
    written by seqtag 0.1.0) to the names rnn.BiRNN uses; other entries pass through unchanged."""
    renamed = {}
    for name, tensor in state.items():
        match = _PACKED_NAME.match(name)
        if match is None or match["prefix"] != prefix:
            renamed[name] = tensor
            continue
        direction = "backward_layers" if match["reverse"] else "forward_layers"
        layer = match["layer"]
        renamed[f"{prefix}.{direction}.{layer}.{match['kind']}_{match['matrix']}_l0"] = tensor
    return renamed


def add_segmenter(
    path: str | Path, weights: dict[str, torch.Tensor], about: dict[str, Any]
) -> None:
    """Store a segmenter in the model file at ``path``: its weights under ``segmenter.`` and
    ``about`` (settings, characters, multiword tokens) as the metadata's ``segmenter``,
    replacing any segmenter the file had. Written atomically, as ``save`` writes."""
    name = str(path)
    metadata = read_metadata(path)
    try:
        with safe_open(name, framework="pt", device="cpu") as handle:
            tensors = {
                key: handle.get_tensor(key)
                for key in handle.keys()  # noqa: SIM118
                if not key.startswith(SEGMENTER)
            }
    except (SafetensorError, OSError, RuntimeError) as error:
        raise SeqtagError(
            f"damaged seqtag model file: weights do not load ({error})", name
        ) from None
    tensors |= {SEGMENTER + key: t.detach().cpu().contiguous() for key, t in weights.items()}
    metadata["segmenter"] = about
    header = {"format": FORMAT_NAME, "seqtag": json.dumps(metadata, ensure_ascii=False)}
    save_atomically(tensors, header, Path(path), "the model")
