"""Pretrained word vectors: reading word2vec/fastText text files, errors that name the line,
training with --embeddings (frozen vectors, aligned rows), and words known only from the vectors
being usable when tagging, in both engines."""

from __future__ import annotations

import dataclasses
import gzip
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import DATA, TINY_OPTIONS

from seqtag import SeqtagError, modelfile
from seqtag.batch import Batcher
from seqtag.cli import main
from seqtag.config import ModelConfig, TrainConfig
from seqtag.embeddings import lookup_key, read_vectors
from seqtag.model import build_network
from seqtag.numpy_engine import NumpyEngine
from seqtag.read import Sentence
from seqtag.torch_engine import TorchEngine
from seqtag.vocab import Vocabularies

TRAIN = DATA / "en_ewt-excerpt-train.conllu"


def write_vectors(path, rows: dict[str, list[float]], header: bool = True) -> None:
    lines = [f"{len(rows)} {len(next(iter(rows.values())))}"] if header else []
    lines += [word + " " + " ".join(f"{x:.4f}" for x in vector) for word, vector in rows.items()]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if str(path).endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)


@pytest.mark.parametrize("name", ["v.vec", "v.txt.gz"])
@pytest.mark.parametrize("header", [True, False])
def test_reads_text_vectors_with_or_without_header_plain_or_gzipped(tmp_path, name, header):
    path = tmp_path / name
    write_vectors(path, {"the": [1, 2, 3], "Cat": [4, 5, 6], "sat": [7, 8, 9]}, header)
    vectors = read_vectors(path)
    assert vectors.words == ["the", "Cat", "sat"]
    assert vectors.dimension == 3
    np.testing.assert_allclose(vectors.table[1], [4, 5, 6])
    table = vectors.model_table()  # zero rows for PAD and UNK first
    assert table.shape == (5, 3) and not table[:2].any()
    np.testing.assert_allclose(table[2], [1, 2, 3])


def test_the_limit_keeps_the_head_of_the_file_and_every_wanted_word(tmp_path):
    path = tmp_path / "v.vec"
    rows = {f"w{i}": [float(i), 0.0] for i in range(10)}
    rows["<unk>"] = [9.0, 9.0]  # a reserved name: never a row of its own
    write_vectors(path, rows)
    (tmp_path / "dup.vec").write_text("a 1 2\nb 3 4\na 5 6\n", encoding="utf-8")
    assert read_vectors(path, limit=3, wanted={"w7"}).words == ["w0", "w1", "w2", "w7"]
    assert "<unk>" not in read_vectors(path).words
    duplicated = read_vectors(tmp_path / "dup.vec")
    assert duplicated.words == ["a", "b"] and duplicated.table[0].tolist() == [1, 2]


def test_lookup_falls_back_to_the_lowercase_form():
    known = {"paris", "Lagos"}
    assert lookup_key("Paris", known) == "paris"
    assert lookup_key("Lagos", known) == "Lagos"
    assert lookup_key("LAGOS", known) is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("2 3\nthe 1 2 3\ncat 1 2\n", r"v.vec:3: expected a word and 3 numbers .* found 2"),
        ("the 1 2 3\ncat 1 x 3\n", r"v.vec:2: not a number in the vector of 'cat'"),
        ("the 1 2 nan\n", r"v.vec: the vectors hold inf or NaN"),
        ("", r"v.vec: no word vectors found"),
        (b"the 1 2\n\xff\xfe 1 2\n", r"v.vec:2: invalid UTF-8"),
    ],
)
def test_bad_vector_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "v.vec"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SeqtagError, match=message):
        read_vectors(path)


def test_a_cut_gzip_file_and_a_missing_file(tmp_path):
    path = tmp_path / "v.vec.gz"
    write_vectors(path, {f"w{i}": [1.0, 2.0] for i in range(500)})
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(SeqtagError, match="cut short"):
        read_vectors(path)
    with pytest.raises(SeqtagError, match="cannot read the vectors file"):
        read_vectors(tmp_path / "nope.vec")


