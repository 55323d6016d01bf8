"""The login flow, declared once as data.

One table of :class:`Transition` rows says, for each state, event and outcome (and, where it
matters, the reason), where the login goes, which named :class:`Action` s the engine runs, which
event it records and which message the user sees. States may have actions on entering them, and
the order in which each step's outcomes are decided is data too (:data:`PASSWORD_ORDER`,
:data:`CODE_ORDER`, :data:`RECOVERY_CODE_ORDER`, :data:`TIME_PASSES_ORDER`): the second factor
only finds facts and proposes a change, a guard order picks the outcome, and the row alone decides
whether the change is written (counted) or not. The engine (:class:`twofa_sim.login.attempt.LoginAttempt`) classifies an input
and then does only what the table says, so editing a copy of the table changes behaviour,
messages and events; the same table is drawn as Mermaid diagrams and shown as a table by :mod:`twofa_sim.render`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, NamedTuple


from ..core import observers
from ..core.errors import TransitionNotAllowed
from ..core.events import EventKind
from ..core.messages import NOTHING, Said, say


class State(enum.Enum):
    CREDENTIALS = "entering credentials"
    ENROLMENT = "enrolment (QR shown)"
    CODE_REQUIRED = "code required"
    AUTHENTICATED = "authenticated"
    LOCKED_OUT = "locked"
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
    LOCKS_OUT = "rejected, limit reached"
    IS_LOCKED_OUT = "user is locked"
    CLOCK_BEHIND = "refused, server clock behind"
    TIMED_OUT = "step timed out"
    FACTOR_CHANGED = "second factor changed"
    STILL_OPEN = "step still open"
    DONE = "done"


class Reason(enum.Enum):
    """Why an input was refused (shown in results and in the event log)."""

    NONE = ""
    BAD_CREDENTIALS = "bad credentials"
    MALFORMED = "malformed code"
    WRONG_CODE = "wrong code"
    REPLAY = "code already used"
    CLOCK_BEHIND = "server clock behind"
    UNKNOWN_RECOVERY_CODE = "unknown or used recovery code"
    LOCKED_OUT = "locked"
    EXPIRED = "step expired"
    FACTOR_CHANGED = "step opened for an earlier second factor"
    MALFORMED_AGAIN = "malformed code, not recorded again"


class Action(enum.Enum):
    """A named piece of the engine's work, run when a row is taken or a state entered (like
    python-statemachine's ``on=`` names): the engine runs its method ``_on_<name in lower case>``."""

    APPLY_CHECK = "write the check's change (count, lockout, remember the step, confirm, spend)"
    SHOW_QR = "show QR and secret, open the code prompt"
    OPEN_CODE_PROMPT = "open the code prompt"
    NOTE_ENROLMENT = "log: enrolment completed"
    SIGN_IN = "log: authenticated"
    NOTE_LOCKOUT = "log: locked out until"
    CLOSE_CODE_PROMPT = "close the code prompt"
    NOTE_MALFORMED = "count the login's malformed codes (not the user's failures)"
    FORGET_LOGIN = "forget the username and the login's malformed codes"

    @property
    def method(self) -> str:
        return _METHODS[self]


_METHODS = {action: "_on_" + action.name.lower() for action in Action}




@dataclass(frozen=True)
class StateFacts:
    """What holds in a state, for the engine and for whoever draws the login: whether a code prompt
    is open (its deadline runs), whether the QR and the secret are shown, and the message id of
    the instruction the prompt's window shows, and the title of the page (what a browser add-on
    reads from the tab). Which inputs a state takes is the table's (:meth:`FlowTable.events_from`)."""

    prompt_open: bool = False
    shows_qr: bool = False
    instruction: str = "none"
    page_title: str = "Login"


@dataclass(frozen=True)
class OutcomeFacts:
    """How an outcome reads wherever the login is drawn: a short label for the flow's diagrams and
    the tone of the message the login shows with it (good news, guidance, or a refusal)."""

    label: str
    tone: str  # "ok", "info" or "error": the colour of the message


