"""--device auto decides whether torch is needed without importing it."""

from __future__ import annotations

import importlib.machinery
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