@pytest.fixture(scope="module")
def embedded_model(tmp_path_factory):
    """A model trained with vectors for some training words and for words not in train."""
    folder = tmp_path_factory.mktemp("embedded")
    rng = np.random.default_rng(0)
    rows = {word: rng.normal(size=8).round(3).tolist() for word in ["the", "to", "and", "."]}
    rows["zyzzyva"] = rng.normal(size=8).round(3).tolist()  # never in the training data
    vectors = folder / "v.vec"
    write_vectors(vectors, rows)
    out = folder / "m.model"
    result = CliRunner().invoke(
        main, ["train", str(TRAIN), "-o", str(out), "--embeddings", str(vectors), *TINY_OPTIONS]
    )
    assert result.exit_code == 0, result.output
    return out, rows


def test_training_keeps_the_vectors_frozen_and_aligned_with_their_words(embedded_model):
    path, rows = embedded_model
    loaded = modelfile.load(path)
    vocabulary = loaded.vocabularies.pretrained
    assert loaded.model_config.pretrained_dim == 8
    assert set(vocabulary.to_list()) == set(rows)
    table = loaded.model.pretrained_vectors.numpy()
    for word, vector in rows.items():  # unchanged by training, each on its own word's row
        np.testing.assert_allclose(table[vocabulary.encode(word)], vector, rtol=1e-6)
    assert not table[:2].any()
    assert "pretrained_vectors" not in dict(loaded.model.named_parameters())
    assert loaded.metadata["embeddings"].endswith("v.vec")


def test_a_word_known_only_from_the_vectors_is_used_when_tagging(embedded_model):
    path, rows = embedded_model
    loaded = modelfile.load(path)
    batcher = Batcher(loaded.vocabularies, loaded.model.config)
    assert "zyzzyva" not in loaded.vocabularies.words  # not a training word ...
    encoded = batcher.encode([Sentence(["Zyzzyva", "qqq"])])
    row = loaded.vocabularies.pretrained.encode("zyzzyva")
    assert encoded.pretrained.tolist() == [[row, 1]]  # ... but it has its vector (via lowercase)
    sentences = [Sentence(["the", "zyzzyva", "Zyzzyva", "sat", "."]), Sentence(["to", "x"])]
    expected = TorchEngine(loaded.model, batcher, torch.device("cpu"))(sentences)
    assert NumpyEngine(modelfile.read_model(path), str(path))(sentences) == expected


def test_the_vectors_change_the_scores_of_a_word_absent_from_train(tmp_path):
    """With random weights: the same unseen word scores differently once it has a vector."""
    sentences = [Sentence(["a", "b"], ["X", "Y"])]
    plain = Vocabularies.build(sentences)
    config = ModelConfig(hidden=4, word_dim=3, char=False, pretrained_dim=2, affixes=0)
    vocabularies = plain.with_pretrained(["seen"])
    torch.manual_seed(0)
    model = build_network(config, vocabularies)
    model.pretrained_vectors.copy_(torch.tensor([[0, 0], [0, 0], [3.0, -2.0]]))
    path = tmp_path / "m.model"
    modelfile.save(path, model, vocabularies, "upos", TrainConfig(), {})
    engine = NumpyEngine(modelfile.read_model(path))
    scores, _ = engine.emissions([Sentence(["seen", "unseen"])])
    assert not np.allclose(scores[0, 0], scores[0, 1])


def test_train_help_and_info_mention_the_vectors(embedded_model):
    path, _ = embedded_model
    help_text = CliRunner().invoke(main, ["train", "--help"]).output
    assert "--embeddings" in help_text and "--embeddings-limit" in help_text
    info = CliRunner().invoke(main, ["info", "-m", str(path), "--json"])
    assert json.loads(info.output)["embeddings"].endswith("v.vec")


def test_a_bad_vectors_file_stops_training_with_its_line(tmp_path):
    vectors = tmp_path / "v.vec"
    vectors.write_text("the 1 2\ncat 1\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["train", str(TRAIN), "-o", str(tmp_path / "m.model"), "--embeddings", str(vectors)]
        + TINY_OPTIONS,
    )
    assert result.exit_code == 1
    assert f"{vectors}:2: expected a word and 2 numbers" in result.output
    assert not (tmp_path / "m.model").exists()


