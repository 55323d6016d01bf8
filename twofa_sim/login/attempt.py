"""The engine of the login flow: one login attempt, driven only by the transition table.

Each public method is one :class:`~twofa_sim.login.flow.FlowEvent`. The engine checks that the table
has that event in the current state, reads the clock once, classifies the input into an
:class:`~twofa_sim.login.flow.Outcome` (in the orders the table gives), looks the row up, records the
row's event, runs the row's actions and the target state's on-enter actions, and shows the row's
message. It holds no rule of its own: what each action does is one short method below.
Expected refusals come back as a :class:`StepResult`; a call the table does not allow raises
:class:`~twofa_sim.core.errors.TransitionNotAllowed` and changes nothing.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Callable, NamedTuple, Protocol

from ..core import observers
from ..core.clock import iso
from .enrolment import RECOVERY_CODE, TOTP_CODE, SecondFactor, Verdict
from ..core.errors import ValidationError
from ..core.events import EventKind
from ..core.messages import NOTHING, Said, render_fields, say
from ..core.rules import prompt_timed_out
from .flow import FLOW, Facts, FlowEvent, FlowTable, Guard, Outcome, Reason, State, Taken
from .screen import EnrolmentScreen

from ..core.clock import Clock
from ..core.events import EventLog
from ..core.policy import Policy
from ..core.secret_source import SecretSource
from .user import BackendUser


class LoginDesk(Protocol):
    """What a login needs of the back office that starts it (the back office is one; a test may
    bring another). The engine knows the back office only through this."""

    clock: Clock
    events: EventLog
    secret_source: SecretSource

    @property
    def policy(self) -> Policy: ...

    def transaction(self, write: bool = True) -> AbstractContextManager[None]: ...

    def find_user(self, username: str) -> BackendUser | None: ...

    def user(self, username: str) -> BackendUser: ...

    def needs_2fa(self, user: BackendUser) -> bool: ...

    def password_matches(self, user: BackendUser | None, password: str, username: str = "") -> bool: ...

MAX_INPUT = 1024

class StepResult(NamedTuple):
    """What the login mask shows after one step. ``message_key`` and ``message_fields`` name the
    row's message, for rendering in any language (:func:`twofa_sim.core.messages.render`);
    ``message`` is its English text. (A named tuple: made on every step, in C.)"""

    state: State
    outcome: Outcome
    reason: Reason
    screen: EnrolmentScreen | None = None
    locked_out_until: float | None = None
    time_step: int | None = None
    message_key: str = "none"
    message_fields: tuple[tuple[str, object], ...] = ()

    @property
    def message(self) -> str:
        """The message in English (worded when asked: a simulation's steps never are)."""
        return render_fields(self.message_key, self.message_fields)

    def message_in(self, language: str) -> str:
        """The message in ``language`` (a code of :data:`twofa_sim.ui.i18n.LANGUAGES`)."""
        return render_fields(self.message_key, self.message_fields, language)

    @property
    def qr_shown(self) -> bool:
        return self.screen is not None


class LoginAttempt:
    """One login at the back office's login mask, from username and password to the end.

    ``flow`` is the transition table that drives it (the package's :data:`~twofa_sim.login.flow.FLOW`
    unless a test or a what-if passes an edited copy).
    """

    def __init__(self, backoffice: LoginDesk, login_id: int, flow: FlowTable | None = None) -> None:
        self._office = backoffice
        self._flow = flow or FLOW
        self.id = login_id
        self.state = self._flow.initial
        self.username: str | None = None
        self.screen: EnrolmentScreen | None = None
        self.deadline: float | None = None
        self.malformed_codes = 0
        self._opened_for: tuple[str, ...] | None = None
        self._step_user: tuple[str, BackendUser] | None = None
        self._silent_event: FlowEvent | None = None  # the last step's event, if its row wrote nothing

    # -- the events -----------------------------------------------------------------------------

    def submit_password(self, username: str, password: str) -> StepResult:
        """The slow password check (scrypt) runs before the step's transaction, so many logins at
        once do not queue behind each other's hashing; the user's state is read again inside."""
        _check_text("username", username)
        _check_text("password", password)
        self._flow.require_event(self.state, FlowEvent.SUBMIT_PASSWORD)
        user = self._office.find_user(username)
        matches = self._office.password_matches(user, password, username)
        return self._fire(FlowEvent.SUBMIT_PASSWORD, self._classify_password, username, user is not None, matches)

    def submit_code(self, code: str) -> StepResult:
        _check_text("code", code)
        return self._fire(FlowEvent.SUBMIT_CODE, self._classify_code, TOTP_CODE, code, self._flow.code_order)

    def submit_recovery_code(self, code: str) -> StepResult:
        _check_text("recovery code", code)
        return self._fire(FlowEvent.SUBMIT_RECOVERY_CODE, self._classify_code, RECOVERY_CODE, code,
                          self._flow.recovery_code_order)

    def poll(self) -> StepResult:
        """Let time pass: closes the code prompt once its time is up (widgets call this each second)."""
        return self._fire(FlowEvent.TIME_PASSES, self._classify_time)

    def log_out(self) -> StepResult:
        return self._fire(FlowEvent.LOG_OUT, self._classify_done)

    def start_over(self) -> StepResult:
        return self._fire(FlowEvent.START_OVER, self._classify_done)

    @property
    def flow(self) -> FlowTable:
        """The transition table this login follows (with its per-state facts)."""
        return self._flow

    @property
    def allowed_events(self) -> list[FlowEvent]:
        return self._flow.events_from(self.state)

    def seconds_left(self) -> float | None:
        """Seconds until the open code prompt closes, or None when no prompt is open."""
        return None if self.deadline is None else max(0.0, self.deadline - self._office.clock.now())

    # -- the engine -----------------------------------------------------------------------------

    def _fire(self, event: FlowEvent, classify: Callable[..., tuple[Verdict, Taken]], *given: object) -> StepResult:
        """Take one event: the one place where an input is checked and its consequences applied.

        The clock is read once; the check (``classify``, with what the event was ``given``) reads the
        user's second factor, changes nothing and finds the table's row; the row's actions then
        write the check's change and the row's event is recorded. All of it is one transaction of
        the back office's store: two tabs or processes that submit the same code at once are served
        one after the other, and only the first is accepted. When the transaction fails, this
        attempt's own state is put back as well.

        After a step whose row wrote nothing, the same event is first tried in a reading
        transaction, and taken there if its row writes nothing again: a flood of malformed codes
        or the page's polls then never take the database's write lock. A row that would write is
        taken again in a writing transaction, from the start.
        """
        saved = (self.state, self.username, self.screen, self.deadline, self.malformed_codes, self._opened_for)
        try:
            decided = None
            if event is self._silent_event:
                decided = self._try_without_writing(event, classify, given)
                if decided is None:
                    self.state, self.username, self.screen, self.deadline, self.malformed_codes, self._opened_for = saved
                    self._step_user = None
            if decided is None:
                with self._office.transaction():
                    decided = self._step(event, classify, given)
        except BaseException:
            self.state, self.username, self.screen, self.deadline, self.malformed_codes, self._opened_for = saved
            raise
        finally:
            self._step_user = None
        verdict, taken = decided
        row = taken.row
        self._silent_event = event if taken.writes_nothing else None
        fields = self._message_fields(verdict)
        return StepResult(self.state, verdict.outcome, verdict.reason, self.screen if taken.shows_qr else None,
                          verdict.locked_out_until, verdict.time_step, row.message, fields)

    def _step(self, event: FlowEvent, classify: Callable[..., tuple[Verdict, Taken]],
              given: tuple[object, ...]) -> tuple[Verdict, Taken]:
        """Decide the event's row in the open transaction and take it: its event, its actions."""
        self._flow.require_event(self.state, event)  # in the transaction: another thread may have moved on
        now = self._office.clock.now()
        verdict, taken = classify(event, now, *given)
        row = taken.row
        self.state = row.target
        self._record_step(now, taken, verdict)
        for method in taken.methods:
            getattr(self, method)(now, verdict)
        return verdict, taken

    def _try_without_writing(self, event: FlowEvent, classify: Callable[..., tuple[Verdict, Taken]],
                             given: tuple[object, ...]) -> tuple[Verdict, Taken] | None:
        """The event decided in a reading transaction and taken if its row writes nothing; None
        (nothing taken, nothing reported) if the row would write."""
        self._step_user = None
        with observers.held() as reports, self._office.transaction(write=False):
            self._flow.require_event(self.state, event)
            verdict, taken = classify(event, self._office.clock.now(), *given)
            if not taken.writes_nothing:
                return None
            self.state = taken.row.target
        observers.tell(reports)
        return verdict, taken

    def _classify_done(self, event: FlowEvent, now: float) -> tuple[Verdict, Taken]:
        verdict = Verdict(Outcome.DONE)
        return verdict, self._flow.taken(self._flow.lookup(self.state, event, verdict.outcome, verdict.reason))

    def _classify_time(self, event: FlowEvent, now: float) -> tuple[Verdict, Taken]:
        guard, taken = self._flow.decide_in(self.state, event, self._flow.time_passes_order,
                                            Facts(timed_out=prompt_timed_out(now, self.deadline)))
        return Verdict(guard.outcome, guard.reason), taken

    def _classify_password(self, event: FlowEvent, now: float, username: str, known: bool,
                           matches: bool) -> tuple[Verdict, Taken]:
        """Decide with the password's result (checked before the transaction) and the user as it is now."""
        user = self._office.find_user(username)
        matches = matches and user is not None
        if matches:
            self.username = user.username
        standing = user.enrolment.standing(now)[1] if matches else None
        facts = Facts(password_ok=matches, user_known=known, locked_out=standing is not None, locked_out_until=standing,
                      needs_2fa=matches and self._office.needs_2fa(user), enrolled=matches and user.enrolment.is_enrolled)
        guard, taken = self._flow.decide_in(self.state, event, self._flow.password_order, facts)
        return Verdict(guard.outcome, guard.reason, locked_out_until=guard.lockout(facts), detail=guard.detail(facts)), taken

    def _classify_code(self, event: FlowEvent, now: float, factor: SecondFactor, text: str,
                            order: tuple[Guard, ...]) -> tuple[Verdict, Taken]:
        """The second factor finds the facts and proposes a change; the order decides the outcome."""
        enrolment = self._user().enrolment
        check = enrolment.check(factor, text, now, self._office.policy, timed_out=prompt_timed_out(now, self.deadline),
                                factor_changed=self._prompt_is_stale(enrolment), malformed_before=self.malformed_codes)
        guard, taken = self._flow.decide_in(self.state, event, order, check.facts)
        return check.verdict_of(guard), taken

    def _prompt_is_stale(self, enrolment) -> bool:
        """The prompt was opened for a second factor that has changed since: an admin reset it, or
        another login confirmed or replaced the secret this QR prompt shows."""
        return self._opened_for != _second_factor_of(enrolment)

    def _user(self) -> BackendUser:
        """The user this login is for, read once per step: the check and the actions of one step
        (one transaction) see and change the same object."""
        assert self.username is not None, "a code prompt always follows an accepted password"
        if self._step_user is None or self._step_user[0] != self.username:
            self._step_user = (self.username, self._office.user(self.username))
        return self._step_user[1]

    # -- the actions a row names (Action.method) ------------------------------------------------

    def _on_apply_check(self, now: float, verdict: Verdict) -> None:
        if verdict.change is not None:
            self._user().enrolment.apply(verdict.change, now)

    def _on_show_qr(self, now: float, verdict: Verdict) -> None:
        office = self._office
        secret = self._user().enrolment.begin(office.policy, office.secret_source)
        self.screen = EnrolmentScreen.for_user(secret, self.username, office.policy)
        self.deadline = now + office.policy.code_prompt_timeout
        self._opened_for = _second_factor_of(self._user().enrolment)
        self._note(now, EventKind.QR_SHOWN, detail=say("qr_issuer", issuer=office.policy.issuer))

    def _on_open_code_prompt(self, now: float, verdict: Verdict) -> None:
        self.deadline = now + self._office.policy.code_prompt_timeout
        self._opened_for = _second_factor_of(self._user().enrolment)

    def _on_note_enrolment(self, now: float, verdict: Verdict) -> None:
        self._note(now, EventKind.ENROLMENT_COMPLETED)

    def _on_sign_in(self, now: float, verdict: Verdict) -> None:
        self._note(now, EventKind.AUTHENTICATED)

    def _on_note_lockout(self, now: float, verdict: Verdict) -> None:
        self._note(now, EventKind.LOCKED_OUT, detail=say("locked_out_until", until=iso(verdict.locked_out_until)))

    def _on_close_code_prompt(self, now: float, verdict: Verdict) -> None:
        self.screen, self.deadline, self._opened_for = None, None, None

    def _on_note_malformed(self, now: float, verdict: Verdict) -> None:
        self.malformed_codes += 1

    def _on_forget_login(self, now: float, verdict: Verdict) -> None:
        self.username, self.malformed_codes = None, 0

    # -- records and messages ---------------------------------------------------------------------

    def _record_step(self, now: float, taken: Taken, verdict: Verdict) -> None:
        """The row's event: the outcome (the row's: the guard that decided led to it), the reason,
        and the states the login went from and to."""
        records = taken.row.records
        if records is None:
            return
        outcome, source, target = taken.recorded_as
        username = self.username
        self._office.events.record(
            now, records, f"user:{username}" if username else "anonymous", username or "",
            self._user().company if username else "", outcome, verdict.reason.value, self.id, source, target,
            verdict.detail)

    def _note(self, now: float, kind: EventKind, detail: Said = NOTHING) -> None:
        self._office.events.record(now, kind, actor="system", user=self.username or "",
                                   company=self._user().company if self.username else "",
                                   login=self.id, detail=detail)

    def _message_fields(self, verdict: Verdict) -> tuple[tuple[str, object], ...]:
        """The fields a message may name: the code's length and the lock's end."""
        return (("digits", self._office.policy.digits),
                ("until", iso(verdict.locked_out_until) if verdict.locked_out_until else ""))

    def __repr__(self) -> str:
        who = f", user={self.username!r}" if self.username else ""
        return f"LoginAttempt(#{self.id}, {self.state.name}{who})"


def _second_factor_of(enrolment) -> tuple[str, ...]:
    """Which second factor a step checks: the enrolled one, or the pending secret a QR shows."""
    return ("enrolled",) if enrolment.is_enrolled else ("pending", enrolment.pending_secret or "")


def _check_text(field: str, value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError(field, f"must be text, got {type(value).__name__}")
    if len(value) > MAX_INPUT:
        raise ValidationError(field, f"must be at most {MAX_INPUT} characters, got {len(value)}")
