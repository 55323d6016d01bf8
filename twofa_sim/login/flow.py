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
import functools
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping, NamedTuple


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
    the QR (:attr:`StateFacts.shows_qr`), whether taking it writes nothing
    (:meth:`FlowTable.writes_nothing`), and how its event names the outcome, the source and the
    target (their value and names, read once here rather than on every step)."""

    row: Transition
    methods: tuple[str, ...]
    shows_qr: bool
    writes_nothing: bool
    recorded_as: tuple[str, str, str]


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


PASSWORD_ORDER: tuple[Guard, ...] = (
    Guard(Outcome.BAD_CREDENTIALS, Reason.BAD_CREDENTIALS, lambda f: not f.password_ok,
          "a wrong password or an unknown username decides first, so nothing else is revealed",
          detail=lambda f: say("wrong_password") if f.user_known else say("unknown_username")),
    Guard(Outcome.IS_LOCKED_OUT, Reason.LOCKED_OUT, lambda f: f.locked_out,
          "a lockout holds even when 2FA stopped being required after it was set (flag unticked)",
          lockout=lambda f: f.locked_out_until),
    Guard(Outcome.NO_2FA_NEEDED, Reason.NONE, lambda f: not f.needs_2fa,
          "neither the company setting, nor the user's flag, nor a kept enrolment asks for 2FA"),
    Guard(Outcome.NEEDS_CODE, Reason.NONE, lambda f: f.enrolled, "an enrolled user types the app's code"),
    Guard(Outcome.NEEDS_ENROLMENT, Reason.NONE, lambda f: True, "everyone else enrols first"),
)
"""The order in which the password step's outcomes are decided."""

MALFORMED_RECORDED = 5
"""How many malformed codes of one login (from its password on) are recorded; more are refused
alike but leave no event and write nothing, so clicking Verify on "abc" endlessly costs nothing."""

_EVERY_CODE_CHECK = (      # what every code check asks first, whichever second factor is typed
    Guard(Outcome.TIMED_OUT, Reason.EXPIRED, lambda f: f.timed_out,
          "a code typed after the prompt closed is not checked"),
    Guard(Outcome.FACTOR_CHANGED, Reason.FACTOR_CHANGED, lambda f: f.factor_changed,
          "a prompt opened for a second factor that changed since (an admin reset, another tab) is not checked"),
    Guard(Outcome.IS_LOCKED_OUT, Reason.LOCKED_OUT, lambda f: f.locked_out, "a lockout refuses first, even a right code",
          lockout=lambda f: f.locked_out_until),
    Guard(Outcome.REJECTED, Reason.MALFORMED_AGAIN, lambda f: f.malformed and f.malformed_before >= MALFORMED_RECORDED,
          "a login's malformed codes beyond the first few are refused without a record: a flood costs nothing"),
    Guard(Outcome.REJECTED, Reason.MALFORMED, lambda f: f.malformed, "a text that cannot be a code is no guess"),
    Guard(Outcome.ACCEPTED, Reason.NONE, lambda f: f.matched, "a code that matches a step not used before",
          carries_time_step=True, detail=lambda f: step_offset_detail(f.step_offset)),
)

CODE_ORDER: tuple[Guard, ...] = _EVERY_CODE_CHECK + (
    Guard(Outcome.CLOCK_BEHIND, Reason.CLOCK_BEHIND, lambda f: f.clock_behind_by > 0,
          "a right code refused only because the last accepted step lies beyond the server's window is the "
          "server's clock set back, not a guess",
          detail=lambda f: say("clock_behind_by", seconds=f.clock_behind_by)),
    Guard(Outcome.LOCKS_OUT, Reason.REPLAY, lambda f: f.replay and f.at_limit,
          "a replay at the limit locks like a wrong code", lockout=lambda f: f.lockout_at_limit),
    Guard(Outcome.REJECTED, Reason.REPLAY, lambda f: f.replay, "a code whose steps were all used is a replay"),
    Guard(Outcome.LOCKS_OUT, Reason.WRONG_CODE, lambda f: f.at_limit, "the failure that reaches the limit locks",
          lockout=lambda f: f.lockout_at_limit),
    Guard(Outcome.REJECTED, Reason.WRONG_CODE, lambda f: True, "any other code is wrong"),
)
"""The order in which the code check's outcomes are decided (the app's code). The second factor only
finds the facts and proposes a change; the row of the outcome decides whether it is written."""

