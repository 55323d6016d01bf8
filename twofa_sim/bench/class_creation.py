"""Creating a class, and how long it keeps every other writer waiting:
``python -m twofa_sim.bench.class_creation`` (a class of 200 at the default scrypt cost).

A class is created in one transaction (whole or not at all), and on SQLite a writing transaction
holds the database's one write lock: every trainee's login step, in every other kernel, waits for
it. Measured from outside: a probe on its own connection to the same file takes the write lock
again and again (``BEGIN IMMEDIATE``, ``COMMIT``, retried every millisecond while locked) while
the class is created; its longest wait is how long the creation held the lock. Baseline in the same
run: the same class created the way it was before, each password hashed with scrypt inside the
transaction. Printed: the longest wait, the whole creation and the ratio between the two ways.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..classroom.course import Classroom, open_class
from ..classroom.roster import Roster
from ..core.policy import Policy
from .engines import load_average, print_figure


class WriteLockProbe:
    """Takes the write lock of an SQLite file back to back in a thread; remembers the longest wait."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.longest_wait = 0.0
        self.writes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="write-lock-probe", daemon=True)

    def __enter__(self) -> "WriteLockProbe":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, isolation_level=None, timeout=0)
        try:
            while not self._stop.is_set():
                asked = time.perf_counter()
                while True:
                    try:
                        connection.execute("BEGIN IMMEDIATE")
                        break
                    except sqlite3.OperationalError as error:
                        if "locked" not in str(error) and "busy" not in str(error):
                            raise
                        time.sleep(0.001)
                self.longest_wait = max(self.longest_wait, time.perf_counter() - asked)
                connection.execute("COMMIT")
                self.writes += 1
                time.sleep(0.002)
        finally:
            connection.close()


def create_hashing_inside(office, company: str, roster: Roster) -> None:
    """The way a class was created before: every password hashed inside the one transaction."""
    with office.transaction():
        office.create_company(company, by="trainer")
        for trainee in roster:
            office.create_user(trainee.username, trainee.password, company=company, force_2fa=True, by="trainer")


def measure(trainees: int, policy: Policy, hashed_first: bool) -> dict[str, float]:
    """One class created on a new SQLite file with the probe running: seconds and probe writes."""
    with tempfile.TemporaryDirectory(prefix="twofa-class-creation-") as folder:
        path = Path(folder) / "class.sqlite"
        office = open_class(f"sqlite:///{path}", policy=policy, until_created=True)
        office.store.ensure_created()
        with WriteLockProbe(path) as probe:
            time.sleep(0.05)
            writes_before, started = probe.writes, time.perf_counter()
            if hashed_first:
                Classroom.create(office, "Class", count=trainees)
            else:
                create_hashing_inside(office, "Class", Roster.generate(None, count=trainees))
            whole, writes = time.perf_counter() - started, probe.writes - writes_before
            time.sleep(0.05)
        office.store.close()
    return {"longest_wait": probe.longest_wait, "whole": whole, "probe_writes": writes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m twofa_sim.bench.class_creation",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--trainees", type=int, default=200)
    parser.add_argument("--kdf-log2-n", type=int, default=Policy().kdf_log2_n,
                        help="scrypt cost of the passwords (default: the policy's)")
    args = parser.parse_args(argv)
    policy = Policy(kdf_log2_n=args.kdf_log2_n)
    print(f"Creating a class of {args.trainees} on an SQLite file, scrypt N = 2**{args.kdf_log2_n}; "
          f"load average {load_average()}")
    before = measure(args.trainees, policy, hashed_first=False)
    after = measure(args.trainees, policy, hashed_first=True)
    for label, found in (("hashed inside the transaction (before)", before),
                         ("hashed before the transaction (now)", after)):
        print(f"  {label}:")
        print_figure("  longest wait of another writer for the lock", f"{found['longest_wait'] * 1000:.0f} ms")
        print_figure("  whole creation", f"{found['whole'] * 1000:.0f} ms")
        print_figure("  other writes done during the creation", f"{found['probe_writes']}")
    ratio = before["longest_wait"] / after["longest_wait"] if after["longest_wait"] else float("inf")
    print_figure("another writer's longest wait, before / now", f"{ratio:.0f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
