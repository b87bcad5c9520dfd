"""The layering of docs/ARCHITECTURE.md holds: dependencies point one way, and no module imports one that
imports it back. Read from the source (every import statement, at the top or inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each app, with the apps it may import (besides itself). `config` wires them all and is imported by none.
MAY_IMPORT = {
    "core": set(),
    "clusterpacts": {"core"},
    "evaluations": {"core", "clusterpacts"},
    "funding": {"core", "clusterpacts", "evaluations"},
    "insights": {"core", "clusterpacts", "evaluations", "funding"},
    "workbook": {"core", "clusterpacts", "evaluations", "funding"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for app in MAY_IMPORT:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports (a `from package import name` that names a module counts as that module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_no_app_imports_upward():
    upward = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if (app := module.split(".")[0]) != (other := target.split(".")[0]) and other not in MAY_IMPORT[app]
    ]
    assert upward == []


def test_no_import_circle():
    graph = _graph()
    # A package imports its own submodules (clusterpacts.models re-exports its aggregates): not a circle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    circles = []
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert circles == []


def test_the_check_sees_the_imports_it_judges():
    graph = _graph()
    assert "core.roles" in graph["core.scoping"]
    assert "clusterpacts.selectors" in graph["funding.services"]
    assert "funding.services" in graph["funding.tasks"]
