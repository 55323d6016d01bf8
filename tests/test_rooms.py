"""Each part stays in its room, type hints included: the login engine does not import the back
office (it knows it through a Protocol), apps import nothing of the login above them, and the
server's enrolment screen and the benchmarks' code are not in apps/."""

from __future__ import annotations

import ast
import pathlib

import pytest

import twofa_sim

PACKAGE = pathlib.Path(twofa_sim.__file__).parent


def imported_modules(path: pathlib.Path, text: str | None = None) -> set[str]:
    """Every module ``path`` (or ``text`` as if it were at ``path``) imports, anywhere in it (under
    ``if TYPE_CHECKING:`` and inside functions too), as a dotted name."""
    package = ".".join(("twofa_sim", *path.relative_to(PACKAGE).parent.parts))
    found = set()
    source = path.read_text(encoding="utf-8") if text is None else text
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


@pytest.mark.parametrize("module, forbidden", [
    ("login/attempt.py", "twofa_sim.login.backoffice"),
    *[(str(p.relative_to(PACKAGE)), "twofa_sim.login") for p in sorted((PACKAGE / "apps").glob("*.py"))],
])
def test_no_import_up_or_across_even_for_type_hints(module, forbidden):
    reached = sorted(m for m in imported_modules(PACKAGE / module) if m == forbidden or m.startswith(forbidden + "."))
    assert reached == []


@pytest.mark.parametrize("module", sorted(str(p.relative_to(PACKAGE)) for p in (PACKAGE / "apps").glob("*.py")))
def test_apps_draw_no_server_screen_and_hold_no_benchmark(module):
    text = (PACKAGE / module).read_text(encoding="utf-8")
    assert "class EnrolmentScreen" not in text and "perf_counter" not in text


def test_the_import_reader_sees_a_type_only_import():
    """The check above can fail: the reader finds an import hidden under TYPE_CHECKING."""
    source = PACKAGE / "login" / "attempt.py"
    hidden = source.read_text(encoding="utf-8") + "\nif TYPE_CHECKING:\n    from .backoffice import BackOffice\n"
    assert "twofa_sim.login.backoffice" in imported_modules(source, hidden)
