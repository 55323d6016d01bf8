"""Exactly once, from the database: many threads or processes acting on one user at the same
instant. The same valid code is accepted once; wrong codes lock at exactly the limit; the event
log has every attempt once; a process killed in the middle of a code check leaves no trace.

Processes are forked kernels with their own back office on the shared database (SQLite file, or
a throw-away PostgreSQL server this module starts; skipped with the reason where it cannot).
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections import Counter

import pytest

from twofa_sim import EventKind, State, open_store
from twofa_sim.store import MemoryStore

from conftest import FAST
from pg_server import database, postgres  # noqa: F401 - fixtures
from store_workers import (LATER, USER, class_office, enrol, logged_in, process_killed, process_same_code,
                           process_wrong_codes, submit_same_code, submit_wrong_codes, wrong_code)
import pyotp

FORK = multiprocessing.get_context("fork")
ROOMY = FAST.replace(failed_code_limit=20)  # the same-code tests: seven replays stay below the limit
ATTEMPT_KINDS = (EventKind.CODE_ACCEPTED, EventKind.CODE_REJECTED, EventKind.REPLAY_BLOCKED,
                 EventKind.LOGIN_REFUSED_LOCKED_OUT)


def attempts_in_log(office, logins: set[int]) -> Counter:
    """How many events of each attempt kind the given logins left in the log."""
    return Counter(e.kind for e in office.events if e.kind in ATTEMPT_KINDS and e.login in logins)


def later_logins(office, first: int) -> set[int]:
    return {e.login for e in office.events if e.kind is EventKind.LOGIN_STARTED and e.login >= first}


# -- threads -------------------------------------------------------------------------------------

@pytest.fixture
def tiny_switch_interval():
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def run_threads(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def one(i: int) -> None:
        results[i] = work(barrier)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def trial_url(request, store: str, tmp_path, trial: int) -> str | None:
    """A new database per trial: none (in memory), an SQLite file, or one on the PostgreSQL server."""
    if store == "memory":
        return None
    if store == "sqlite":
        return f"sqlite:///{tmp_path / f'trial{trial}.sqlite'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.mark.parametrize("store, trials", [("memory", 60), ("sqlite", 6), ("postgresql", 3)])
def test_eight_threads_with_the_same_code_are_accepted_exactly_once(tiny_switch_interval, request, tmp_path,
                                                                    store, trials):
    for trial in range(trials):
        url = trial_url(request, store, tmp_path, trial)
        office = class_office(url, ROOMY)
        secret = enrol(office)
        office.clock.set(LATER)
        code = pyotp.TOTP(secret).at(LATER)
        outcomes = Counter(run_threads(8, lambda barrier: submit_same_code(office, code, barrier)))
        assert outcomes == {"ACCEPTED": 1, "REJECTED": 7}, f"trial {trial}: {outcomes}"
        assert office.events.count(EventKind.CODE_ACCEPTED) == 2  # enrolment, and one of the eight


@pytest.mark.parametrize("store, trials", [("memory", 20), ("sqlite", 3), ("postgresql", 2)])
def test_eight_threads_of_wrong_codes_lock_at_exactly_the_limit(tiny_switch_interval, request, tmp_path, store,
                                                                trials):
    for trial in range(trials):
        url = trial_url(request, store, tmp_path, trial)
        office = class_office(url, FAST)
        secret = enrol(office)
        office.clock.set(LATER)
        first = office.store.peek_login_id()
        code = wrong_code(secret, LATER)
        outcomes = Counter(sum(run_threads(8, lambda barrier: submit_wrong_codes(office, code, 10, barrier)), []))
        limit = FAST.failed_code_limit
        assert outcomes == {"REJECTED": limit - 1, "LOCKS_OUT": 1, "IS_LOCKED_OUT": 80 - limit}, f"trial {trial}"
        assert attempts_in_log(office, later_logins(office, first)) == {
            EventKind.CODE_REJECTED: limit, EventKind.LOGIN_REFUSED_LOCKED_OUT: 80 - limit}
        assert office.user(USER).enrolment.failures == limit


def test_the_memory_store_holds_one_lock_for_a_whole_transaction():
    store = MemoryStore()
    inside = threading.Event()
    order = []

    def holder() -> None:
        with store.transaction():
            inside.set()
            order.append("holder starts")
            threading.Event().wait(0.2)
            order.append("holder ends")
    thread = threading.Thread(target=holder)
    thread.start()
    inside.wait(5)
    with store.transaction():
        order.append("second")
    thread.join()
    assert order == ["holder starts", "holder ends", "second"]


# -- processes -----------------------------------------------------------------------------------

def run_processes(n: int, target, *args) -> list:
    barrier, results = FORK.Barrier(n), FORK.Queue()
    processes = [FORK.Process(target=target, args=(*args, barrier, results)) for _ in range(n)]
    for p in processes:
        p.start()
    found = [results.get(timeout=180) for _ in processes]
    for p in processes:
        p.join(60)
        assert p.exitcode == 0
    return found


def test_eight_processes_with_the_same_code_are_accepted_exactly_once(database):
    office = class_office(database, ROOMY)
    secret = enrol(office)
    first = office.store.peek_login_id()
    office.store.close()  # the children open their own connections
    code = pyotp.TOTP(secret).at(LATER)
    outcomes = Counter(run_processes(8, process_same_code, database, ROOMY, code))
    assert outcomes == {"ACCEPTED": 1, "REJECTED": 7}
    office = class_office(database, ROOMY, LATER)
    logins = later_logins(office, first)
    assert len(logins) == 8
    assert attempts_in_log(office, logins) == {EventKind.CODE_ACCEPTED: 1, EventKind.REPLAY_BLOCKED: 7}
    assert office.events.count(EventKind.AUTHENTICATED) == 2  # enrolment, and one of the eight
    assert office.user(USER).enrolment.last_used_step == int(LATER // 30)


def test_eight_processes_of_ten_wrong_codes_lock_at_exactly_the_limit(database):
    office = class_office(database, FAST)
    secret = enrol(office)
    first = office.store.peek_login_id()
    office.store.close()
    outcomes = Counter(sum(run_processes(8, process_wrong_codes, database, FAST, wrong_code(secret, LATER), 10), []))
    limit = FAST.failed_code_limit
    assert outcomes == {"REJECTED": limit - 1, "LOCKS_OUT": 1, "IS_LOCKED_OUT": 80 - limit}
    office = class_office(database, FAST, LATER)
    logins = later_logins(office, first)
    assert attempts_in_log(office, logins) == {EventKind.CODE_REJECTED: limit,
                                               EventKind.LOGIN_REFUSED_LOCKED_OUT: 80 - limit}
    assert office.events.count(EventKind.LOCKED_OUT) == 1
    assert office.user(USER).enrolment.failures == limit
    seqs = [e.seq for e in office.events]
    assert len(seqs) == len(set(seqs)) == office.store.event_summary()[0]


@pytest.mark.parametrize("kill_at, happened", [
    ("code accepted", False),       # in the code check's transaction, before the change is written
    ("authenticated", False),       # same transaction, after the change was applied in memory
    ("logged out", True),           # a later step: the code check had committed
])
def test_a_process_killed_in_a_code_check_leaves_the_database_consistent(database, kill_at, happened):
    office = class_office(database, FAST)
    secret = enrol(office)
    before = office.events.count(EventKind.CODE_ACCEPTED)
    office.store.close()
    code = pyotp.TOTP(secret).at(LATER)
    ready = FORK.Event()
    child = FORK.Process(target=process_killed, args=(database, FAST, code, kill_at, ready))
    child.start()
    assert ready.wait(60), "the child did not log in"
    child.join(60)
    assert child.exitcode == -9  # SIGKILL: no clean-up ran
    office = class_office(database, FAST, LATER)
    assert office.events.count(EventKind.CODE_ACCEPTED) == before + happened
    assert (office.user(USER).enrolment.last_used_step == int(LATER // 30)) is happened
    # Others go on at once: the same code is accepted now exactly when the killed check left no trace.
    result = logged_in(office).submit_code(code)
    assert (result.state is State.AUTHENTICATED) is not happened
    assert office.events.count(EventKind.CODE_ACCEPTED) == before + 1
