"""Device: resolve ``auto|cpu|cuda`` once, then pass the result explicitly; set CPU threads."""

from __future__ import annotations

import torch

from seqtag import SeqtagError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    """``auto`` picks a CUDA GPU when torch sees one, else the CPU."""
    if name not in DEVICES:
        raise SeqtagError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SeqtagError("--device cuda asked for, but torch sees no CUDA GPU; use --device cpu")
    return torch.device(name)


def set_threads(threads: int | None) -> None:
    """CPU threads for torch's operators; None leaves torch's default (one per core).

    One thread is the right choice when several seqtag processes share a machine: each then
    runs at full speed instead of all of them fighting over the same cores.
    """
    if threads is not None:
        torch.set_num_threads(threads)
