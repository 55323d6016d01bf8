"""What one trainee's kernel does in the tests that run it in a process of its own: a back office
of its own on the shared database, a login, and then code submissions at a signal (the store's
concurrency tests), or the trainee page's enrolment (the class pages' test). Module-level
functions, so that forked processes and threads run the same code; a module that imports little,
so that a spawned process starts in a third of a second, not the test module's three."""

from __future__ import annotations

import os
import signal

import pyotp

from twofa_sim import BackOffice, Clock, State, open_store
from twofa_sim.core.policy import Policy

PASSWORD = "correct horse 42"
START = 1767603610.0       # 2026-01-05T09:00:10Z: the class enrols here
LATER = START + 90         # the logins under test, three steps later
USER = "trainee"


def class_office(url: str | None, policy: Policy, when: float = START, store=None) -> BackOffice:
    return BackOffice(policy=policy, clock=Clock.at(when), store=store if store is not None else open_store(url))


def enrol(office: BackOffice) -> str:
    """Create the trainee (2FA forced) and enrol; the shared secret."""
    office.create_company("Class", force_2fa_for_all=True)
    office.create_user(USER, PASSWORD)
    attempt = office.start_login()
    secret = attempt.submit_password(USER, PASSWORD).screen.secret
    assert attempt.submit_code(pyotp.TOTP(secret).at(office.clock.now())).state is State.AUTHENTICATED
    return secret


def wrong_code(secret: str, when: float) -> str:
    """A code that no step of the window accepts at ``when``."""
    valid = {pyotp.TOTP(secret).at(when + k * 30) for k in (-2, -1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in valid)


def logged_in(office: BackOffice):
    attempt = office.start_login()
    assert attempt.submit_password(USER, PASSWORD).state is State.CODE_REQUIRED
    return attempt


def submit_same_code(office: BackOffice, code: str, barrier) -> str:
    attempt = logged_in(office)
    barrier.wait(120)
    return attempt.submit_code(code).outcome.name


def submit_wrong_codes(office: BackOffice, code: str, tries: int, barrier) -> list[str]:
    """``tries`` attempts: a wrong code while the login asks for one; once this login is locked
    out, a new login whose password step is refused because the user is locked."""
    attempt = logged_in(office)
    barrier.wait(120)
    outcomes = []
    for _ in range(tries):
        if attempt.state is State.LOCKED_OUT:
            attempt = office.start_login()
            outcomes.append(attempt.submit_password(USER, PASSWORD).outcome.name)
        else:
            outcomes.append(attempt.submit_code(code).outcome.name)
    return outcomes


# -- process entry points ------------------------------------------------------------------------

def process_same_code(url: str, policy: Policy, code: str, barrier, results) -> None:
    results.put(submit_same_code(class_office(url, policy, LATER), code, barrier))


def process_wrong_codes(url: str, policy: Policy, code: str, tries: int, barrier, results) -> None:
    results.put(submit_wrong_codes(class_office(url, policy, LATER), code, tries, barrier))


def process_killed(url: str, policy: Policy, code: str, kill_at: str, ready) -> None:
    """Log in, then die (SIGKILL, no clean-up) when the event ``kill_at`` is being recorded: inside
    the code check's transaction for the events of that step, after it for 'logged out'. (The log's
    listeners hear a step only after it commits, so the recording itself is where it dies.)"""
    office = class_office(url, policy, LATER)
    attempt = logged_in(office)
    record = office.events.record

    def record_or_die(time, kind, *args, **fields):
        if kind.value == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return record(time, kind, *args, **fields)

    office.events.record = record_or_die
    ready.set()  # an Event, not a Queue: a Queue's feeder thread may die with the process before it sends
    attempt.submit_code(code)
    attempt.log_out()


def process_trainee_enrols(url: str, policy: Policy, username: str, password: str, results) -> None:
    """A trainee's kernel in class mode: its own back office on the class's database, its own
    clock, the trainee page; logs in, types the app's code; puts the state and the page's message."""
    from twofa_sim.classroom import open_class
    from twofa_sim.ui.trainee_page import TraineePage

    office = open_class(url, policy=policy)
    page = TraineePage(office, live=False)
    page.login.username.value, page.login.password.value = username, password
    page.login.login_button.click()
    page.login.code.value = pyotp.TOTP(page.login.attempt.screen.secret).at(office.clock.now())
    page.login.code_button.click()
    results.put((page.login.attempt.state.name, page.login.message.value))
