"""Expectations: what a scenario says must hold after a step, one table entry per ``expect`` key.

Each key of ``expect`` is one :class:`ExpectationKey` in :data:`EXPECTATIONS`: what it is about
(a user's login, a device, the run), how its expected value is read from YAML, what it is compared
with after the step, how both are shown, and how they are compared. The reader, the runner, the
timeline and the format reference all take the keys from this table, so adding an expectation is
one entry here (``tests/test_scenario_parts.py`` adds one to a copy of the table and runs it).

The keys ``user``, ``tab`` and ``device`` are not checks: they say whom the checks are about.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

import yaml

from ..core.clock import iso
from ..core.events import EventKind
from ..core.old_names import EXPECTATION_KEYS
from ..login.attempt import LoginAttempt, StepResult
from ..login.flow import Outcome, Reason, State
from .reader import TAG, Reader, enum_options, format_duration
from .records import DEFAULT_TAB, StepFailed, StepRecord, tab_suffix

if TYPE_CHECKING:
    from ..login.backoffice import BackOffice
    from ..login.user import BackendUser
    from .runner import ScenarioRun
    from .scenario_file import StepParser

STATE_NAMES = enum_options(State)
OUTCOME_NAMES = enum_options(Outcome)
REASON_NAMES = enum_options(Reason) | {"none": Reason.NONE}
EVENT_NAMES = enum_options(EventKind)
SCAN_RESULTS = {"added": "added", "entry added": "added", "failed": "failed", "scan failed": "failed",
                "not added": "not added"}
PARAMETERS = {"algorithm": "algorithm", "digits": "digits", "period": "period"}
QUESTIONS = {name: name for name in ("none", "editor", "duplicate", "unsafe", "link")}

#: What a check is about: the focus it needs (a user, a device) or the run as a whole.
USER, DEVICE, RUN = "user", "device", "run"
#: The keys of ``expect`` that choose the focus of the checks rather than check anything.
FOCUS_KEYS = ("user", "tab", "device")


def show_value(value: Any) -> str:
    """A value as the timeline shows it: states and outcomes by name, reasons and booleans in words."""
    if isinstance(value, (State, Outcome)):
        return value.name
    if isinstance(value, Reason):
        return value.value or "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Expectation:
    """What must hold after a step: ``(key, value, line)`` triples in file order, about ``user``/``tab``.

    ``table`` is the expectation table the file was read with; the runner checks each key by it.
    """

    user: str | None
    tab: str
    items: tuple[tuple[str, Any, int], ...]
    device: str | None = None
    table: Mapping[str, "ExpectationKey"] = field(default_factory=lambda: EXPECTATIONS, compare=False, repr=False)


@dataclass(frozen=True)
class ExpectationKey:
    """One key of ``expect``.

    ``read(reader, node, key)`` gives the expected value from the YAML node; ``actual(after)``
    gives what holds after the step (:class:`After`: the run, whom the check is about, the step's
    record; it may raise :class:`~twofa_sim.spec.records.StepFailed` or a package error when there
    is nothing to look at); ``show`` writes either value for the timeline; ``matches(expected,
    actual)`` compares them.
    """

    about: str
    read: Callable[[Reader, yaml.Node, str], Any]
    actual: Callable[["After"], Any]
    show: Callable[[Any], str] = show_value
    matches: Callable[[Any, Any], bool] = operator.eq


# -- reading the expected value -------------------------------------------------------------------


def one_of(options: dict[str, Any]) -> Callable[[Reader, yaml.Node, str], Any]:
    """A reader for a name out of ``options`` (matched ignoring case, spaces, ``-`` and ``_``)."""
    return lambda reader, node, key: reader.choice(node, key, options)


def read_boolean(reader: Reader, node: yaml.Node, key: str) -> bool:
    return reader.boolean(node, key)


def read_text(reader: Reader, node: yaml.Node, key: str) -> str:
    return reader.text(node, key)


def read_count(reader: Reader, node: yaml.Node, key: str) -> int:
    return reader.integer(node, key, 0, 1_000_000_000)


def read_duration(reader: Reader, node: yaml.Node, key: str) -> float:
    return reader.duration(node, key)


def read_instant_or_none(reader: Reader, node: yaml.Node, key: str) -> float | None:
    if isinstance(node, yaml.ScalarNode) and (node.tag == TAG + "null" or node.value.lower() == "none"):
        return None
    return reader.instant(node, key)


def read_event_counts(reader: Reader, node: yaml.Node, key: str) -> tuple[tuple[EventKind, int], ...]:
    counts = {}
    for kind_text, (kind_node, value) in reader.mapping(node, key).items():
        kind = reader.choice(kind_node, "event kind", EVENT_NAMES)
        counts[kind] = reader.integer(value, f"count of {kind.value!r}", 0, 1_000_000_000)
    if not counts:
        raise reader.fail(node, f"{key} needs at least one 'event kind: count'")
    return tuple(counts.items())


def read_event_list(reader: Reader, node: yaml.Node, key: str) -> tuple[EventKind, ...]:
    return tuple(reader.choice(item, "event kind", EVENT_NAMES) for item in reader.sequence(node, key))


def read_parameters(reader: Reader, node: yaml.Node, key: str) -> tuple[str, ...]:
    return tuple(sorted({reader.choice(item, "parameter", PARAMETERS) for item in reader.sequence(node, key)}))


# -- what holds after the step --------------------------------------------------------------------


@dataclass(frozen=True)
class After:
    """What a check looks at after its step: the run, the expectation (whom it is about), the step's
    record and the value expected. Its properties raise :class:`StepFailed` when there is nothing
    to look at (no login in that tab, no scan yet); the check then fails with that reason."""

    run: ScenarioRun
    expectation: Expectation
    record: StepRecord
    expected: Any

    @property
    def office(self) -> BackOffice:
        return self.run.office

    @property
    def now(self) -> float:
        return self.run.office.clock.now()

    @property
    def login(self) -> LoginAttempt:
        """The login of the user and tab in focus."""
        user, tab = self.expectation.user, self.expectation.tab
        login = self.run.logins.get(self.run.key(user, tab))
        if login is None:
            raise StepFailed(f"{user} has no login" + tab_suffix(tab))
        return login

    @property
    def last_result(self) -> StepResult:
        """The result of that login's last flow step (there must be a login first)."""
        _ = self.login
        last = self.run.last.get(self.run.key(self.expectation.user, self.expectation.tab))
        if last is None:
            raise StepFailed(f"{self.expectation.user}'s login has no result yet")
        return last

    @property
    def user(self) -> BackendUser:
        return self.office.user(self.expectation.user)

    @property
    def lockout_end(self) -> float | None:
        """When the user's lock ends, by the enrolment's one lapse rule (None: not locked now)."""
        return self.user.enrolment.standing(self.now)[1]

    @property
    def scan_result(self) -> tuple[str, tuple[str, ...]]:
        """What the device in focus did on its last scan, key entry or move, and the parameters it changed."""
        device = self.expectation.device
        if device not in self.run.scan_results:
            raise StepFailed(f"{device} has not scanned yet")
        return self.run.scan_results[device]

    def event_counts(self, username: str | None = None) -> tuple[tuple[EventKind, int], ...]:
        """How many events of each expected kind the log holds (only the user's, given a username)."""
        counts = self.run.count_events()
        return tuple((kind, counts[kind if username is None else (kind, username)]) for kind, _ in self.expected)


