"""The class benchmark: ``python -m twofa_sim.bench.classroom`` (``make bench-class``).

First the class server (:mod:`.arrival`, ``--only arrival``): a class opening the trainee page
within one second, against the old configuration in the same run. Then the shared store
(``--only store``):

A class of trainees (30 by default) each does the whole story at the same time against one shared
back office: first login (password, QR shown), the QR read from its image, enrolment with the
code, log out, then logins with password and code. A trainee pauses between steps as a person
does (``--pause``: 0.5 to 1.5 times that many seconds, 2 by default), and once more without any
pause (everybody's CPU work at the same instant: the worst case). Then a burst: every trainee
submits wrong codes back to back at its code prompt (the policy's limit is raised so that nobody
locks). Printed:

1. SQLite file, one process per trainee (as Voila runs one kernel per trainee): p50/p95 latency of
   one code submission in the story and in the burst, and code checks per second across processes.
2. In-memory store, one thread per trainee in one process: the same figures, in the same run.
3. The in-memory exact engine against a bare ``pyotp.TOTP.verify`` (from :mod:`.engines`).

Goal: p95 of a code submission at most 200 ms with 30 trainees on SQLite; engine ratio at most 3.
Latency is measured around ``LoginAttempt.submit_code`` (its transaction included); the password
step (scrypt at the policy's cost) runs outside the transaction and is timed separately.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pathlib
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import pyotp

from ..apps.otpauth import parse_key_uri
from ..apps.scan import read_otpauth
from ..core.clock import Clock
from ..core.policy import Policy
from ..login.backoffice import BackOffice
from ..login.flow import State
from ..store import open_store
from .engines import exact_engine, load_average, print_figure, verdict

START = 1767603610.0  # 2026-01-05T09:00:10Z: every trainee's pinned clock starts here
PASSWORD = "class password 2026"


@dataclass
class Timings:
    """What one trainee measured (seconds)."""

    story_codes: list[float] = field(default_factory=list)
    burst_codes: list[float] = field(default_factory=list)
    passwords: list[float] = field(default_factory=list)
    burst_start: float = 0.0
    burst_end: float = 0.0
    story_start: float = 0.0
    story_end: float = 0.0


def set_up(office: BackOffice, trainees: int) -> list[str]:
    """A new class (company with 2FA for all) and its trainees; names of their own, so that runs
    can share one database (``--db``)."""
    tag = f"{len(office.companies) + 1:02d}"
    office.create_company(f"Class {tag}", force_2fa_for_all=True)
    names = [f"c{tag}-trainee{i:02d}" for i in range(trainees)]
    for name in names:
        office.create_user(name, PASSWORD, company=f"Class {tag}")
    return names


def _timed(timings: list[float], call):
    start = time.perf_counter()
    result = call()
    timings.append(time.perf_counter() - start)
    return result


def trainee(office: BackOffice, name: str, logins: int, burst: int, pause: float, story_gate,
            burst_gate) -> Timings:
    """One trainee's whole story, then the burst; ``office`` has its own pinned clock."""
    t = Timings()
    rng = random.Random(name)

    def think() -> None:
        time.sleep(pause * rng.uniform(0.5, 1.5))
    story_gate.wait(300)
    t.story_start = time.time()
    think()
    attempt = office.start_login()
    screen = _timed(t.passwords, lambda: attempt.submit_password(name, PASSWORD)).screen
    think()
    secret = parse_key_uri(read_otpauth(screen.qr_image())).secret
    think()
    code = pyotp.TOTP(secret).at(office.clock.now())
    assert _timed(t.story_codes, lambda: attempt.submit_code(code)).state is State.AUTHENTICATED
    attempt.log_out()
    for _ in range(logins):
        think()
        office.clock.advance(office.policy.period)
        attempt = office.start_login()
        _timed(t.passwords, lambda: attempt.submit_password(name, PASSWORD))
        think()
        code = pyotp.TOTP(secret).at(office.clock.now())
        assert _timed(t.story_codes, lambda: attempt.submit_code(code)).state is State.AUTHENTICATED
        attempt.log_out()
    t.story_end = time.time()
    office.clock.advance(office.policy.period)
    attempt = office.start_login()
    attempt.submit_password(name, PASSWORD)
    wrong = next(c for c in ("000000", "111111", "222222") if c != pyotp.TOTP(secret).at(office.clock.now()))
    burst_gate.wait(300)
    t.burst_start = time.time()
    for _ in range(burst):
        _timed(t.burst_codes, lambda: attempt.submit_code(wrong))
    t.burst_end = time.time()
    return t


