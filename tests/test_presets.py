"""Presets ship inside the package: `seqtag presets` lists them, `train --preset NAME` starts
from one, --config and the command line override it, and configs/ holds the same files."""

from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import DATA, ROOT

from seqtag.cli import main
from seqtag.cli.common import config_keys
from seqtag.config import load_toml, split_options
from seqtag.presets import preset, presets

TRAIN, DEV = DATA / "en_ewt-excerpt-train.conllu", DATA / "en_ewt-excerpt-dev.conllu"
TINY = ["--max-epochs", "1", "--hidden", "8", "--char-hidden", "4", "--affixes", "0"]
TINY += ["--no-tokenizer", "-q"]


def test_every_preset_says_what_it_is_for_and_costs_and_holds_only_train_options():
    names = [p.name for p in presets()]
    assert names == ["ner", "ner-ensemble", "pos", "pos-small"]
    for each in presets():
        assert each.summary.endswith(".") and "minutes" in each.cost
        values, warnings = load_toml(each.path, *config_keys(main.commands["train"]))
        assert values and not warnings
        assert f"--preset {each.name} " in each.path.read_text(encoding="utf-8")


def test_the_repository_configs_are_the_packaged_presets():
    for each in presets():
        copy = ROOT / "configs" / f"{each.name}.toml"
        assert copy.read_bytes() == each.path.read_bytes()


def test_seqtag_presets_lists_them_and_gives_a_path():
    result = CliRunner().invoke(main, ["presets"])
    assert result.exit_code == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[lines.index("pos-small") + 2].startswith("    Cost: three networks")
    result = CliRunner().invoke(main, ["presets", "--path", "ner"])
    assert result.stdout.strip() == str(preset("ner").path)
    result = CliRunner().invoke(main, ["presets", "--path", "nope"])
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: no preset 'nope'; the presets are: ner, ner-ensemble, pos, pos-small\n"
    )


def info_of(path) -> dict:
    result = CliRunner().invoke(main, ["info", "-m", str(path), "--json"])
    return json.loads(result.stdout)


def test_train_starts_from_a_preset_and_config_and_command_line_override_it(tmp_path):
    model = tmp_path / "m.model"
    args = ["train", str(TRAIN), "--dev", str(DEV), "-o", str(model), *TINY]
    result = CliRunner().invoke(main, [*args, "--preset", "pos-small"])
    assert result.exit_code == 0, result.output
    saved = info_of(model)
    assert saved["model_config"]["ensemble"] == 3
    assert saved["train_config"]["tag_dictionary"] == "auto"
    config = tmp_path / "c.toml"
    config.write_text("ensemble = 2\n", encoding="utf-8")
    for order in (["--config", str(config), "--preset", "pos-small"],
                  ["--preset", "pos-small", "--config", str(config)]):  # fmt: skip
        result = CliRunner().invoke(main, [*args, *order])
        assert result.exit_code == 0, result.output
        saved = info_of(model)
        assert saved["model_config"]["ensemble"] == 2  # the config file beats the preset
        assert saved["train_config"]["tag_dictionary"] == "auto"  # the preset's own value
    result = CliRunner().invoke(main, [*args, "--preset", "pos-small", "--ensemble", "1"])
    assert result.exit_code == 0 and info_of(model)["model_config"]["ensemble"] == 1


def test_an_unknown_preset_is_a_usage_error_that_lists_them():
    result = CliRunner().invoke(main, ["train", str(TRAIN), "-o", "m.model", "--preset", "posmall"])
    assert result.exit_code == 2
    assert (
        "Invalid value for '--preset': no preset 'posmall'; the presets are: ner, " in result.stderr
    )


