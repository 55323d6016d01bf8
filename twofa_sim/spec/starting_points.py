"""Named starting points: the state a chapter of the specification begins from, built in one call.

A rule is easiest to read, and to check, when the state it starts from is said in words ("alice
enrolled at 09:00:10, half a minute ago") and nothing that happened earlier in the notebook can
change it. Each function here builds a fresh back office from ``data/backoffice.yaml`` (pinned
clock, seeded secrets) and walks it to one named state through the public login flow, so a
section of a notebook that starts with ``start = alice_enrolled()`` can run alone, in any order,
and shows the same output as in a run of the whole notebook. Each state is walked to once per
process; every call restores a new back office from it.

Every starting point follows one user (``alice`` unless said otherwise) and knows the secret her
authenticator app scanned, so :meth:`StartingPoint.app_code` is what her app shows now. The
secret and the password are never part of the repr.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from typing import Callable

from ..core.clock import iso
from ..core.errors import TwofaSimError, ValidationError
from ..core.otp import a_code_outside_window, code_at
from ..login.attempt import LoginAttempt
from ..login.backoffice import BackOffice
from ..login.flow import State
from .scenario import load_backoffice

USER = "alice"
PASSWORD = "correct horse 42"    # alice's password in data/backoffice.yaml
SETTLE_SECONDS = 10              # the file's clock starts on a step boundary; start 10 s into it


@dataclass(frozen=True)
class StartingPoint:
    """A back office in a named state, and the user (and her app's secret) a chapter follows."""

    name: str
    description: str
    office: BackOffice
    username: str = USER
    password: str = field(default=PASSWORD, repr=False)
    secret: str | None = field(default=None, repr=False)

    def app_code(self, steps_ahead: int = 0) -> str:
        """The code the user's authenticator app shows now by the back office's clock (or that many
        steps later), under the back office's policy."""
        if self.secret is None:
            raise ValidationError("app_code", f"{self.username} has not enrolled at the starting point "
                                              f"{self.name!r}: her app shows no code yet")
        policy = self.office.policy
        return code_at(self.secret, self.office.clock.now() + steps_ahead * policy.period,
                       algorithm=policy.algorithm, digits=policy.digits, period=policy.period)

    def refused_code(self, secret: str | None = None) -> str:
        """A code the back office certainly refuses now: none of its window's codes (and a step
        either side) for the user's secret, or for ``secret`` (one read from a QR code)."""
        secret = secret or self.secret
        if secret is None:
            raise ValidationError("refused_code", f"{self.username} has not enrolled at the starting point "
                                                  f"{self.name!r}: name the secret the code must miss")
        policy = self.office.policy
        return a_code_outside_window(secret, self.office.clock.now(), window=policy.window,
                                     algorithm=policy.algorithm, digits=policy.digits, period=policy.period)

    def login_at_code_prompt(self) -> LoginAttempt:
        """A new login with the user's right password, now waiting for a code."""
        login = self.office.start_login()
        result = login.submit_password(self.username, self.password)
        _reached(result.state is State.CODE_REQUIRED, self.name,
                 f"{self.username}'s password led to {result.state.value!r}, not to the code prompt")
        return login

    @property
    def time(self) -> str:
        """The back office's clock, as an ISO time."""
        return iso(self.office.clock.now())


class StartingPointError(TwofaSimError):
    """The login flow did not reach the state a starting point names (the flow or the file changed)."""


def _reached(condition: bool, point: str, problem: str) -> None:
    if not condition:
        raise StartingPointError(f"starting point {point!r}: {problem}")


def _said(starting_point) -> str:
    """The docstring of a starting point is its description: one sentence, said once (shown as
    plain text, without its reStructuredText quotes)."""
    return " ".join(starting_point.__doc__.replace("``", "").split())


def _settled_office() -> BackOffice:
    office = load_backoffice()
    office.clock.advance(SETTLE_SECONDS)
    return office


def _enrol(office: BackOffice, username: str, password: str) -> str:
    login = office.start_login()
    shown = login.submit_password(username, password)
    _reached(shown.screen is not None, "enrolled", f"{username} is not asked to set up 2FA at the first login "
                                                    f"({shown.state.value})")
    secret = shown.screen.secret
    policy = office.policy
    done = login.submit_code(code_at(secret, office.clock.now(), algorithm=policy.algorithm,
                                     digits=policy.digits, period=policy.period))
    _reached(done.state is State.AUTHENTICATED, "enrolled", f"{username}'s enrolment ended at {done.state.value!r}")
    return secret


def _built_once(build: Callable[[], StartingPoint]) -> Callable[[], StartingPoint]:
    """The starting point built once per process, then handed out as a fresh back office restored from
    its snapshot: the same state (users, hashes, seeded secret source, clock, events; a login in
    progress belongs to no back office), without hashing and checking passwords at the policy's
    scrypt cost (tens of ms each) every time. The snapshot is kept as JSON text, so no back office
    handed out can change the next one."""

    @functools.lru_cache(maxsize=1)
    def walked() -> tuple[str, StartingPoint]:
        start = build()
        return json.dumps(start.office.snapshot()), dataclasses.replace(start, office=None)

    @functools.wraps(build)
    def starting_point() -> StartingPoint:
        snapshot, start = walked()
        return dataclasses.replace(start, office=BackOffice.restore(json.loads(snapshot)))

    return starting_point


@_built_once
def backoffice_as_filed() -> StartingPoint:
    """The back office of ``data/backoffice.yaml``, 10 s after its start; nobody has logged in."""
    office = _settled_office()
    return StartingPoint("the back office as filed", _said(backoffice_as_filed), office)


@_built_once
def alice_enrolled() -> StartingPoint:
    """Alice set up her app at her first login (09:00:10); the clock is one step later (09:00:40)."""
    office = backoffice_as_filed().office
    secret = _enrol(office, USER, PASSWORD)
    office.clock.advance(office.policy.period)
    return StartingPoint("alice enrolled", _said(alice_enrolled), office, secret=secret)


@_built_once
def alice_signed_in() -> StartingPoint:
    """Alice enrolled at 09:00:10 and has just signed in again with her app's code at 09:00:40."""
    start = alice_enrolled()
    login = start.login_at_code_prompt()
    _reached(login.submit_code(start.app_code()).state is State.AUTHENTICATED, "alice signed in",
             "alice's app code was refused")
    return StartingPoint("alice signed in", _said(alice_signed_in), start.office, secret=start.secret)


@_built_once
def alice_locked_out() -> StartingPoint:
    """Alice enrolled at 09:00:10; at 09:00:40 wrong codes, one per login, locked her at the limit."""
    start = alice_enrolled()
    for _ in range(start.office.policy.failed_code_limit):
        start.login_at_code_prompt().submit_code(start.refused_code())
    _reached(start.office.user(USER).enrolment.is_locked_out(start.office.clock.now()), "alice locked out",
             "the wrong codes did not lock alice")
    return StartingPoint("alice locked out", _said(alice_locked_out), start.office, secret=start.secret)


STARTING_POINTS = {point.__name__: point for point in
                   (backoffice_as_filed, alice_enrolled, alice_signed_in, alice_locked_out)}


def catalogue() -> dict[str, str]:
    """Each starting point's name and what it starts from, without building any of them (plain
    text; a notebook shows it as a table)."""
    return {name: _said(point) for name, point in STARTING_POINTS.items()}


__all__ = ["StartingPoint", "StartingPointError", "STARTING_POINTS", "catalogue", "backoffice_as_filed",
           "alice_enrolled", "alice_signed_in", "alice_locked_out"]