RECOVERY_CODE_ORDER: tuple[Guard, ...] = _EVERY_CODE_CHECK + (
    Guard(Outcome.LOCKS_OUT, Reason.UNKNOWN_RECOVERY_CODE, lambda f: f.at_limit,
          "wrong recovery codes count towards the lockout", lockout=lambda f: f.lockout_at_limit),
    Guard(Outcome.REJECTED, Reason.UNKNOWN_RECOVERY_CODE, lambda f: True,
          "an unknown or spent recovery code is refused"),
)
"""The same for a recovery code: no window, so no replay and no clock."""

TIME_PASSES_ORDER: tuple[Guard, ...] = (
    Guard(Outcome.TIMED_OUT, Reason.EXPIRED, lambda f: f.timed_out, "the prompt's time is up"),
    Guard(Outcome.STILL_OPEN, Reason.NONE, lambda f: True, "otherwise the prompt stays open"),
)
"""What time passing decides at an open prompt."""

CHECK = (Action.APPLY_CHECK,)
MALFORMED = (Action.NOTE_MALFORMED,)
LOCKOUT = (Action.APPLY_CHECK, Action.NOTE_LOCKOUT)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(State.CREDENTIALS, FlowEvent.SUBMIT_PASSWORD, Outcome.BAD_CREDENTIALS, State.CREDENTIALS,
               (), EventKind.PASSWORD_REJECTED, "bad_credentials",
               rule="a wrong username and a wrong password get one identical answer"),
    Transition(State.CREDENTIALS, FlowEvent.SUBMIT_PASSWORD, Outcome.NO_2FA_NEEDED, State.AUTHENTICATED,
               (Action.SIGN_IN,), EventKind.PASSWORD_ACCEPTED, "welcome",
               rule="neither the company setting nor the user's flag asks for 2FA"),
    Transition(State.CREDENTIALS, FlowEvent.SUBMIT_PASSWORD, Outcome.NEEDS_ENROLMENT, State.ENROLMENT,
               (Action.SHOW_QR,), EventKind.PASSWORD_ACCEPTED, "scan_qr",
               rule="first login: the QR appears only after a correct password"),
    Transition(State.CREDENTIALS, FlowEvent.SUBMIT_PASSWORD, Outcome.NEEDS_CODE, State.CODE_REQUIRED,
               (Action.OPEN_CODE_PROMPT,), EventKind.PASSWORD_ACCEPTED, "type_code",
               rule="later logins: the app's current code, no QR"),
    Transition(State.CREDENTIALS, FlowEvent.SUBMIT_PASSWORD, Outcome.IS_LOCKED_OUT, State.LOCKED_OUT,
               (), EventKind.LOGIN_REFUSED_LOCKED_OUT, "is_locked_out",
               rule="a locked-out user cannot log in until the lockout ends or an admin unlocks"),
    Transition(State.ENROLMENT, FlowEvent.SUBMIT_CODE, Outcome.ACCEPTED, State.AUTHENTICATED,
               (Action.APPLY_CHECK, Action.NOTE_ENROLMENT, Action.SIGN_IN), EventKind.CODE_ACCEPTED, "welcome",
               rule="enrolment completes only with a valid code"),
    Transition(State.ENROLMENT, FlowEvent.SUBMIT_CODE, Outcome.REJECTED, State.ENROLMENT,
               MALFORMED, EventKind.CODE_REJECTED, "malformed_code", reason=Reason.MALFORMED,
               rule="a malformed code is refused with its reason and is not a guess"),
    Transition(State.ENROLMENT, FlowEvent.SUBMIT_CODE, Outcome.REJECTED, State.ENROLMENT,
               (), None, "malformed_code", reason=Reason.MALFORMED_AGAIN,
               rule="more malformed codes from one login are refused alike, without a record"),
    Transition(State.ENROLMENT, FlowEvent.SUBMIT_CODE, Outcome.REJECTED, State.ENROLMENT,
               CHECK, EventKind.CODE_REJECTED, "wrong_code",
               rule="a wrong code leaves the user in enrolment, and counts"),
    Transition(State.ENROLMENT, FlowEvent.SUBMIT_CODE, Outcome.LOCKS_OUT, State.LOCKED_OUT,
               LOCKOUT, EventKind.CODE_REJECTED, "locks",
               rule="failed codes count towards the lockout, during enrolment too"),
    Transition(State.ENROLMENT, FlowEvent.SUBMIT_CODE, Outcome.IS_LOCKED_OUT, State.LOCKED_OUT,
               (), EventKind.LOGIN_REFUSED_LOCKED_OUT, "is_locked_out",
               rule="a lockout set by another login holds here too"),
    Transition(State.ENROLMENT, FlowEvent.SUBMIT_CODE, Outcome.TIMED_OUT, State.EXPIRED,
               (Action.CLOSE_CODE_PROMPT,), EventKind.EXPIRED, "expired",
               rule="a code typed after the prompt closed is not checked"),
    Transition(State.ENROLMENT, FlowEvent.SUBMIT_CODE, Outcome.FACTOR_CHANGED, State.EXPIRED,
               (Action.CLOSE_CODE_PROMPT,), EventKind.EXPIRED, "factor_changed",
               rule="a QR prompt whose secret was confirmed or replaced by another login, or reset by an admin, closes "
                    "instead of checking against the wrong secret"),
    Transition(State.ENROLMENT, FlowEvent.TIME_PASSES, Outcome.STILL_OPEN, State.ENROLMENT,
               (), None, "none",
               rule="the QR stays up while the prompt is open"),
    Transition(State.ENROLMENT, FlowEvent.TIME_PASSES, Outcome.TIMED_OUT, State.EXPIRED,
               (Action.CLOSE_CODE_PROMPT,), EventKind.EXPIRED, "expired",
               rule="the QR prompt expires after the policy's time"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.ACCEPTED, State.AUTHENTICATED,
               (Action.APPLY_CHECK, Action.SIGN_IN), EventKind.CODE_ACCEPTED, "welcome",
               rule="a valid code inside the window, not used before, signs in"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.REJECTED, State.CODE_REQUIRED,
               MALFORMED, EventKind.CODE_REJECTED, "malformed_code", reason=Reason.MALFORMED,
               rule="a malformed code is refused with its reason and is not a guess"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.REJECTED, State.CODE_REQUIRED,
               (), None, "malformed_code", reason=Reason.MALFORMED_AGAIN,
               rule="more malformed codes from one login are refused alike, without a record"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.REJECTED, State.CODE_REQUIRED,
               CHECK, EventKind.REPLAY_BLOCKED, "replay", reason=Reason.REPLAY,
               rule="a code whose step was already used is refused, and counts"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.REJECTED, State.CODE_REQUIRED,
               CHECK, EventKind.CODE_REJECTED, "wrong_code",
               rule="a wrong code is refused with its reason, and counts"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.LOCKS_OUT, State.LOCKED_OUT,
               LOCKOUT, EventKind.REPLAY_BLOCKED, "locks", reason=Reason.REPLAY,
               rule="a replay at the limit locks like a wrong code"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.LOCKS_OUT, State.LOCKED_OUT,
               LOCKOUT, EventKind.CODE_REJECTED, "locks",
               rule="the failed-code limit locks the user, across logins"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.IS_LOCKED_OUT, State.LOCKED_OUT,
               (), EventKind.LOGIN_REFUSED_LOCKED_OUT, "is_locked_out",
               rule="even a right code does not open a locked-out account"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.CLOCK_BEHIND, State.CODE_REQUIRED,
               (), EventKind.SERVER_CLOCK_BEHIND, "clock_behind",
               rule="a right code whose step the server already accepted, while the server's clock is behind that "
                    "step's window (its clock was set back), is refused without counting: the log tells ops"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.TIMED_OUT, State.EXPIRED,
               (Action.CLOSE_CODE_PROMPT,), EventKind.EXPIRED, "expired",
               rule="a code typed after the prompt closed is not checked"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.FACTOR_CHANGED, State.EXPIRED,
               (Action.CLOSE_CODE_PROMPT,), EventKind.EXPIRED, "factor_changed",
               rule="a code prompt whose user was reset by an admin closes instead of checking"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.ACCEPTED, State.AUTHENTICATED,
               (Action.APPLY_CHECK, Action.SIGN_IN), EventKind.RECOVERY_CODE_USED, "welcome",
               rule="an unused recovery code stands in for the code, once"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.REJECTED, State.CODE_REQUIRED,
               MALFORMED, EventKind.RECOVERY_CODE_REJECTED, "malformed_recovery_code", reason=Reason.MALFORMED,
               rule="a recovery code that cannot be one is refused and is not a guess"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.REJECTED, State.CODE_REQUIRED,
               (), None, "malformed_recovery_code", reason=Reason.MALFORMED_AGAIN,
               rule="more malformed recovery codes from one login are refused alike, without a record"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.REJECTED, State.CODE_REQUIRED,
               CHECK, EventKind.RECOVERY_CODE_REJECTED, "unknown_recovery_code",
               rule="an unknown or spent recovery code is refused"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.LOCKS_OUT, State.LOCKED_OUT,
               LOCKOUT, EventKind.RECOVERY_CODE_REJECTED, "locks",
               rule="wrong recovery codes count towards the lockout"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.IS_LOCKED_OUT, State.LOCKED_OUT,
               (), EventKind.LOGIN_REFUSED_LOCKED_OUT, "is_locked_out",
               rule="a recovery code does not open a locked-out account"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.TIMED_OUT, State.EXPIRED,
               (Action.CLOSE_CODE_PROMPT,), EventKind.EXPIRED, "expired",
               rule="a recovery code typed after the prompt closed is not checked"),
    Transition(State.CODE_REQUIRED, FlowEvent.SUBMIT_RECOVERY_CODE, Outcome.FACTOR_CHANGED, State.EXPIRED,
               (Action.CLOSE_CODE_PROMPT,), EventKind.EXPIRED, "factor_changed",
               rule="a recovery code typed after an admin reset is not checked"),
    Transition(State.CODE_REQUIRED, FlowEvent.TIME_PASSES, Outcome.STILL_OPEN, State.CODE_REQUIRED,
               (), None, "none",
               rule="the code prompt stays open for the policy's time"),
    Transition(State.CODE_REQUIRED, FlowEvent.TIME_PASSES, Outcome.TIMED_OUT, State.EXPIRED,
               (Action.CLOSE_CODE_PROMPT,), EventKind.EXPIRED, "expired",
               rule="an open code prompt expires after the policy's time"),
    Transition(State.AUTHENTICATED, FlowEvent.LOG_OUT, Outcome.DONE, State.CREDENTIALS,
               (), EventKind.LOGGED_OUT, "none",
               rule="logging out returns to the login mask"),
    Transition(State.LOCKED_OUT, FlowEvent.START_OVER, Outcome.DONE, State.CREDENTIALS,
               (), EventKind.LOGIN_STARTED, "none",
               rule="a refused login can start again at the login mask"),
    Transition(State.EXPIRED, FlowEvent.START_OVER, Outcome.DONE, State.CREDENTIALS,
               (), EventKind.LOGIN_STARTED, "none",
               rule="an expired login starts again at the login mask"),
)

