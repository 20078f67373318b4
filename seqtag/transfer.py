"""Transfer: start a new tagger from a model trained before (`seqtag train --init MODEL`).

A model trained on a related language (or on more data of the same one) has learned spelling,
affixes and word order that a treebank of a few hundred sentences cannot teach. ``Source.read``
reads such a model, ``shaped_like`` gives the new run the source's network shape (its layers
must fit the weights), and ``Start.build`` works out what each new network takes from it:

- weights whose shape owes nothing to a vocabulary, whole: the character BiLSTM, the sentence
  encoder's layers, the frequency head;
- rows of the word, character and affix embeddings for the items both vocabularies hold, matched
  by string (the padding and unknown-word rows too);
- rows of the output layer, and a CRF's start, end and transition scores, for the labels both
  models have, matched by name within the same column (two one-column models: their columns).

Everything else keeps the new network's random start. An ensemble's member i starts from the
source's member i (modulo the source's number of members). ``Start`` holds numpy arrays, so it
travels to worker processes (`train --jobs`) as plain data; numpy and torch are imported only
where the weights are read and copied.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqtag.architecture import Architecture
from seqtag.config import ModelConfig
from seqtag.errors import SeqtagError, UsageError, counted
from seqtag.read import Column
from seqtag.vocab import Vocab, Vocabularies

if TYPE_CHECKING:
    import numpy

# The settings that shape the network apart from its vocabularies: a new run takes the source's.
NETWORK_SHAPE = (
    "rnn",
    "layers",
    "hidden",
    "word_dim",
    "lowercase",
    "char",
    "char_dim",
    "char_hidden",
    "affixes",
    "affix_dim",
)
# Weights (Network.state_dict names) whose rows are items of a vocabulary.
_EMBEDDINGS = {  # name -> (vocabulary, its items in a message)
    "word_embed.weight": ("words", ("word form", "word forms")),
    "char_encoder.embed.weight": ("chars", ("character", "characters")),
    "affix_embed.weight": ("affixes", ("affix", "affixes")),
}
_OUTPUT = ("output.weight", "output.bias")
_CRF = ("crf.start", "crf.end", "crf.transitions")
# Kept from the new run: its own --embeddings table (or none).
_NOT_TAKEN = ("pretrained_vectors",)


@dataclass(frozen=True)
class Source:
    """A model file read to start from: its weights per member (numpy, Network names), its
    vocabularies, configuration and the record of where it came from."""

    path: str
    members: list[dict[str, numpy.ndarray]]
    vocabularies: Vocabularies
    config: ModelConfig
    columns: tuple[str, ...]
    record: dict[str, Any]  # what the new model's file keeps as "started_from"

    @classmethod
    def read(cls, path: str) -> Source:
        from seqtag.modelfile import read_model

        if not Path(path).is_file():
            raise SeqtagError("no such model file (--init)", path)
        model = read_model(path)
        weights, config = model.weights, model.model_config
        if config.ensemble > 1:
            members = [
                {
                    name[len(prefix) :]: array
                    for name, array in weights.items()
                    if name.startswith(prefix)
                }
                for prefix in (f"members.{i}." for i in range(config.ensemble))
            ]
        else:
            members = [dict(weights)]
        metadata = model.metadata
        record = {
            "file": str(Path(path).resolve()),
            "sha256": file_sha256(path),
            "column": model.column,
            **{key: metadata[key] for key in ("train_words", "preset") if key in metadata},
            **({"started_from": metadata["started_from"]} if "started_from" in metadata else {}),
        }
        columns = tuple(Column.parse(model.column).names)
        return cls(str(path), members, model.vocabularies, config, columns, record)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shaped_like(
    source: Source, config: ModelConfig, typed: Mapping[str, Any]
) -> tuple[ModelConfig, list[str]]:
    """``config`` with the source's network shape (NETWORK_SHAPE), and the settings that
    changed, as "--name value" for the message. A shape the user typed (``typed``: name ->
    value) that differs from the source's is a usage error: the weights would not fit."""
    changed = []
    values = {}
    for name in NETWORK_SHAPE:
        theirs, ours = getattr(source.config, name), getattr(config, name)
        if theirs == ours:
            continue
        if name in typed:
            raise UsageError(
                f"{_as_option(name, typed[name])} differs from {source.path}'s "
                f"{_as_option(name, theirs)}: a run started from a model (--init) keeps that "
                "model's network shape (leave the option out)"
            )
        values[name] = theirs
        changed.append(_as_option(name, theirs))
    return dataclasses.replace(config, **values), changed


def _as_option(name: str, value: Any) -> str:
    """A setting as the command line spells it: --hidden 64, --char, --no-lowercase."""
    option = name.replace("_", "-")
    if isinstance(value, bool):
        return f"--{option}" if value else f"--no-{option}"
    return f"--{option} {value}"


