"""The contract every configuration must keep: train, save, load, same predictions, edge cases."""

import math

import pytest
import torch
from conftest import DATA

from seqtag import modelfile
from seqtag.batch import IGNORE, Batcher
from seqtag.config import FREQUENCY_BINS, ModelConfig, TrainConfig
from seqtag.engine import load_tagger
from seqtag.lines import open_lines
from seqtag.model import build_network
from seqtag.read import Column, Sentence, read_conllu
from seqtag.torch_engine import predict
from seqtag.train import TrainingData, fit, frequency_bin_table, split_dev
from seqtag.vocab import PAD, UNK, Vocabularies

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def corpus():
    sentences = list(
        read_conllu(open_lines(str(DATA / "en_ewt-excerpt-train.conllu")), Column.parse("upos"))
    )
    return sentences[:120]


def tiny_config(**changes) -> ModelConfig:
    base = dict(layers=1, hidden=12, word_dim=10, char_dim=6, char_hidden=6, dropout=0.2, affixes=0)
    return ModelConfig(**{**base, **changes})


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
@pytest.mark.parametrize("char", [True, False])
def test_forward_shapes_loss_and_decode(corpus, rnn, char):
    vocabularies = Vocabularies.build(corpus)
    model = build_network(tiny_config(rnn=rnn, char=char, layers=2), vocabularies)
    batch = Batcher(vocabularies).batch(corpus[:5], with_tags=True)
    emissions = model(batch)
    B, T = batch.words.shape
    assert emissions.shape == (B, T, len(vocabularies.labels))
    loss = model.loss(emissions, batch)
    assert loss.ndim == 0 and math.isfinite(loss.item())
    loss.backward()
    assert model.word_embed.weight.grad is not None
    assert (model.char_encoder is not None) == char
    decoded = model.decode(emissions, batch.mask)
    assert [len(d) for d in decoded] == batch.lengths.tolist()


@pytest.mark.parametrize(
    ("rnn", "char"), [("lstm", True), ("lstm", False), ("gru", True), ("gru", False)]
)
def test_train_save_load_gives_identical_predictions(corpus, tmp_path, rnn, char):
    train, dev = split_dev(corpus, 0.2, seed=3)
    vocabularies = Vocabularies.build(train)
    result = fit(
        TrainingData(train, dev, vocabularies),
        tiny_config(rnn=rnn, char=char),
        TrainConfig(epoch_size=0, max_epochs=2, batch_size=16),
        CPU,
    )
    assert 1 <= result.best_epoch <= 2 and len(result.epochs) == 2
    path = tmp_path / "m.model"
    modelfile.save(
        path, result.model, vocabularies, "upos", TrainConfig(), {"dev_score": result.best_score}
    )
    loaded = modelfile.load(path)
    assert loaded.column == "upos" and loaded.model_config == result.model.config
    before = predict(result.model, Batcher(vocabularies), dev, CPU)
    after = predict(loaded.model, Batcher(loaded.vocabularies), dev, CPU)
    assert before == after
    edge = [Sentence([]), Sentence(["x"]), Sentence(["never-seen-word", "ünïcödé"])]
    tags = predict(loaded.model, Batcher(loaded.vocabularies), edge, CPU)
    assert [len(t) for t in tags] == [0, 1, 2]
    assert all(t in vocabularies.labels.items for sentence in tags for t in sentence)


@pytest.mark.parametrize("adversarial", [0.0, 0.05])
def test_training_with_the_same_seed_repeats(corpus, adversarial):
    train, dev = split_dev(corpus, 0.2, seed=1)
    vocabularies = Vocabularies.build(train)
    runs = [
        fit(
            TrainingData(train, dev, vocabularies),
            tiny_config(adversarial=adversarial),
            TrainConfig(epoch_size=0, max_epochs=2, seed=7),
            CPU,
        )
        for _ in range(2)
    ]
    assert [e.dev_score for e in runs[0].epochs] == [e.dev_score for e in runs[1].epochs]
    assert [e.loss for e in runs[0].epochs] == [e.loss for e in runs[1].epochs]


def test_training_learns_something(corpus):
    train, dev = split_dev(corpus, 0.2, seed=1)
    vocabularies = Vocabularies.build(train)
    result = fit(
        TrainingData(train, dev, vocabularies),
        tiny_config(hidden=32),
        TrainConfig(epoch_size=0, max_epochs=5, batch_size=8, learning_rate=5e-3),
        CPU,
    )
    # 17 UPOS labels: chance is ~6%, the majority label ~20%. A few epochs must clear both.
    assert result.best_score > 0.5
    assert result.epochs[-1].loss < result.epochs[0].loss


