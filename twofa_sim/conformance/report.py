"""The conformance report: a scenario played on the spec and on a target, compared step by step.

Both plays see the same steps on the same clock; each step that shows something is compared on
three things: the outcome (accepted / refused / done), the message class (accepted / wrong /
replay / locked / expired) and the state of the login. A row is a step where any of them differs,
or that the target could not express; steps where both agree are counted, not listed (``every``
lists them too). ``twofa-sim conform`` prints it as text or CSV; the notebook shows it as a table.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from ..core.clock import Clock
from ..spec.scenario_file import Scenario
from .play import PlayedStep, TargetFactory, play
from .project_target import ProjectTarget
from .target import Observation

#: Columns of the table, in order (the CSV's header).
COLUMNS = ("scenario", "step", "line", "action", "spec", "target", "differs in", "target says")

#: Why a row is there, when it is not a difference in outcome, message or state.
NOT_EXPRESSIBLE = "not expressible"
SAME = "-"


def spec_target(scenario: Scenario, clock: Clock) -> ProjectTarget:
    """The project's back office, with the scenario's policy and seed: the specification."""
    return ProjectTarget(clock, policy=scenario.policy, seed=scenario.seed)


def django_two_factor_target(scenario: Scenario, clock: Clock):
    """django-two-factor-auth's site, fresh for the scenario (needs the ``peers`` extra)."""
    from .django_target import DjangoTwoFactorTarget

    return DjangoTwoFactorTarget(clock)


#: The targets ``twofa-sim conform --target`` knows, by name.
TARGETS: dict[str, TargetFactory] = {
    "twofa-sim": spec_target,
    "django-two-factor-auth": django_two_factor_target,
}


def shown(observation: Observation | None) -> str:
    """An observation in one cell: ``refused · wrong · CODE_REQUIRED`` (empty parts left out)."""
    if observation is None:
        return ""
    return " · ".join(part for part in (observation.outcome, observation.message, observation.state) if part)


@dataclass(frozen=True)
class Row:
    """One step of one scenario on both: what each showed, and what differs (or why it is not expressible)."""

    scenario: str
    step: int
    line: int
    action: str
    spec: str
    target: str
    differs: str
    spec_words: str = ""
    target_words: str = ""

    @property
    def agrees(self) -> bool:
        return self.differs == SAME

    def cells(self) -> tuple:
        return (self.scenario, self.step, self.line, self.action, self.spec, self.target, self.differs,
                self.target_words)

    def as_dict(self) -> dict:
        """The row as the table's columns (plain values, for a table or a file)."""
        return dict(zip(COLUMNS, self.cells()))


def differences(spec: Observation | None, target: Observation | None) -> list[str]:
    """The parts of two observations that differ: outcome, message, state."""
    if spec is None or target is None:
        return [] if spec is target else ["outcome"]
    parts = []
    for name, field in (("outcome", "outcome"), ("message", "message"), ("state", "state")):
        if getattr(spec, field) != getattr(target, field):
            parts.append(name)
    return parts


def compare(name: str, spec: Sequence[PlayedStep], target: Sequence[PlayedStep]) -> list[Row]:
    """Every step of both plays side by side (they played the same steps, in the same order)."""
    if [(s.number, s.line) for s in spec] != [(t.number, t.line) for t in target]:
        raise RuntimeError(f"{name}: the two plays did not play the same steps")
    rows = []
    for s, t in zip(spec, target):
        if t.not_expressible:
            differs = NOT_EXPRESSIBLE
        elif s.not_expressible:
            differs = f"{NOT_EXPRESSIBLE} on the spec"
        elif not (s.compared or t.compared):
            continue
        else:
            differs = ", ".join(differences(s.observation, t.observation)) or SAME
        rows.append(Row(name, s.number, s.line, s.action, shown(s.observation) or s.not_expressible,
                        shown(t.observation) or t.not_expressible, differs,
                        s.observation.words if s.observation else "", t.observation.words if t.observation else ""))
    return rows


@dataclass(frozen=True)
class Conformance:
    """A scenario on the spec and on one target: the rows, and the plays they come from."""

    scenario: Scenario
    target: str
    rows: list[Row]

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def differing(self) -> list[Row]:
        return [r for r in self.rows if not r.agrees]

    @property
    def agreeing(self) -> list[Row]:
        return [r for r in self.rows if r.agrees]

    @property
    def conforms(self) -> bool:
        return not self.differing

    def row_at(self, line: int) -> Row:
        """The row of the step that starts at ``line`` of the file."""
        for row in self.rows:
            if row.line == line:
                return row
        raise KeyError(f"{self.scenario.path}: no compared step at line {line}")


def conform(scenario: Scenario, target: str = "django-two-factor-auth") -> Conformance:
    """``scenario`` played on the spec and on ``target``, compared step by step."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
    label = scenario_label(scenario)
    return Conformance(scenario, target, compare(label, play(scenario, spec_target),
                                                 play(scenario, TARGETS[target])))


def scenario_label(scenario: Scenario) -> str:
    """The scenario's file name without folder and suffix (``05_replay``)."""
    return scenario.stem


def summary(results: Iterable[Conformance]) -> list[dict]:
    """One line per scenario: steps compared, agreeing, differing, not expressible."""
    lines = []
    for result in results:
        lines.append({"scenario": scenario_label(result.scenario), "steps compared": len(result.rows),
                      "agree": len(result.agreeing),
                      "differ": sum(1 for r in result.differing if r.differs != NOT_EXPRESSIBLE),
                      "not expressible": sum(1 for r in result.differing if r.differs == NOT_EXPRESSIBLE)})
    return lines


def rows_of(results: Iterable[Conformance], *, every: bool = False) -> list[Row]:
    return [r for result in results for r in (result.rows if every else result.differing)]


def as_csv(rows: Iterable[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.cells())
    return buffer.getvalue()


def as_text(results: Sequence[Conformance], *, every: bool = False) -> str:
    """Per scenario: a heading with the counts, then one block per listed step."""
    out: list[str] = []
    for result, counts in zip(results, summary(results)):
        out.append(f"{counts['scenario']}: {counts['steps compared']} steps compared on {result.target}: "
                   f"{counts['agree']} agree, {counts['differ']} differ, "
                   f"{counts['not expressible']} not expressible")
        for row in (result.rows if every else result.differing):
            where = "setup" if row.step == 0 else f"step {row.step}"
            out.append(f"  {where} (line {row.line}): {row.action}")
            out.append(f"      spec:   {row.spec}")
            out.append(f"      target: {row.target}" + (f"  ({row.target_words})" if row.target_words else ""))
            out.append(f"      differs in: {row.differs}")
    return "\n".join(out) + "\n"


FORMATS: dict[str, Callable[..., str]] = {"text": as_text, "csv": lambda results, every=False: as_csv(
    rows_of(results, every=every))}