def test_the_default_preset_follows_label_kind_and_training_words():
    from seqtag.presets import ENSEMBLE_MAX_WORDS, choose

    plain, entity = ENSEMBLE_MAX_WORDS["plain"], ENSEMBLE_MAX_WORDS["entity"]
    assert choose(1, entity=False)[0] == choose(plain, entity=False)[0] == "pos-small"
    assert choose(plain + 1, entity=False)[0] == "pos"
    assert choose(1, entity=True)[0] == choose(entity, entity=True)[0] == "ner-ensemble"
    assert choose(entity + 1, entity=True)[0] == "ner"
    name, why = choose(3210, entity=False)
    assert why == (
        "plain tags, 3,210 training words (up to 250,000: an ensemble of 3 networks; --preset "
        "pos trains one, in a third of the time)"
    )
    assert "--preset ner-ensemble for an ensemble of 3" in choose(entity + 1, entity=True)[1]


def test_the_presets_the_default_chooses_agree_with_the_built_in_output_layer():
    """The data settles the scheme and CRF (a CRF for entity labels), so what a chosen preset
    says of them is not applied: it must say the same."""
    from seqtag.presets import AUTO_PRESETS, settings

    for kind, names in AUTO_PRESETS.items():
        for name in names:
            values = settings(name)
            assert values.get("scheme", "auto") == "auto"
            assert values.get("crf", kind == "entity") == (kind == "entity")


def test_without_a_preset_train_chooses_one_from_the_data_and_says_so(tmp_path):
    model = tmp_path / "m.model"
    args = ["train", str(TRAIN), "--dev", str(DEV), "-o", str(model), *TINY[:-1]]
    result = CliRunner().invoke(main, [*args, "--ensemble", "2"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        "Preset pos-small, chosen from the data: plain tags, 9,323 training words (up to "
        "250,000: an ensemble of 3 networks; --preset pos trains one, in a third of the time); "
        "yours kept: --ensemble 2, --affixes 0."
    )
    saved = info_of(model)
    assert saved["preset"] == "pos-small"
    assert saved["model_config"]["ensemble"] == 2  # the command line beats the chosen preset
    assert saved["train_config"]["tag_dictionary"] == "auto"  # the preset's own value
    for explicit in (["--preset", "pos"], ["--preset", "auto", "--preset", "pos"]):
        result = CliRunner().invoke(main, [*args, *explicit])
        assert result.exit_code == 0, result.output
        assert "chosen from the data" not in result.stderr
        saved = info_of(model)
        assert saved["preset"] == "pos" and saved["model_config"]["ensemble"] == 1
        assert saved["train_config"]["tag_dictionary"] == "off"
    result = CliRunner().invoke(main, [*args, "--preset", "auto", "--ensemble", "1", "-q"])
    assert result.exit_code == 0 and result.stderr == ""
    assert info_of(model)["preset"] == "pos-small"


def test_entity_labels_choose_the_ner_ensemble_and_a_large_corpus_one_network(
    tmp_path, monkeypatch
):
    from seqtag import presets
    from seqtag.run import Silent, TrainRequest, train_run

    lines = []
    for i in range(30):
        lines += [f"Ada{i} B-PER", "Lovelace I-PER", "visited O", f"Paris{i % 3} B-LOC", ". O", ""]
    train = tmp_path / "train.txt"
    train.write_text("\n".join(lines), encoding="utf-8")
    model = tmp_path / "n.model"
    args = ["train", str(train), "-o", str(model), *TINY[:-1], "--ensemble", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Preset ner-ensemble, chosen from the data: entity labels, 135 training" in result.stderr
    assert info_of(model)["preset"] == "ner-ensemble"

    class Said(Silent):
        def __init__(self):
            self.lines = []

        def say(self, message):
            self.lines.append(message)

    monkeypatch.setitem(presets.ENSEMBLE_MAX_WORDS, "entity", 100)
    said = Said()
    options = {"max_epochs": 1, "hidden": 8, "char_hidden": 4, "affixes": 0}
    model_config, train_config = split_options(options)
    request = TrainRequest(
        str(train), str(model), model=model_config, training=train_config, preset="auto",
        given=options,
    )  # fmt: skip
    assert train_run(request, said).saved
    assert said.lines[1].startswith("Preset ner, chosen from the data: entity labels, 135")
    saved = info_of(model)
    assert saved["preset"] == "ner" and saved["model_config"]["ensemble"] == 1
