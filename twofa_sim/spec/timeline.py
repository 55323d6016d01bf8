"""The timeline: a scenario run as the terminal shows it, one line per step with its checks.

``time  actor  action  outcome`` in fixed columns (time is the server's, UTC, at the start of the
step), a ``-- DATE`` line when the day changes, the checks below each step (``ok`` or ``FAIL``)
and a summary line. The writer works line by line, so the command can print a step as it happens.
"""

from __future__ import annotations

import math
from typing import Protocol

from ..core.clock import iso
from .records import Check, StepRecord
from .scenario_file import Scenario

TIME_WIDTH, ACTOR_WIDTH, ACTION_WIDTH = 8, 14, 52


class RunOutcome(Protocol):
    """What the timeline needs of a finished run (a :class:`~twofa_sim.spec.runner.ScenarioResult`)."""

    scenario: Scenario
    records: list[StepRecord]
    not_run: int

    @property
    def passed(self) -> bool: ...

    @property
    def checks(self) -> list[Check]: ...


def _short_time(seconds: float) -> str:
    """``09:00:20``, with milliseconds only when the time is not a whole second."""
    text = iso(seconds)[11:]
    fraction = seconds - math.floor(seconds)
    return text if fraction < 0.0005 else f"{text}.{int(round(fraction * 1000)):03d}"


def format_record(record: StepRecord, *, show_checks: bool = True) -> list[str]:
    """The timeline lines of one step: ``time  actor  action  outcome`` and its checks."""
    action = record.action
    lines = [f"  {_short_time(record.time):<{TIME_WIDTH}}  {record.actor:<{ACTOR_WIDTH}}  "
             f"{action:<{ACTION_WIDTH}}  {record.outcome}".rstrip()]
    if len(action) > ACTION_WIDTH and record.outcome:  # the outcome keeps its column, on a line of its own
        lines = [lines[0][:-len(record.outcome)].rstrip(), " " * (2 + TIME_WIDTH + 2 + ACTOR_WIDTH + 2 + ACTION_WIDTH + 2)
                 + record.outcome]
    indent = " " * (2 + TIME_WIDTH + 2)
    if record.note:
        lines.insert(0, f"{indent}# {record.note}")
    for check in record.checks:
        if show_checks or not check.ok:
            lines.append(f"{indent}{'ok  ' if check.ok else 'FAIL'}  {check}")
    if record.error is not None:
        lines.append(f"{indent}ERROR {record.error}")
    return lines


def timeline_header(scenario: Scenario) -> list[str]:
    """The scenario's name and file, its start, seed and policy, and the column heads."""
    knobs = ", ".join(f"{k}={v!r}" for k, v in scenario.policy_overrides) or "defaults"
    lines = [f"== {scenario.name} ({scenario.path})",
             f"   starts {iso(scenario.start)} UTC, seed {scenario.seed}, policy: {knobs}"]
    lines.append(f"  {'time':<{TIME_WIDTH}}  {'actor':<{ACTOR_WIDTH}}  {'action':<{ACTION_WIDTH}}  outcome")
    return lines


class TimelineWriter:
    """Turns records into timeline lines as they come, with a date line whenever the day changes."""

    def __init__(self, scenario: Scenario, *, show_checks: bool = True) -> None:
        self.day = iso(scenario.start)[:10]
        self.show_checks = show_checks

    def lines(self, record: StepRecord) -> list[str]:
        lines = []
        if iso(record.time)[:10] != self.day:
            self.day = iso(record.time)[:10]
            lines.append(f"  -- {self.day}")
        return lines + format_record(record, show_checks=self.show_checks)


def format_timeline(result: RunOutcome, *, show_checks: bool = True) -> list[str]:
    """The whole timeline of a finished run: header, every step, summary."""
    lines = timeline_header(result.scenario)
    writer = TimelineWriter(result.scenario, show_checks=show_checks)
    for record in result.records:
        lines.extend(writer.lines(record))
    lines.append(summary_line(result))
    return lines


def summary_line(result: RunOutcome) -> str:
    """``PASS path: 9 steps, 12 checks`` (and what failed, errors, steps not run)."""
    steps = sum(1 for r in result.records if not r.is_setup)
    checks = result.checks
    failed = sum(1 for c in checks if not c.ok)
    errors = sum(1 for r in result.records if r.error is not None)
    verdict = "PASS" if result.passed else "FAIL"
    parts = [f"{steps} steps", f"{len(checks)} checks"]
    if failed:
        parts.append(f"{failed} failed")
    if errors:
        parts.append(f"{errors} error")
    if result.not_run:
        parts.append(f"{result.not_run} not run")
    return f"{verdict} {result.scenario.path}: " + ", ".join(parts)