@dataclass(frozen=True)
class Start:
    """What each member of a new network takes from a source model.

    ``members``: per source member, the weights to take (numpy, Network names); ``rows``: for
    weights indexed by a vocabulary, per axis (new ids, source ids) of the items both have;
    ``summary``: what was shared, in one line."""

    members: list[dict[str, numpy.ndarray]]
    rows: dict[str, list[tuple[numpy.ndarray, numpy.ndarray]]]
    summary: str
    record: dict[str, Any]

    @classmethod
    def build(
        cls,
        source: Source,
        vocabularies: Vocabularies,
        config: ModelConfig,
        columns: tuple[str, ...],
    ) -> Start:
        """What a network of ``config`` over ``vocabularies`` (learning ``columns``) can take
        from ``source``; refused when the two shapes do not fit (a bug, or another
        --embeddings dimension)."""
        if source.config.pretrained_dim != config.pretrained_dim:
            given = (
                f"pretrained vectors of {source.config.pretrained_dim} dimensions"
                if source.config.pretrained_dim
                else "no pretrained vectors"
            )
            raise UsageError(
                f"{source.path} was trained with {given} (--embeddings); a run started from it "
                "needs the same (give --embeddings of that dimension, or leave it out)"
            )

        ours, theirs = vocabularies, source.vocabularies
        rows: dict[str, list[tuple[numpy.ndarray, numpy.ndarray]]] = {}
        shared_counts = []
        for name, (kind, nouns) in _EMBEDDINGS.items():
            new, old = getattr(ours, kind), getattr(theirs, kind)
            if new is None or old is None or name not in source.members[0]:
                continue
            pairs = _shared(new, old)
            rows[name] = [pairs]
            shared_counts.append(_share(len(pairs[0]) - 2, len(new) - 2, nouns))
        label_pairs = _shared_labels(ours.label_sets, columns, theirs.label_sets, source.columns)
        n_labels = sum(len(labels) for labels in ours.label_sets)
        shared_counts.append(_share(len(label_pairs[0]), n_labels, ("label", "labels")))
        for name in _OUTPUT:
            rows[name] = [label_pairs]
        if config.crf and source.config.crf:
            rows["crf.start"] = rows["crf.end"] = [label_pairs]
            rows["crf.transitions"] = [label_pairs, label_pairs]
        expected = Architecture.of(config, vocabularies).weight_shapes()
        members = []
        for weights in source.members:
            taken = {}
            for name, array in weights.items():
                if name in _NOT_TAKEN or name not in expected:
                    continue
                if name in _CRF and name not in rows:
                    continue  # a CRF's scores go with a CRF only
                if name not in rows and tuple(array.shape) != expected[name]:
                    raise SeqtagError(
                        f"its weight {name} has the shape {tuple(array.shape)}, the new "
                        f"network's {expected[name]}: it cannot start this run",
                        source.path,
                    )
                taken[name] = array
            members.append(taken)
        whole = sum(name not in rows for name in members[0])
        encoders = "character and sentence encoders" if config.char else "sentence encoder"
        summary = (
            f"Starting from {source.path}: its {encoders} whole ({whole} weights), and the rows "
            f"of {_listed(shared_counts)} it also has."
        )
        if not label_pairs[0].size:
            summary += " No label in common: the output layer starts afresh."
        return cls(members, rows, summary, source.record)

    def apply(self, network, member: int = 0) -> None:
        """Copy what this start holds into ``network`` (a model.Network just built), as the
        ``member``-th member of an ensemble."""
        import torch

        weights = self.members[member % len(self.members)]
        state = network.state_dict()  # tensors that share the network's storage
        with torch.no_grad():
            for name, array in weights.items():
                target, source = state[name], torch.from_numpy(array).to(state[name].dtype)
                axes = self.rows.get(name)
                if axes is None:
                    target.copy_(source)
                elif len(axes) == 1:
                    ((new, old),) = axes
                    target[torch.from_numpy(new)] = source[torch.from_numpy(old)]
                else:
                    (new0, old0), (new1, old1) = axes
                    new_rows, new_cols = torch.from_numpy(new0), torch.from_numpy(new1)
                    old_rows, old_cols = torch.from_numpy(old0), torch.from_numpy(old1)
                    target[new_rows[:, None], new_cols[None, :]] = source[
                        old_rows[:, None], old_cols[None, :]
                    ]


def _shared(new: Vocab, old: Vocab) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(ids in ``new``, ids in ``old``) of the items both vocabularies hold; for reserved
    vocabularies the padding and unknown-word ids first."""
    import numpy

    pairs = [(i, old.index[item]) for i, item in enumerate(new.items) if item in old.index]
    ids = numpy.array(pairs, dtype=numpy.int64).reshape(-1, 2)
    return ids[:, 0].copy(), ids[:, 1].copy()


def _shared_labels(
    ours: tuple[Vocab, ...], our_columns, theirs: tuple[Vocab, ...], their_columns
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Rows of the output layer (labels of every column side by side) for the labels both
    models have, matched by name within a column of the same name; two models of one column
    each are matched whatever their columns are called."""
    import numpy

    if len(ours) == len(theirs) == 1:
        matches = {0: 0}
    else:
        index = {name: i for i, name in enumerate(their_columns)}
        matches = {i: index[name] for i, name in enumerate(our_columns) if name in index}
    our_offsets = numpy.cumsum([0, *map(len, ours)])
    their_offsets = numpy.cumsum([0, *map(len, theirs)])
    pairs = []
    for i, j in matches.items():
        new, old = _shared(ours[i], theirs[j])
        pairs += zip(
            (new + our_offsets[i]).tolist(), (old + their_offsets[j]).tolist(), strict=True
        )
    ids = numpy.array(pairs, dtype=numpy.int64).reshape(-1, 2)
    return ids[:, 0].copy(), ids[:, 1].copy()


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _share(shared: int, total: int, nouns: tuple[str, str]) -> str:
    return f"{shared:,} of {counted(total, *nouns)}"
