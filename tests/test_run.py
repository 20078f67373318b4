"""run.train_run: a whole `seqtag train` as a library call, without the command line."""

from __future__ import annotations

import re

import pytest
from conftest import DATA, ROOT

from seqtag import modelfile
from seqtag.config import ModelConfig, TrainConfig
from seqtag.engine import load_tagger
from seqtag.errors import SeqtagError, UsageError
from seqtag.run import Silent, TrainRequest, train_run

TRAIN, DEV = DATA / "en_ewt-excerpt-train.conllu", DATA / "en_ewt-excerpt-dev.conllu"
TINY = ModelConfig(layers=1, hidden=8, word_dim=6, char_dim=4, char_hidden=4, affixes=0)
SHORT = TrainConfig(max_epochs=1, epoch_size=0)


class Said(Silent):
    def __init__(self):
        self.lines: list[str] = []
        self.epochs = 0

    def say(self, message: str) -> None:
        self.lines.append(message)

    def on_epoch(self, report) -> None:
        self.epochs += 1


def test_a_run_trains_saves_and_reports_through_its_report(tmp_path):
    said = Said()
    request = TrainRequest(str(TRAIN), str(tmp_path / "m.model"), str(DEV), model=TINY,
                           training=SHORT, threads=1)  # fmt: skip
    outcome = train_run(request, said)
    assert outcome.saved and outcome.interrupted is None and outcome.epochs_run == [1]
    assert said.epochs == 1 and said.lines[0].startswith("Training on ")
    saved = modelfile.read_metadata(tmp_path / "m.model")
    assert saved["dev_score"] == outcome.dev_score and saved["column"] == "upos"
    tagger = load_tagger(tmp_path / "m.model", "cpu")
    assert len(tagger.engine.vocabularies.labels) > 5


def test_a_run_holds_dev_out_of_train_when_it_has_none(tmp_path):
    said = Said()
    request = TrainRequest(str(TRAIN), str(tmp_path / "m.model"), model=TINY, training=SHORT)
    train_run(request, said)
    assert said.lines[0].startswith("No --dev given: 40 sentences held out of ")


def test_option_clashes_are_usage_errors_and_bad_places_seqtag_errors(tmp_path):
    with pytest.raises(UsageError, match="give TRAIN.conllu and -o/--output"):
        train_run(TrainRequest(str(TRAIN)))
    clash = TrainRequest(str(TRAIN), str(tmp_path / "m.model"), column="upos,xpos", crf=True)
    with pytest.raises(UsageError, match="--crf and --scheme go with one column"):
        train_run(clash)
    with pytest.raises(SeqtagError, match="the directory for the model does not exist"):
        train_run(TrainRequest(str(TRAIN), str(tmp_path / "no" / "m.model")))


def test_the_readme_example_of_the_library_call_runs(tmp_path, monkeypatch):
    """README's Development section shows train_run; run it as written, on the excerpt."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (example,) = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "train_run" in b]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.conllu").write_text(TRAIN.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "dev.conllu").write_text(DEV.read_text(encoding="utf-8"), encoding="utf-8")
    small = "ModelConfig(ensemble=2, layers=1, hidden=8, char_hidden=4, affixes=0)"
    example = example.replace("ModelConfig(ensemble=3)", small)
    example = example.replace("TrainConfig(seed=2)", "TrainConfig(seed=2, max_epochs=1)")
    assert small in example and "max_epochs=1" in example  # the README's values were replaced
    exec(compile(example, "README.md", "exec"), {})
    assert modelfile.read_metadata(tmp_path / "upos.model")["model_config"]["ensemble"] == 2


def test_a_one_sentence_run_says_sentence_not_sentences(tmp_path):
    one = tmp_path / "one.conllu"
    one.write_text("1\tHi\t_\tINTJ\t_\t_\t_\t_\t_\t_\n\n", encoding="utf-8")
    said = Said()
    train_run(
        TrainRequest(str(one), str(tmp_path / "m.model"), str(one), model=TINY, training=SHORT),
        said,
    )
    assert said.lines[0].startswith(
        "Training on 1 sentence (1 word), 1 label from column upos; dev 1 sentence;"
    )
