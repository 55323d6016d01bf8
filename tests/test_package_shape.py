"""The package's shape, as the README's "How it works" table states it: one subpackage per part of the
domain, each importing only from the parts below it, no import cycle, no module a newcomer cannot read
in one sitting."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "twofa_sim"
MAX_LINES = 600

# Which subpackages each part may import from (the README's table, top to bottom).
ALLOWED = {
    "core": set(),
    "apps": {"core"},
    "login": {"core", "apps"},
    "store": {"core", "apps", "login"},
    "render": {"core", "apps", "login"},
    "spec": {"core", "apps", "login", "render"},
    "conformance": {"core", "apps", "login", "spec"},
    "analysis": {"core", "apps", "login"},
    "io": {"core", "apps", "login", "render", "spec", "conformance"},
    "classroom": {"core", "login", "store"},
    "ui": {"core", "apps", "login", "store", "render", "spec", "analysis", "io", "classroom"},
    "server": {"core", "apps", "login", "store", "classroom", "ui"},
    "bench": {"core", "apps", "login", "store", "analysis", "ui", "classroom", "server"},
}

# Modules still over the limit; each entry must really be over it, so the list only shrinks.
TOO_LONG_FOR_NOW: set[str] = set()


def modules() -> dict[str, pathlib.Path]:
    """Dotted name under twofa_sim -> file, for every module of the package."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(name: str, path: pathlib.Path, known: set[str]) -> set[str]:
    """Modules of the package that ``name`` imports when it runs (anywhere but under TYPE_CHECKING)."""
    is_package = path.name == "__init__.py"
    base = name.split(".") if is_package else name.split(".")[:-1]
    if name == "":
        base = []
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    anchor = base[: len(base) - (child.level - 1)] if child.level > 1 else base
                    target = ".".join([*anchor, *(child.module.split(".") if child.module else [])])
                elif child.module and child.module.split(".")[0] == "twofa_sim":
                    target = ".".join(child.module.split(".")[1:])
                else:
                    continue
                for alias in child.names:
                    sub = f"{target}.{alias.name}" if target else alias.name
                    found.add(sub if sub in known else target)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "twofa_sim":
                        found.add(".".join(alias.name.split(".")[1:]))
            visit(child)

    visit(ast.parse(path.read_text()))
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in found.items()}


def part(name: str) -> str:
    return name.split(".")[0] if "." in name else ""


def test_no_module_is_longer_than_the_limit():
    lengths = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in modules().values()}
    too_long = {m for m, n in lengths.items() if n > MAX_LINES}
    assert too_long <= TOO_LONG_FOR_NOW, {m: lengths[m] for m in too_long - TOO_LONG_FOR_NOW}
    assert TOO_LONG_FOR_NOW <= too_long, f"now short enough, take them off the list: {TOO_LONG_FOR_NOW - too_long}"


def test_no_import_cycle():
    graph = import_graph()
    state: dict[str, int] = {}
    path: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                walk(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)


def test_each_part_imports_only_from_the_parts_below_it():
    graph = import_graph()
    wrong = []
    for name, targets in graph.items():
        here = part(name)
        if here not in ALLOWED:
            continue
        for target in targets:
            there = part(target)
            if there and there != here and there not in ALLOWED[here]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, wrong


def test_every_part_is_in_the_table():
    parts = {part(name) for name in modules()} - {""}
    assert parts <= set(ALLOWED), parts - set(ALLOWED)


@pytest.mark.parametrize("source, expected", [
    ("from .b import x", {"p.b"}),
    ("from ..core import clock", {"core.clock"}),
    ("import twofa_sim.core.clock", {"core.clock"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import x", set()),
    ("def f():\n    from .b import x", {"p.b"}),
])
def test_the_import_reader_sees_what_runs(tmp_path, source, expected):
    path = tmp_path / "a.py"
    path.write_text(source)
    assert imports_of("p.a", path, {"p.a", "p.b", "core", "core.clock"}) == expected
