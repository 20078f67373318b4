"""Affix embeddings (--affixes N): the keys, their vocabulary, the batch ids; the CLI with
them and the other small-data options (--lowercase, --frequency-loss)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import DATA
from hypothesis import given
from hypothesis import strategies as st

from seqtag import modelfile
from seqtag.affixes import affix_keys, common_affixes
from seqtag.batch import Batcher
from seqtag.cli import main
from seqtag.config import ModelConfig
from seqtag.lines import open_lines
from seqtag.read import Column, Sentence, read_conllu
from seqtag.vocab import UNK, Vocab, Vocabularies


def test_keys_are_suffixes_then_prefixes_lowercased_and_named_by_slot():
    assert affix_keys("Running", 3) == ["s1:g", "s2:ng", "s3:ing", "p1:r", "p2:ru", "p3:run"]
    # A word shorter than N has its whole form in the longer slots.
    assert affix_keys("Ox", 3) == ["s1:x", "s2:ox", "s3:ox", "p1:o", "p2:ox", "p3:ox"]
    assert affix_keys("", 1) == ["s1:", "p1:"]


@given(st.text(max_size=12), st.integers(1, 5))
def test_every_key_is_an_affix_of_the_lowercased_word(word, length):
    keys = affix_keys(word, length)
    assert len(keys) == 2 * length
    lower = word.lower()
    for n, key in enumerate(keys[:length], start=1):
        assert key.startswith(f"s{n}:") and lower.endswith(key[len(f"s{n}:") :])
    for n, key in enumerate(keys[length:], start=1):
        assert key.startswith(f"p{n}:") and lower.startswith(key[len(f"p{n}:") :])


def test_the_vocabulary_keeps_affixes_shared_by_two_word_types():
    vocab = Vocab(common_affixes(["walked", "talked", "Walked", "walked", "dog"], 2))
    assert "s2:ed" in vocab and "s1:d" in vocab  # walked, talked
    assert "p2:wa" not in vocab  # walked and Walked are one type once lowercased
    assert "s2:og" not in vocab and "p1:d" not in vocab  # dog alone
    assert "s1:g" not in vocab


def test_vocabularies_keep_affixes_through_the_model_file_dict():
    train = [Sentence(["walked", "talked", "home"], ["VERB", "VERB", "NOUN"])]
    vocabularies = Vocabularies.build(train, ModelConfig(affixes=2))
    assert vocabularies.affixes is not None
    again = Vocabularies.from_dict(json.loads(json.dumps(vocabularies.to_dict())))
    assert again.affixes.items == vocabularies.affixes.items
    assert Vocabularies.build(train).affixes is None
    assert "affixes" not in Vocabularies.build(train).to_dict()


def test_batches_carry_the_affix_ids_of_each_distinct_form():
    train = [Sentence(["walked", "talked", "jumped"], ["VERB"] * 3)]
    vocabularies = Vocabularies.build(train, ModelConfig(affixes=2))
    batcher = Batcher(vocabularies, ModelConfig(affixes=2))
    encoded = batcher.encode([Sentence(["Hopped", "walked", "Hopped", "xyz"])])
    assert encoded.spellings == ["Hopped", "walked", "xyz"]
    assert encoded.affixes.shape == (3, 4)
    encode = vocabularies.affixes.encode
    assert encoded.affixes[0].tolist() == [encode("s1:d"), encode("s2:ed"), UNK, UNK]
    assert encoded.affixes[2].tolist() == [UNK] * 4  # nothing known about "xyz"
    batch = batcher.batch([Sentence(["walked"])])
    assert np.array_equal(batch.affixes.numpy(), [[encode(k) for k in affix_keys("walked", 2)]])
    assert Batcher(vocabularies).encode([Sentence(["walked"])]).affixes is None
    with pytest.raises(ValueError, match="affix vocabulary"):
        Batcher(Vocabularies.build(train), ModelConfig(affixes=2))


def test_train_with_the_small_data_options_then_tag_eval_and_info(tmp_path):
    model = tmp_path / "a.model"
    train, dev = DATA / "en_ewt-excerpt-train.conllu", DATA / "en_ewt-excerpt-dev.conllu"
    runner = CliRunner()
    args = ["train", str(train), "--dev", str(dev), "-o", str(model), "--affixes", "3"]
    args += ["--affix-dim", "5", "--hidden", "16", "--char-hidden", "8", "--max-epochs", "1"]
    args += ["--lowercase", "--frequency-loss", "0.5", "--ensemble", "1", "--no-tokenizer"]
    result = runner.invoke(main, [*args, "-q"])
    assert result.exit_code == 0, result.output
    info = json.loads(runner.invoke(main, ["info", "-m", str(model), "--json"]).output)
    assert info["model_config"]["affixes"] == 3 and info["model_config"]["affix_dim"] == 5
    assert info["model_config"]["lowercase"] and info["model_config"]["frequency_loss"] == 0.5
    scores = runner.invoke(main, ["eval", "-m", str(model), str(dev), "--json"])
    assert scores.exit_code == 0, scores.output
    # eval -m tags with the numpy engine, training scored dev with torch: the same accuracy.
    assert json.loads(scores.output)["accuracy"] == pytest.approx(info["dev_score"], abs=1e-3)
    assert info["vocabulary_sizes"]["affixes"] > 100
    # Known words: those with an embedding of their own, here by lowercased form. The dev
    # file's capitalised sentence starts are mostly known through their lowercased forms.
    vocab = modelfile.read_model(model).vocabularies.words
    words = [w for s in read_conllu(open_lines(str(dev)), Column.parse("upos")) for w in s.words]
    known = sum(word.lower() in vocab for word in words)
    assert json.loads(scores.output)["known_tokens"] == known
    assert known > sum(word in vocab for word in words)
    tagged = runner.invoke(main, ["tag", "-m", str(model), "-f", "tsv"], input="Dogs barked .\n")
    assert tagged.exit_code == 0, tagged.output
    assert [line.split("\t")[0] for line in tagged.output.split("\n")[:3]] == [
        "Dogs",
        "barked",
        ".",
    ]
