"""What a product owner sees in a stored notebook: every picture drawn, every sentence whole, and a
run that changes nothing git keeps.

A matplotlib figure stored only as its repr (``<Figure size 1300x380 with 3 Axes>``) passes nbval,
which skips images; a rule cut to "..." by pandas passes too. Running a notebook must leave the
file as committed (after scripts/clean-notebook, git's clean filter), so opening and running the
specification never makes a change to review. Where nbval runs a notebook whole, that last check is
made on nbval's run (``tests/notebook_rerun.py``) instead of a second execution here.
"""

from __future__ import annotations

import copy
import json
import pathlib
import re
import runpy

import nbformat
import pytest
from nbclient import NotebookClient

from notebook_rerun import changed_cells, rerun_text

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDER = ROOT / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb")) + sorted(FOLDER.glob("class/*.ipynb"))
CLEAN = runpy.run_path(str(ROOT / "scripts" / "clean-notebook"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMAGES = {"image/png", "image/svg+xml"}
CUT = re.compile(r"\.\.\.|\u2026")


def stored_outputs(path: pathlib.Path):
    for number, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        for output in cell.get("outputs", []):
            yield number, output


def texts(output: dict) -> list[str]:
    """The texts a reader sees of one output: a stream, or each text/* form of a display."""
    found = []
    if "text" in output:
        found.append("".join(output["text"]))
    for kind, value in output.get("data", {}).items():
        if kind.startswith("text/"):
            found.append("".join(value) if isinstance(value, list) else value)
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_is_stored_as_a_picture(path):
    for number, output in stored_outputs(path):
        shown = "".join(output.get("data", {}).get("text/plain", ""))
        if shown.startswith("<Figure size") or "matplotlib.figure.Figure" in shown:
            assert IMAGES & set(output["data"]), f"{path.name} cell {number}: a figure stored only as {shown!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_text_is_cut(path):
    """No "..." nor "…" in any text an output stores; a widget view's text (ipywidgets cuts its own repr,
    and a reader sees the widget, not the text) is the one exception."""
    for number, output in stored_outputs(path):
        if WIDGET_VIEW in output.get("data", {}):
            continue
        for text in texts(output):
            found = CUT.search(text)
            assert found is None, f"{path.name} cell {number}: cut text {text[max(0, found.start() - 60):found.end()]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_are_as_git_keeps_them(path):
    text = path.read_text(encoding="utf-8")
    assert CLEAN["cleaned_text"](text) == text, f"{path.name}: run scripts/clean-notebook on it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_running_a_notebook_top_to_bottom_changes_nothing_git_keeps(path):
    """What scripts/execute-notebooks (nbclient, in place) writes equals the committed file, byte for byte.
    A session where nbval runs this notebook whole checks it on nbval's run instead (notebook_rerun.py)."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                   extra_arguments=["--IPKernelApp.log_level=ERROR"]).execute()
    rerun = CLEAN["cleaned_text"](nbformat.writes(notebook))
    committed = path.read_text(encoding="utf-8")
    if rerun != committed:
        pytest.fail(f"{path.name}: a run changes cells {changed_cells(rerun, committed)}")


def stored_run(path: pathlib.Path) -> tuple[str, dict[int, list[dict]], dict]:
    """A committed notebook, its outputs per cell index and its language_info: what a run that
    changes nothing hands to rerun_text."""
    committed = path.read_text(encoding="utf-8")
    notebook = json.loads(committed)
    return committed, {n: c["outputs"] for n, c in enumerate(notebook["cells"]) if c["cell_type"] == "code"}, \
        notebook["metadata"]["language_info"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_run_that_gives_the_stored_outputs_is_written_as_the_committed_file(path):
    """The check on nbval's run writes a notebook as nbclient does: the stored outputs give the file back."""
    committed, outputs, language = stored_run(path)
    assert rerun_text(committed, outputs, language) == committed


def changed_copy(outputs: dict[int, list[dict]], change) -> tuple[dict[int, list[dict]], int]:
    """``outputs`` with ``change`` made to the first output it applies to; the cell changed."""
    copied = copy.deepcopy(outputs)
    for number, cell in copied.items():
        for output in cell:
            if change(output):
                return copied, number
    raise AssertionError("no output to change")


def flip_image_byte(output: dict) -> bool:
    if "image/png" not in output.get("data", {}):
        return False
    png = "".join(output["data"]["image/png"])
    output["data"]["image/png"] = png[:80] + ("B" if png[80] == "A" else "A") + png[81:]
    return True


def count_again(output: dict) -> bool:
    if output["output_type"] != "execute_result":
        return False
    output["output_type"], output["metadata"] = "display_data", {"changed": True}
    del output["execution_count"]
    return True


def stderr_instead(output: dict) -> bool:
    if output["output_type"] != "stream":
        return False
    output["name"] = "stderr"
    return True


@pytest.mark.parametrize("notebook, change", [
    ("08_what_if.ipynb", flip_image_byte),   # nbval skips pictures
    ("01_overview.ipynb", count_again),      # ... output types and metadata
    ("10_real_systems.ipynb", stderr_instead),  # ... stream names
])
def test_the_check_on_nbvals_run_sees_what_nbval_does_not_compare(notebook, change):
    committed, outputs, language = stored_run(FOLDER / notebook)
    changed, number = changed_copy(outputs, change)
    rerun = rerun_text(committed, changed, language)
    assert rerun != committed and changed_cells(rerun, committed) == str(number)
    assert changed_cells(rerun_text(committed, outputs, dict(language, name="R")), committed) == "(metadata)"


def test_the_clean_filter_makes_two_runs_equal():
    """Two runs differ in widget ids, widget state, timings and the Python version; cleaned, they are equal."""
    def run(model_id: str, version: str, seconds: str) -> str:
        return json.dumps({
            "cells": [{"cell_type": "code", "execution_count": 1, "id": "a1", "source": ["w"],
                       "metadata": {"execution": {"iopub.execute_input": seconds}},
                       "outputs": [{"output_type": "display_data", "metadata": {},
                                    "data": {"text/plain": ["VBox()"], WIDGET_VIEW: {"model_id": model_id,
                                                                                     "version_major": 2,
                                                                                     "version_minor": 0}}}]}],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python", "version": version},
                         "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {model_id: {}}}}},
            "nbformat": 4, "nbformat_minor": 5}, indent=1)

    first, second = CLEAN["cleaned_text"](run("0a1b", "3.11.7", "09:00")), CLEAN["cleaned_text"](run("9f8e", "3.12.1", "10:00"))
    assert first == second
    kept = json.loads(first)
    assert kept["cells"][0]["outputs"][0]["data"][WIDGET_VIEW]["model_id"] == "cell-0-output-0"
    assert kept["cells"][0]["outputs"][0]["data"]["text/plain"] == ["VBox()"]
    assert "widgets" not in kept["metadata"] and kept["metadata"]["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
