"""Device: resolve ``auto|cpu|cuda`` once, then pass the result explicitly; set CPU threads.

torch is imported inside the functions that need it: ``may_use_gpu`` answers without it, so
`seqtag tag` on a machine without a GPU never pays the two seconds that importing torch takes.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from seqtag.errors import SeqtagError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda")
# Files that exist on Linux when a GPU driver torch could use is loaded (NVIDIA, AMD ROCm).
GPU_DRIVER_FILES = ("/proc/driver/nvidia", "/dev/nvidiactl", "/dev/kfd")
_GPU_BUILD = re.compile(r"^(cuda|hip)\b[^=]*=\s*['\"]", re.MULTILINE)


def resolve_device(name: str) -> torch.device:
    """``auto`` picks a CUDA GPU when torch sees one, else the CPU."""
    import torch

    if name not in DEVICES:
        raise SeqtagError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SeqtagError("--device cuda asked for, but torch sees no CUDA GPU; use --device cpu")
    return torch.device(name)


def may_use_gpu(name: str) -> bool:
    """Whether ``name`` could resolve to a GPU, answered without importing torch: False for
    ``cpu``; for ``auto``, False when the installed torch is built without CUDA or ROCm, or,
    on Linux, when no GPU driver is loaded. True means: ask torch (``resolve_device``)."""
    if name == "cpu":
        return False
    if name != "auto":
        return True
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return False  # no torch at all: whatever runs next will say so
    try:
        version = (Path(spec.submodule_search_locations[0]) / "version.py").read_text("utf-8")
    except OSError:
        return True  # an unusual install: let torch itself answer
    if not _GPU_BUILD.search(version):
        return False
    if sys.platform.startswith("linux"):
        return any(Path(path).exists() for path in GPU_DRIVER_FILES)
    return True


BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def set_blas_threads(threads: int) -> bool:
    """Threads for numpy's BLAS (OpenBLAS, MKL), which reads them from the environment once,
    when numpy is imported. False when numpy is loaded already: then it is too late."""
    for variable in BLAS_THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    return "numpy" not in sys.modules


def set_threads(threads: int | None) -> None:
    """CPU threads for torch's operators; None leaves torch's default (one per core).

    One thread is the right choice when several seqtag processes share a machine: each then
    runs at full speed instead of all of them fighting over the same cores.
    """
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def available_cpus(cgroup: str | Path = "/sys/fs/cgroup") -> int:
    """The CPUs this process may use: those its affinity allows (taskset, a container's cpuset,
    Slurm's CPU binding), fewer where the cgroup's CPU quota (Docker's --cpus, Kubernetes
    limits) allows less time than that, rounded up; at least 1. The machine's core count only
    where neither says. The quota is read at the cgroup root, which is the container's own
    inside a container; a quota set on a cgroup below the root (systemd's CPUQuota= on the
    host) is not seen."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    count = count or 1
    quota = _cgroup_quota(Path(cgroup))
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return count


def _cgroup_quota(root: Path) -> float | None:
    """CPUs' worth of time a cgroup quota allows (cgroup v2 cpu.max, else v1's CFS files), or
    None where there is no quota or no file to say."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]  # v2: "max 100000"
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())  # v1: -1 for none
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None
