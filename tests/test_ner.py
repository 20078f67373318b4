"""NER end to end: scheme detection and repair in training, the CRF and constrained softmax
decoding (never an invalid transition), save/load, entity scores, and jsonl entity spans."""

from __future__ import annotations

import json
import random

import pytest
import torch
from click.testing import CliRunner
from conftest import TINY_ARCHITECTURE, TINY_OPTIONS

from seqtag import modelfile
from seqtag.batch import Batcher
from seqtag.cli import main
from seqtag.config import ModelConfig, TrainConfig
from seqtag.read import Sentence
from seqtag.scheme import encode, invalid_positions, spans
from seqtag.torch_engine import predict
from seqtag.train import TrainingData, fit
from seqtag.vocab import Vocabularies

CPU = torch.device("cpu")
NAMES = {"PER": ["Gàní", "Adams", "Ada", "Obi"], "LOC": ["Lagos", "Abuja", "Kigali"]}
FILLER = ["ni", "sọ", "lọ", "si", "ati", "wa", "."]


def synthetic(n: int, scheme: str, seed: int = 0) -> list[Sentence]:
    """Sentences of filler words with one- and two-word names, tagged in ``scheme``."""
    rng = random.Random(seed)
    corpus = []
    for _ in range(n):
        words, found = [], []
        for _ in range(rng.randint(3, 9)):
            if rng.random() < 0.3:
                label = rng.choice(sorted(NAMES))
                size = rng.randint(1, 2)
                found.append((len(words), len(words) + size, label))
                words += [rng.choice(NAMES[label]) for _ in range(size)]
            else:
                words.append(rng.choice(FILLER))
        from seqtag.scheme import Span

        corpus.append(Sentence(words, encode([Span(*f) for f in found], len(words), scheme)))
    return corpus


def as_column_file(sentences: list[Sentence]) -> str:
    return "\n".join(
        "".join(f"{w} {t}\n" for w, t in zip(s.words, s.tags, strict=True)) for s in sentences
    )


@pytest.mark.parametrize("scheme", ["iob2", "iobes"])
@pytest.mark.parametrize("crf", [True, False])
def test_ner_models_never_break_their_scheme_and_survive_save_and_load(tmp_path, scheme, crf):
    train, dev = synthetic(60, scheme, seed=1), synthetic(20, scheme, seed=2)
    config = ModelConfig(
        layers=1, hidden=12, word_dim=10, char_dim=6, char_hidden=6, scheme=scheme, crf=crf
    )
    vocabularies = Vocabularies.build(train, config)
    result = fit(
        TrainingData(train, dev, vocabularies),
        config,
        TrainConfig(epoch_size=0, max_epochs=3, batch_size=8),
        CPU,
    )
    assert result.dev_metric == "entity F1"
    assert (result.model.crf is not None) == crf
    path = tmp_path / "ner.model"
    modelfile.save(path, result.model, vocabularies, "misc:NER", TrainConfig(), {})
    loaded = modelfile.load(path)
    assert loaded.model_config.scheme == scheme and loaded.model_config.crf == crf
    # unseen, shuffled words: the emissions alone would often break the scheme
    rng = random.Random(3)
    probe = [
        Sentence(rng.sample(FILLER + NAMES["PER"] + NAMES["LOC"] + ["X", "Y"], 8))
        for _ in range(30)
    ]
    before = predict(result.model, Batcher(vocabularies, config), probe, CPU)
    after = predict(loaded.model, Batcher(loaded.vocabularies, config), probe, CPU)
    assert before == after
    assert all(invalid_positions(tags, scheme) == [] for tags in after)


def test_the_ner_model_learns_the_names(tmp_path):
    train, dev = synthetic(150, "iob2", seed=4), synthetic(40, "iob2", seed=5)
    config = ModelConfig(
        layers=1, hidden=16, word_dim=16, char_dim=8, char_hidden=8, scheme="iob2", crf=True
    )
    vocabularies = Vocabularies.build(train, config)
    result = fit(
        TrainingData(train, dev, vocabularies),
        config,
        TrainConfig(epoch_size=0, max_epochs=8, batch_size=8, learning_rate=5e-3),
        CPU,
    )
    assert result.best_score > 0.8  # entity F1 on dev


def test_tags_that_break_the_scheme_are_repaired_with_a_warning_or_refused_when_strict(tmp_path):
    sentences = synthetic(30, "iob2", seed=6)
    sentences[3].tags = ["O"] * len(sentences[3].tags)
    sentences[3].tags[1] = "I-PER"  # an entity that starts with I-
    train = tmp_path / "train.txt"
    train.write_text(as_column_file(sentences), encoding="utf-8")
    line = sum(len(s.words) + 1 for s in sentences[:3]) + 2
    runner = CliRunner()
    args = ["train", str(train), "-o", str(tmp_path / "m.model"), *TINY_OPTIONS]
    refused = runner.invoke(main, [*args, "--strict-scheme"])
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Error: {train}:{line}: I-PER after O breaks the iob2 scheme (1 such tag in this file); "
        "fix them, leave out --strict-scheme to have them repaired (I-X that starts an entity "
        "becomes B-X), or give the right --scheme\n"
    )
    assert not (tmp_path / "m.model").exists()

    repaired = runner.invoke(main, args[:-1])  # without -q, to see the warning
    assert repaired.exit_code == 0, repaired.output
    assert (
        f"Warning: repaired 1 tag that broke the iob2 scheme (I-X that starts an entity became "
        f"B-X): {train}:{line}; --strict-scheme stops instead." in repaired.stderr
    )
    info = json.loads(
        runner.invoke(main, ["info", "-m", str(tmp_path / "m.model"), "--json"]).stdout
    )
    assert info["model_config"]["scheme"] == "iob2" and info["model_config"]["crf"] is True
    assert info["dev_metric"] == "entity F1"