def test_split_dev_is_seeded_and_disjoint(corpus):
    train, dev = split_dev(corpus, 0.1, seed=5)
    assert len(dev) == 12 and len(train) == 108
    assert split_dev(corpus, 0.1, seed=5)[1] == dev
    assert split_dev(corpus, 0.1, seed=6)[1] != dev
    assert not {id(s) for s in train} & {id(s) for s in dev}


@pytest.mark.parametrize("decay", [0.5, 1.0])
def test_learning_rate_decays_after_each_epoch_without_a_better_dev_score(corpus, decay):
    train = corpus[:40]
    # Dev labels the model can never predict: accuracy stays 0, so only epoch 1 is "better".
    dev = [Sentence(s.words, ["NEVER"] * len(s.words)) for s in corpus[40:50]]
    vocabularies = Vocabularies.build(train)
    config = TrainConfig(
        epoch_size=0, max_epochs=4, patience=10, learning_rate=0.01, lr_decay=decay
    )
    epochs = fit(TrainingData(train, dev, vocabularies), tiny_config(), config, CPU).epochs
    assert [e.best_epoch for e in epochs] == [1, 1, 1, 1]
    factor = 1.0 if decay == 1.0 else decay
    # Epoch 2 still trains at the full rate (epoch 1 improved); each later epoch follows a
    # failed one, so it trains at the decayed rate.
    expected = [0.01, 0.01, 0.01 * factor, 0.01 * factor**2]
    assert [e.learning_rate for e in epochs] == pytest.approx(expected)


def test_epoch_size_passes_over_small_data_several_times_per_epoch(corpus):
    train, dev = corpus[:40], corpus[40:50]
    vocabularies = Vocabularies.build(train)
    one_pass = TrainConfig(epoch_size=0, max_epochs=1, batch_size=8)
    three_passes = TrainConfig(max_epochs=1, batch_size=8, epoch_size=100)  # ceil(100/40) = 3
    assert (
        fit(TrainingData(train, dev, vocabularies), tiny_config(), one_pass, CPU).epochs[0].batches
        == 5
    )
    assert (
        fit(TrainingData(train, dev, vocabularies), tiny_config(), three_passes, CPU)
        .epochs[0]
        .batches
        == 15
    )


def test_frequency_bins_follow_log2_of_the_training_counts():
    train = [Sentence(["a"] * 9 + ["b", "c", "c"], ["X"] * 12)]
    vocabularies = Vocabularies.build(train + [Sentence(["d"], ["X"])])
    table = frequency_bin_table(train, Batcher(vocabularies))
    bin_of = lambda word: table[vocabularies.words.encode(word)].item()  # noqa: E731
    assert (bin_of("a"), bin_of("b"), bin_of("c")) == (3, 0, 1)
    assert bin_of("d") == IGNORE  # in the vocabulary, but not in these sentences
    assert table[PAD].item() == IGNORE and table[UNK].item() == IGNORE
    many = [Sentence(["e"] * 70_000, ["X"] * 70_000)]
    assert (
        frequency_bin_table(many, Batcher(Vocabularies.build(many)))[2].item() == FREQUENCY_BINS - 1
    )


def test_the_frequency_loss_adds_to_the_tagging_loss_and_trains_its_head(corpus):
    vocabularies = Vocabularies.build(corpus)
    batch = Batcher(vocabularies).batch(corpus[:5], with_tags=True)
    bins = frequency_bin_table(corpus, Batcher(vocabularies))[batch.words]
    torch.manual_seed(0)
    plain = build_network(tiny_config(dropout=0.0), vocabularies)
    assert plain.frequency_head is None
    assert plain.training_loss(batch).item() == pytest.approx(
        plain.loss(plain(batch), batch).item()
    )
    torch.manual_seed(0)
    model = build_network(tiny_config(dropout=0.0, frequency_loss=0.5), vocabularies)
    tagging = model.loss(model(batch), batch)
    auxiliary = torch.nn.functional.cross_entropy(
        model.frequency_head(model.encode(batch)).flatten(0, 1), bins.flatten(), ignore_index=IGNORE
    )
    total = model.training_loss(batch, bins)
    assert total.item() == pytest.approx(tagging.item() + 0.5 * auxiliary.item(), rel=1e-5)
    total.backward()
    assert model.frequency_head.weight.grad.abs().sum() > 0


