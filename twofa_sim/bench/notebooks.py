"""The notebooks' part of the benchmark: every ``notebooks/*.ipynb`` executed with nbclient in a kernel
of its own, first one after another, then side by side on as many workers as the test run uses.

One after another gives each notebook's seconds and their sum, what a reader pays running them one by one.
Side by side is how ``make test`` runs them (pytest-xdist, one notebook per worker at a time, longest
first): its figure is the wall time of the whole set. Each notebook is timed in a worker process that runs
one notebook at a time, so its kernel's CPU seconds (process times, steadier than wall time on a shared
machine) are that notebook's alone.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import pathlib
import resource
import tempfile
import time
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
GOAL_SECONDS = 20.0


@dataclass(frozen=True)
class Timing:
    """One notebook's execution: wall seconds from kernel start to kernel shut down, the kernel's CPU
    seconds, and ``ok`` or why it failed."""

    name: str
    seconds: float
    cpu: float
    status: str


def execute(path: str, timeout: int = 600) -> Timing:
    """Execute one notebook in a fresh kernel (``python3``) in its folder; its outputs are not written."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(pathlib.Path(path).parent)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        client.execute()
        status = "ok"
    except Exception as error:  # noqa: BLE001 - a failing notebook is reported, the bench goes on
        status = f"failed: {type(error).__name__}"
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernel, reaped at its shut down
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(pathlib.Path(path).name, seconds, cpu, status)


def run(paths: list[pathlib.Path], workers: int) -> tuple[list[Timing], float]:
    """Every notebook of ``paths``, in that order, on ``workers`` processes (each one notebook at a time);
    their timings in the order given and the wall time of the whole set."""
    context = multiprocessing.get_context("spawn")  # a clean interpreter per worker, as a test worker is
    start = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(execute, str(path)) for path in paths]
        timings = [future.result() for future in futures]
    return timings, time.perf_counter() - start


def worker_count_of_the_test_run() -> int:
    """The workers ``scripts/run-tests`` gets from pytest-xdist's ``-n auto``: one per CPU."""
    return max(1, os.cpu_count() or 1)


def suite(folder: pathlib.Path = NOTEBOOKS, workers: int | None = None) -> dict:
    """Each notebook one after another (seconds, CPU seconds), then all side by side on ``workers`` (the
    test run's number by default), longest first by the first pass; environment as the tests' (TZ=UTC,
    PYTHONHASHSEED=0, IPython, Jupyter's runtime files and matplotlib in a scratch folder)."""
    workers = workers or worker_count_of_the_test_run()
    paths = sorted(folder.glob("*.ipynb"))
    with tempfile.TemporaryDirectory() as scratch:
        saved = dict(os.environ)
        os.environ.update({"TZ": "UTC", "PYTHONHASHSEED": "0", "MPLCONFIGDIR": f"{scratch}/mpl",
                           "IPYTHONDIR": f"{scratch}/ipython", "JUPYTER_RUNTIME_DIR": f"{scratch}/runtime"})
        try:
            one_by_one, _ = run(paths, 1)
            seconds = {t.name: t.seconds for t in one_by_one}
            longest_first = sorted(paths, key=lambda p: -seconds[p.name])
            side_by_side, wall = run(longest_first, workers)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return {"one_by_one": one_by_one, "sum": sum(t.seconds for t in one_by_one),
            "cpu": sum(t.cpu for t in one_by_one), "side_by_side": side_by_side, "workers": workers,
            "wall": wall, "failed": [t for t in one_by_one + side_by_side if t.status != "ok"]}