def test_scheme_none_and_no_crf_train_plain_labels(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text(as_column_file(synthetic(20, "iob2")), encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "m.model"
    result = runner.invoke(
        main, ["train", str(train), "-o", str(out), "--scheme", "none", *TINY_OPTIONS]
    )
    assert result.exit_code == 0, result.output
    info = json.loads(runner.invoke(main, ["info", "-m", str(out), "--json"]).stdout)
    assert info["model_config"]["scheme"] is None and info["model_config"]["crf"] is False


def test_a_scheme_for_labels_that_are_not_entities_is_an_error(tmp_path):
    train = tmp_path / "pos.txt"
    train.write_text("the DET\ncat NOUN\n\na DET\ndog NOUN\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["train", str(train), "-o", str(tmp_path / "m"), "--scheme", "iob2", *TINY_OPTIONS]
    )
    assert result.exit_code == 1
    assert "--scheme iob2 needs entity labels (O, B-PER, I-PER, ...)" in result.stderr


@pytest.fixture(scope="module")
def ner_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ner")
    (folder / "train.txt").write_text(
        as_column_file(synthetic(80, "iob2", seed=7)), encoding="utf-8"
    )
    (folder / "dev.txt").write_text(as_column_file(synthetic(20, "iob2", seed=8)), encoding="utf-8")
    model = folder / "ner.model"
    result = CliRunner().invoke(
        main,
        [
            "train",
            str(folder / "train.txt"),
            "--dev",
            str(folder / "dev.txt"),
            "-o",
            str(model),
            *TINY_OPTIONS,
        ],
    )
    assert result.exit_code == 0, result.output
    return folder, model


def test_label_smoothing_is_for_softmax_outputs(ner_model, tmp_path):
    """The default smoothing is dropped for a CRF (and the model says so); asked for with a
    CRF it is a usage error; without the CRF it is kept."""
    folder, model = ner_model
    runner = CliRunner()
    info = json.loads(runner.invoke(main, ["info", "-m", str(model), "--json"]).stdout)
    assert info["model_config"]["crf"] is True
    assert info["model_config"]["label_smoothing"] == 0.0
    args = ["train", str(folder / "train.txt"), "-o", str(tmp_path / "m.model"), *TINY_OPTIONS]
    refused = runner.invoke(main, [*args, "--label-smoothing", "0.2"])
    assert refused.exit_code == 2
    assert "--label-smoothing applies to a softmax output" in refused.stderr
    from conftest import ROOT

    pos_config = runner.invoke(main, [*args[:-1], "--config", str(ROOT / "configs" / "pos.toml")])
    assert pos_config.exit_code == 0, pos_config.output  # its label-smoothing: said, not used
    assert "does not apply to a CRF" in pos_config.stderr
    info = json.loads(
        runner.invoke(main, ["info", "-m", str(tmp_path / "m.model"), "--json"]).stdout
    )
    assert info["model_config"]["label_smoothing"] == 0.0
    softmax = runner.invoke(main, [*args, "--label-smoothing", "0.2", "--no-crf"])
    assert softmax.exit_code == 0, softmax.output
    info = json.loads(
        runner.invoke(main, ["info", "-m", str(tmp_path / "m.model"), "--json"]).stdout
    )
    assert info["model_config"]["label_smoothing"] == 0.2


def test_entity_labels_train_with_more_word_dropout(ner_model, tmp_path):
    """Entity labels get ENTITY_WORD_DROPOUT unless word dropout is asked for (command line or
    --config); plain labels keep the POS default."""
    from conftest import ROOT

    from seqtag.config import ENTITY_WORD_DROPOUT, TrainConfig

    folder, model = ner_model
    runner = CliRunner()

    def word_dropout(model_path) -> float:
        info = runner.invoke(main, ["info", "-m", str(model_path), "--json"])
        return json.loads(info.stdout)["train_config"]["word_dropout"]

    assert TrainConfig().word_dropout != ENTITY_WORD_DROPOUT
    assert word_dropout(model) == ENTITY_WORD_DROPOUT
    out = tmp_path / "m.model"
    args = ["train", str(folder / "train.txt"), "-o", str(out), *TINY_OPTIONS]
    for extra, expected in (
        (["--word-dropout", "0.5"], 0.5),  # neither default: the value asked for
        (["--config", str(ROOT / "configs" / "pos.toml")], 0.25),  # a config's value is asked for
        (["--scheme", "none"], TrainConfig().word_dropout),
    ):
        result = runner.invoke(main, [*args, *extra])
        assert result.exit_code == 0, result.output
        assert word_dropout(out) == expected, extra


def test_a_resumed_entity_run_keeps_the_word_dropout_it_asked_for(ner_model, tmp_path):
    """--resume gives no --word-dropout, yet the run asked for one: the recorded value must win
    over the entity default, or the second half of the run would train with another setting."""
    folder, _ = ner_model
    runner = CliRunner()
    out, ckpt = tmp_path / "m.model", tmp_path / "ckpt"
    args = ["train", str(folder / "train.txt"), "-o", str(out), *TINY_OPTIONS]
    asked = runner.invoke(main, [*args, "--word-dropout", "0.5", "--checkpoint", str(ckpt)])
    assert asked.exit_code == 0, asked.output
    out.unlink()
    resumed = runner.invoke(main, ["train", "--resume", str(ckpt)])
    assert resumed.exit_code == 0, resumed.output
    info = runner.invoke(main, ["info", "-m", str(out), "--json"])
    assert json.loads(info.stdout)["train_config"]["word_dropout"] == 0.5


def test_training_says_how_it_treats_entity_labels(ner_model, tmp_path):
    folder, _ = ner_model
    runner = CliRunner()
    args = ["train", str(folder / "train.txt"), "-o", str(tmp_path / "m.model"), *TINY_OPTIONS]
    args.remove("-q")
    crf = runner.invoke(main, args)
    assert crf.exit_code == 0, crf.output
    assert (
        "Entity labels (IOB2): a CRF output layer, word dropout 1, dev scored by entity F1."
        in crf.stderr
    )
    softmax = runner.invoke(main, [*args, "--no-crf"])
    assert "Entity labels (IOB2): a softmax output layer" in softmax.stderr
    plain = runner.invoke(main, [*args, "--scheme", "none"])
    assert plain.exit_code == 0, plain.output
    assert "Entity labels" not in plain.stderr


def test_eval_json_has_entity_scores_in_both_modes(ner_model):
    folder, model = ner_model
    result = CliRunner().invoke(main, ["eval", "-m", str(model), str(folder / "dev.txt"), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    for key in ("accuracy", "precision", "recall", "f1", "macro_f1", "per_type", "strict"):
        assert key in scores
    assert all(0.0 <= scores[k] <= 1.0 for k in ("precision", "recall", "f1"))
    assert scores["strict"]["scheme"] == "iob2" and set(scores["per_type"]) <= {"PER", "LOC"}
    table = CliRunner().invoke(main, ["eval", "-m", str(model), str(folder / "dev.txt")])
    assert "strict entity f1" in table.stdout and "entity macro f1" in table.stdout


def test_jsonl_output_of_an_ner_model_has_entity_spans(ner_model):
    _, model = ner_model
    result = CliRunner().invoke(
        main, ["tag", "-m", str(model), "-f", "jsonl"], input="Gàní Adams lọ si Lagos.\n"
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["tokens"] == ["Gàní", "Adams", "lọ", "si", "Lagos", "."]
    expected = [
        {
            "start": s.start,
            "end": s.end,
            "label": s.label,
            "text": " ".join(record["tokens"][s.start : s.end]),
        }
        for s in spans(record["tags"])
    ]
    assert record["entities"] == expected


def test_the_shipped_ner_ensemble_config_trains_three_crfs_on_entity_data(ner_model, tmp_path):
    """configs/ner-ensemble.toml sets only `ensemble = 3` and leans on the entity defaults: on
    entity labels it must give three CRF members with word dropout 1.0, scored by entity F1,
    that eval scores alike and whose tags keep the scheme."""
    from conftest import ROOT

    from seqtag.config import ENTITY_WORD_DROPOUT

    folder, _ = ner_model
    runner = CliRunner()
    model = tmp_path / "ensemble.model"
    config = str(ROOT / "configs" / "ner-ensemble.toml")
    train = [str(folder / "train.txt"), "--dev", str(folder / "dev.txt"), "-o", str(model)]
    result = runner.invoke(main, ["train", *train, "--config", config, *TINY_ARCHITECTURE])
    assert result.exit_code == 0, result.output
    info = json.loads(runner.invoke(main, ["info", "-m", str(model), "--json"]).stdout)
    assert info["model_config"]["ensemble"] == 3 and info["model_config"]["crf"] is True
    assert info["train_config"]["word_dropout"] == ENTITY_WORD_DROPOUT
    assert info["dev_metric"] == "entity F1" and len(info["best_epoch"]) == 3
    scores = json.loads(
        runner.invoke(main, ["eval", "-m", str(model), str(folder / "dev.txt"), "--json"]).stdout
    )
    assert scores["f1"] == pytest.approx(info["dev_score"], abs=1e-3)
    tagged = runner.invoke(
        main, ["tag", "-m", str(model), "-f", "jsonl"], input="Ada Obi lọ si Kigali .\n"
    )
    assert tagged.exit_code == 0, tagged.output
    assert invalid_positions(json.loads(tagged.stdout)["tags"], "iob2") == []
