"""The rows of the transition table the notebooks' cells take, found by running each notebook.

Each notebook is run in a fresh kernel (nbclient) with a cell put in front that starts a
:class:`~twofa_sim.spec.coverage.NotebookListener`, a one-line cell before each of its code cells
that names the cell, and one at the end that hands back what each cell took. The notebook file
itself is not changed. Cells are numbered as JupyterLab shows a notebook: from 1, counting every
cell, Markdown too.
"""

from __future__ import annotations

import pathlib
from typing import Iterable

import nbformat
from nbclient import NotebookClient

from ..spec.coverage import FlowCoverage, credit_notebook

CELL_TIMEOUT = 600
_LISTENER = "_twofa_sim_coverage"


def instrumented(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose code cells report to a listener, numbered from 1."""
    copy = nbformat.v4.new_notebook(metadata=notebook.metadata)
    copy.cells.append(nbformat.v4.new_code_cell(
        f"from twofa_sim.spec.coverage import NotebookListener\n{_LISTENER} = NotebookListener.start()"))
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        copy.cells.append(nbformat.v4.new_code_cell(f"{_LISTENER}.at({number})"))
        copy.cells.append(nbformat.v4.new_code_cell(cell.source))
    copy.cells.append(nbformat.v4.new_code_cell(f"print({_LISTENER}.dump())"))
    return copy


def run_notebook(path: pathlib.Path) -> str:
    """Run ``path`` instrumented in its own folder; the JSON its last cell printed."""
    notebook = instrumented(nbformat.read(path, as_version=4))
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    client.execute()
    outputs = notebook.cells[-1].outputs
    return "".join(output.get("text", "") for output in outputs if output.output_type == "stream")


def cover_notebooks(paths: Iterable[str | pathlib.Path], coverage: FlowCoverage) -> FlowCoverage:
    """Add to ``coverage`` the rows and guards each notebook's cells take."""
    for path in paths:
        path = pathlib.Path(path)
        credit_notebook(coverage, str(path), run_notebook(path))
    return coverage


__all__ = ["cover_notebooks", "run_notebook", "instrumented"]
