"""Model files are untrusted input: clear errors, and nothing in them ever runs."""

import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from seqtag import SeqtagError, modelfile
from seqtag.config import TrainConfig


class _Payload:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.model"
    evil.write_bytes(pickle.dumps({"weights": _Payload(marker)}))
    # Sanity check of the test itself: unpickling really would run the payload.
    pickle.loads(evil.read_bytes())["weights"].close()
    assert marker.exists()
    marker.unlink()
    with pytest.raises(SeqtagError, match="not a seqtag model file"):
        modelfile.load(evil)
    with pytest.raises(SeqtagError, match="not a seqtag model file"):
        modelfile.read_metadata(evil)
    assert not marker.exists()


def test_a_torch_save_file_is_refused(tmp_path):
    path = tmp_path / "torch.model"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(SeqtagError, match="not a seqtag model file"):
        modelfile.load(path)


def test_truncated_model_file(tiny_model, tmp_path):
    data = tiny_model.read_bytes()
    for size in (0, 5, 100, len(data) // 2, len(data) - 1):
        cut = tmp_path / f"cut{size}.model"
        cut.write_bytes(data[:size])
        with pytest.raises(SeqtagError) as caught:
            modelfile.load(cut)
        assert str(cut) in str(caught.value)


def test_other_safetensors_file_and_forged_header(tmp_path):
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, plain)
    with pytest.raises(SeqtagError, match="no seqtag metadata"):
        modelfile.load(plain)
    forged = tmp_path / "forged.model"
    save_file(
        {"w": torch.zeros(2)}, forged, metadata={"format": "seqtag-model", "seqtag": "{not json"}
    )
    with pytest.raises(SeqtagError, match="unreadable metadata"):
        modelfile.load(forged)


def _rewrite_metadata(source, target, change):
    from safetensors import safe_open

    with safe_open(str(source), framework="pt") as handle:
        header = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    metadata = json.loads(header["seqtag"])
    change(metadata, tensors)
    save_file(tensors, target, metadata={**header, "seqtag": json.dumps(metadata)})


def test_newer_format_version_asks_for_an_upgrade(tiny_model, tmp_path):
    newer = tmp_path / "newer.model"
    _rewrite_metadata(tiny_model, newer, lambda m, t: m.update(format_version=99))
    with pytest.raises(SeqtagError, match="newer than this seqtag"):
        modelfile.load(newer)


def test_weights_that_do_not_fit_the_config(tiny_model, tmp_path):
    wrong = tmp_path / "wrong.model"
    _rewrite_metadata(tiny_model, wrong, lambda m, t: m["model_config"].update(hidden=7))
    with pytest.raises(SeqtagError, match="weights do not load"):
        modelfile.load(wrong)


def test_save_is_atomic_and_leaves_no_temporary_files(tiny_model, tmp_path):
    loaded = modelfile.load(tiny_model)
    target = tmp_path / "out.model"
    target.write_bytes(b"old")
    modelfile.save(
        target,
        loaded.model,
        loaded.vocabularies,
        "upos",
        TrainConfig(),
        {},
    )
    assert modelfile.read_metadata(target)["column"] == "upos"
    assert [p.name for p in tmp_path.iterdir()] == ["out.model"]


def test_missing_model_file(tmp_path):
    with pytest.raises(SeqtagError, match="no such model file"):
        modelfile.load(tmp_path / "nope.model")
