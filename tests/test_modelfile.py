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


def test_a_file_from_before_later_options_loads_with_them_off(tmp_path):
    """Files of seqtag 0.1.0 have no affixes, label_smoothing, ... in their config: they mean
    the feature was off, not today's default (affixes are on by default now)."""
    from click.testing import CliRunner
    from conftest import DATA, TINY_OPTIONS

    from seqtag.cli import main
    from seqtag.config import ADDED_LATER
    from seqtag.lines import open_lines
    from seqtag.numpy_engine import NumpyEngine
    from seqtag.read import Column, read_conllu
    from seqtag.torch_engine import TorchEngine

    trained = tmp_path / "now.model"
    args = ["train", str(DATA / "en_ewt-excerpt-dev.conllu"), "-o", str(trained), *TINY_OPTIONS]
    result = CliRunner().invoke(main, [*args, "--affixes", "0", "--label-smoothing", "0"])
    assert result.exit_code == 0, result.output
    old = tmp_path / "old.model"

    def strip(metadata, _tensors):
        for name in ADDED_LATER:
            metadata["model_config"].pop(name, None)
            metadata["train_config"].pop(name, None)

    _rewrite_metadata(trained, old, strip)
    assert "affixes" not in modelfile.read_metadata(old)["model_config"]
    loaded = modelfile.load(old)
    assert loaded.model_config == modelfile.load(trained).model_config
    sentences = list(
        read_conllu(open_lines(str(DATA / "en_ewt-excerpt-test.conllu")), Column.parse("upos"))
    )[:20]
    expected = NumpyEngine(modelfile.read_model(trained))(sentences)
    assert NumpyEngine(modelfile.read_model(old))(sentences) == expected
    from seqtag.batch import Batcher

    torch_engine = TorchEngine(
        loaded.model, Batcher(loaded.vocabularies, loaded.model_config), "cpu"
    )
    assert torch_engine(sentences) == expected
    described = CliRunner().invoke(main, ["info", "-m", str(old), "--json"])
    assert described.exit_code == 0, described.output
    options = json.loads(described.output)["model_config"]
    assert options["affixes"] == 0 and options["label_smoothing"] == 0.0  # not today's defaults


def test_a_config_that_wants_weights_the_file_lacks_is_a_clear_error(tmp_path, tiny_model):
    from seqtag.numpy_engine import NumpyEngine

    broken = tmp_path / "broken.model"
    _rewrite_metadata(tiny_model, broken, lambda m, t: m["vocabularies"].pop("affixes"))
    with pytest.raises(SeqtagError, match="damaged seqtag model file"):
        NumpyEngine(modelfile.read_model(broken), str(broken))


def test_equal_large_tensors_map_to_the_first_and_small_or_different_ones_stay_apart():
    """The one detector behind both files' storing of equal tensors once."""
    large = modelfile.DEDUPLICATE_FROM
    table = torch.randn(large)
    equal_tensors = modelfile.EqualLargeTensors()
    assert equal_tensors.stored_as("a", table) == "a"
    assert equal_tensors.stored_as("b", table.clone()) == "a"  # equal contents, not identity
    assert equal_tensors.stored_as("c", table + 1) == "c"  # same shape, other contents
    assert equal_tensors.stored_as("d", table.double()) == "d"  # equal values, other dtype
    assert equal_tensors.stored_as("e", table.reshape(2, -1)) == "e"  # other shape
    assert equal_tensors.stored_as("f", (table + 1).clone()) == "c"
    small = torch.zeros(large - 1)
    assert equal_tensors.stored_as("g", small) == "g"
    assert equal_tensors.stored_as("h", small.clone()) == "h"  # too small to be worth it