@dataclass(frozen=True)
class Transition:
    """One row: in ``source``, on ``event``, when the input was classified as ``outcome`` (and,
    if set, ``reason``), go to ``target``, run ``actions``, record ``records`` and show the
    message ``message`` (an id of the message catalogue, :mod:`twofa_sim.core.messages`)."""

    source: State
    event: FlowEvent
    outcome: Outcome
    target: State
    actions: tuple[Action, ...]
    records: EventKind | None
    message: str
    rule: str
    reason: Reason | None = None        # None: any reason; a row for the exact reason wins

    @property
    def effect(self) -> str:
        """The actions in words (the table's "effect" column)."""
        return "; ".join(action.value for action in self.actions) or "-"


class Taken(NamedTuple):
    """A row as the engine takes it, worked out once per table: the row, the names of the engine's
    methods for its actions and then for its target's on-enter actions, whether the target shows
    the QR (:attr:`StateFacts.shows_qr`), and whether taking it writes nothing
    (:meth:`FlowTable.writes_nothing`)."""

    row: Transition
    methods: tuple[str, ...]
    shows_qr: bool
    writes_nothing: bool


class Facts(NamedTuple):
    """What the engine and the second factor found about an input before the table decides
    (computed once per input, nothing written). The guards of a decision order read them. (A
    named tuple: built once per code check, in C.)"""

    password_ok: bool = False
    user_known: bool = False
    locked_out: bool = False
    locked_out_until: float | None = None     # the lockout that stands now
    needs_2fa: bool = False
    enrolled: bool = False
    timed_out: bool = False
    factor_changed: bool = False
    malformed: bool = False
    malformed_before: int = 0             # malformed codes this login sent since its password
    matched: bool = False                 # the code matches a step of the window not used before
    replay: bool = False                  # the code matches only steps already used
    clock_behind_by: int = 0              # seconds the last accepted step lies beyond the window
    step_offset: int = 0                  # the matched step minus the server's step (the phone's clock)
    at_limit: bool = False                # one more counted failure reaches the limit
    lockout_at_limit: float | None = None    # the lockout a counted failure at the limit sets

    @property
    def clock_behind(self) -> bool:
        return self.clock_behind_by > 0


def _no_lockout(facts: Facts) -> float | None:
    return None


def _no_detail(facts: Facts) -> Said:
    return NOTHING


MATCHED_STEP = "matched_step"
"""The id of an accepted code's detail; its field ``offset`` is the step it matched, relative to the
server's ("matched step -1": the phone's clock about one period behind)."""


def step_offset_detail(offset: int) -> Said:
    """The accepted code's step relative to the server's, as the event's detail (nothing when on time)."""
    return say(MATCHED_STEP, offset=offset) if offset else NOTHING


@dataclass(frozen=True)
class Guard:
    """One entry of a decision order: the first guard whose test holds gives the outcome and
    reason, says which lockout end the result shows, whether it carries the matched step, and the
    event's detail."""

    outcome: Outcome
    reason: Reason
    holds: Callable[[Facts], bool]
    rule: str
    lockout: Callable[[Facts], float | None] = _no_lockout
    carries_time_step: bool = False
    detail: Callable[[Facts], Said] = _no_detail


S, E, O, R, A, K = State, FlowEvent, Outcome, Reason, Action, EventKind

PASSWORD_ORDER: tuple[Guard, ...] = (
    Guard(O.BAD_CREDENTIALS, R.BAD_CREDENTIALS, lambda f: not f.password_ok,
          "a wrong password or an unknown username decides first, so nothing else is revealed",
          detail=lambda f: say("wrong_password") if f.user_known else say("unknown_username")),
    Guard(O.IS_LOCKED_OUT, R.LOCKED_OUT, lambda f: f.locked_out,
          "a lockout holds even when 2FA stopped being required after it was set (flag unticked)",
          lockout=lambda f: f.locked_out_until),
    Guard(O.NO_2FA_NEEDED, R.NONE, lambda f: not f.needs_2fa,
          "neither the company setting, nor the user's flag, nor a kept enrolment asks for 2FA"),
    Guard(O.NEEDS_CODE, R.NONE, lambda f: f.enrolled, "an enrolled user types the app's code"),
    Guard(O.NEEDS_ENROLMENT, R.NONE, lambda f: True, "everyone else enrols first"),
)
"""The order in which the password step's outcomes are decided."""

