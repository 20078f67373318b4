import pytest

from seqtag import SeqtagError
from seqtag.config import ModelConfig, TrainConfig, field_names, load_toml, split_options


def test_toml_keys_may_use_dashes_and_unknown_keys_list_the_valid_ones(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('rnn = "gru"\nmax-epochs = 3\n')
    valid = field_names(ModelConfig) + field_names(TrainConfig)
    assert load_toml(path, valid) == {"rnn": "gru", "max_epochs": 3}
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
    values = load_toml(ROOT / "configs" / "pos.toml", valid)
    defaults = {**vars(ModelConfig()), **vars(TrainConfig())}
    assert {key: defaults[key] for key in values} == values
    assert {"affixes", "ensemble", "hidden", "epoch_size"} <= set(values)
