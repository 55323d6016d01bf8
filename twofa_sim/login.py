"""The engine of the login flow: one login attempt, driven only by the transition table.

Each public method is one :class:`~twofa_sim.flow.FlowEvent`. The engine checks that the table
has that event in the current state, reads the clock once, classifies the input into an
:class:`~twofa_sim.flow.Outcome`, looks the row up, performs the row's effect and records the
events. Expected refusals come back as a :class:`StepResult`; a call the table does not allow
raises :class:`~twofa_sim.errors.TransitionNotAllowed` and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .clock import iso
from .enrolment import Verdict
from .errors import ValidationError
from .events import EventKind
from .flow import FLOW, Effect, FlowEvent, Outcome, Reason, State, Transition
from .qr import EnrolmentScreen

if TYPE_CHECKING:
    from .backoffice import BackOffice
    from .user import BackendUser

MAX_INPUT = 1024
STALE_STEP = "the user's second factor changed since this step opened"

MESSAGES = {
    (Outcome.BAD_CREDENTIALS, Reason.BAD_CREDENTIALS): "Wrong username or password.",
    (Outcome.NO_2FA_NEEDED, Reason.NONE): "Welcome, you are logged in.",
    (Outcome.NEEDS_ENROLMENT, Reason.NONE): "Scan the QR code with your authenticator app, then type the code it shows.",
    (Outcome.NEEDS_CODE, Reason.NONE): "Type the current code from your authenticator app.",
    (Outcome.ACCEPTED, Reason.NONE): "Welcome, you are logged in.",
    (Outcome.REJECTED, Reason.MALFORMED): "A code has {digits} digits; please type exactly {digits} digits.",
    (Outcome.REJECTED, Reason.WRONG_CODE): "That code is not valid. Check your app and try again.",
    (Outcome.REJECTED, Reason.REPLAY): "That code was already used. Wait for the next code in your app.",
    (Outcome.CLOCK_BEHIND, Reason.CLOCK_BEHIND): "The server's clock is behind the last code you used, so this "
    "code cannot be accepted yet; it does not count as a wrong code. Use a recovery code or ask an admin.",
    (Outcome.REJECTED, Reason.UNKNOWN_RECOVERY_CODE): "That recovery code is not valid or was already used.",
    (Outcome.IS_LOCKED, Reason.LOCKED): "Too many wrong codes. Try again after {until} UTC or ask an admin to unlock you.",
    (Outcome.TIMED_OUT, Reason.EXPIRED): "The login took too long. Please start again.",
    (Outcome.STILL_OPEN, Reason.NONE): "",
    (Outcome.DONE, Reason.NONE): "",
}


@dataclass(frozen=True)
class StepResult:
    """What the login mask shows after one step."""

    state: State
    outcome: Outcome
    reason: Reason
    message: str
    screen: EnrolmentScreen | None = None
    locked_until: float | None = None
    step: int | None = None

    @property
    def qr_shown(self) -> bool:
        return self.screen is not None


class LoginAttempt:
    """One login at the back office's login mask, from username and password to the end."""

    def __init__(self, backoffice: "BackOffice", login_id: int) -> None:
        self._office = backoffice
        self.id = login_id
        self.state = FLOW.initial
        self.username: str | None = None
        self.screen: EnrolmentScreen | None = None
        self.deadline: float | None = None

    # -- the events -----------------------------------------------------------------------------

    def submit_password(self, username: str, password: str) -> StepResult:
        _check_text("username", username)
        _check_text("password", password)
        return self._fire(FlowEvent.SUBMIT_PASSWORD, lambda now: self._classify_password(username, password, now))

    def submit_code(self, code: str) -> StepResult:
        _check_text("code", code)
        return self._fire(FlowEvent.SUBMIT_CODE, lambda now: self._classify_code(code, now))

    def submit_recovery_code(self, code: str) -> StepResult:
        _check_text("recovery code", code)
        return self._fire(FlowEvent.SUBMIT_RECOVERY_CODE, lambda now: self._classify_recovery_code(code, now))

    def poll(self) -> StepResult:
        """Let time pass: closes the code step once its time is up (widgets call this each second)."""
        def classify(now: float) -> Verdict:
            outcome = self._time_left_outcome(now)
            return Verdict(outcome, Reason.EXPIRED if outcome is Outcome.TIMED_OUT else Reason.NONE)
        return self._fire(FlowEvent.TIME_PASSES, classify)

    def log_out(self) -> StepResult:
        return self._fire(FlowEvent.LOG_OUT, lambda now: Verdict(Outcome.DONE))

    def start_over(self) -> StepResult:
        return self._fire(FlowEvent.START_OVER, lambda now: Verdict(Outcome.DONE))

    @property
    def allowed_events(self) -> list[FlowEvent]:
        return FLOW.events_from(self.state)

    def seconds_left(self) -> float | None:
        """Seconds until the open code step closes, or None when no step is open."""
        return None if self.deadline is None else max(0.0, self.deadline - self._office.clock.now())

    # -- the engine -----------------------------------------------------------------------------

    def _fire(self, event: FlowEvent, classify: Callable[[float], Verdict]) -> StepResult:
        FLOW.require_event(self.state, event)
        now = self._office.clock.now()
        verdict = classify(now)
        row = FLOW.lookup(self.state, event, verdict.outcome)
        source = self.state
        self.state = row.target
        self._record_step(now, row, verdict, source)
        self._apply(row.effect, now, verdict)
        return StepResult(self.state, verdict.outcome, verdict.reason, self._message(verdict, event),
                          self.screen if self.state is State.ENROLMENT else None,
                          verdict.locked_until, verdict.step)

    def _user(self) -> "BackendUser":
        assert self.username is not None, "a code step always follows an accepted password"
        return self._office.user(self.username)

    def _time_left_outcome(self, now: float) -> Outcome:
        return Outcome.TIMED_OUT if self.deadline is not None and now >= self.deadline else Outcome.STILL_OPEN

    def _classify_password(self, username: str, password: str, now: float) -> Verdict:
        user = self._office.find_user(username)
        if not self._office.password_matches(user, password, username):
            detail = "wrong password" if user else "unknown username"
            return Verdict(Outcome.BAD_CREDENTIALS, Reason.BAD_CREDENTIALS, detail=detail)
        self.username = user.username
        enrolment = user.enrolment
        # The lock holds even when 2FA stopped being required after it was set (flag unticked):
        # a locked user does not log in before the lock ends or an admin unlocks.
        if enrolment.is_locked(now):
            return Verdict(Outcome.IS_LOCKED, Reason.LOCKED, locked_until=enrolment.locked_until)
        if not self._office.needs_2fa(user):
            return Verdict(Outcome.NO_2FA_NEEDED)
        return Verdict(Outcome.NEEDS_CODE if enrolment.is_enrolled else Outcome.NEEDS_ENROLMENT)

    def _classify_code(self, code: str, now: float) -> Verdict:
        if self._time_left_outcome(now) is Outcome.TIMED_OUT:
            return Verdict(Outcome.TIMED_OUT, Reason.EXPIRED)
        if self._step_is_stale():
            return Verdict(Outcome.TIMED_OUT, Reason.EXPIRED, detail=STALE_STEP)
        return self._user().enrolment.check_code(code, now, self._office.policy)

    def _classify_recovery_code(self, code: str, now: float) -> Verdict:
        if self._time_left_outcome(now) is Outcome.TIMED_OUT:
            return Verdict(Outcome.TIMED_OUT, Reason.EXPIRED)
        if self._step_is_stale():
            return Verdict(Outcome.TIMED_OUT, Reason.EXPIRED, detail=STALE_STEP)
        return self._user().enrolment.check_recovery_code(code, now, self._office.policy)

    def _step_is_stale(self) -> bool:
        """The step was opened for a second factor that has changed since: an admin reset it, or
        another login confirmed or replaced the secret this QR step shows. Such a step closes."""
        enrolment = self._user().enrolment
        if self.state is State.ENROLMENT:
            return enrolment.is_enrolled or self.screen is None or enrolment.pending_secret != self.screen.secret
        return not enrolment.is_enrolled

    def _apply(self, effect: Effect, now: float, verdict: Verdict) -> None:
        office = self._office
        if effect in _CHECK_EFFECTS and verdict.change is not None:
            self._user().enrolment.apply(verdict.change, now)
        if effect is Effect.SHOW_QR:
            secret = self._user().enrolment.begin(office.policy, office.secret_source)
            self.screen = EnrolmentScreen.for_user(secret, self.username, office.policy)
            self.deadline = now + office.policy.code_step_timeout
            self._note(now, EventKind.QR_SHOWN, detail=f"issuer={office.policy.issuer}")
        elif effect is Effect.ASK_CODE:
            self.deadline = now + office.policy.code_step_timeout
        elif effect in (Effect.COMPLETE_ENROLMENT, Effect.ACCEPT_CODE, Effect.SIGN_IN, Effect.USE_RECOVERY_CODE):
            if effect is Effect.COMPLETE_ENROLMENT:
                self._note(now, EventKind.ENROLMENT_COMPLETED)
            self._close()
            self._note(now, EventKind.AUTHENTICATED)
        elif effect is Effect.LOCK:
            self._close()
            self._note(now, EventKind.LOCKED, detail=f"until {iso(verdict.locked_until)} UTC")
        elif effect is Effect.CLOSE:
            self._close()
        if self.state is State.CREDENTIALS:
            self._close()
            self.username = None

    def _close(self) -> None:
        self.screen, self.deadline = None, None

    def _record_step(self, now: float, row: Transition, verdict: Verdict, source: State) -> None:
        kind = _STEP_EVENTS.get((row.event, verdict.outcome))
        if verdict.reason is Reason.REPLAY:
            kind = EventKind.REPLAY_BLOCKED
        if kind is None:
            return
        self._office.events.record(
            now, kind, actor=f"user:{self.username}" if self.username else "anonymous",
            user=self.username or "", company=self._office.company_of(self.username) if self.username else "",
            outcome=verdict.outcome.value, reason=verdict.reason.value, login=self.id,
            state_from=source.name, state_to=row.target.name, detail=verdict.detail)

    def _note(self, now: float, kind: EventKind, detail: str = "") -> None:
        self._office.events.record(now, kind, actor="system", user=self.username or "",
                                   company=self._office.company_of(self.username) if self.username else "",
                                   login=self.id, detail=detail)

    def _message(self, verdict: Verdict, event: FlowEvent) -> str:
        if event is FlowEvent.SUBMIT_RECOVERY_CODE and verdict.reason is Reason.MALFORMED:
            return "A recovery code has four groups of four letters and digits, e.g. 3f2a-9c01-7be4-0d55."
        template = MESSAGES.get((verdict.outcome, verdict.reason), "")
        until = iso(verdict.locked_until) if verdict.locked_until else ""
        if verdict.outcome is Outcome.LOCKS:
            return f"Too many wrong codes: locked until {until} UTC."
        if verdict.detail == STALE_STEP:
            return "Your two-factor setup changed during this login. Please start again."
        return template.format(digits=self._office.policy.digits, until=until)

    def __repr__(self) -> str:
        who = f", user={self.username!r}" if self.username else ""
        return f"LoginAttempt(#{self.id}, {self.state.name}{who})"


