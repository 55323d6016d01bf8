"""The notebooks are specifications: nbval (strict) only checks what was stored, so a notebook
saved without outputs would pass while checking nothing. This test refuses that."""

from __future__ import annotations

import json
import pathlib

import pytest

FOLDER = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb")) + sorted(FOLDER.glob("class/*.ipynb"))


def code_cells(path: pathlib.Path) -> list[dict]:
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 8


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_was_executed_in_order(path):
    counts = [c.get("execution_count") for c in code_cells(path)]
    assert None not in counts, f"{path.name}: code cells without a stored execution"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not executed top to bottom in one run"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_rules_are_asserted_and_no_error_is_stored(path):
    cells = code_cells(path)
    assert any("assert " in "".join(c["source"]) for c in cells), f"{path.name}: no cell asserts a rule"
    for cell in cells:
        assert all(o.get("output_type") != "error" for o in cell.get("outputs", [])), f"{path.name}: stored error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_define_no_classes_or_functions(path):
    for cell in code_cells(path):
        source = "".join(cell["source"])
        assert "\nclass " not in "\n" + source and "\ndef " not in "\n" + source, \
            f"{path.name}: logic belongs in the package, not in a notebook"
