import pytest

from seqtag import SeqtagError
from seqtag.config import ModelConfig, TrainConfig, field_names, load_toml, split_options


def test_toml_keys_may_use_dashes_and_unknown_keys_list_the_valid_ones(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('rnn = "gru"\nmax-epochs = 3\n')
    valid = field_names(ModelConfig) + field_names(TrainConfig)
    assert load_toml(path, valid) == ({"rnn": "gru", "max_epochs": 3}, [])
    path.write_text("hiden = 3\n")
    with pytest.raises(SeqtagError, match="unknown key 'hiden'; valid keys are: .*hidden"):
        load_toml(path, valid)


def test_bad_toml_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("rnn = \n")
    with pytest.raises(SeqtagError, match="not valid TOML") as caught:
        load_toml(path, ["rnn"])
    assert caught.value.path == str(path)


def test_split_options_builds_both_configs():
    model, train = split_options({"rnn": "gru", "seed": 4, "hidden": None, "other": 1})
    assert model.rnn == "gru" and model.hidden == ModelConfig().hidden
    assert train.seed == 4


def test_unknown_rnn_type():
    with pytest.raises(SeqtagError, match="unknown rnn type"):
        ModelConfig(rnn="transformer")


def test_configs_pos_toml_says_the_built_in_defaults():
    """configs/pos.toml documents the defaults: every value in it must be the built-in one."""
    from conftest import ROOT

    valid = field_names(ModelConfig) + field_names(TrainConfig)
    values, _ = load_toml(ROOT / "configs" / "pos.toml", valid)
    defaults = {**vars(ModelConfig()), **vars(TrainConfig())}
    assert {key: defaults[key] for key in values} == values
    assert {"affixes", "ensemble", "hidden", "epoch_size"} <= set(values)


def test_config_keys_are_the_long_option_names_and_old_keys_still_read(tmp_path):
    """`dev = ...` is --dev; `dev-file` (the parameter's name, accepted before) still works,
    with a warning that names the key to use; a misspelt key lists the long option names."""
    from click.testing import CliRunner
    from conftest import DATA

    from seqtag.cli import main

    train, dev = DATA / "en_ewt-excerpt-train.conllu", DATA / "en_ewt-excerpt-dev.conllu"
    config = tmp_path / "c.toml"
    args = ["train", str(train), "-o", str(tmp_path / "m.model"), "--config", str(config)]
    args += ["--max-epochs", "1", "--hidden", "8", "--char-hidden", "4", "--affixes", "0"]
    args += ["--ensemble", "1", "--no-tokenizer"]
    config.write_text(f'dev = "{dev}"\nmax-epochs = 2\n', encoding="utf-8")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "No --dev given" not in result.stderr and "Warning" not in result.stderr
    config.write_text(f'dev-file = "{dev}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"Warning: {config}: key 'dev-file' is now 'dev'" in result.stderr
    assert "No --dev given" not in result.stderr
    config.write_text('dev_fil = "x"\n', encoding="utf-8")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "unknown key 'dev_fil'; valid keys are: " in result.stderr
    assert " dev, dev-fraction," in result.stderr and "dev-file" not in result.stderr
