"""The notebooks' benchmark hands each notebook to a worker of its own kernel, one at a time, and
reports every notebook in the order given, a failing one as failed (figures are not checked: the
benchmark is not a timed test)."""

from __future__ import annotations

import nbformat

from twofa_sim.bench.notebooks import run


def notebook(folder, name: str, source: str):
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(source)]
    path = folder / name
    nbformat.write(book, path)
    return path


def test_each_notebook_is_timed_in_the_order_given_and_a_failing_one_is_reported(tmp_path):
    paths = [notebook(tmp_path, "fails.ipynb", "raise ValueError('on purpose')"),
             notebook(tmp_path, "prints.ipynb", "import os; os.write(1, b'not an answer\\n'); print('shown')"),
             notebook(tmp_path, "counts.ipynb", "sum(range(10**6))")]
    timings, wall = run(paths, 2)
    assert [(t.name, t.status) for t in timings] == [
        ("fails.ipynb", "failed: CellExecutionError"), ("prints.ipynb", "ok"), ("counts.ipynb", "ok")]
    assert all(t.seconds > 0 and t.cpu > 0 for t in timings) and wall > 0