def test_a_model_trained_with_the_frequency_loss_tags_alike_in_both_engines(corpus, tmp_path):
    train, dev = split_dev(corpus, 0.2, seed=1)
    config = tiny_config(frequency_loss=1.0, affixes=2, affix_dim=3, lowercase=True)
    vocabularies = Vocabularies.build(train, config)
    result = fit(
        TrainingData(train, dev, vocabularies), config, TrainConfig(max_epochs=2, epoch_size=0), CPU
    )
    path = tmp_path / "f.model"
    modelfile.save(path, result.model, vocabularies, "upos", TrainConfig(), {})
    expected = predict(result.model, Batcher(vocabularies, config), dev, CPU)
    tag = load_tagger(path, device="cpu")  # the numpy engine, which has no use for the head
    assert tag(dev) == expected


def test_embedding_dropout_zeroes_whole_word_vectors_in_training_only(corpus, monkeypatch):
    vocabularies = Vocabularies.build(corpus)
    model = build_network(tiny_config(dropout=0.0, embedding_dropout=0.5), vocabularies)
    batch = Batcher(vocabularies).batch(corpus[:8], with_tags=True)
    seen = []
    monkeypatch.setattr(model.rnn, "forward", lambda x, lengths: seen.append(x) or x)
    torch.manual_seed(0)
    model.encode(batch)
    words = seen[-1][..., : model.config.word_dim][batch.mask]  # (tokens, W)
    dropped = (words == 0).all(dim=-1)
    assert 0.3 < dropped.float().mean().item() < 0.7  # about half the tokens
    kept = model.word_embed(batch.words)[batch.mask][~dropped]
    torch.testing.assert_close(words[~dropped], kept * 2)  # scaled by 1 / (1 - p)
    spelled = seen[-1][..., model.config.word_dim :][batch.mask]
    assert (spelled[dropped] != 0).any(dim=-1).all()  # the character vectors stay
    model.eval()
    model.encode(batch)
    torch.testing.assert_close(
        seen[-1][..., : model.config.word_dim], model.word_embed(batch.words)
    )


def test_label_smoothing_aims_at_a_mixture_of_gold_and_uniform(corpus):
    vocabularies = Vocabularies.build(corpus)
    batch = Batcher(vocabularies).batch(corpus[:5], with_tags=True)
    torch.manual_seed(0)
    model = build_network(tiny_config(dropout=0.0, label_smoothing=0.2), vocabularies)
    scores = model(batch)[batch.mask]  # (tokens, K)
    gold = batch.tags[batch.mask]
    log_probabilities = scores.log_softmax(dim=-1)
    expected = -(
        0.8 * log_probabilities.gather(1, gold.unsqueeze(1)).squeeze(1)
        + 0.2 * log_probabilities.mean(dim=-1)
    ).mean()
    assert model.loss(model(batch), batch).item() == pytest.approx(expected.item(), rel=1e-5)


def test_a_crf_model_trains_without_label_smoothing():
    assert tiny_config(crf=True).label_smoothing == 0.0
    assert tiny_config(crf=True, label_smoothing=0.3).label_smoothing == 0.0
    assert tiny_config().label_smoothing == ModelConfig().label_smoothing > 0


def test_adversarial_training_adds_the_loss_of_inputs_moved_uphill_by_a_share_of_their_length(
    corpus, monkeypatch
):
    """Per sentence the move is `adversarial` times the length of its real tokens' input
    vectors, padding is not moved, and the moved inputs' loss is the higher one."""
    vocabularies = Vocabularies.build(corpus)
    torch.manual_seed(0)
    model = build_network(
        tiny_config(dropout=0.0, adversarial=0.05, label_smoothing=0.0), vocabularies
    )
    batch = Batcher(vocabularies).batch(corpus[:6], with_tags=True)
    assert batch.mask.sum(dim=1).min() < batch.mask.size(1)  # some sentences have padding
    seen = []
    loss_of_inputs = model._loss_of_inputs

    def recording(x, batch, bins):
        loss = loss_of_inputs(x, batch, bins)
        seen.append((x.detach(), loss.detach()))
        return loss

    monkeypatch.setattr(model, "_loss_of_inputs", recording)
    total = model.training_loss(batch)
    (clean, clean_loss), (moved, moved_loss) = seen
    torch.testing.assert_close(total.detach(), clean_loss + moved_loss)
    assert moved_loss > clean_loss
    move = moved - clean
    assert (move[~batch.mask] == 0).all()
    real = batch.mask.unsqueeze(-1)
    torch.testing.assert_close(
        move.flatten(1).norm(dim=1), 0.05 * (clean * real).flatten(1).norm(dim=1)
    )
    total.backward()  # one backward pass through both losses reaches the embeddings
    assert model.word_embed.weight.grad.abs().sum() > 0

    seen.clear()
    off = build_network(tiny_config(dropout=0.0, label_smoothing=0.0), vocabularies)
    off.load_state_dict(model.state_dict())
    torch.testing.assert_close(off.training_loss(batch), clean_loss)  # off: the clean loss alone
