"""Every scenario in data/scenarios runs and holds; together they cover every rule of the flow."""

from __future__ import annotations

import functools
import pathlib

import pytest

from twofa_sim import EventKind, Outcome, Reason
from twofa_sim.login.flow import FLOW
from twofa_sim.spec.scenario import (DeviceClockStep, PolicyStep, ScenarioResult, load_scenario, run_scenario)

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "data" / "scenarios").glob("*.yaml"))


@functools.cache
def result_of(path: pathlib.Path) -> ScenarioResult:
    return run_scenario(load_scenario(path))


def all_results() -> list[ScenarioResult]:
    return [result_of(path) for path in SCENARIOS]


def test_there_are_at_least_twelve_scenarios_and_an_annotated_example():
    names = [p.name for p in SCENARIOS]
    assert len(names) >= 13 and names[0] == "00_annotated_example.yaml"
    assert all(p.suffix == ".yaml" for p in (ROOT / "data" / "scenarios").iterdir())


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_the_scenario_holds(path):
    result = result_of(path)
    assert result.passed, "\n" + "\n".join(result.failures()) + "\n\n" + result.timeline()
    assert result.checks, "a scenario without checks proves nothing"
    assert result.scenario.description, "say what the scenario shows"


def test_names_are_unique():
    names = [r.scenario.name for r in all_results()]
    assert len(set(names)) == len(names)


def test_together_they_take_every_row_of_the_transition_table():
    taken = {t for r in all_results() for t in r.transitions}
    missing = [f"{row.source.name} --{row.event.name}/{row.outcome.name}--> {row.target.name}"
               for row in FLOW.rows if (row.source, row.event, row.outcome) not in taken]
    assert missing == []


def events(result: ScenarioResult) -> list[EventKind]:
    return [e.kind for e in result.office.events]


def reasons(result: ScenarioResult) -> set[Reason]:
    return {r.result.reason for r in result.records if r.result is not None}


def accepted_from_skewed_device(result: ScenarioResult, accepted: bool) -> bool:
    offsets = {d.name: d.clock_offset for d in result.scenario.devices}
    for step in result.scenario.steps:
        if isinstance(step, DeviceClockStep):
            offsets[step.device] = step.offset
        record = next(r for r in result.records if r.number == step.number)
        if record.device is not None and offsets[record.device] != 0 and record.code_accepted == accepted:
            if accepted or record.result.reason is Reason.WRONG_CODE:
                return True
    return False


def addon_rejected_under_sha256(result: ScenarioResult) -> bool:
    apps = {d.name: d.app for d in result.scenario.devices}
    return result.scenario.policy.algorithm == "SHA256" and any(
        r.device and apps[r.device] == "authenticator-addon" and r.result.reason is Reason.WRONG_CODE
        for r in result.records)


# Each topic the issues name, and what a scenario must show for it.
TOPICS = {
    "first login": lambda r: EventKind.QR_SHOWN in events(r) and EventKind.ENROLMENT_COMPLETED in events(r),
    "next login": lambda r: any(t[2] is Outcome.NEEDS_CODE for t in r.transitions)
    and any(t[2] is Outcome.ACCEPTED and t[0].name == "CODE_REQUIRED" for t in r.transitions),
    "wrong password": lambda r: EventKind.PASSWORD_REJECTED in events(r),
    "wrong code": lambda r: Reason.WRONG_CODE in reasons(r) and Reason.MALFORMED in reasons(r),
    "replay": lambda r: EventKind.REPLAY_BLOCKED in events(r),
    "lockout and unlock": lambda r: EventKind.LOCKED_OUT in events(r) and EventKind.UNLOCKED in events(r),
    "expiry": lambda r: EventKind.EXPIRED in events(r),
    "recovery code": lambda r: EventKind.RECOVERY_CODE_USED in events(r),
    "lost phone and admin reset": lambda r: EventKind.TWOFA_RESET in events(r)
    and events(r)[events(r).index(EventKind.TWOFA_RESET):].count(EventKind.ENROLMENT_COMPLETED) >= 1,
    "force flag unticked": lambda r: any(e.kind is EventKind.FORCE_FLAG_CHANGED and e.detail == "unticked"
                                         for e in r.office.events),
    "company-wide setting": lambda r: EventKind.COMPANY_SETTING_CHANGED in events(r),
    "clock skew inside the window": lambda r: accepted_from_skewed_device(r, True),
    "clock skew beyond the window": lambda r: accepted_from_skewed_device(r, False),
    "the add-on with a SHA256 policy": addon_rejected_under_sha256,
    "device clock correction": lambda r: any(e.kind is EventKind.CLOCK_CORRECTED and e.outcome == "corrected"
                                             for e in r.office.events),
    "duplicate scans": lambda r: any(len(d.app.entries) > 1 for d in r.devices.values()),
    "a policy changed mid-story": lambda r: any(isinstance(s, PolicyStep) for s in r.scenario.steps),
}


@pytest.mark.parametrize("topic", TOPICS)
def test_each_topic_of_the_issues_has_a_scenario(topic):
    shown_by = [r.scenario.stem for r in all_results() if TOPICS[topic](r)]
    assert shown_by, f"no scenario shows {topic}"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_a_scenario_run_again_records_the_same_events(path):
    """Scenarios are deterministic: a second run passes and leaves the very same event log (their
    speed is the benchmark's business, not a test's)."""
    first, second = (run_scenario(load_scenario(path)) for _ in range(2))
    assert first.passed and second.passed
    assert first.office.events.snapshot() == second.office.events.snapshot()
