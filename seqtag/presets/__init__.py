"""Presets: the TOML configs that ship inside the package, for `seqtag train --preset NAME`.

Each file's first line says what it is for and a line starting ``# Cost:`` what it costs;
`seqtag presets` lists both. The repository's ``configs/`` folder links to these same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from seqtag.errors import SeqtagError


@dataclass(frozen=True)
class Preset:
    name: str
    path: Path
    summary: str  # what it is for: the file's first line
    cost: str  # the file's "# Cost:" paragraph

    @classmethod
    def read(cls, name: str, path: Path) -> Preset:
        comments = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            comments.append(line.removeprefix("#").strip())
        # The cost: from the line starting "Cost:" to the first that ends a sentence.
        start = next((i for i, line in enumerate(comments) if line.startswith("Cost:")), None)
        cost = []
        if start is not None:
            for line in comments[start:]:
                cost.append(line.removeprefix("Cost:").strip())
                if line.endswith("."):
                    break
        return cls(name, path, comments[0] if comments else "", " ".join(cost))


def presets() -> list[Preset]:
    """Every preset in the package, by name."""
    folder = resources.files(__name__)
    files = [f for f in folder.iterdir() if f.name.endswith(".toml")]
    found = [Preset.read(f.name.removesuffix(".toml"), Path(str(f))) for f in files]
    return sorted(found, key=lambda preset: preset.name)


def preset(name: str) -> Preset:
    """The preset called ``name``; an unknown name is an error that lists the known ones."""
    found = {p.name: p for p in presets()}
    if name == AUTO:
        raise SeqtagError(f"{AUTO} has no file: it is the preset {auto_rule()[:-1]}")
    if name not in found:
        raise SeqtagError(f"no preset {name!r}; the presets are: {', '.join(sorted(found))}")
    return found[name]


# The rule `seqtag train` follows without --preset (issue 22): the preset from the label kind and
# the number of training words. Chosen on dev only; the evidence and the protocol written before
# the runs are in benchmarks/results/dev-default-preset-rule.
AUTO = "auto"
ENSEMBLE_MAX_WORDS = {"entity": 250_000, "plain": 250_000}  # up to: an ensemble of three
AUTO_PRESETS = {  # label kind -> (preset up to the threshold, preset above it)
    "entity": ("ner-ensemble", "ner"),
    "plain": ("pos-small", "pos"),
}


def choose(words: int, entity: bool) -> tuple[str, str]:
    """The preset for training data of ``words`` training words, entity labels or plain tags,
    and the reason in words, for the one line that `seqtag train` says about it."""
    kind = "entity" if entity else "plain"
    limit = ENSEMBLE_MAX_WORDS[kind]
    ensemble, single = AUTO_PRESETS[kind]
    labels = "entity labels" if entity else "plain tags"
    if words <= limit:
        return ensemble, (
            f"{labels}, {words:,} training words (up to {limit:,}: an ensemble of 3 networks; "
            f"--preset {single} trains one, in a third of the time)"
        )
    return single, (
        f"{labels}, {words:,} training words (over {limit:,}: one network; --preset {ensemble} "
        "for an ensemble of 3, at three times the cost)"
    )


def auto_rule() -> str:
    """The rule `choose` follows, in one sentence, for `seqtag presets` and the help."""
    parts = []
    for kind, labels in (("plain", "plain tags"), ("entity", "entity labels")):
        ensemble, single = AUTO_PRESETS[kind]
        limit = ENSEMBLE_MAX_WORDS[kind]
        parts.append(f"{ensemble} up to {limit:,} training words of {labels}, {single} above")
    return "chosen from the training data: " + "; ".join(parts) + "."


def settings(name: str) -> dict[str, Any]:
    """The preset's values by field name (``tag_dictionary``), its keys checked as --config's."""
    from seqtag.config import ModelConfig, TrainConfig, field_names, load_toml

    keys = [*field_names(ModelConfig), *field_names(TrainConfig)]
    values, _ = load_toml(preset(name).path, keys)
    return values
