"""--device auto decides whether torch is needed without importing it."""

from __future__ import annotations

import importlib.machinery
import shutil
import subprocess
import sys

import pytest

from seqtag import device


def fake_torch(monkeypatch, tmp_path, version_py: str | None, drivers: tuple[str, ...] = ()):
    """A torch package whose version.py says what the test needs, and GPU driver files."""
    package = tmp_path / "torch"
    package.mkdir()
    if version_py is not None:
        (package / "version.py").write_text(version_py, encoding="utf-8")
    spec = importlib.machinery.ModuleSpec("torch", None, is_package=True)
    spec.submodule_search_locations = [str(package)]
    monkeypatch.setattr(device.importlib.util, "find_spec", lambda name: spec)
    for name in drivers:
        (tmp_path / name).touch()
    monkeypatch.setattr(device, "GPU_DRIVER_FILES", tuple(str(tmp_path / n) for n in drivers))


CPU_BUILD = "cuda: Optional[str] = None\nhip: Optional[str] = None\n"
CUDA_BUILD = "cuda: Optional[str] = '12.8'\nhip: Optional[str] = None\n"
ROCM_BUILD = "cuda = None\nhip = '6.2.4'\n"


def test_cpu_and_cuda_need_no_guessing():
    assert device.may_use_gpu("cpu") is False
    assert device.may_use_gpu("cuda") is True


def test_a_cpu_only_torch_build_never_uses_a_gpu(monkeypatch, tmp_path):
    fake_torch(monkeypatch, tmp_path, CPU_BUILD, drivers=("nvidiactl",))
    assert device.may_use_gpu("auto") is False


@pytest.mark.parametrize("build", [CUDA_BUILD, ROCM_BUILD])
def test_a_gpu_build_asks_torch_when_a_driver_is_there(monkeypatch, tmp_path, build):
    fake_torch(monkeypatch, tmp_path, build, drivers=("nvidiactl",))
    assert device.may_use_gpu("auto") is True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="driver files are Linux's")
def test_a_gpu_build_without_a_driver_stays_on_the_cpu(monkeypatch, tmp_path):
    fake_torch(monkeypatch, tmp_path, CUDA_BUILD, drivers=())
    assert device.may_use_gpu("auto") is False


def test_an_unreadable_version_file_lets_torch_decide(monkeypatch, tmp_path):
    fake_torch(monkeypatch, tmp_path, None)
    assert device.may_use_gpu("auto") is True


def test_the_installed_torch_is_read_right():
    """The answer for this machine's torch agrees with torch itself: a GPU torch can use is
    never missed, and a build without CUDA or ROCm never makes tag import torch."""
    import torch

    if torch.cuda.is_available():
        assert device.may_use_gpu("auto") is True
    if torch.version.cuda is None and torch.version.hip is None:
        assert device.may_use_gpu("auto") is False


# --- available_cpus: affinity and cgroup quota -------------------------------------------------


def _affinity() -> int:
    import os

    return len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("max 100000\n", None), ("50000 100000\n", 1), ("100000 100000\n", 1), ("150000 100000", 2)],
)
def test_available_cpus_follow_a_cgroup_v2_quota(tmp_path, cpu_max, expected):
    from seqtag.device import available_cpus

    (tmp_path / "cpu.max").write_text(cpu_max)
    want = _affinity() if expected is None else min(expected, _affinity())
    assert available_cpus(tmp_path) == want


def test_available_cpus_follow_a_cgroup_v1_quota(tmp_path):
    from seqtag.device import available_cpus

    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert available_cpus(tmp_path) == _affinity()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("40000\n")
    assert available_cpus(tmp_path) == 1


def test_available_cpus_without_cgroup_files_are_the_affinitys(tmp_path):
    from seqtag.device import available_cpus

    (tmp_path / "cpu.max").write_text("garbage")
    assert available_cpus(tmp_path) == _affinity()
    assert available_cpus(tmp_path / "missing") == _affinity()


@pytest.mark.skipif(shutil.which("taskset") is None, reason="no taskset")
def test_available_cpus_follow_taskset():
    probe = "from seqtag.device import available_cpus; print(available_cpus())"
    done = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", probe], capture_output=True, text=True
    )
    assert done.stdout.strip() == "1", done.stderr
