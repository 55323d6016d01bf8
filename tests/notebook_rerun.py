"""A run changes nothing git keeps, checked on the run nbval already makes.

nbval runs every notebook in one kernel and compares what it sees with the stored outputs, but it
skips pictures, output metadata, output types, stream names and execution counts. What a run
writes must equal the committed file byte for byte (``test_notebook_outputs.py``); executing every
notebook a second time with nbclient to see that cost about a minute of every test run. So where
nbval runs all the cells of a notebook, its outputs are kept as the kernel sent them (before nbval
merges streams), put into the committed notebook the way nbclient stores them, cleaned as git's
filter cleans them, and compared with the committed file by one more item after the notebook's
last cell: ``notebooks/NN.ipynb::test_running_a_notebook_top_to_bottom_changes_nothing_git_keeps``.
That item takes the place of the nbclient test of the same name for that notebook; a notebook
nbval does not run in the session (``pytest tests/`` alone) is still executed by nbclient there.
"""

from __future__ import annotations

import copy
import json
import pathlib
import runpy
from queue import Empty

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLEAN = runpy.run_path(str(ROOT / "scripts" / "clean-notebook"))
NAME = "test_running_a_notebook_top_to_bottom_changes_nothing_git_keeps"


def rerun_text(committed: str, outputs: dict[int, list[dict]], language_info: dict | None) -> str:
    """The committed notebook as a run that produced ``outputs`` (per cell index, as the kernel
    sent them) writes it: nbclient's execution counts (1, 2, ... over the code cells, also on each
    execute_result) and the kernel's language_info, cleaned as git keeps it."""
    notebook = nbformat.reads(committed, as_version=4)
    count = 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        cell.outputs = [nbformat.from_dict(copy.deepcopy(dict(o))) for o in outputs.get(index, [])]
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    if language_info is not None:
        notebook.metadata["language_info"] = language_info
    return CLEAN["cleaned_text"](nbformat.writes(notebook))


def changed_cells(rerun: str, committed: str) -> str:
    """The cells a run changed, for the failure message (none: the notebook's metadata)."""
    new, old = json.loads(rerun)["cells"], json.loads(committed)["cells"]
    changed = [str(n) for n, (a, b) in enumerate(zip(new, old)) if a != b]
    if len(new) != len(old):
        changed.append(f"(count {len(old)} -> {len(new)})")
    return ", ".join(changed) or "(metadata)"


class _Recorder:
    """Keeps each nbval cell's outputs as the kernel sent them. nbval merges every stream of a cell
    into one before comparing (nbclient does not), so the list is copied when nbval hands it to
    ``coalesce_streams``; the item then knows which notebook cell it ran."""

    def __init__(self) -> None:
        self.running = None
        self.outputs: dict[str, dict[int, list[dict]]] = {}

    def install(self) -> None:
        import nbval.plugin
        original = nbval.plugin.coalesce_streams

        def recording(outputs):
            item = self.running
            if item is not None and outputs is getattr(item, "test_outputs", None):
                index = next(i for i, cell in enumerate(item.parent.nb.cells) if cell is item.cell)
                self.outputs.setdefault(item.parent.nodeid, {})[index] = copy.deepcopy(list(outputs))
            return original(outputs)

        nbval.plugin.coalesce_streams = recording


RECORDER = _Recorder()


class RerunItem(pytest.Item):
    """After a notebook's last nbval cell: the run nbval made, written as nbclient writes it, equals the file."""

    def __init__(self, *, cells: list, **kwargs) -> None:
        super().__init__(**kwargs)
        self.cells = cells

    def runtest(self) -> None:
        path = pathlib.Path(str(self.parent.fspath))
        recorded = RECORDER.outputs.get(self.parent.nodeid, {})
        indexes = [next(i for i, c in enumerate(self.parent.nb.cells) if c is cell.cell) for cell in self.cells]
        missing = [str(cell.cell_num) for cell, index in zip(self.cells, indexes) if index not in recorded]
        if missing:
            pytest.fail(f"{path.name}: nbval's run gave no outputs for code cells {', '.join(missing)} "
                        "(a cell failed or did not run): the run cannot be compared with the file")
        committed = path.read_text(encoding="utf-8")
        rerun = rerun_text(committed, recorded, self.language_info())
        if rerun != committed:
            pytest.fail(f"{path.name}: a run changes cells {changed_cells(rerun, committed)}")

    def language_info(self) -> dict:
        """What nbclient stores from the kernel's answer to kernel_info."""
        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive():
            pytest.fail(f"{self.parent.name}: the notebook's kernel is gone before its run could be compared")
        msg_id = kernel.kc.kernel_info()
        while True:
            try:
                reply = kernel.kc.get_shell_msg(timeout=30)
            except Empty:
                pytest.fail(f"{self.parent.name}: the kernel did not answer kernel_info within 30 s")
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]["language_info"]

    def reportinfo(self):
        return self.parent.fspath, 0, f"{self.parent.name}: a run changes nothing git keeps"


def _recorded(cell) -> None:
    """``cell``'s runtest, with the recorder told which cell runs."""
    runtest = cell.runtest

    def run() -> None:
        RECORDER.running = cell
        try:
            runtest()
        finally:
            RECORDER.running = None

    cell.runtest = run


def nbclient_rerun_of(item) -> pathlib.Path | None:
    """The notebook an nbclient rerun test of test_notebook_outputs.py executes (None for any other item)."""
    if getattr(item, "originalname", None) != NAME or not hasattr(item, "callspec"):
        return None
    return pathlib.Path(item.callspec.params["path"]).resolve()


def replace_nbclient_reruns(config, items: list) -> None:
    """Appends a RerunItem after the last cell of each notebook whose every code cell nbval runs
    in this session, and drops the nbclient test of the same name for that notebook."""
    if not config.getoption("nbval", default=False):
        return
    try:
        from nbval.plugin import IPyNbCell, IPyNbFile
    except ImportError:
        return
    cells: dict = {}
    for item in items:
        if isinstance(item, IPyNbCell):
            cells.setdefault(item.parent, []).append(item)
    covered = set()
    for notebook, ran in cells.items():
        code = [c for c in notebook.nb.cells if c.cell_type == "code"]
        if not isinstance(notebook, IPyNbFile) or len(ran) != len(code):
            continue
        for cell in ran:
            _recorded(cell)
        items.insert(items.index(ran[-1]) + 1, RerunItem.from_parent(notebook, name=NAME, cells=ran))
        covered.add(pathlib.Path(str(notebook.fspath)).resolve())
    if not covered:
        return
    RECORDER.install()
    items[:] = [item for item in items if nbclient_rerun_of(item) not in covered]
