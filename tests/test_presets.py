"""Presets ship inside the package: `seqtag presets` lists them, `train --preset NAME` starts
from one, --config and the command line override it, and configs/ holds the same files."""

from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import DATA, ROOT

from seqtag.cli import main
from seqtag.cli.common import config_keys
from seqtag.config import load_toml
from seqtag.presets import preset, presets

TRAIN, DEV = DATA / "en_ewt-excerpt-train.conllu", DATA / "en_ewt-excerpt-dev.conllu"
TINY = ["--max-epochs", "1", "--hidden", "8", "--char-hidden", "4", "--affixes", "0", "-q"]


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
