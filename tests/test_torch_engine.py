"""The torch engine: tagging with the form-vector cache gives what the network computes without it."""

import pytest
import torch
from conftest import DATA

from seqtag.batch import Batcher
from seqtag.config import ModelConfig
from seqtag.lines import open_lines
from seqtag.model import Network, build_network
from seqtag.read import Column, Sentence, read_conllu
from seqtag.torch_engine import TorchEngine
from seqtag.vocab import Vocabularies

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def corpus():
    path = str(DATA / "en_ewt-excerpt-train.conllu")
    return list(read_conllu(open_lines(path), Column.parse("upos")))[:80]


def untrained(vocabularies: Vocabularies) -> Network:
    torch.manual_seed(3)
    config = ModelConfig(layers=1, hidden=12, word_dim=10, char_dim=6, char_hidden=6, affixes=0)
    return build_network(config, vocabularies).eval()


def uncached_tags(model: Network, batcher: Batcher, sentences: list[Sentence]) -> list[list[str]]:
    labels = batcher.vocabularies.labels
    with torch.inference_mode():
        batch = batcher.batch(sentences)
        best = model.decode(model(batch), batch.mask)
    return [[labels.decode(i) for i in ids] for ids in best]


@pytest.mark.parametrize("capacity", [1, 7, 30_000])
def test_cached_predictions_match_the_model_across_calls_and_cache_resets(corpus, capacity):
    vocabularies = Vocabularies.build(corpus)
    model = untrained(vocabularies)
    batcher = Batcher(vocabularies)
    predict = TorchEngine(model, batcher, CPU, max_tokens=60)
    predict.form_vectors.capacity = capacity
    unseen = [Sentence(["Zyzzyva", "blorped", "the", "qwxz", "."])]
    for chunk in (corpus[:40], corpus[40:], unseen, corpus[:10]):
        assert predict(chunk) == uncached_tags(model, batcher, chunk)
        assert len(predict.form_vectors.rows) <= capacity


def test_one_sentence_with_more_forms_than_the_cache_holds(corpus):
    vocabularies = Vocabularies.build(corpus)
    model = untrained(vocabularies)
    batcher = Batcher(vocabularies)
    predict = TorchEngine(model, batcher, CPU)
    predict.form_vectors.capacity = 5
    long = [Sentence([f"w{i}" for i in range(40)])]
    assert predict(long) == uncached_tags(model, batcher, long)
    assert predict.form_vectors.rows == {}


def test_a_model_without_characters_needs_no_cache(corpus):
    vocabularies = Vocabularies.build(corpus)
    model = build_network(
        ModelConfig(layers=1, hidden=8, word_dim=6, char=False, affixes=0), vocabularies
    ).eval()
    batcher = Batcher(vocabularies)
    predict = TorchEngine(model, batcher, CPU)
    assert predict.form_vectors is None
    assert predict(corpus[:5]) == uncached_tags(model, batcher, corpus[:5])