def _process(url: str, policy: Policy, name: str, logins: int, burst: int, pause: float, story_gate, burst_gate,
             results) -> None:
    office = BackOffice(policy=policy, clock=Clock.at(START), store=open_store(url, busy_timeout=60))
    results.put(trainee(office, name, logins, burst, pause, story_gate, burst_gate))


def on_sqlite(trainees: int, logins: int, burst: int, pause: float, policy: Policy,
              url: str | None = None) -> list[Timings]:
    """One process per trainee (forked) on one SQLite file (or the database ``url`` names)."""
    with tempfile.TemporaryDirectory(prefix="twofa-class-") as folder:
        url = url or f"sqlite:///{os.path.join(folder, 'class.sqlite')}"
        store = open_store(url)
        names = set_up(BackOffice(policy=policy, clock=Clock.at(START), store=store), trainees)
        store.close()
        fork = multiprocessing.get_context("fork")
        story_gate, burst_gate, results = fork.Barrier(trainees), fork.Barrier(trainees), fork.Queue()
        processes = [fork.Process(target=_process, args=(url, policy, name, logins, burst, pause, story_gate,
                                                         burst_gate, results)) for name in names]
        for p in processes:
            p.start()
        found = [results.get(timeout=900) for _ in processes]
        for p in processes:
            p.join(60)
        if any(p.exitcode != 0 for p in processes):
            raise RuntimeError("a trainee process failed")
        return found


def in_memory(trainees: int, logins: int, burst: int, pause: float, policy: Policy) -> list[Timings]:
    """One thread per trainee in this process, on one in-memory back office. Every thread has its
    own back office object (its own pinned clock) over the one shared in-memory store."""
    store = open_store("memory")
    names = set_up(BackOffice(policy=policy, clock=Clock.at(START), store=store), trainees)
    story_gate, burst_gate = threading.Barrier(trainees), threading.Barrier(trainees)
    found: list[Timings] = []

    def run(name: str) -> None:
        office = BackOffice(policy=policy, clock=Clock.at(START), store=store)
        found.append(trainee(office, name, logins, burst, pause, story_gate, burst_gate))
    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(found) != trainees:
        raise RuntimeError("a trainee thread failed")
    return found


def figures(runs: list[Timings]) -> dict:
    story = sorted(x for t in runs for x in t.story_codes)
    burst = sorted(x for t in runs for x in t.burst_codes)
    passwords = sorted(x for t in runs for x in t.passwords)

    def q(values: list[float], p: float) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]
    burst_span = max(t.burst_end for t in runs) - min(t.burst_start for t in runs)
    story_span = max(t.story_end for t in runs) - min(t.story_start for t in runs)
    return {"story_p50": q(story, 50), "story_p95": q(story, 95), "burst_p50": q(burst, 50),
            "burst_p95": q(burst, 95), "checks_per_second": len(burst) / burst_span,
            "story_checks_per_second": len(story) / story_span, "story_seconds": story_span,
            "password_p50": q(passwords, 50), "checks": len(story) + len(burst)}