ON_ENTER: Mapping[State, tuple[Action, ...]] = MappingProxyType({
    State.CREDENTIALS: (Action.CLOSE_CODE_PROMPT, Action.FORGET_LOGIN),
    State.AUTHENTICATED: (Action.CLOSE_CODE_PROMPT,),
    State.LOCKED_OUT: (Action.CLOSE_CODE_PROMPT,),
})
"""Actions run on entering a state, after the row's own: every state without an open prompt closes
it (the rows into "expired" close it themselves)."""

STATE_FACTS: Mapping[State, StateFacts] = MappingProxyType({
    State.CREDENTIALS: StateFacts(),
    State.ENROLMENT: StateFacts(prompt_open=True, shows_qr=True, instruction="scan_qr"),
    State.CODE_REQUIRED: StateFacts(prompt_open=True, instruction="type_code",
                                    page_title="Two-factor authentication: type the code"),
    State.AUTHENTICATED: StateFacts(page_title="Welcome to the back office"),
    State.LOCKED_OUT: StateFacts(),
    State.EXPIRED: StateFacts(),
})
"""What holds in each state (:class:`StateFacts`)."""

OUTCOME_FACTS: Mapping[Outcome, OutcomeFacts] = MappingProxyType({
    Outcome.BAD_CREDENTIALS: OutcomeFacts("bad credentials", "error"),
    Outcome.NO_2FA_NEEDED: OutcomeFacts("no 2FA needed", "ok"),
    Outcome.NEEDS_ENROLMENT: OutcomeFacts("not enrolled", "info"),
    Outcome.NEEDS_CODE: OutcomeFacts("enrolled", "info"),
    Outcome.ACCEPTED: OutcomeFacts("code accepted", "ok"),
    Outcome.REJECTED: OutcomeFacts("rejected", "error"),
    Outcome.LOCKS_OUT: OutcomeFacts("limit reached", "error"),
    Outcome.IS_LOCKED_OUT: OutcomeFacts("locked", "error"),
    Outcome.CLOCK_BEHIND: OutcomeFacts("clock behind", "error"),
    Outcome.TIMED_OUT: OutcomeFacts("timed out", "error"),
    Outcome.FACTOR_CHANGED: OutcomeFacts("factor reset", "error"),
    Outcome.STILL_OPEN: OutcomeFacts("still open", "info"),
    Outcome.DONE: OutcomeFacts("", "info"),  # no label: a finished login's rows are named by their event
})
"""How each outcome reads (:class:`OutcomeFacts`): the diagrams' labels and the messages' tone."""