MALFORMED_RECORDED = 5
"""How many malformed codes of one login (from its password on) are recorded; more are refused
alike but leave no event and write nothing, so clicking Verify on "abc" endlessly costs nothing."""

_EVERY_CODE_CHECK = (      # what every code check asks first, whichever second factor is typed
    Guard(O.TIMED_OUT, R.EXPIRED, lambda f: f.timed_out, "a code typed after the prompt closed is not checked"),
    Guard(O.FACTOR_CHANGED, R.FACTOR_CHANGED, lambda f: f.factor_changed,
          "a prompt opened for a second factor that changed since (an admin reset, another tab) is not checked"),
    Guard(O.IS_LOCKED_OUT, R.LOCKED_OUT, lambda f: f.locked_out, "a lockout refuses first, even a right code",
          lockout=lambda f: f.locked_out_until),
    Guard(O.REJECTED, R.MALFORMED_AGAIN, lambda f: f.malformed and f.malformed_before >= MALFORMED_RECORDED,
          "a login's malformed codes beyond the first few are refused without a record: a flood costs nothing"),
    Guard(O.REJECTED, R.MALFORMED, lambda f: f.malformed, "a text that cannot be a code is no guess"),
    Guard(O.ACCEPTED, R.NONE, lambda f: f.matched, "a code that matches a step not used before",
          carries_time_step=True, detail=lambda f: step_offset_detail(f.step_offset)),
)

CODE_ORDER: tuple[Guard, ...] = _EVERY_CODE_CHECK + (
    Guard(O.CLOCK_BEHIND, R.CLOCK_BEHIND, lambda f: f.clock_behind_by > 0,
          "a right code refused only because the last accepted step lies beyond the server's window is the "
          "server's clock set back, not a guess",
          detail=lambda f: say("clock_behind_by", seconds=f.clock_behind_by)),
    Guard(O.LOCKS_OUT, R.REPLAY, lambda f: f.replay and f.at_limit, "a replay at the limit locks like a wrong code",
          lockout=lambda f: f.lockout_at_limit),
    Guard(O.REJECTED, R.REPLAY, lambda f: f.replay, "a code whose steps were all used is a replay"),
    Guard(O.LOCKS_OUT, R.WRONG_CODE, lambda f: f.at_limit, "the failure that reaches the limit locks",
          lockout=lambda f: f.lockout_at_limit),
    Guard(O.REJECTED, R.WRONG_CODE, lambda f: True, "any other code is wrong"),
)
"""The order in which the code check's outcomes are decided (the app's code). The second factor only
finds the facts and proposes a change; the row of the outcome decides whether it is written."""

RECOVERY_CODE_ORDER: tuple[Guard, ...] = _EVERY_CODE_CHECK + (
    Guard(O.LOCKS_OUT, R.UNKNOWN_RECOVERY_CODE, lambda f: f.at_limit, "wrong recovery codes count towards the lockout",
          lockout=lambda f: f.lockout_at_limit),
    Guard(O.REJECTED, R.UNKNOWN_RECOVERY_CODE, lambda f: True, "an unknown or spent recovery code is refused"),
)
"""The same for a recovery code: no window, so no replay and no clock."""

TIME_PASSES_ORDER: tuple[Guard, ...] = (
    Guard(O.TIMED_OUT, R.EXPIRED, lambda f: f.timed_out, "the prompt's time is up"),
    Guard(O.STILL_OPEN, R.NONE, lambda f: True, "otherwise the prompt stays open"),
)
"""What time passing decides at an open prompt."""

