"""The map of the seqtag package, read from its source: who imports whom, cycles, module sizes
and the longest functions. tests/test_imports.py holds the package to its rules with it.

    python tests/import_graph.py            # this checkout's seqtag/
    python tests/import_graph.py OTHER/seqtag --json

Every import statement counts, at module level or inside a function (a function-level import
runs as soon as the function does), except those under ``if TYPE_CHECKING:``, which never run.
``from seqtag import X`` is an edge to ``seqtag.X`` when X is a module, else to ``seqtag``.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "seqtag"


@dataclass
class Import:
    target: str  # a module name, seqtag's or another package's (its top-level name)
    line: int
    top_level: bool  # at module level (not inside a function or class body)


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    imports: list[Import] = field(default_factory=list)
    functions: list[tuple[str, int]] = field(default_factory=list)  # (qualified name, lines)

    def imported(self) -> set[str]:
        return {i.target for i in self.imports}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def read_module(path: Path, root: Path, modules: set[str]) -> Module:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    module = Module(module_name(path, root), path, len(source.splitlines()))
    package = module.name if path.name == "__init__.py" else module.name.rpartition(".")[0]

    def visit(node: ast.AST, top_level: bool, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other, top_level, scope)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    module.imports.append(Import(alias.name, child.lineno, top_level))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: from . import x
                    anchor = package.rsplit(".", child.level - 1)[0]
                    base = f"{anchor}.{base}" if base else anchor
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    target = candidate if candidate in modules else base
                    module.imports.append(Import(target, child.lineno, top_level))
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{scope}{child.name}"
                module.functions.append((name, child.end_lineno - child.lineno + 1))
                visit(child, False, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, False, f"{scope}{child.name}.")
            else:
                visit(child, top_level, scope)

    visit(tree, True, "")
    return module


def read_package(root: Path = PACKAGE_ROOT) -> dict[str, Module]:
    paths = sorted(root.rglob("*.py"))
    names = {module_name(path, root) for path in paths}
    modules = [read_module(path, root, names) for path in paths]
    return {module.name: module for module in modules}


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """The strongly connected components of more than one module (or a module importing
    itself), each sorted: every import circle is inside one of them."""
    graph = {name: sorted(m.imported() & modules.keys()) for name, m in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                connect(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for name in graph:
        if name not in index:
            connect(name)
    return sorted(found)


def summary(modules: dict[str, Module], longest: int = 10) -> dict:
    functions = [
        (f"{name}.{function}", size)
        for name, module in modules.items()
        for function, size in module.functions
    ]
    functions.sort(key=lambda item: -item[1])
    return {
        "modules": {
            name: {
                "lines": module.lines,
                "imports": sorted(module.imported() & modules.keys()),
            }
            for name, module in modules.items()
        },
        "total_lines": sum(module.lines for module in modules.values()),
        "longest_functions": functions[:longest],
        "cycles": cycles(modules),
    }


def main(argv: list[str]) -> None:
    root = Path(argv[0]).resolve() if argv and not argv[0].startswith("-") else PACKAGE_ROOT
    report = summary(read_package(root))
    if "--json" in argv:
        print(json.dumps(report, indent=1))
        return
    print("| module | lines | imports (seqtag) |\n| --- | --- | --- |")
    for name, entry in report["modules"].items():
        imports = ", ".join(i.removeprefix("seqtag.") for i in entry["imports"])
        print(f"| {name} | {entry['lines']} | {imports} |")
    print(f"\n{report['total_lines']} lines in {len(report['modules'])} modules.\n")
    print("Longest functions:")
    for name, size in report["longest_functions"]:
        print(f"  {size:4d}  {name}")
    print("\nImport cycles:", "; ".join(" <-> ".join(c) for c in report["cycles"]) or "none")


if __name__ == "__main__":
    main(sys.argv[1:])
