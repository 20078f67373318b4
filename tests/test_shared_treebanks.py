"""Checks on the real treebanks in ../shared/data; skipped where that folder is absent."""

import pytest
from click.testing import CliRunner
from conftest import SHARED

from seqtag.cli import main

EN_EWT = SHARED / "ud" / "en_ewt"

pytestmark = pytest.mark.skipif(not EN_EWT.is_dir(), reason="../shared/data is not here")


def test_tagging_en_ewt_test_changes_only_the_upos_column(tiny_model):
    gold = EN_EWT / "test.conllu"
    result = CliRunner().invoke(
        main, ["tag", "-m", str(tiny_model), "-i", "conllu", "-f", "conllu", str(gold)]
    )
    assert result.exit_code == 0, result.output
    before = gold.read_text(encoding="utf-8").splitlines()
    after = result.stdout.splitlines()
    assert len(before) == len(after)
    changed_fields = set()
    for old, new in zip(before, after, strict=True):
        if old == new:
            continue
        old_fields, new_fields = old.split("\t"), new.split("\t")
        assert len(old_fields) == len(new_fields) == 10 and old_fields[0].isdigit(), old
        changed_fields |= {i for i in range(10) if old_fields[i] != new_fields[i]}
    assert changed_fields == {3}  # UPOS and nothing else