CHECK = (A.APPLY_CHECK,)
MALFORMED = (A.NOTE_MALFORMED,)
LOCKOUT = (A.APPLY_CHECK, A.NOTE_LOCKOUT)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.CREDENTIALS, E.SUBMIT_PASSWORD, O.BAD_CREDENTIALS, S.CREDENTIALS, (), K.PASSWORD_REJECTED,
               "bad_credentials", "a wrong username and a wrong password get one identical answer"),
    Transition(S.CREDENTIALS, E.SUBMIT_PASSWORD, O.NO_2FA_NEEDED, S.AUTHENTICATED, (A.SIGN_IN,),
               K.PASSWORD_ACCEPTED, "welcome", "neither the company setting nor the user's flag asks for 2FA"),
    Transition(S.CREDENTIALS, E.SUBMIT_PASSWORD, O.NEEDS_ENROLMENT, S.ENROLMENT, (A.SHOW_QR,),
               K.PASSWORD_ACCEPTED, "scan_qr", "first login: the QR appears only after a correct password"),
    Transition(S.CREDENTIALS, E.SUBMIT_PASSWORD, O.NEEDS_CODE, S.CODE_REQUIRED, (A.OPEN_CODE_PROMPT,),
               K.PASSWORD_ACCEPTED, "type_code", "later logins: the app's current code, no QR"),
    Transition(S.CREDENTIALS, E.SUBMIT_PASSWORD, O.IS_LOCKED_OUT, S.LOCKED_OUT, (), K.LOGIN_REFUSED_LOCKED_OUT,
               "is_locked_out", "a locked-out user cannot log in until the lockout ends or an admin unlocks"),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.ACCEPTED, S.AUTHENTICATED,
               (A.APPLY_CHECK, A.NOTE_ENROLMENT, A.SIGN_IN), K.CODE_ACCEPTED, "welcome",
               "enrolment completes only with a valid code"),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.REJECTED, S.ENROLMENT, MALFORMED, K.CODE_REJECTED, "malformed_code",
               "a malformed code is refused with its reason and is not a guess", R.MALFORMED),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.REJECTED, S.ENROLMENT, (), None, "malformed_code",
               "more malformed codes from one login are refused alike, without a record", R.MALFORMED_AGAIN),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.REJECTED, S.ENROLMENT, CHECK, K.CODE_REJECTED, "wrong_code",
               "a wrong code leaves the user in enrolment, and counts"),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.LOCKS_OUT, S.LOCKED_OUT, LOCKOUT, K.CODE_REJECTED, "locks",
               "failed codes count towards the lockout, during enrolment too"),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.IS_LOCKED_OUT, S.LOCKED_OUT, (), K.LOGIN_REFUSED_LOCKED_OUT, "is_locked_out",
               "a lockout set by another login holds here too"),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.TIMED_OUT, S.EXPIRED, (A.CLOSE_CODE_PROMPT,), K.EXPIRED, "expired",
               "a code typed after the prompt closed is not checked"),
    Transition(S.ENROLMENT, E.SUBMIT_CODE, O.FACTOR_CHANGED, S.EXPIRED, (A.CLOSE_CODE_PROMPT,), K.EXPIRED,
               "factor_changed", "a QR prompt whose secret was confirmed or replaced by another login, or reset "
               "by an admin, closes instead of checking against the wrong secret"),
    Transition(S.ENROLMENT, E.TIME_PASSES, O.STILL_OPEN, S.ENROLMENT, (), None, "none",
               "the QR stays up while the prompt is open"),
    Transition(S.ENROLMENT, E.TIME_PASSES, O.TIMED_OUT, S.EXPIRED, (A.CLOSE_CODE_PROMPT,), K.EXPIRED, "expired",
               "the QR prompt expires after the policy's time"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.ACCEPTED, S.AUTHENTICATED, (A.APPLY_CHECK, A.SIGN_IN),
               K.CODE_ACCEPTED, "welcome", "a valid code inside the window, not used before, signs in"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.REJECTED, S.CODE_REQUIRED, MALFORMED, K.CODE_REJECTED,
               "malformed_code", "a malformed code is refused with its reason and is not a guess", R.MALFORMED),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.REJECTED, S.CODE_REQUIRED, (), None, "malformed_code",
               "more malformed codes from one login are refused alike, without a record", R.MALFORMED_AGAIN),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.REJECTED, S.CODE_REQUIRED, CHECK, K.REPLAY_BLOCKED, "replay",
               "a code whose step was already used is refused, and counts", R.REPLAY),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.REJECTED, S.CODE_REQUIRED, CHECK, K.CODE_REJECTED, "wrong_code",
               "a wrong code is refused with its reason, and counts"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.LOCKS_OUT, S.LOCKED_OUT, LOCKOUT, K.REPLAY_BLOCKED, "locks",
               "a replay at the limit locks like a wrong code", R.REPLAY),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.LOCKS_OUT, S.LOCKED_OUT, LOCKOUT, K.CODE_REJECTED, "locks",
               "the failed-code limit locks the user, across logins"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.IS_LOCKED_OUT, S.LOCKED_OUT, (), K.LOGIN_REFUSED_LOCKED_OUT, "is_locked_out",
               "even a right code does not open a locked-out account"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.CLOCK_BEHIND, S.CODE_REQUIRED, (), K.SERVER_CLOCK_BEHIND,
               "clock_behind", "a right code whose step the server already accepted, while the server's clock is "
               "behind that step's window (its clock was set back), is refused without counting: the log tells ops"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.TIMED_OUT, S.EXPIRED, (A.CLOSE_CODE_PROMPT,), K.EXPIRED, "expired",
               "a code typed after the prompt closed is not checked"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_CODE, O.FACTOR_CHANGED, S.EXPIRED, (A.CLOSE_CODE_PROMPT,), K.EXPIRED,
               "factor_changed", "a code prompt whose user was reset by an admin closes instead of checking"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.ACCEPTED, S.AUTHENTICATED, (A.APPLY_CHECK, A.SIGN_IN),
               K.RECOVERY_CODE_USED, "welcome", "an unused recovery code stands in for the code, once"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.REJECTED, S.CODE_REQUIRED, MALFORMED,
               K.RECOVERY_CODE_REJECTED, "malformed_recovery_code",
               "a recovery code that cannot be one is refused and is not a guess", R.MALFORMED),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.REJECTED, S.CODE_REQUIRED, (), None,
               "malformed_recovery_code", "more malformed recovery codes from one login are refused alike, "
               "without a record", R.MALFORMED_AGAIN),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.REJECTED, S.CODE_REQUIRED, CHECK,
               K.RECOVERY_CODE_REJECTED, "unknown_recovery_code", "an unknown or spent recovery code is refused"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.LOCKS_OUT, S.LOCKED_OUT, LOCKOUT, K.RECOVERY_CODE_REJECTED, "locks",
               "wrong recovery codes count towards the lockout"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.IS_LOCKED_OUT, S.LOCKED_OUT, (), K.LOGIN_REFUSED_LOCKED_OUT,
               "is_locked_out", "a recovery code does not open a locked-out account"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.TIMED_OUT, S.EXPIRED, (A.CLOSE_CODE_PROMPT,), K.EXPIRED,
               "expired", "a recovery code typed after the prompt closed is not checked"),
    Transition(S.CODE_REQUIRED, E.SUBMIT_RECOVERY_CODE, O.FACTOR_CHANGED, S.EXPIRED, (A.CLOSE_CODE_PROMPT,), K.EXPIRED,
               "factor_changed", "a recovery code typed after an admin reset is not checked"),
    Transition(S.CODE_REQUIRED, E.TIME_PASSES, O.STILL_OPEN, S.CODE_REQUIRED, (), None, "none",
               "the code prompt stays open for the policy's time"),
    Transition(S.CODE_REQUIRED, E.TIME_PASSES, O.TIMED_OUT, S.EXPIRED, (A.CLOSE_CODE_PROMPT,), K.EXPIRED, "expired",
               "an open code prompt expires after the policy's time"),
    Transition(S.AUTHENTICATED, E.LOG_OUT, O.DONE, S.CREDENTIALS, (), K.LOGGED_OUT, "none",
               "logging out returns to the login mask"),
    Transition(S.LOCKED_OUT, E.START_OVER, O.DONE, S.CREDENTIALS, (), K.LOGIN_STARTED, "none",
               "a refused login can start again at the login mask"),
    Transition(S.EXPIRED, E.START_OVER, O.DONE, S.CREDENTIALS, (), K.LOGIN_STARTED, "none",
               "an expired login starts again at the login mask"),
)