def _qr_shown(after: After) -> bool:
    login, _ = after.login, after.last_result
    return login.state is State.ENROLMENT and login.screen is not None


def _locked_out_for(after: After) -> float:
    until = after.lockout_end
    return 0.0 if until is None else max(0.0, until - after.now)


def _newest(after: After):
    device = after.run.devices[after.expectation.device]
    if not device.app.entries:
        raise StepFailed(f"{device.name} holds no entry")
    return device, device.app.entries[-1]


def _open_question(after: After) -> str:
    """What the device's app asks now (its newest question), by the name the format uses."""
    app = after.run.devices[after.expectation.device].app
    return app.waiting(app.pending[-1]).question.name.lower() if app.pending else "none"


def _newest_entry(after: After) -> str:
    _, entry = _newest(after)
    counter = f", counter {entry.counter}" if entry.counter_based else ""
    return f"{entry.label} ({entry.settings_text()}{counter})"


def _code_shown(after: After) -> bool:
    device, entry = _newest(after)
    return device.app.code_shown(entry, device.now())


def _recovery_codes_left(after: After) -> int:
    recovery = after.user.enrolment.recovery
    return recovery.remaining if recovery else 0


# -- showing and comparing ------------------------------------------------------------------------


def show_instant(value: float | None) -> str:
    return "none" if value is None else f"{iso(value)} UTC"


def show_counts(value: tuple[tuple[EventKind, int], ...]) -> str:
    return "{" + ", ".join(f"{kind.value}: {count}" for kind, count in value) + "}"


def show_kinds(value: tuple[EventKind, ...]) -> str:
    return "[" + ", ".join(kind.value for kind in value) + "]"


def show_parameters(value: tuple[str, ...]) -> str:
    return "[" + ", ".join(sorted(value)) + "]"


def contains_text(expected: str, actual: Any) -> bool:
    return str(expected).casefold() in str(actual).casefold()


def within_half_a_second(expected: float | None, actual: float | None) -> bool:
    if expected is not None and actual is not None:
        return abs(expected - actual) < 0.5
    return expected == actual


# -- the table ------------------------------------------------------------------------------------

