"""Where each trainee is, derived from the shared state and the shared event log only.

A trainee's page runs in its own kernel; the trainer's dashboard runs in another. What a trainee
sees right now (the QR code, the code field) lives only in that trainee's kernel, so the
dashboard reads it from what the login recorded in the shared event log: the state each step went
to, when the QR was shown, and how long the policy keeps such a step open. Enrolment, failures
and locks come from the second factor's state in the back office. Nothing here reads a secret.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Iterable

from ..core.clock import iso
from ..core.events import Event, EventKind
from ..login.backoffice import BackOffice
from ..login.flow import State


class Progress(enum.Enum):
    """A trainee's stage, in the order a class goes through it."""

    NOT_STARTED = "not logged in yet"
    LOGGED_IN = "password accepted"
    SEES_QR = "sees the QR code"
    TYPING_CODE = "asked for the code"
    ENROLLED = "enrolled"
    SIGNED_IN = "signed in"
    LOCKED = "locked"


# The steps that leave a QR or code window open in the trainee's page, until the policy's timeout.
OPEN_STEPS = {State.ENROLMENT.name: Progress.SEES_QR, State.CODE_REQUIRED.name: Progress.TYPING_CODE}


@dataclass(frozen=True)
class _Trail:
    """What the log says about one user so far (folded event by event)."""

    logged_in: bool = False
    last_state: str = ""
    step_opened: float | None = None
    signed_in: bool = False
    last_seen: float | None = None


@dataclass(frozen=True)
class TraineeStatus:
    """One row of the trainer's live table."""

    username: str
    progress: Progress
    logged_in: bool
    sees_qr: bool
    enrolled: bool
    signed_in: bool
    failed_codes: int
    locked_until: str
    last_seen: str


def _fold(trail: _Trail, event: Event) -> _Trail:
    if event.login is not None:  # the trainee's own login did something (admin actions are not "seen")
        trail = replace(trail, last_seen=event.time)
    if event.kind is EventKind.PASSWORD_ACCEPTED:
        trail = replace(trail, logged_in=True)
    if event.kind is EventKind.TWOFA_RESET:
        # an admin reset closes any open step of that user (the next code is refused as "changed")
        return replace(trail, last_state="", step_opened=None, signed_in=False)
    if event.state_to:
        fresh = event.kind is EventKind.PASSWORD_ACCEPTED or event.state_to != trail.last_state
        opened = event.time if fresh else trail.step_opened
        trail = replace(trail, last_state=event.state_to, step_opened=opened if event.state_to in OPEN_STEPS else None,
                        signed_in=event.state_to == State.AUTHENTICATED.name)
    return trail


class ClassProgress:
    """Folds the shared event log into per-trainee trails.

    The dashboard calls :meth:`statuses` once a second; each call reads the log (again only when
    it grew) and the users' second-factor state, both from the back office.
    """

    def __init__(self, office: BackOffice, usernames: Iterable[str]) -> None:
        self.office = office
        self.usernames = list(usernames)
        self._keys = {name.casefold(): name for name in self.usernames}
        self._trails = {name: _Trail() for name in self.usernames}
        self._read = 0

    def read_events(self) -> int:
        """Fold the log again when it has grown; returns how many events are new.

        The whole log is folded in sequence order each time: on PostgreSQL an event with a lower
        number can commit after one with a higher number, so "the events after the last one seen"
        could miss it. A class's log is a few thousand events; folding them takes milliseconds.
        """
        events = sorted(self.office.events, key=lambda event: event.seq)
        new, self._read = len(events) - self._read, len(events)
        if new:
            trails = {name: _Trail() for name in self.usernames}
            for event in events:
                name = self._keys.get(event.user.casefold()) if event.user else None
                if name is not None:
                    trails[name] = _fold(trails[name], event)
            self._trails = trails
        return new

    def statuses(self) -> list[TraineeStatus]:
        self.read_events()
        now = self.office.clock.now()
        timeout = self.office.policy.code_step_timeout
        users = {row["username"]: row for row in self.office.user_rows()}
        rows = []
        for name in self.usernames:
            trail = self._trails[name]
            user = users.get(name, {})
            enrolled = bool(user.get("enrolled", False))
            failures = int(user.get("failed codes", 0))
            locked_until = str(user.get("locked until", ""))
            open_step = (OPEN_STEPS.get(trail.last_state) if trail.step_opened is not None
                         and now < trail.step_opened + timeout else None)
            if locked_until:
                progress = Progress.LOCKED
            elif open_step is not None and not (open_step is Progress.SEES_QR and enrolled):
                progress = open_step
            elif trail.signed_in:
                progress = Progress.SIGNED_IN
            elif enrolled:
                progress = Progress.ENROLLED
            elif trail.logged_in:
                progress = Progress.LOGGED_IN
            else:
                progress = Progress.NOT_STARTED
            rows.append(TraineeStatus(
                username=name, progress=progress, logged_in=trail.logged_in,
                sees_qr=open_step is Progress.SEES_QR and not enrolled, enrolled=enrolled,
                signed_in=trail.signed_in, failed_codes=failures, locked_until=locked_until,
                last_seen="" if trail.last_seen is None else iso(trail.last_seen)))
        return rows

    def rows(self) -> list[dict]:
        """The live table as plain rows, one per trainee (names, stages, counts and times; never a
        secret); the dashboard shows them as a table."""
        return [{"trainee": s.username, "progress": s.progress.value, "logged in": s.logged_in,
                 "sees QR": s.sees_qr, "enrolled": s.enrolled, "signed in": s.signed_in,
                 "failed codes": s.failed_codes, "locked until": s.locked_until, "last seen": s.last_seen}
                for s in self.statuses()]

    def __repr__(self) -> str:
        return f"ClassProgress({len(self.usernames)} trainees, {self._read} events read)"


COLUMNS = ["trainee", "progress", "logged in", "sees QR", "enrolled", "signed in", "failed codes", "locked until",
           "last seen"]
"""The live table's columns, in the order the dashboard shows them."""


def class_progress(office: BackOffice, usernames: Iterable[str]) -> list[dict]:
    """The live table's rows once (see :class:`ClassProgress`)."""
    return ClassProgress(office, usernames).rows()