ON_ENTER: dict[State, tuple[Action, ...]] = {
    S.CREDENTIALS: (A.CLOSE_CODE_PROMPT, A.FORGET_LOGIN),
    S.AUTHENTICATED: (A.CLOSE_CODE_PROMPT,),
    S.LOCKED_OUT: (A.CLOSE_CODE_PROMPT,),
}
"""Actions run on entering a state, after the row's own: every state without an open prompt closes
it (the rows into "expired" close it themselves)."""

STATE_FACTS: dict[State, StateFacts] = {
    S.CREDENTIALS: StateFacts(),
    S.ENROLMENT: StateFacts(prompt_open=True, shows_qr=True, instruction="scan_qr"),
    S.CODE_REQUIRED: StateFacts(prompt_open=True, instruction="type_code",
                                page_title="Two-factor authentication: type the code"),
    S.AUTHENTICATED: StateFacts(page_title="Welcome to the back office"),
    S.LOCKED_OUT: StateFacts(),
    S.EXPIRED: StateFacts(),
}
"""What holds in each state (:class:`StateFacts`)."""

OUTCOME_FACTS: dict[Outcome, OutcomeFacts] = {
    O.BAD_CREDENTIALS: OutcomeFacts("bad credentials", "error"),
    O.NO_2FA_NEEDED: OutcomeFacts("no 2FA needed", "ok"),
    O.NEEDS_ENROLMENT: OutcomeFacts("not enrolled", "info"),
    O.NEEDS_CODE: OutcomeFacts("enrolled", "info"),
    O.ACCEPTED: OutcomeFacts("code accepted", "ok"),
    O.REJECTED: OutcomeFacts("rejected", "error"),
    O.LOCKS_OUT: OutcomeFacts("limit reached", "error"),
    O.IS_LOCKED_OUT: OutcomeFacts("locked", "error"),
    O.CLOCK_BEHIND: OutcomeFacts("clock behind", "error"),
    O.TIMED_OUT: OutcomeFacts("timed out", "error"),
    O.FACTOR_CHANGED: OutcomeFacts("factor reset", "error"),
    O.STILL_OPEN: OutcomeFacts("still open", "info"),
    O.DONE: OutcomeFacts("", "info"),  # no label: a finished login's rows are named by their event
}
"""How each outcome reads (:class:`OutcomeFacts`): the diagrams' labels and the messages' tone."""

