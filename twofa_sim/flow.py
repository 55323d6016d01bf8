"""The login flow, declared once as data.

One table of :class:`Transition` rows says, for each state and event, which outcome leads where
and with which effect. The engine (:class:`twofa_sim.login.LoginAttempt`) classifies an input
into an :class:`Outcome` and then does only what the table says; the same table renders as a
Mermaid state diagram and as a pandas DataFrame.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import pandas as pd

from .errors import TransitionNotAllowed


class State(enum.Enum):
    CREDENTIALS = "entering credentials"
    ENROLMENT = "enrolment (QR shown)"
    CODE_REQUIRED = "code required"
    AUTHENTICATED = "authenticated"
    LOCKED = "locked"
    EXPIRED = "expired"


class FlowEvent(enum.Enum):
    SUBMIT_PASSWORD = "submit username and password"
    SUBMIT_CODE = "submit code"
    SUBMIT_RECOVERY_CODE = "submit recovery code"
    TIME_PASSES = "time passes"
    LOG_OUT = "log out"
    START_OVER = "start over"


class Outcome(enum.Enum):
    """What the engine found when it classified an input; the table's guard column."""

    BAD_CREDENTIALS = "wrong username or password"
    NO_2FA_NEEDED = "2FA not required"
    NEEDS_ENROLMENT = "2FA required, not enrolled"
    NEEDS_CODE = "2FA required, enrolled"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    LOCKS = "rejected, limit reached"
    IS_LOCKED = "user is locked"
    TIMED_OUT = "step timed out"
    STILL_OPEN = "step still open"
    DONE = "done"


class Reason(enum.Enum):
    """Why an input was refused (shown in results and in the event log)."""

    NONE = ""
    BAD_CREDENTIALS = "bad credentials"
    MALFORMED = "malformed code"
    WRONG_CODE = "wrong code"
    REPLAY = "code already used"
    UNKNOWN_RECOVERY_CODE = "unknown or used recovery code"
    LOCKED = "locked"
    EXPIRED = "step expired"


class Effect(enum.Enum):
    """What the engine does on taking a row, besides changing state."""

    NONE = "-"
    SHOW_QR = "show QR and secret, open the code step"
    ASK_CODE = "open the code step"
    COMPLETE_ENROLMENT = "confirm the secret, remember the step, sign in"
    ACCEPT_CODE = "remember the step, reset the failures, sign in"
    SIGN_IN = "sign in"
    USE_RECOVERY_CODE = "spend the recovery code, sign in"
    COUNT_FAILURE = "count a failed code (not a malformed one)"
    LOCK = "count the failed code, lock the user"
    CLOSE = "close the step"


@dataclass(frozen=True)
class Transition:
    source: State
    event: FlowEvent
    outcome: Outcome
    target: State
    effect: Effect
    rule: str


S, E, O, X = State, FlowEvent, Outcome, Effect

TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.CREDENTIALS, E.SUBMIT_PASSWORD, O.BAD_CREDENTIALS, S.CREDENTIALS, X.NONE,
               "a wrong username and a wrong password get one identical answer"),
    Transition(S.CREDENTIALS, E.SUBMIT_PASSWORD, O.NO_2FA_NEEDED, S.AUTHENTICATED, X.SIGN_IN,
               "neither the company setting nor the user's flag asks for 2FA"),
    Transition(S.CREDENTIALS, E.SUBMIT_PASSWORD, O.NEEDS_ENROLMENT, S.ENROLMENT, X.SHOW_QR,
               "first login: the QR appears only after a correct password"),
    Transition(S.CREDENTIALS, E.SUBMIT_PASSWORD, O.NEEDS_CODE, S.CODE_REQUIRED, X.ASK_CODE,
               "later logins: the app's current code, no QR"),
    Transition(S.CREDENTIALS, E.SUBMIT_PASSWORD, O.IS_LOCKED, S.LOCKED, X.NONE,
               "a locked user cannot log in until the lock ends or an admin unlocks"),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.ACCEPTED, S.AUTHENTICATED, X.COMPLETE_ENROLMENT,
               "enrolment completes only with a valid code"),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.REJECTED, S.ENROLMENT, X.COUNT_FAILURE,
               "a wrong code leaves the user in enrolment"),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.LOCKS, S.LOCKED, X.LOCK,
               "failed codes count towards the lock, during enrolment too"),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.IS_LOCKED, S.LOCKED, X.NONE,
               "a lock set by another login holds here too"),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.TIMED_OUT, S.EXPIRED, X.CLOSE,
               "a code typed after the step closed, or after an admin reset, is not checked"),
    Transition(S.ENROLMENT, E.TIME_PASSES, O.STILL_OPEN, S.ENROLMENT, X.NONE,
               "the QR stays up while the step is open"),
    Transition(S.ENROLMENT, E.TIME_PASSES, O.TIMED_OUT, S.EXPIRED, X.CLOSE,
               "the QR step expires after the policy's time"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.ACCEPTED, S.AUTHENTICATED, X.ACCEPT_CODE,
               "a valid code inside the window, not used before, signs in"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.REJECTED, S.CODE_REQUIRED, X.COUNT_FAILURE,
               "a wrong, malformed or replayed code is refused with its reason"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.LOCKS, S.LOCKED, X.LOCK,
               "the failed-code limit locks the user, across logins"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.IS_LOCKED, S.LOCKED, X.NONE,
               "even a right code does not open a locked account"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.TIMED_OUT, S.EXPIRED, X.CLOSE,
               "a code typed after the step closed, or after an admin reset, is not checked"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.ACCEPTED, S.AUTHENTICATED, X.USE_RECOVERY_CODE,
               "an unused recovery code stands in for the code, once"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.REJECTED, S.CODE_REQUIRED, X.COUNT_FAILURE,
               "an unknown or spent recovery code is refused"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.LOCKS, S.LOCKED, X.LOCK,
               "wrong recovery codes count towards the lock"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.IS_LOCKED, S.LOCKED, X.NONE,
               "a recovery code does not open a locked account"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.TIMED_OUT, S.EXPIRED, X.CLOSE,
               "a recovery code typed after the step closed, or after an admin reset, is not checked"),
    Transition(S.CODE_REQUIRED, E.TIME_PASSES, O.STILL_OPEN, S.CODE_REQUIRED, X.NONE,
               "the code step stays open for the policy's time"),
    Transition(S.CODE_REQUIRED, E.TIME_PASSES, O.TIMED_OUT, S.EXPIRED, X.CLOSE,
               "an open code step expires after the policy's time"),
    Transition(S.AUTHENTICATED, E.LOG_OUT, O.DONE, S.CREDENTIALS, X.NONE,
               "logging out returns to the login mask"),
    Transition(S.LOCKED, E.START_OVER, O.DONE, S.CREDENTIALS, X.NONE,
               "a refused login can start again at the login mask"),
    Transition(S.EXPIRED, E.START_OVER, O.DONE, S.CREDENTIALS, X.NONE,
               "an expired login starts again at the login mask"),
)
del S, E, O, X


class FlowTable:
    """Look-ups and renderings of a transition table."""

    def __init__(self, rows: tuple[Transition, ...]) -> None:
        self.rows = rows
        self._index: dict[tuple[State, FlowEvent, Outcome], Transition] = {}
        for row in rows:
            key = (row.source, row.event, row.outcome)
            if key in self._index:
                raise ValueError(f"duplicate row for {key}")
            self._index[key] = row
        self.initial = State.CREDENTIALS
        self._events = {state: tuple(dict.fromkeys(r.event for r in rows if r.source is state)) for state in State}

    def events_from(self, state: State) -> list[FlowEvent]:
        """The events the flow accepts in ``state`` (table order)."""
        return list(self._events[state])

    def require_event(self, state: State, event: FlowEvent) -> None:
        if event not in self._events[state]:
            allowed = ", ".join(e.value for e in self.events_from(state)) or "nothing"
            raise TransitionNotAllowed(
                f"the flow has no '{event.value}' in state '{state.value}' (allowed: {allowed})")

    def lookup(self, state: State, event: FlowEvent, outcome: Outcome) -> Transition:
        try:
            return self._index[(state, event, outcome)]
        except KeyError:
            raise TransitionNotAllowed(
                f"the flow has no row for '{event.value}' with outcome '{outcome.value}' "
                f"in state '{state.value}'") from None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"from": r.source.value, "event": r.event.value, "outcome": r.outcome.value,
                              "to": r.target.value, "effect": r.effect.value, "rule": r.rule}
                             for r in self.rows])

    def to_mermaid(self) -> str:
        """The table as a Mermaid state diagram (drawn by :mod:`twofa_sim.diagram`)."""
        from .diagram import to_mermaid
        return to_mermaid(self)

    def _repr_markdown_(self) -> str:
        """One diagram per phase of a login (see :mod:`twofa_sim.diagram`)."""
        from .diagram import to_markdown
        return to_markdown(self)

    def __repr__(self) -> str:
        return f"FlowTable({len(self.rows)} transitions, {len(State)} states)"


FLOW = FlowTable(TRANSITIONS)
