"""``python -m twofa_sim.bench.progress`` (``make bench-dashboard``): what one refresh of the
trainer's dashboard costs as the class's event log grows (figures, not a test).

A class of 30 on one SQLite file (as ``make class`` runs it) and in memory; the log is filled to
1,000, 10,000 and 40,000 events with what a flood looks like (malformed codes from the trainees'
logins). For each size, with one new event before each refresh, as a live class has:

- folding the whole log afresh (what each refresh did before the fold became incremental): the
  baseline of the same run;
- the dashboard's refresh as it is now (the incremental fold, the users' state, the table drawn).

The goal from the class server's issue: a refresh at 40,000 events within 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from ..classroom.course import Classroom, open_class
from ..classroom.progress import ClassProgress
from ..core.clock import Clock
from ..core.events import EventKind
from ..core.policy import Policy
from ..login.backoffice import BackOffice
from ..store import open_store
from ..ui.class_dashboard import ClassDashboard
from .engines import load_average, print_figure, verdict

GOAL_MS = 50.0
SIZES = (1_000, 10_000, 40_000)
TRAINEES = 30
FAST_HASHES = Policy(kdf_log2_n=4)  # the passwords' cost is not what is measured here


def fill(office: BackOffice, classroom: Classroom, up_to: int) -> None:
    """Malformed codes from the trainees' logins until the log holds ``up_to`` events, in batches
    of one transaction (as many processes would have written them one by one)."""
    names = classroom.usernames
    missing = up_to - len(office.events)
    batch = 2_000
    while missing > 0:
        with office.transaction():
            for i in range(min(batch, missing)):
                name = names[i % len(names)]
                office.events.record(office.clock.now(), EventKind.CODE_REJECTED, f"user:{name}", user=name,
                                     company=classroom.company, outcome="rejected", reason="malformed code",
                                     login=1_000 + i % len(names), state_from="ENROLMENT", state_to="ENROLMENT")
        missing = up_to - len(office.events)


def one_more_event(office: BackOffice, classroom: Classroom) -> None:
    name = classroom.usernames[0]
    office.events.record(office.clock.now(), EventKind.CODE_REJECTED, f"user:{name}", user=name,
                         company=classroom.company, outcome="rejected", reason="malformed code", login=999,
                         state_from="ENROLMENT", state_to="ENROLMENT")


def timed_ms(action, office: BackOffice, classroom: Classroom, repeats: int) -> float:
    """The median of ``repeats`` runs of ``action``, each after one new event."""
    times = []
    for _ in range(repeats):
        one_more_event(office, classroom)
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(office: BackOffice, label: str, repeats: int) -> list[tuple[int, float, float]]:
    classroom = Classroom.create(office, "Bench class", count=TRAINEES)
    board = ClassDashboard(office, classroom=classroom, live=False)
    figures = []
    print(f"\n{label}: a class of {TRAINEES}, one new event before each refresh (median of {repeats})")
    for size in SIZES:
        fill(office, classroom, size)
        board.refresh()  # caught up with what was written in bulk
        whole = timed_ms(lambda: ClassProgress(office, classroom.usernames).statuses(), office, classroom, repeats)
        refresh = timed_ms(board.refresh, office, classroom, repeats)
        figures.append((size, whole, refresh))
        print_figure(f"{size:>6} events: whole log folded afresh (baseline)", f"{whole:9.1f} ms")
        print_figure(f"{size:>6} events: dashboard refresh, incremental", f"{refresh:9.1f} ms",
                     f"{whole / refresh:5.1f}x faster; goal <= {GOAL_MS:.0f} ms: {verdict(refresh <= GOAL_MS)}")
    board.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="refreshes per figure (median)")
    args = parser.parse_args(argv)
    print(f"Dashboard refresh against the size of the event log (load average {load_average()})")
    with tempfile.TemporaryDirectory() as folder:
        office = open_class(f"sqlite:///{folder}/bench.sqlite", policy=FAST_HASHES)
        measure(office, "SQLite file", args.repeats)
        office.store.close()
    memory = BackOffice(policy=FAST_HASHES, clock=Clock.real_time(), store=open_store("memory"))
    measure(memory, "In memory", args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
