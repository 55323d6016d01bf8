"""Each class keeps its own fields: no module reads or writes another object's private attribute
(``obj._x`` where ``obj`` is not ``self`` or ``cls``) or imports a private name of another module.
What another class needs goes through a public method (``snapshot()`` and ``restore()`` for saving).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "twofa_sim"

# Known offenders still to be cleared, as (module, expression) pairs, e.g.
# ("io/persistence.py", "office._users"); the list only shrinks (an entry that no longer occurs
# fails the test below). Empty: the last ones were persistence's reads of the back office's, the
# clock's, the secret source's and the app's fields, now their snapshot() and restore().
KNOWN_OFFENDERS: set[tuple[str, str]] = set()


# Names with a leading underscore that are documented public protocol, not private state: a named
# tuple's API (its underscore only keeps it apart from the field names) and IPython's display
# methods (``_repr_html_`` and its kin, "sunder" names).
PUBLIC_PROTOCOL = {"_fields", "_field_defaults", "_replace", "_asdict", "_make"}


def _private(name: str) -> bool:
    if name in PUBLIC_PROTOCOL or (name.startswith("_repr_") and name.endswith("_")):
        return False
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _own(node: ast.expr) -> bool:
    """``self``, ``cls`` or ``super()``: the class itself."""
    if isinstance(node, ast.Name):
        return node.id in ("self", "cls")
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def offenders_in(source: str, module: str) -> set[tuple[str, str]]:
    """(module, expression) for each reach into another object's private attribute, and each
    private name imported from a module of the package."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _private(node.attr) and not _own(node.value):
            found.add((module, ast.unparse(node)))
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("twofa_sim")):
            found |= {(module, f"import {alias.name}") for alias in node.names if _private(alias.name)}
    return found


def offenders() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(ROOT.rglob("*.py")):
        found |= offenders_in(path.read_text(), str(path.relative_to(ROOT)))
    return found


def test_no_class_reads_another_class_private_attribute():
    new = sorted(offenders() - KNOWN_OFFENDERS)
    assert not new, "private attributes of other objects: " + "; ".join(f"{m}: {e}" for m, e in new)


def test_the_known_offenders_still_listed_are_real():
    gone = sorted(KNOWN_OFFENDERS - offenders())
    assert not gone, f"cleared, take them off the list: {gone}"


@pytest.mark.parametrize("source, expected", [
    ("self._x = 1", set()),
    ("cls._table[k]", set()),
    ("super()._check()", set()),
    ("obj.__class__", set()),
    ("office._users = {}", {"office._users"}),
    ("app._ids.count", {"app._ids"}),
    ("next(self.app._ids)", {"self.app._ids"}),
    ("f(clock._offset)", {"clock._offset"}),
    ("from ..apps.authenticator import Entry, _Pending", {"import _Pending"}),
    ("from twofa_sim.core.clock import _finite_seconds", {"import _finite_seconds"}),
    ("from os import _exit", set()),
])
def test_the_check_sees_each_reach(source, expected):
    assert offenders_in(source, "m.py") == {("m.py", e) for e in expected}
