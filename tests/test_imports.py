"""The package's shape: no import circles, the command line on top of a library that never
reaches back into it, and the modules of the data flow free of torch and numpy at import time.
The graph is read from the source (tests/import_graph.py), function-level imports included."""

from __future__ import annotations

import dataclasses

import pytest
from import_graph import cycles, read_package

from seqtag.architecture import Architecture
from seqtag.config import ModelConfig
from seqtag.model import build_network
from seqtag.read import Sentence
from seqtag.vocab import Vocabularies

MODULES = read_package()
# Steps of the data flow that a tagging or scoring job uses before any network exists: they
# must import fast and work where neither torch nor numpy is needed yet.
PLAIN_PYTHON = ("seqtag.read", "seqtag.write", "seqtag.tokenize", "seqtag.vocab", "seqtag.evaluate")


def test_the_import_graph_has_no_cycle():
    assert cycles(MODULES) == []


def test_cycle_detection_finds_a_circle_through_a_function_level_import(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from pkg.a import x\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n"
    )
    assert cycles(read_package(package)) == [["pkg.a", "pkg.b"]]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_command_line_imports_click_rich_or_the_cli(name):
    if name.startswith("seqtag.cli") or name == "seqtag.__main__":  # `python -m seqtag` is the CLI
        return
    imported = {i.target for i in MODULES[name].imports}
    assert not {t for t in imported if t.split(".")[0] in ("click", "rich")}
    assert not {t for t in imported if t == "seqtag.cli" or t.startswith("seqtag.cli.")}


@pytest.mark.parametrize("name", PLAIN_PYTHON)
def test_the_data_flow_modules_import_neither_torch_nor_numpy_at_module_level(name):
    top = {i.target.split(".")[0] for i in MODULES[name].imports if i.top_level}
    assert not top & {"torch", "numpy"}


CONFIGS = [
    ModelConfig(rnn=rnn, char=char, crf=crf, layers=2, hidden=6, word_dim=5, char_dim=3,
                char_hidden=4, affixes=affixes, affix_dim=2, frequency_loss=frequency)
    for rnn in ("lstm", "gru")
    for char in (True, False)
    for crf, affixes, frequency in ((False, 2, 0.0), (True, 0, 0.5))
]  # fmt: skip


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.rnn}-char{c.char}-crf{c.crf}")
def test_the_torch_network_has_exactly_the_weights_its_architecture_states(config):
    train = [Sentence(["Ada", "ran", "home", "."], ["NOUN", "VERB", "NOUN", "PUNCT"])]
    vocabularies = Vocabularies.build(train, config)
    network = build_network(config, vocabularies)
    shapes = {name: tuple(t.shape) for name, t in network.state_dict().items()}
    assert shapes == Architecture.of(config, vocabularies).weight_shapes()
    several = Vocabularies.build(
        [Sentence(["a", "b"], ["X\t1", "Y\t2"])], dataclasses.replace(config, crf=False), columns=2
    )
    plain = dataclasses.replace(config, crf=False)
    network = build_network(plain, several)
    shapes = {name: tuple(t.shape) for name, t in network.state_dict().items()}
    assert shapes == Architecture.of(plain, several).weight_shapes()