class FlowTable:
    """Look-ups and renderings of a transition table, with its on-enter actions, per-state facts and
    decision orders.

    A table is immutable, as its rows are: what the engine runs for each row is worked out once,
    when the table is built, so a part changed in place would not be seen. Its mappings are
    read-only and its attributes cannot be set; :meth:`replace` makes a changed copy."""

    def __init__(self, rows: tuple[Transition, ...], on_enter: Mapping[State, tuple[Action, ...]] | None = None,
                 password_order: tuple[Guard, ...] = PASSWORD_ORDER,
                 code_order: tuple[Guard, ...] = CODE_ORDER,
                 time_passes_order: tuple[Guard, ...] = TIME_PASSES_ORDER,
                 recovery_code_order: tuple[Guard, ...] = RECOVERY_CODE_ORDER,
                 state_facts: Mapping[State, StateFacts] | None = None) -> None:
        part = functools.partial(object.__setattr__, self)
        part("rows", tuple(rows))
        part("on_enter", MappingProxyType({state: tuple(actions) for state, actions in
                                           (ON_ENTER if on_enter is None else on_enter).items()}))
        part("state_facts", MappingProxyType(dict(STATE_FACTS if state_facts is None else state_facts)))
        part("password_order", tuple(password_order))
        part("code_order", tuple(code_order))
        part("time_passes_order", tuple(time_passes_order))
        part("recovery_code_order", tuple(recovery_code_order))
        index: dict[tuple[State, FlowEvent, Outcome, Reason | None], Transition] = {}
        for row in self.rows:
            key = (row.source, row.event, row.outcome, row.reason)
            if key in index:
                raise ValueError(f"duplicate row for {key}")
            index[key] = row
        part("_index", index)
        part("initial", State.CREDENTIALS)
        part("final", State.AUTHENTICATED)  # where a login ends well (the diagrams' end marker)
        part("_events", {state: tuple(dict.fromkeys(r.event for r in self.rows if r.source is state))
                         for state in State})
        # What the engine runs for each row, by the row's identity (the table holds its rows), and
        # each decision order joined to the rows its guards lead to, per state and event (a cache,
        # filled on first use).
        part("_taken", {id(row): Taken(row, tuple(a.method for a in row.actions + self.entering(row.target)),
                                       self.facts_of(row.target).shows_qr, self.writes_nothing(row),
                                       (row.outcome.value, row.source.name, row.target.name))
                        for row in self.rows})
        part("_joined", {})

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a flow table cannot be changed in place (setting {name!r}): "
                             f"make a changed copy with replace(), e.g. FLOW.replace(rows=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a flow table cannot be changed in place (deleting {name!r}): "
                             f"make a changed copy with replace()")

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
            rows = ((guard, self._find(state, event, guard.outcome, guard.reason)) for guard in order)
            joined = self._joined[(state, event)] = (order, tuple(
                (guard.holds, guard, None if row is None else self._taken[id(row)]) for guard, row in rows))
        for holds, guard, taken in joined[1]:
            if holds(facts):
                observers.guard_taken(order, guard)
                if taken is None:
                    raise _no_row(state, event, guard.outcome)
                observers.row_taken(taken.row)
                return guard, taken
        raise TransitionNotAllowed(f"the flow decides no outcome in state '{state.value}' for {facts}")

    @staticmethod
    def decide(order: tuple[Guard, ...], facts: Facts) -> Guard | None:
        """The first guard of ``order`` that holds for ``facts``, or None."""
        guard = next((guard for guard in order if guard.holds(facts)), None)
        if guard is not None:
            observers.guard_taken(order, guard)
        return guard

    def replace(self, **changes) -> "FlowTable":
        """A copy with some of ``rows``, ``on_enter``, ``state_facts`` and the decision orders replaced."""
        parts = {"rows": self.rows, "on_enter": self.on_enter, "password_order": self.password_order,
                 "code_order": self.code_order, "time_passes_order": self.time_passes_order,
                 "recovery_code_order": self.recovery_code_order, "state_facts": self.state_facts}
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
