"""Where each trainee is, derived from the shared state and the shared event log only.

A trainee's page runs in its own kernel; the trainer's dashboard runs in another. What a trainee
sees right now (the QR code, the code field) lives only in that trainee's kernel, so the
dashboard reads it from what the login recorded in the shared event log: the state each step went
to, when the QR was shown, and how long the policy keeps such a prompt open. Enrolment, failures
and locks come from the second factor's state in the back office. Nothing here reads a secret.

The log is folded incrementally: each refresh folds only the events added since the last one, so a
refresh costs the same at 40,000 events as at 1,000 (``python -m twofa_sim.bench.progress``).
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, replace
from typing import Iterable

from ..core.events import Event, EventKind
from ..login.backoffice import BackOffice
from ..login.flow import MATCHED_STEP
from ..login.flow import State


class Progress(enum.Enum):
    """A trainee's stage, in the order a class goes through it."""

    NOT_STARTED = "not logged in yet"
    STARTED = "logged in, not enrolled"
    SEES_QR = "sees the QR code"
    TYPING_CODE = "asked for the code"
    LAPSED = "QR code timed out"
    RESET = "2FA reset: log in again"
    ENROLLED = "enrolled"
    SIGNED_IN = "signed in"
    LOCKED_OUT = "locked out"


# The states that leave a QR or code prompt open in the trainee's page, until the policy's timeout.
OPEN_PROMPTS = {State.ENROLMENT.name: Progress.SEES_QR, State.CODE_REQUIRED.name: Progress.TYPING_CODE}

# What the trainee did themselves ("last seen"); a prompt that lapsed on its own, or an admin's action, is not.
TRAINEE_ACTIONS = {EventKind.PASSWORD_ACCEPTED, EventKind.PASSWORD_REJECTED, EventKind.CODE_ACCEPTED,
                   EventKind.CODE_REJECTED, EventKind.REPLAY_BLOCKED, EventKind.SERVER_CLOCK_BEHIND,
                   EventKind.RECOVERY_CODE_USED, EventKind.RECOVERY_CODE_REJECTED, EventKind.LOGIN_REFUSED_LOCKED_OUT,
                   EventKind.LOGGED_OUT}


@dataclass(frozen=True)
class _Trail:
    """What the log says about one user so far (folded event by event)."""

    logged_in: bool = False
    last_state: str = ""
    prompt_opened: float | None = None
    signed_in: bool = False
    last_seen: float | None = None
    reset: bool = False
    lapsed: bool = False
    wrong_passwords: int = 0
    step_offset: int | None = None


@dataclass(frozen=True)
class TraineeStatus:
    """One row of the trainer's live table, typed: times are instants (seconds since the epoch, as
    every time of the package; None when there is none). Its labels and how each value reads are
    the dashboard's (:mod:`twofa_sim.ui.class_dashboard`)."""

    username: str
    progress: Progress
    logged_in: bool
    sees_qr: bool
    enrolled: bool
    signed_in: bool
    failed_codes: int
    wrong_passwords: int
    step_offset: int | None
    locked_out_until: float | None
    last_seen: float | None
    stuck_since: float | None

    def phone_clock(self, period: int) -> str:
        """The phone's clock as the server saw it in the last accepted code, in words."""
        if self.step_offset is None:
            return ""
        if self.step_offset == 0:
            return "on time"
        side = "behind" if self.step_offset < 0 else "ahead"
        return f"about {abs(self.step_offset) * period} s {side}"


def _fold(trail: _Trail, event: Event) -> _Trail:
    if event.kind in TRAINEE_ACTIONS:
        trail = replace(trail, last_seen=event.time)
    if event.kind is EventKind.PASSWORD_ACCEPTED:
        trail = replace(trail, logged_in=True, reset=False, lapsed=False)
    if event.kind is EventKind.CODE_ACCEPTED:
        offset = event.field("offset", 0) if event.detail_key == MATCHED_STEP else 0
        trail = replace(trail, step_offset=int(offset))
    if event.kind is EventKind.TWOFA_RESET:
        # an admin reset closes any open prompt of that user (the next code is refused as "changed")
        return replace(trail, last_state="", prompt_opened=None, signed_in=False, reset=True, lapsed=False,
                       step_offset=None)
    if event.kind is EventKind.EXPIRED:
        trail = replace(trail, lapsed=trail.last_state == State.ENROLMENT.name)
    if event.state_to:
        fresh = event.kind is EventKind.PASSWORD_ACCEPTED or event.state_to != trail.last_state
        opened = event.time if fresh else trail.prompt_opened
        trail = replace(trail, last_state=event.state_to, prompt_opened=opened if event.state_to in OPEN_PROMPTS else None,
                        signed_in=event.state_to == State.AUTHENTICATED.name)
    return trail