def test_resume_keeps_the_vectors_and_refuses_other_ones(tmp_path):
    vectors, other = tmp_path / "v.vec", tmp_path / "w.vec"
    write_vectors(vectors, {"the": [1.0, 2.0], "zyzzyva": [3.0, 4.0]})
    write_vectors(other, {"the": [0.0, 1.0]})
    out, ckpt = tmp_path / "m.model", tmp_path / "ckpt"
    args = ["train", str(TRAIN), "-o", str(out), "--embeddings", str(vectors), *TINY_OPTIONS]
    runner = CliRunner()
    assert runner.invoke(main, [*args, "--checkpoint", str(ckpt)]).exit_code == 0
    same = runner.invoke(main, [*args, "--resume", str(ckpt)])
    assert same.exit_code == 0, same.output
    loaded = modelfile.load(out)
    row = loaded.vocabularies.pretrained.encode("zyzzyva")
    assert loaded.model.pretrained_vectors[row].tolist() == [3.0, 4.0]
    changed = runner.invoke(main, ["train", "--resume", str(ckpt), "--embeddings", str(other)])
    assert changed.exit_code == 2
    assert "--embeddings is" in changed.stderr


def test_an_ensemble_stores_its_members_vectors_once(tmp_path):
    """The members' frozen vectors are one table: the file holds it once (format 2, with the
    copies named under "shared"), and both engines see it in every member."""
    from safetensors import safe_open

    from seqtag.numpy_engine import numpy_engine

    sentences = [Sentence(["the", "cat", "sat"], ["DET", "NOUN", "VERB"])]
    config = ModelConfig(hidden=4, word_dim=3, char=False, pretrained_dim=200, affixes=0)
    vocabularies = Vocabularies.build(sentences).with_pretrained([f"w{i}" for i in range(500)])
    torch.manual_seed(0)
    table = torch.randn(len(vocabularies.pretrained), 200)
    single = build_network(config, vocabularies)
    ensemble = build_network(dataclasses.replace(config, ensemble=3), vocabularies)
    for model in (single, *ensemble.members):
        model.pretrained_vectors.copy_(table)
    one, three = tmp_path / "one.model", tmp_path / "three.model"
    modelfile.save(one, single, vocabularies, "upos", TrainConfig(), {})
    modelfile.save(three, ensemble, vocabularies, "upos", TrainConfig(), {})
    table_bytes = table.numel() * 4
    assert three.stat().st_size < one.stat().st_size + table_bytes / 2  # not three tables
    with safe_open(str(three), framework="numpy") as handle:
        assert "members.1.pretrained_vectors" not in handle.keys()  # noqa: SIM118
    metadata = modelfile.read_metadata(three)
    assert metadata["format_version"] == 2
    assert metadata["shared"]["members.2.pretrained_vectors"] == "members.0.pretrained_vectors"
    assert modelfile.read_metadata(one)["format_version"] == 1  # nothing shared: readable by all

    loaded = modelfile.load(three)
    for member in loaded.model.members:
        assert torch.equal(member.pretrained_vectors, table)
    engine = numpy_engine(modelfile.read_model(three))
    assert engine.members[1].pretrained is engine.members[0].pretrained  # one array in memory
    words = [Sentence(["the", "w3", "w499", "dog"])]
    batcher = Batcher(loaded.vocabularies, loaded.model.config)
    assert engine(words) == TorchEngine(loaded.model, batcher, torch.device("cpu"))(words)


def test_a_model_file_missing_its_shared_table_is_damaged(tmp_path):
    sentences = [Sentence(["a"], ["X"])]
    # A table large enough to be stored once (modelfile.DEDUPLICATE_FROM elements).
    config = ModelConfig(
        hidden=4, word_dim=3, char=False, pretrained_dim=256, affixes=0, ensemble=2
    )
    vocabularies = Vocabularies.build(sentences).with_pretrained([f"w{i}" for i in range(300)])
    assert len(vocabularies.pretrained) * 256 >= modelfile.DEDUPLICATE_FROM
    path = tmp_path / "e.model"
    modelfile.save(
        path, build_network(config, vocabularies), vocabularies, "upos", TrainConfig(), {}
    )
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    with safe_open(str(path), framework="numpy") as handle:
        header = handle.metadata()
    tensors = load_file(str(path))
    del tensors["members.0.pretrained_vectors"]
    save_file(tensors, str(path), metadata=header)
    with pytest.raises(SeqtagError, match="a shared tensor is missing"):
        modelfile.read_model(path)
