"""Notebook 5 is a set of independent specifications: each section starts from its own named
starting point, so it runs alone (the setup cell, then its own cells) and shows exactly what the run
of the whole notebook stored. A section that used a name or a state left by an earlier one would
fail here with a NameError or a different output.

The sections share one kernel, last section first, its names cleared (``%reset -f``) before each:
a name left by another section is gone, and state left inside the package by an earlier section is
not there yet, because the earlier sections run later. A kernel for each section would check the
same and cost a kernel's start each."""

from __future__ import annotations

import copy
import pathlib

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient

from twofa_sim.spec.starting_points import STARTING_POINTS

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
POLICY_RULES = NOTEBOOKS / "05_policy_rules.ipynb"


def split_sections(notebook) -> tuple[list, dict[str, list]]:
    """The code cells before the first ``## `` heading (the setup), and each section's cells by title."""
    setup, sections, title = [], {}, None
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            title = cell.source.splitlines()[0][3:].strip()
            sections[title] = []
        if title is None:
            setup += [cell] if cell.cell_type == "code" else []
        else:
            sections[title].append(cell)
    return setup, sections


SETUP, SECTIONS = split_sections(nbformat.read(POLICY_RULES, as_version=4))


def shown(cell) -> list[tuple[str, str]]:
    """What a code cell showed, as text: nbval strict compares the same."""
    return [(output.output_type, output.get("text") or output.get("data", {}).get("text/plain", ""))
            for output in cell.get("outputs", [])]


@pytest.fixture(scope="module")
def this_python(tmp_path_factory):
    """A kernel spec that runs this interpreter, found before any other named python3."""
    folder = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(folder / "kernels" / "python3")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(folder))
        yield


def test_the_notebook_has_a_setup_cell_and_sections():
    assert len(SETUP) == 1 and len(SECTIONS) >= 10


@pytest.mark.parametrize("title", list(SECTIONS))
def test_each_section_starts_from_a_named_starting_point(title):
    first = next(cell for cell in SECTIONS[title] if cell.cell_type == "code")
    assert any(f"{name}()" in first.source.splitlines()[0] for name in STARTING_POINTS), \
        f"section {title!r} does not start with a starting point"


@pytest.fixture(scope="module")
def kernel(this_python):
    """One kernel for every section, started in the notebooks' folder."""
    client = NotebookClient(nbformat.v4.new_notebook(), timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    with client.setup_kernel():
        yield client


@pytest.mark.parametrize("title", list(reversed(SECTIONS)))
def test_each_section_runs_alone_and_shows_what_the_whole_run_stored(title, kernel):
    stored = SETUP + SECTIONS[title]
    clear = nbformat.v4.new_code_cell("%reset -f")
    alone = nbformat.v4.new_notebook(cells=[clear, *(copy.deepcopy(cell) for cell in stored)])
    kernel.nb = alone
    for index, cell in enumerate(alone.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            kernel.execute_cell(cell, index)
    assert alone.cells[0].outputs == []
    for ran, kept in zip(alone.cells[1:], stored):
        if kept.cell_type == "code":
            assert shown(ran) == shown(kept), f"section {title!r} alone shows something else:\n{kept.source}"


def test_a_name_left_by_another_section_is_gone_in_the_next(kernel):
    """The clearing works: what a section defined is not seen by the next one."""
    kernel.nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("left_by_a_section = 1"),
                                                nbformat.v4.new_code_cell("%reset -f"),
                                                nbformat.v4.new_code_cell("'left_by_a_section' in dir()")])
    for index, cell in enumerate(kernel.nb.cells):
        kernel.execute_cell(cell, index)
    assert kernel.nb.cells[2].outputs[0]["data"]["text/plain"] == "False"