del S, E, O, R, A, K


class FlowTable:
    """Look-ups and renderings of a transition table, with its on-enter actions and decision orders."""

    def __init__(self, rows: tuple[Transition, ...], on_enter: dict[State, tuple[Action, ...]] | None = None,
                 password_order: tuple[Guard, ...] = PASSWORD_ORDER,
                 code_order: tuple[Guard, ...] = CODE_ORDER,
                 time_passes_order: tuple[Guard, ...] = TIME_PASSES_ORDER,
                 recovery_code_order: tuple[Guard, ...] = RECOVERY_CODE_ORDER) -> None:
        self.rows = tuple(rows)
        self.on_enter = dict(ON_ENTER if on_enter is None else on_enter)
        self.password_order, self.code_order = password_order, code_order
        self.time_passes_order, self.recovery_code_order = time_passes_order, recovery_code_order
        self._index: dict[tuple[State, FlowEvent, Outcome, Reason | None], Transition] = {}
        for row in self.rows:
            key = (row.source, row.event, row.outcome, row.reason)
            if key in self._index:
                raise ValueError(f"duplicate row for {key}")
            self._index[key] = row
        self.initial = State.CREDENTIALS
        self.final = State.AUTHENTICATED  # where a login ends well (the diagrams' end marker)
        self.state_facts = STATE_FACTS
        self._events = {state: tuple(dict.fromkeys(r.event for r in self.rows if r.source is state))
                        for state in State}
        # What the engine runs for each row, by the row's identity (the table holds its rows), and
        # each decision order joined to the rows its guards lead to, per state and event (on first use).
        self._taken = {id(row): Taken(row, tuple(a.method for a in row.actions + self.entering(row.target)),
                                      self.facts_of(row.target).shows_qr, self.writes_nothing(row))
                       for row in self.rows}
        self._joined: dict[tuple[State, FlowEvent], tuple[tuple[Guard, ...], tuple[tuple, ...]]] = {}

    @staticmethod
    def outcome_facts(outcome: Outcome) -> OutcomeFacts:
        """How ``outcome`` reads: its diagram label and its message's tone."""
        return OUTCOME_FACTS[outcome]

    def facts_of(self, state: State) -> StateFacts:
        """What holds in ``state``: an open prompt, a QR shown, the prompt's instruction."""
        return self.state_facts[state]

    def events_from(self, state: State) -> list[FlowEvent]:
        """The events the flow accepts in ``state`` (table order)."""
        return list(self._events[state])

    def require_event(self, state: State, event: FlowEvent) -> None:
        if event not in self._events[state]:
            allowed = ", ".join(e.value for e in self.events_from(state)) or "nothing"
            raise TransitionNotAllowed(
                f"the flow has no '{event.value}' in state '{state.value}' (allowed: {allowed})")

    def lookup(self, state: State, event: FlowEvent, outcome: Outcome, reason: Reason | None = None) -> Transition:
        """The row for the exact reason if there is one, else the row for any reason."""
        row = self._find(state, event, outcome, reason)
        if row is None:
            raise _no_row(state, event, outcome)
        observers.row_taken(row)
        return row

    def _find(self, state: State, event: FlowEvent, outcome: Outcome, reason: Reason | None) -> Transition | None:
        row = self._index.get((state, event, outcome, reason)) if reason is not None else None
        return row or self._index.get((state, event, outcome, None))

    def taken(self, row: Transition) -> Taken:
        """What the engine runs for ``row``, a row of this table."""
        return self._taken[id(row)]

    def decide_in(self, state: State, event: FlowEvent, order: tuple[Guard, ...], facts: Facts) -> tuple[Guard, Taken]:
        """:meth:`decide` and :meth:`lookup` in one: the first guard of ``order`` that holds for
        ``facts``, and the row its outcome and reason lead to in ``state`` on ``event``. Each guard's
        row is looked up once per state, event and order (a step then only tests guards);
        observers hear of the guard and the row as from :meth:`decide` and :meth:`lookup`."""
        joined = self._joined.get((state, event))
        if joined is None or joined[0] is not order:
            joined = self._joined[(state, event)] = (order, tuple(
                (guard.holds, guard, self._find(state, event, guard.outcome, guard.reason)) for guard in order))
        for holds, guard, row in joined[1]:
            if holds(facts):
                observers.guard_taken(order, guard)
                if row is None:
                    raise _no_row(state, event, guard.outcome)
                observers.row_taken(row)
                return guard, self._taken[id(row)]
        raise TransitionNotAllowed(f"the flow decides no outcome in state '{state.value}' for {facts}")

    @staticmethod
    def decide(order: tuple[Guard, ...], facts: Facts) -> Guard | None:
        """The first guard of ``order`` that holds for ``facts``, or None."""
        guard = next((guard for guard in order if guard.holds(facts)), None)
        if guard is not None:
            observers.guard_taken(order, guard)
        return guard

    def replace(self, **changes) -> "FlowTable":
        """A copy with some of ``rows``, ``on_enter`` and the decision orders replaced."""
        parts = {"rows": self.rows, "on_enter": self.on_enter, "password_order": self.password_order,
                 "code_order": self.code_order, "time_passes_order": self.time_passes_order,
                 "recovery_code_order": self.recovery_code_order}
        unknown = sorted(set(changes) - set(parts))
        if unknown:
            raise TypeError(f"a flow table has no part {unknown[0]!r} (parts: {', '.join(parts)})")
        return FlowTable(**{**parts, **changes})

    def entering(self, state: State) -> tuple[Action, ...]:
        return self.on_enter.get(state, ())

    def writes_nothing(self, row: Transition) -> bool:
        """Taking ``row`` writes nothing into the store: no action of its own or on entering its
        target, no event (a flood of malformed codes, a poll while the prompt is still open)."""
        return not row.actions and row.records is None and not self.entering(row.target)

    def __repr__(self) -> str:
        return f"FlowTable({len(self.rows)} transitions, {len(State)} states)"


def _no_row(state: State, event: FlowEvent, outcome: Outcome) -> TransitionNotAllowed:
    return TransitionNotAllowed(f"the flow has no row for '{event.value}' with outcome '{outcome.value}' "
                                f"in state '{state.value}'")


FLOW = FlowTable(TRANSITIONS)