def _report(title: str, f: dict, goal: bool) -> None:
    print(title)
    print_figure("code submission in the story, p50", f"{f['story_p50'] * 1e3:.1f} ms")
    print_figure("code submission in the story, p95", f"{f['story_p95'] * 1e3:.1f} ms",
          f"goal <= 200 ms: {verdict(f['story_p95'] <= 0.2)}" if goal else "")
    print_figure("code submission in the burst, p50", f"{f['burst_p50'] * 1e3:.1f} ms")
    print_figure("code submission in the burst, p95", f"{f['burst_p95'] * 1e3:.1f} ms",
          f"goal <= 200 ms: {verdict(f['burst_p95'] <= 0.2)}" if goal else "")
    print_figure("code checks per second, all trainees (burst)", f"{f['checks_per_second']:.0f} /s")
    print_figure("code checks per second during the story", f"{f['story_checks_per_second']:.1f} /s")
    print_figure("whole story, all trainees", f"{f['story_seconds']:.1f} s")
    print_figure("password step (scrypt, outside the transaction), p50", f"{f['password_p50'] * 1e3:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m twofa_sim.bench.classroom", description=__doc__.split("\n")[0])
    parser.add_argument("--trainees", type=int, default=30)
    parser.add_argument("--logins", type=int, default=3, help="logins with a code after enrolling (default 3)")
    parser.add_argument("--burst", type=int, default=20, help="wrong codes each trainee submits in the burst")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds a trainee takes between steps (default 2)")
    parser.add_argument("--db", default=None, help="a database URL instead of a new SQLite file (e.g. PostgreSQL)")
    parser.add_argument("--quick", action="store_true", help="a smaller engine comparison")
    parser.add_argument("--arrivals", type=int, default=30, help="trainees opening the class server at once (default 30)")
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="a PostgreSQL database for the arrival on PostgreSQL and on two servers")
    parser.add_argument("--no-browser", action="store_true", help="the arrival measured server side only")
    parser.add_argument("--only", choices=["arrival", "store"], default=None, help="one half of the benchmark")
    args = parser.parse_args(argv)
    if args.only != "store":
        arrivals(args)
    if args.only == "arrival":
        return 0
    policy = Policy(failed_code_limit=1000)
    print(f"Class benchmark: {args.trainees} trainees, {os.cpu_count()} CPUs, load {load_average()}, "
          f"Python {sys.version.split()[0]}, scrypt N=2**{policy.kdf_log2_n}")
    where = "the database given" if args.db else "SQLite file"
    for pause, how in ((args.pause, f"pausing about {args.pause:g} s between steps"), (0.0, "no pauses (worst case)")):
        sql = figures(on_sqlite(args.trainees, args.logins, args.burst, pause, policy, args.db))
        _report(f"1. {where}, one process per trainee, {how}", sql, goal=True)
        memory = figures(in_memory(args.trainees, args.logins, args.burst, pause, policy))
        _report(f"2. in-memory store, one thread per trainee, {how}", memory, goal=False)
    engine = exact_engine(users=200 if args.quick else 1000, repeats=1 if args.quick else 3)
    print("3. in-memory exact engine against bare pyotp verify")
    print_figure("exact engine, per code check", f"{engine['per_step'] * 1e6:.1f} us")
    print_figure("bare pyotp.TOTP.verify, same codes", f"{engine['bare'] * 1e6:.1f} us")
    print_figure("ratio", f"{engine['ratio']:.2f}", f"goal <= 3: {verdict(engine['ratio'] <= 3)}")
    return 0


def arrivals(args) -> None:
    """The class arriving at the class server (:mod:`.arrival`): the old configuration first (the
    baseline, server side only: its pages start one kernel each), then the class server on an
    SQLite file, then (``--postgres``) on PostgreSQL and with two servers sharing the class."""
    from .arrival import measure, report

    n = args.arrivals
    print(f"Arrival: {n} trainees open the trainee page within 1 s; {os.cpu_count()} CPUs, load {load_average()}")
    with tempfile.TemporaryDirectory(prefix="twofa-arrival-") as folder:
        logs = pathlib.Path(folder)
        sqlite = f"sqlite:///{logs / 'class.sqlite'}"
        baseline = measure("A. old configuration (plain Voila, a kernel per page), SQLite", sqlite, n, warm=False,
                           browser=False, log_dir=logs)
        report(baseline)
        report(measure("B. class server, SQLite", sqlite, n, browser=not args.no_browser, log_dir=logs), baseline)
        if args.postgres:
            report(measure("C. class server, PostgreSQL", args.postgres, n, browser=not args.no_browser, log_dir=logs),
                   baseline)
            report(measure(f"D. two class servers on one PostgreSQL, {2 * n} trainees split", args.postgres, 2 * n,
                           servers=2, browser=not args.no_browser, log_dir=logs), baseline)
        else:
            print("\nC., D. PostgreSQL: not measured (--postgres URL names a database to use)")


if __name__ == "__main__":
    raise SystemExit(main())