#: Every key ``expect`` may hold besides ``user``, ``tab`` and ``device``, in the order the format
#: reference lists them. Adding an expectation is adding one entry here.
EXPECTATIONS: dict[str, ExpectationKey] = {
    "error": ExpectationKey(RUN, read_text, lambda after: after.run.step_error or "no error",
                            show=repr, matches=contains_text),
    "state": ExpectationKey(USER, one_of(STATE_NAMES), lambda after: after.login.state),
    "outcome": ExpectationKey(USER, one_of(OUTCOME_NAMES), lambda after: after.last_result.outcome),
    "reason": ExpectationKey(USER, one_of(REASON_NAMES), lambda after: after.last_result.reason),
    "qr_shown": ExpectationKey(USER, read_boolean, _qr_shown),
    "message": ExpectationKey(USER, read_text, lambda after: after.last_result.message,
                              show=repr, matches=contains_text),
    "enrolled": ExpectationKey(USER, read_boolean, lambda after: after.user.enrolment.is_enrolled),
    "needs_2fa": ExpectationKey(USER, read_boolean, lambda after: after.office.needs_2fa(after.user)),
    "locked_out": ExpectationKey(USER, read_boolean, lambda after: after.lockout_end is not None),
    "locked_out_until": ExpectationKey(USER, read_instant_or_none, lambda after: after.lockout_end,
                                   show=show_instant, matches=within_half_a_second),
    "locked_out_for": ExpectationKey(USER, read_duration, _locked_out_for,
                                 show=lambda value: format_duration(round(value, 3)), matches=within_half_a_second),
    # the failed codes that count towards a lock now: a lock that has run out leaves none
    "failures": ExpectationKey(USER, read_count, lambda after: after.user.enrolment.failures_at(after.now)),
    "recovery_codes_left": ExpectationKey(USER, read_count, _recovery_codes_left),
    "events": ExpectationKey(RUN, read_event_counts, lambda after: after.event_counts(), show=show_counts),
    "user_events": ExpectationKey(USER, read_event_counts, lambda after: after.event_counts(after.user.username),
                                  show=show_counts),
    "step_events": ExpectationKey(RUN, read_event_list, lambda after: tuple(e.kind for e in after.record.events),
                                  show=show_kinds),
    "entries": ExpectationKey(DEVICE, read_count,
                              lambda after: len(after.run.devices[after.expectation.device].app.entries)),
    "scan": ExpectationKey(DEVICE, one_of(SCAN_RESULTS), lambda after: after.scan_result[0]),
    "app_changed": ExpectationKey(DEVICE, read_parameters, lambda after: tuple(sorted(set(after.scan_result[1]))),
                                  show=show_parameters),
    "question": ExpectationKey(DEVICE, one_of(QUESTIONS), _open_question),
    "newest_entry": ExpectationKey(DEVICE, read_text, _newest_entry, show=repr, matches=contains_text),
    "code_shown": ExpectationKey(DEVICE, read_boolean, _code_shown),
    "app_warning": ExpectationKey(DEVICE, read_text,
                                  lambda after: "; ".join(after.run.devices[after.expectation.device].warnings())
                                  or "none", show=repr, matches=contains_text),
}


def expect_keys(table: Mapping[str, ExpectationKey] = EXPECTATIONS) -> list[str]:
    """Every key ``expect`` may hold: the focus keys, then the table's."""
    return [*FOCUS_KEYS, *table]


def read_expectation(parser: StepParser, node: yaml.Node, step, table: Mapping[str, ExpectationKey] = EXPECTATIONS,
                     ) -> Expectation:
    """The ``expect`` mapping of ``step``, read with ``parser`` (it knows the users and devices so far).

    The checks are about the user and tab the mapping names, else the step's, else the user of the
    last step that had one; device checks about the device it names, else the step's.
    """
    reader: Reader = parser.reader
    old_names = {old: new for old, new in EXPECTATION_KEYS.items() if new in table}
    entries = reader.mapping(node, "expect", known=expect_keys(table), old_names=old_names)
    if not entries:
        raise reader.fail(node, "expect needs at least one check")
    if "user" in entries:
        user = parser.expected_user(entries["user"][1])
    else:
        user = step.subject or parser.subject
    tab = reader.name(entries["tab"][1], "expect.tab") if "tab" in entries else getattr(step, "tab", DEFAULT_TAB)
    device = parser.known_device(entries["device"][1]).name if "device" in entries else step.device_in_focus
    items: list[tuple[str, Any, int]] = []
    for name, (key, value) in entries.items():
        if name in FOCUS_KEYS:
            continue
        about = table[name].about
        if about == DEVICE and device is None:
            raise reader.fail(key, f"expect.{name} is about a device: add 'device: NAME'")
        if about == USER and user is None:
            raise reader.fail(key, f"expect.{name} is about a user: add 'user: NAME'")
        items.append((name, table[name].read(reader, value, name), key.start_mark.line + 1))
    return Expectation(user, tab, tuple(items), device, table)
