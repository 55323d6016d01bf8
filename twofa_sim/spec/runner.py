"""Running a scenario: a fresh back office, every step in order, the checks after each.

:func:`run_scenario` plays a :class:`~twofa_sim.spec.scenario_file.Scenario` on a back office
with a pinned clock and seeded secrets, so a run is deterministic. Each step carries itself out
(:meth:`Step.run <twofa_sim.spec.steps.Step.run>`) on the :class:`ScenarioRun`, which holds what the story
has opened so far (logins by user and tab, devices, recovery codes issued, what each device last
scanned); each expectation is checked by its entry in the expectation table. The result is a
:class:`ScenarioResult`: the records of every step, the QR codes shown and the back office.
"""

from __future__ import annotations

import pathlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from ..apps.authenticator import ImportResult
from ..apps.device import Device
from ..login.screen import EnrolmentScreen
from ..core.clock import Clock, iso
from ..core.errors import TwofaSimError
from ..core.events import Event, EventKind
from ..core.messages import Said
from ..core.secret_source import SecretSource, SeededSecretSource
from ..login.attempt import LoginAttempt, StepResult
from ..login.backoffice import BackOffice
from ..login.flow import FlowEvent, Outcome, Reason, State
from ..render.tables import events_table
from .expectations import After
from .records import DEFAULT_TAB, Check, QrShown, StepFailed, StepRecord
from .scenario_file import DeviceSpec, Scenario
from .steps import Step
from .steps.base import ahead, signed
from .timeline import format_timeline


@dataclass
class ScenarioResult:
    """A finished run: its records (setup lines first), the QR codes shown, the back office and devices."""

    scenario: Scenario
    office: BackOffice
    records: list[StepRecord]
    qrs: list[QrShown]
    not_run: int = 0
    devices: dict[str, Device] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(r.ok for r in self.records) and self.not_run == 0

    @property
    def checks(self) -> list[Check]:
        return [c for r in self.records for c in r.checks]

    @property
    def transitions(self) -> list[tuple[State, FlowEvent, Outcome]]:
        """Every row of the flow's transition table the run took, as (state, event, outcome), in order."""
        return [t for r in self.records for t in r.transitions]

    def failures(self) -> list[str]:
        """One line per failed check or error, naming the step."""
        lines = []
        for record in self.records:
            if record.error is not None:
                lines.append(f"{self.scenario.path}: {record.label()}: error: {record.error}")
            for check in record.checks:
                if not check.ok:
                    lines.append(f"{self.scenario.path}: {record.label()}: {check} (line {check.line})")
        if self.not_run:
            lines.append(f"{self.scenario.path}: {self.not_run} later step(s) not run")
        return lines

    def timeline(self, *, show_checks: bool = True) -> str:
        return "\n".join(format_timeline(self, show_checks=show_checks))

    def write_artifacts(self, directory: str | pathlib.Path) -> list[pathlib.Path]:
        """Every QR shown as ``qr-<user>-<n>.png`` and the event log as ``events.csv``."""
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for qr in self.qrs:
            target = directory / qr.filename
            qr.screen.qr_image().save(target, format="PNG")
            written.append(target)
        target = directory / "events.csv"
        events_table(self.office.events).to_csv(target)
        written.append(target)
        return written


def describe_result(result: StepResult) -> str:
    """A flow step's result as the timeline's outcome column shows it: ``rejected (wrong code) -> ENROLMENT``."""
    text = result.outcome.value
    if result.reason is not Reason.NONE and result.reason.value not in text:
        text += f" ({result.reason.value})"
    text += f" -> {result.state.name}"
    if result.locked_out_until is not None and result.outcome in (Outcome.LOCKS_OUT, Outcome.IS_LOCKED_OUT):
        text += f" until {iso(result.locked_out_until)[11:]}"
    return text