class ClassProgress:
    """Folds the shared event log into per-trainee trails, incrementally.

    The dashboard calls :meth:`statuses` once a second; each call folds the events added since the
    last call and reads the users' second-factor state, both from the back office.

    A refused password names no one in the log (what was typed as a username may be anything, even
    a password): it is counted against the login it happened in, and given to the trainee whose
    password that login accepts later. Until then it counts as "wrong passwords, not in yet".
    """

    def __init__(self, office: BackOffice, usernames: Iterable[str]) -> None:
        self.office = office
        self.usernames = list(usernames)
        self._keys = {name.casefold(): name for name in self.usernames}
        self._start_over()

    def _start_over(self) -> None:
        self._trails = {name: _Trail() for name in self.usernames}
        self._read = 0
        self._last_seq = 0
        self._login_owner: dict[int, str] = {}
        self._unclaimed: Counter[int] = Counter()
        self._ended: set[str] = set()

    def read_events(self) -> int:
        """Fold the events added since the last call; returns how many were new.

        On PostgreSQL an event with a lower number can commit after one with a higher number; the
        log then reads itself again whole, in order. Such a change (the event last folded no longer
        where it was, or a new event numbered below it) folds the whole log again, so no event is
        ever missed.
        """
        log = self.office.events
        start = max(self._read - 1, 0)
        tail = list(log[start:])
        if self._read and (not tail or tail[0].seq != self._last_seq or any(e.seq <= self._last_seq for e in tail[1:])):
            self._start_over()
            tail, start = list(log[0:]), 0
        new = tail[1:] if self._read else tail
        for event in sorted(new, key=lambda e: e.seq):
            self._fold_one(event)
        if new:
            self._read = start + len(tail)
            self._last_seq = max(self._last_seq, *(e.seq for e in new))
        return len(new)

    def _fold_one(self, event: Event) -> None:
        login = event.login
        if event.kind is EventKind.CLASS_ENDED:
            self._ended.add(event.company)
        if event.kind is EventKind.PASSWORD_REJECTED and login is not None:
            owner = self._login_owner.get(login)
            if owner is None:
                self._unclaimed[login] += 1
            else:
                self._trails[owner] = replace(self._trails[owner], wrong_passwords=self._trails[owner].wrong_passwords + 1)
        name = self._keys.get(event.user.casefold()) if event.user else None
        if name is None:
            return
        trail = self._trails[name]
        if event.kind is EventKind.PASSWORD_ACCEPTED and login is not None:
            self._login_owner[login] = name
            trail = replace(trail, wrong_passwords=trail.wrong_passwords + self._unclaimed.pop(login, 0))
        elif event.state_to == State.CREDENTIALS.name and login is not None:
            self._login_owner.pop(login, None)  # logged out: the next one at this page may be someone else
        self._trails[name] = _fold(trail, event)

    def has_ended(self, company: str, *, read: bool = True) -> bool:
        """Whether the trainer ended the class of that company (a "class ended" event); with
        ``read=False`` as of the last read (the dashboard reads once per refresh)."""
        if read:
            self.read_events()
        return company in self._ended

    def unclaimed_wrong_passwords(self, *, read: bool = True) -> tuple[int, int]:
        """(wrong passwords, pages) not yet claimed by a trainee's accepted password."""
        if read:
            self.read_events()
        return sum(self._unclaimed.values()), len(self._unclaimed)

    def statuses(self) -> list[TraineeStatus]:
        self.read_events()
        now = self.office.clock.now()
        timeout = self.office.policy.code_prompt_timeout
        users = {view.username: view for view in self.office.user_views()}
        rows = []
        for name in self.usernames:
            trail = self._trails[name]
            user = users.get(name)
            enrolled = user is not None and user.enrolled
            failures = 0 if user is None else user.failed_codes
            locked_out_until = None if user is None else user.locked_out_until
            prompt_open = trail.prompt_opened is not None and now < trail.prompt_opened + timeout
            open_prompt = OPEN_PROMPTS.get(trail.last_state) if prompt_open else None
            lapsed_qr = (trail.lapsed or (trail.last_state == State.ENROLMENT.name and not prompt_open)) and not enrolled
            if locked_out_until is not None:
                progress = Progress.LOCKED_OUT
            elif open_prompt is not None and not (open_prompt is Progress.SEES_QR and enrolled):
                progress = open_prompt
            elif trail.signed_in:
                progress = Progress.SIGNED_IN
            elif enrolled:
                progress = Progress.ENROLLED
            elif trail.reset:
                progress = Progress.RESET
            elif lapsed_qr:
                progress = Progress.LAPSED
            elif trail.logged_in:
                progress = Progress.STARTED
            else:
                progress = Progress.NOT_STARTED
            rows.append(TraineeStatus(
                username=name, progress=progress, logged_in=trail.logged_in,
                sees_qr=progress is Progress.SEES_QR, enrolled=enrolled, signed_in=trail.signed_in,
                failed_codes=failures, wrong_passwords=trail.wrong_passwords, step_offset=trail.step_offset,
                locked_out_until=locked_out_until, last_seen=trail.last_seen,
                stuck_since=trail.prompt_opened if progress is Progress.SEES_QR else None))
        return rows

    def __repr__(self) -> str:
        return f"ClassProgress({len(self.usernames)} trainees, {self._read} events read)"


def stage_counts(statuses: list[TraineeStatus]) -> dict[Progress, int]:
    """How many trainees are at each stage, every stage named (the projector's bars)."""
    counted = Counter(s.progress for s in statuses)
    return {stage: counted.get(stage, 0) for stage in Progress}


def class_progress(office: BackOffice, usernames: Iterable[str]) -> list[TraineeStatus]:
    """The live table's rows once (see :class:`ClassProgress`)."""
    return ClassProgress(office, usernames).statuses()
