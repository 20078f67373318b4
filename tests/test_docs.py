"""The README teaches the tool: its examples must use commands and options that exist."""

import re
import shlex

import click
import pytest
from conftest import ROOT

from seqtag.cli import main

README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[list[str]]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S):
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            for part in line.split("|"):
                words = shlex.split(part)
                if words[:1] == ["seqtag"]:
                    commands.append(words[1:])
    return commands


def test_the_readme_has_examples_of_every_command():
    used = {words[0] for words in readme_commands()}
    assert used >= set(main.commands) - {"info"}
    assert "seqtag info -m MODEL" in README


@pytest.mark.parametrize("words", readme_commands(), ids=lambda w: " ".join(w))
def test_readme_examples_use_real_options(words):
    command = main.commands[words[0]]
    known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in words[1:]:
        if word.startswith("-") and word != "-":
            assert word.split("=")[0] in known, f"{word} is not an option of seqtag {words[0]}"


def test_makefile_targets_named_in_the_readme_exist():
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"^make (\w+)", README, flags=re.M):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target


def test_every_option_of_every_command_has_help():
    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help, f"seqtag {name} {param.opts[0]} has no help"
