"""The notebooks' part of the benchmark: every ``notebooks/*.ipynb`` executed with nbclient in a kernel
of its own, first one after another, then side by side on as many workers as the test run uses.

One after another gives each notebook's seconds and their sum, what a reader pays running them one by one.
Side by side is how ``make test`` runs them (pytest-xdist, one notebook per worker at a time, longest
first): its figure is the wall time of the whole set. Each notebook is timed in a worker process that runs
one notebook at a time, so its kernel's CPU seconds (process times, steadier than wall time on a shared
machine) are that notebook's alone.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import resource
import selectors
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
GOAL_SECONDS = 20.0
READY = "ready"


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
    """Every notebook of ``paths`` on ``workers`` worker processes, each one notebook at a time and handed
    the next of ``paths`` when it is done (as pytest-xdist's workers are); the timings in the order given
    and the wall time of the whole set."""
    # this file run as a script: a clean interpreter per worker, and no package import needed
    procs = [subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(min(workers, len(paths)))]
    for proc in procs:  # the clock starts once every worker is up, as a test run's workers are before their tests
        if proc.stdout.readline().strip() != READY:
            raise RuntimeError("a notebook worker did not start")
    start = time.perf_counter()
    waiting = list(enumerate(paths))
    running: dict[int, int] = {}  # worker's stdout descriptor -> index of its notebook in paths
    timings: dict[int, Timing] = {}
    with selectors.DefaultSelector() as ready:
        def hand_next(proc: subprocess.Popen) -> None:
            index, path = waiting.pop(0)
            running[proc.stdout.fileno()] = index
            proc.stdin.write(f"{path}\n")
            proc.stdin.flush()

        for proc in procs:
            ready.register(proc.stdout, selectors.EVENT_READ, proc)
            hand_next(proc)
        while running:
            for key, _ in ready.select():
                proc = key.data
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"a notebook worker ended without timing {paths[running[key.fd]].name}")
                timings[running.pop(key.fd)] = Timing(**json.loads(line))
                if waiting:
                    hand_next(proc)
    wall = time.perf_counter() - start
    for proc in procs:
        proc.stdin.close()
        proc.wait()
    return [timings[index] for index in range(len(paths))], wall


def worker_count_of_the_test_run() -> int:
    """The workers ``scripts/run-tests`` starts: one more than the CPUs this process may use (``nproc``)."""
    return len(os.sched_getaffinity(0)) + 1


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


def _worker() -> None:
    """A worker: ``ready`` once nbclient is loaded, then for each notebook path read from stdin its
    :class:`Timing` as one JSON line."""
    import nbclient  # noqa: F401 - loaded before the clock starts
    import nbformat  # noqa: F401

    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the kernels started here inherit stdout: whatever they write there goes to stderr, not in the answers
    print(READY, file=answers, flush=True)
    for line in sys.stdin:
        print(json.dumps(dataclasses.asdict(execute(line.strip()))), file=answers, flush=True)


if __name__ == "__main__":
    _worker()
