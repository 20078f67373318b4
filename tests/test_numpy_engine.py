"""The numpy engine computes what the torch model computes: same scores up to rounding, same
tags, on every configuration; it reads the same model files and refuses damaged ones."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import DATA, ROOT

from seqtag import SeqtagError, modelfile
from seqtag.batch import Batcher
from seqtag.config import ModelConfig, TrainConfig
from seqtag.crf import penalties as torch_penalties
from seqtag.crf import viterbi as torch_viterbi
from seqtag.engine import load_tagger
from seqtag.lines import open_lines
from seqtag.model import build_network
from seqtag.numpy_engine import NumpyEngine, penalties, viterbi
from seqtag.read import Column, Sentence, read_conllu
from seqtag.scheme import allowed_transitions
from seqtag.torch_engine import TorchEngine
from seqtag.vocab import Vocab, Vocabularies

CPU = torch.device("cpu")
SPAN_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
IOBES_LABELS = ["O"] + [f"{p}-{k}" for k in ("PER", "LOC") for p in "BIES"]


@pytest.fixture(scope="module")
def corpus() -> list[Sentence]:
    path = str(DATA / "en_ewt-excerpt-train.conllu")
    sentences = list(read_conllu(open_lines(path), Column.parse("upos")))[:60]
    odd = [
        Sentence(["Zyzzyva", "blorped", "", "q" * 90, "ĳ\u0301", "."]),  # unseen, empty, long
        Sentence(["x"]),
        Sentence([]),
        Sentence(["the"] * 70),
    ]
    return sentences + odd


def make_model(path, corpus, config: ModelConfig, labels: list[str] | None, seed: int):
    """A model with random weights (the test compares engines, not accuracy), saved to path."""
    vocabularies = Vocabularies.build([s for s in corpus if s.tags], config)
    if labels is not None:
        vocabularies = dataclasses.replace(vocabularies, labels=Vocab(labels, False))
    torch.manual_seed(seed)
    model = build_network(config, vocabularies)
    with torch.no_grad():  # larger than the initial weights, so the scores spread out
        for parameter in model.parameters():
            parameter.mul_(3.0)
    modelfile.save(path, model, vocabularies, "upos", TrainConfig(), {})
    return path


OUTPUTS = {
    "softmax": (None, False, None),
    "constrained iob2": ("iob2", False, SPAN_LABELS),
    "crf iob2": ("iob2", True, SPAN_LABELS),
    "crf iobes": ("iobes", True, IOBES_LABELS),
    "crf, no scheme": (None, True, None),
}


@pytest.mark.parametrize(
    ("rnn", "char", "layers", "output"),
    list(itertools.product(["lstm", "gru"], [True, False], [1, 2], sorted(OUTPUTS))),
)
def test_numpy_and_torch_give_the_same_scores_and_tags(tmp_path, corpus, rnn, char, layers, output):
    scheme, crf, labels = OUTPUTS[output]
    config = ModelConfig(
        rnn=rnn, layers=layers, hidden=12, word_dim=10, char=char, char_dim=6, char_hidden=7,
        scheme=scheme, crf=crf,
    )  # fmt: skip
    assert_engines_agree(make_model(tmp_path / "m.model", corpus, config, labels, layers), corpus)


@pytest.mark.parametrize(
    ("rnn", "char", "output"),
    list(itertools.product(["lstm", "gru"], [True, False], ["softmax", "crf iob2"])),
)
def test_the_engines_agree_with_affix_embeddings(tmp_path, corpus, rnn, char, output):
    scheme, crf, labels = OUTPUTS[output]
    config = ModelConfig(
        rnn=rnn, hidden=12, word_dim=10, char=char, char_dim=6, char_hidden=7,
        affixes=3, affix_dim=4, scheme=scheme, crf=crf,
    )  # fmt: skip
    assert_engines_agree(make_model(tmp_path / "m.model", corpus, config, labels, 3), corpus)


def assert_engines_agree(path, corpus: list[Sentence]) -> None:
    loaded = modelfile.load(path)
    engine = NumpyEngine(modelfile.read_model(path), str(path), max_tokens=90)
    batcher = Batcher(loaded.vocabularies, loaded.model.config)
    expected = TorchEngine(loaded.model, batcher, CPU, max_tokens=90)(corpus)
    assert engine(corpus) == expected
    assert engine(corpus[::-1]) == expected[::-1]  # another batching, a warm cache

    some = [s for s in corpus if s.words][:12]
    scores, lengths = engine.emissions(some)
    with torch.inference_mode():
        batch = batcher.batch(some)
        reference = loaded.model(batch).numpy()
    mask = batch.mask.numpy()
    assert lengths.tolist() == batch.lengths.tolist()
    np.testing.assert_allclose(scores[mask], reference[mask], rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("capacity", [1, 5, 30_000])
def test_the_form_cache_never_changes_the_tags(tmp_path, corpus, capacity):
    path = make_model(tmp_path / "m.model", corpus, ModelConfig(hidden=8, char_hidden=5), None, 1)
    fresh = NumpyEngine(modelfile.read_model(path))
    expected = fresh(corpus)
    engine = NumpyEngine(modelfile.read_model(path))
    engine.form_vectors.capacity = capacity
    for chunk in (corpus[:30], corpus[30:], corpus[:7]):
        start = corpus.index(chunk[0])
        assert engine(chunk) == expected[start : start + len(chunk)]
        assert len(engine.form_vectors.rows) <= capacity


def test_viterbi_matches_torch_under_scheme_penalties():
    rng = np.random.default_rng(0)
    allowed = allowed_transitions(IOBES_LABELS, "iobes")
    start, end, transitions = penalties(allowed)
    K = len(IOBES_LABELS)
    for B, T in [(1, 1), (3, 2), (7, 9)] * 10:
        emissions = rng.normal(size=(B, T, K)).astype(np.float32) * 3
        emissions[:, :, IOBES_LABELS.index("B-PER")] += 2  # tempts paths to end on an open span
        lengths = rng.integers(1, T + 1, size=B)
        lengths[0] = T
        mask = np.arange(T)[None, :] < lengths[:, None]
        expected = torch_viterbi(
            torch.from_numpy(emissions), torch.from_numpy(mask), *torch_penalties(allowed)
        )
        assert viterbi(emissions, lengths, start, end, transitions) == expected


def test_a_damaged_model_file_is_refused_with_its_name(tmp_path, corpus):
    path = make_model(tmp_path / "m.model", corpus, ModelConfig(hidden=8, char_hidden=5), None, 1)
    arrays = modelfile.read_model(path)
    del arrays.weights["output.bias"]
    with pytest.raises(SeqtagError, match=r"m.model.*weight output.bias missing"):
        NumpyEngine(arrays, str(path))
    arrays = modelfile.read_model(path)
    arrays.weights["word_embed.weight"] = arrays.weights["word_embed.weight"][:-1]
    with pytest.raises(SeqtagError, match=r"weight word_embed.weight has shape"):
        NumpyEngine(arrays, str(path))


def test_tag_on_the_cpu_never_imports_torch(tiny_model, tmp_path):
    text = tmp_path / "in.txt"
    text.write_text("The cat sat on the mat .\nIt slept .\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from seqtag.cli import main\n"
        f"args = ['tag', '-m', {str(tiny_model)!r}, '-i', 'tokenized', '-f', 'tsv', "
        f"'--device', 'cpu', {str(text)!r}]\n"
        "try:\n"
        "    main(args)\n"
        "except SystemExit as end:\n"
        "    assert end.code in (0, None), end.code\n"
        "print('torch imported' if 'torch' in sys.modules else 'no torch', file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stderr.strip().endswith("no torch")
    assert done.stdout.count("\n\n") == 2  # two tagged sentences


def test_a_model_file_of_seqtag_0_1_0_tags_the_same(tmp_path, corpus):
    """0.1.0 wrote the sentence encoder under nn.LSTM(bidirectional=True)'s names."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    path = make_model(tmp_path / "new.model", corpus, ModelConfig(hidden=8, char_hidden=5), None, 2)
    with safe_open(str(path), framework="numpy") as handle:
        header = handle.metadata()
    old_names = {}
    for name, tensor in load_file(str(path)).items():
        parts = name.split(".")  # rnn.forward_layers.0.weight_ih_l0
        if parts[0] == "rnn":
            reverse = "_reverse" if parts[1] == "backward_layers" else ""
            name = f"rnn.{parts[3][:-1]}{parts[2]}{reverse}"  # rnn.weight_ih_l0(_reverse)
        old_names[name] = tensor
    assert "rnn.weight_hh_l0_reverse" in old_names
    old = tmp_path / "old.model"
    save_file(old_names, str(old), metadata=header)
    expected = NumpyEngine(modelfile.read_model(path))(corpus)
    assert NumpyEngine(modelfile.read_model(old))(corpus) == expected


def test_a_truncated_model_file_is_refused_without_torch(tmp_path, corpus):
    path = make_model(tmp_path / "m.model", corpus, ModelConfig(hidden=8, char_hidden=5), None, 1)
    cut = tmp_path / "cut.model"
    cut.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(SeqtagError, match="cut.model"):
        load_tagger(cut, device="cpu")


def test_the_python_api_on_the_cpu_never_imports_torch(tiny_model):
    script = (
        "import sys\n"
        "from seqtag import Tagger\n"
        f"tagger = Tagger.load({str(tiny_model)!r}, device='cpu')\n"
        "print(tagger.tag([['The', 'cat', 'sat', '.']]), tagger.column)\n"
        "print('torch imported' if 'torch' in sys.modules else 'no torch')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    tags, imported = done.stdout.strip().splitlines()
    assert imported == "no torch"
    assert tags.endswith(" upos") and tags.count("'") == 8  # four tags
