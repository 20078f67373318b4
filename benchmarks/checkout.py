"""Make sure a benchmark measures the seqtag of the checkout it lives in.

A script's own folder, not the working directory, leads sys.path, so `python
benchmarks/x.py` imports whichever seqtag is installed, which may be another checkout's
(an editable install of main, beside a worktree or a frozen copy)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def require_this_checkout() -> None:
    import seqtag

    if ROOT not in Path(seqtag.__file__).resolve().parents:
        sys.exit(f"seqtag is imported from {seqtag.__file__}: run with PYTHONPATH={ROOT}")