# Effects that write the verdict's change into the enrolment: a check itself changes nothing.
_CHECK_EFFECTS = frozenset({Effect.COMPLETE_ENROLMENT, Effect.ACCEPT_CODE, Effect.USE_RECOVERY_CODE,
                            Effect.COUNT_FAILURE, Effect.LOCK})

_STEP_EVENTS: dict[tuple[FlowEvent, Outcome], EventKind] = {
    (FlowEvent.SUBMIT_PASSWORD, Outcome.BAD_CREDENTIALS): EventKind.PASSWORD_REJECTED,
    (FlowEvent.SUBMIT_PASSWORD, Outcome.NO_2FA_NEEDED): EventKind.PASSWORD_ACCEPTED,
    (FlowEvent.SUBMIT_PASSWORD, Outcome.NEEDS_ENROLMENT): EventKind.PASSWORD_ACCEPTED,
    (FlowEvent.SUBMIT_PASSWORD, Outcome.NEEDS_CODE): EventKind.PASSWORD_ACCEPTED,
    (FlowEvent.SUBMIT_PASSWORD, Outcome.IS_LOCKED): EventKind.LOGIN_REFUSED_LOCKED,
    (FlowEvent.SUBMIT_CODE, Outcome.ACCEPTED): EventKind.CODE_ACCEPTED,
    (FlowEvent.SUBMIT_CODE, Outcome.REJECTED): EventKind.CODE_REJECTED,
    (FlowEvent.SUBMIT_CODE, Outcome.LOCKS): EventKind.CODE_REJECTED,
    (FlowEvent.SUBMIT_CODE, Outcome.IS_LOCKED): EventKind.LOGIN_REFUSED_LOCKED,
    (FlowEvent.SUBMIT_CODE, Outcome.CLOCK_BEHIND): EventKind.SERVER_CLOCK_BEHIND,
    (FlowEvent.SUBMIT_CODE, Outcome.TIMED_OUT): EventKind.EXPIRED,
    (FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.ACCEPTED): EventKind.RECOVERY_CODE_USED,
    (FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.REJECTED): EventKind.RECOVERY_CODE_REJECTED,
    (FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.LOCKS): EventKind.RECOVERY_CODE_REJECTED,
    (FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.IS_LOCKED): EventKind.LOGIN_REFUSED_LOCKED,
    (FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.TIMED_OUT): EventKind.EXPIRED,
    (FlowEvent.TIME_PASSES, Outcome.TIMED_OUT): EventKind.EXPIRED,
    (FlowEvent.LOG_OUT, Outcome.DONE): EventKind.LOGGED_OUT,
    (FlowEvent.START_OVER, Outcome.DONE): EventKind.LOGIN_STARTED,
}


def _check_text(field: str, value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError(field, f"must be text, got {type(value).__name__}")
    if len(value) > MAX_INPUT:
        raise ValidationError(field, f"must be at most {MAX_INPUT} characters, got {len(value)}")
