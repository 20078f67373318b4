"""Presets: the TOML configs that ship inside the package, for `seqtag train --preset NAME`.

Each file's first line says what it is for and a line starting ``# Cost:`` what it costs;
`seqtag presets` lists both. The repository's ``configs/`` folder links to these same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

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
    if name not in found:
        raise SeqtagError(f"no preset {name!r}; the presets are: {', '.join(sorted(found))}")
    return found[name]