class ScenarioRun:
    """The state of one scenario while it runs: what the steps act on and the expectations look at."""

    def __init__(self, scenario: Scenario, office: BackOffice,
                 on_record: Callable[[StepRecord], None] | None) -> None:
        self.scenario = scenario
        self.office = office
        self.on_record = on_record
        self.logins: dict[tuple[str, str], LoginAttempt] = {}
        self.last: dict[tuple[str, str], StepResult] = {}
        self.devices: dict[str, Device] = {}
        self.scan_results: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.step_error: str | None = None
        self.qrs: list[QrShown] = []
        self.records: list[StepRecord] = []
        self._recovery_codes: dict[str, list[str]] = {}
        self._device_specs = {d.name: d for d in scenario.devices}
        self._qr_counts: Counter[str] = Counter()
        self._step_start = 0
        # events counted by kind and by (kind, user) as the log grows: an expectation about counts
        # then costs the same at step 40,000 as at step 1 (counting the whole log each time does not)
        self._event_counts: Counter = Counter()
        self._events_counted = 0

    # -- what steps and expectations use ----------------------------------------------------------

    @staticmethod
    def key(user: str, tab: str) -> tuple[str, str]:
        return user.casefold(), tab

    def open_login(self, user: str, tab: str) -> LoginAttempt:
        """A new login at the mask in the user's tab (replacing the tab's old one)."""
        login = self.office.start_login()
        self.logins[self.key(user, tab)] = login
        return login

    def login_of(self, user: str, tab: str) -> LoginAttempt:
        login = self.logins.get(self.key(user, tab))
        if login is None:
            where = "" if tab == DEFAULT_TAB else f" in tab {tab!r}"
            raise StepFailed(f"{user} has no open login{where}: add a 'login: {user}' step first")
        return login

    def fire(self, login: LoginAttempt, event: FlowEvent, call: Callable[[], StepResult],
             record: StepRecord) -> StepResult:
        """One flow event on a login, remembering which row of the table it took."""
        source = login.state
        result = call()
        record.transitions.append((source, event, result.outcome))
        return result

    def step_events(self) -> list[Event]:
        """The events the step running now has added to the log so far."""
        return self.office.events[self._step_start:]

    def note_result(self, user: str, tab: str, result: StepResult, record: StepRecord, step_number: int) -> None:
        """The flow step's result is the login's last one and the record's outcome (with a QR shown, if any)."""
        self.last[self.key(user, tab)] = result
        record.result = result
        record.outcome = describe_result(result)
        if any(e.kind is EventKind.QR_SHOWN for e in record.events):
            login = self.logins[self.key(user, tab)]
            self._qr_counts[user.casefold()] += 1
            qr = QrShown(login.username or user, self._qr_counts[user.casefold()], step_number,
                         self.office.clock.now(), login.screen)
            self.qrs.append(qr)
            record.qr = qr
            record.outcome += ", QR shown"

    def shown_screen(self, user: str, tab: str) -> EnrolmentScreen:
        """The enrolment screen the user's login shows now (what a device can scan or copy)."""
        login = self.login_of(user, tab)
        if login.state is not State.ENROLMENT or login.screen is None:
            raise StepFailed(f"{user}'s login shows no QR code (state {login.state.name}): nothing to scan; "
                             "use 'image: FILE' to scan something else")
        return login.screen

    def remember_recovery_codes(self, user: str, codes: list[str]) -> None:
        self._recovery_codes[user.casefold()] = codes

    def recovery_codes_of(self, user: str) -> list[str]:
        """The recovery codes last issued to the user in this scenario (none if none were)."""
        return self._recovery_codes.get(user.casefold(), [])

    def device_spec(self, name: str) -> DeviceSpec:
        return self._device_specs[name]

    def install(self, spec: DeviceSpec) -> str:
        """The device with its app, now; the action the timeline shows."""
        owner = self.office.find_user(spec.owner)
        device = Device(spec.name, spec.owner, self.office.clock, offset=spec.clock_offset, app=spec.app,
                        events=self.office.events, company=owner.company if owner else "")
        self.devices[spec.name] = device
        offset = (f", clock {signed(spec.clock_offset)} off ({ahead(spec.clock_offset)})"
                  if spec.clock_offset else "")
        return f"installs {device.app.profile.title} as {spec.name}{offset}"

    def note_scan(self, device: str, outcome: str, changed: tuple[str, ...]) -> None:
        """What the device's last scan, key entry or move did (``added``, ``not added``, ``failed``)."""
        self.scan_results[device] = (outcome, changed)

    def note_import(self, device: str, result: ImportResult, record: StepRecord) -> None:
        self.note_scan(device, "added" if result.added else "not added", tuple(a.field for a in result.adjustments))
        record.outcome = ("entry " if result.added else "") + result.describe()

    def note_clock(self, detail: Said) -> None:
        self.office.events.record(self.office.clock.now(), EventKind.CLOCK_MOVED, "scenario", detail=detail)

    def after_time_moved(self, record: StepRecord) -> str:
        """Every login with an open QR or code prompt looks at the clock; the outcome says which closed."""
        closed = []
        for (user, tab), login in self.logins.items():
            if FlowEvent.TIME_PASSES in login.allowed_events:
                result = self.fire(login, FlowEvent.TIME_PASSES, login.poll, record)
                self.last[(user, tab)] = result
                if result.outcome is Outcome.TIMED_OUT:
                    closed.append(login.username or user)
        now = f"now {iso(self.office.clock.now())[11:]}"
        return now + (f"; open prompt expired for {', '.join(closed)}" if closed else "")

    def count_events(self) -> Counter:
        """Counts of events by kind and by (kind, user), brought up to date with the log."""
        for event in self.office.events[self._events_counted:]:
            self._event_counts[event.kind] += 1
            self._event_counts[(event.kind, event.user)] += 1
        self._events_counted = len(self.office.events)
        return self._event_counts

    # -- the story --------------------------------------------------------------------------------

    def emit(self, record: StepRecord) -> None:
        self.records.append(record)
        if self.on_record is not None:
            self.on_record(record)

    def setup(self) -> None:
        """The header's companies, users and devices (those without an ``install`` step), as setup lines."""
        office = self.office
        for company in self.scenario.companies:
            mark = len(office.events)
            office.create_company(company.name, company.force_2fa_for_all)
            setting = "on" if company.force_2fa_for_all else "off"
            self.emit(StepRecord(0, company.line, office.clock.now(), "admin",
                                 f"creates company {company.name} (2FA for all users: {setting})", "done",
                                 events=office.events[mark:]))
        for user in self.scenario.users:
            mark = len(office.events)
            office.create_user(user.name, user.password, company=user.company, force_2fa=user.force_2fa)
            flag = "ticked" if user.force_2fa else "not ticked"
            self.emit(StepRecord(0, user.line, office.clock.now(), "admin",
                                 f"creates user {user.name} (Force 2 factor auth. {flag})", "done",
                                 events=office.events[mark:]))
        for spec in self.scenario.devices:
            if not spec.installed_by_step:
                mark = len(office.events)
                action = self.install(spec)
                self.emit(StepRecord(0, spec.line, office.clock.now(), spec.owner, action, "done",
                                     events=office.events[mark:]))

    def run_step(self, step: Step) -> StepRecord:
        """The step carried out and its expectations checked; an error the step expects is its outcome."""
        office = self.office
        actor = getattr(step, "user", None) or "-"
        record = StepRecord(step.number, step.line, office.clock.now(), actor, step.describe(), "", note=step.note)
        self._step_start = len(office.events)
        try:
            step.run(self, record)
        except StepFailed as failure:
            record.error = str(failure)
        except TwofaSimError as error:
            record.error = f"{type(error).__name__}: {error}"
        record.events = self.step_events()
        self.step_error = record.error
        if record.error is not None and step.expect is not None and any(k == "error" for k, _, _ in step.expect.items):
            record.outcome = f"refused: {record.error}"
            record.error = None  # an error the file expects is an outcome like any other
        if record.error is None and step.expect is not None:
            record.checks = self.check(step, record)
        if not record.outcome:
            record.outcome = "error" if record.error else "done"
        return record

    def check(self, step: Step, record: StepRecord) -> list[Check]:
        """Each expectation of the step, by its entry in the table the file was read with."""
        expectation = step.expect
        assert expectation is not None
        checks = []
        for name, expected, line in expectation.items:
            key = expectation.table[name]
            try:
                actual: Any = key.actual(After(self, expectation, record, expected))
            except (StepFailed, TwofaSimError) as failure:
                checks.append(Check(name, key.show(expected), f"nothing ({failure})", False, line))
                continue
            checks.append(Check(name, key.show(expected), key.show(actual), key.matches(expected, actual), line))
        return checks


def run_scenario(scenario: Scenario, *, start: float | None = None, secret_source: SecretSource | None = None,
                 on_record: Callable[[StepRecord], None] | None = None) -> ScenarioResult:
    """Play ``scenario`` on a fresh back office and check every expectation.

    The clock is pinned at the scenario's ``start`` and secrets come from a
    :class:`SeededSecretSource` with its ``seed``, so a run is deterministic; ``start`` and
    ``secret_source`` replace them (the demo without ``--seed`` uses the wall clock and real
    randomness). ``on_record`` sees each timeline line as soon as it happens. A step that cannot
    be carried out (for example typing a code with no login open) is an error: it is recorded and
    the remaining steps are not run.
    """
    office = BackOffice(policy=scenario.policy, clock=Clock.at(scenario.start if start is None else start),
                        secret_source=secret_source or SeededSecretSource(scenario.seed))
    run = ScenarioRun(scenario, office, on_record)
    run.setup()
    not_run = 0
    for index, step in enumerate(scenario.steps):
        record = run.run_step(step)
        run.emit(record)
        if record.error is not None:
            not_run = len(scenario.steps) - index - 1
            break
    return ScenarioResult(scenario, office, run.records, run.qrs, not_run, run.devices)
