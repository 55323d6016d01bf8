"""Which steps of which stories change when the policy changes: one scenario run under two policies.

A product owner sees the consequence of a knob in their own stories: each scenario is played once
under policy A and once under policy B (a named preset such as ``gitlab``, or a YAML file of knobs),
with the scenario's own ``policy`` settings on top of each (a story about a SHA256 policy stays
about SHA256), and every step whose outcome, message or events differ is one row. Expectations
are not the question here: a story written for one policy may well fail under another.
"""

from __future__ import annotations

import dataclasses
import pathlib
from dataclasses import dataclass

from ..core.errors import PolicyError
from ..core.policy import Policy
from ..core.presets import PRESETS, preset
from ..render.tables import DIFF_COLUMNS
from .backoffice_file import policy_from
from .files import read_text
from .reader import Reader, ScenarioError
from .records import StepRecord
from .runner import run_scenario
from .scenario_file import Scenario

COLUMNS = DIFF_COLUMNS


@dataclass(frozen=True)
class NamedPolicy:
    """A policy and the name it was asked for by (a preset's name, or a file's path)."""

    name: str
    policy: Policy


def named_policy(spec: str) -> NamedPolicy:
    """A preset by name, or a YAML file of knobs (``window: 2``...) on top of the project's policy.

    A name that is neither a preset nor a readable file is a :class:`PolicyError` that lists the presets;
    a file with an unknown knob or a bad value is a :class:`ScenarioError` at its line.
    """
    if spec in PRESETS:
        return NamedPolicy(spec, preset(spec).policy)
    path = pathlib.Path(spec)
    try:
        is_file = path.is_file()
    except (OSError, ValueError):
        is_file = False
    if not is_file:
        raise PolicyError("policy", f"{spec!r} is neither a preset ({', '.join(PRESETS)}) nor a policy file")
    reader = Reader(spec)
    policy, _ = policy_from(reader, reader.compose(read_text(path, spec)), Policy())
    return NamedPolicy(spec, policy)


def under(scenario: Scenario, policy: Policy) -> Scenario:
    """The scenario with ``policy`` as its base: its own ``policy`` settings and scrypt cost still apply."""
    changes = dict(scenario.policy_overrides)
    changes.setdefault("kdf_log2_n", scenario.policy.kdf_log2_n)
    return dataclasses.replace(scenario, policy=policy.replace(**changes))


def _message(record: StepRecord) -> str:
    return record.result.message if record.result is not None else (record.error or "")


def _events(record: StepRecord) -> str:
    return "; ".join(e.kind.value + (f" ({e.reason})" if e.reason else "") for e in record.events)


def what_each_step_showed(scenario: Scenario, policy: Policy) -> list[tuple]:
    """Per step run, in order: number, line, action, outcome, message, events (a run stops at an error:
    its outcome says why)."""
    return [(r.number, r.line, r.action, f"stopped: {r.error}" if r.error else r.outcome, _message(r), _events(r))
            for r in run_scenario(under(scenario, policy)).records if not r.is_setup]


def step_differences(scenario: Scenario, a: Policy, b: Policy, *, seen_a: list[tuple] | None = None,
                     seen_b: list[tuple] | None = None) -> list[dict]:
    """The steps of ``scenario`` whose outcome, message or events differ between policies ``a`` and ``b``.

    A step one run never reached (the other stopped at an error) is shown as "not run". ``seen_a`` and
    ``seen_b`` are runs already made (:func:`what_each_step_showed`), so a story is not played twice.
    """
    seen_a = what_each_step_showed(scenario, a) if seen_a is None else seen_a
    seen_b = what_each_step_showed(scenario, b) if seen_b is None else seen_b
    not_run = ("not run", "", "")
    rows = []
    for index in range(max(len(seen_a), len(seen_b))):
        ref = seen_a[index] if index < len(seen_a) else seen_b[index]
        shown_a = seen_a[index][3:] if index < len(seen_a) else not_run
        shown_b = seen_b[index][3:] if index < len(seen_b) else not_run
        differs = [what for what, x, y in zip(("outcome", "message", "events"), shown_a, shown_b) if x != y]
        if differs:
            rows.append({"scenario": scenario.stem, "step": ref[0], "line": ref[1], "action": ref[2],
                         "what differs": ", ".join(differs),
                         "outcome A": shown_a[0], "outcome B": shown_b[0], "message A": shown_a[1],
                         "message B": shown_b[1], "events A": shown_a[2], "events B": shown_b[2]})
    return rows


class StoryRuns:
    """Stories played under policies, each story under each policy once: comparing several policies
    with one baseline plays the baseline's stories one time."""

    def __init__(self, scenarios: list[Scenario]) -> None:
        self.scenarios = list(scenarios)
        self._seen: dict[tuple[int, Policy], list[tuple]] = {}

    def seen(self, index: int, policy: Policy) -> list[tuple]:
        key = (index, policy)
        if key not in self._seen:
            self._seen[key] = what_each_step_showed(self.scenarios[index], policy)
        return self._seen[key]

    def diff(self, a: Policy, b: Policy) -> list[dict]:
        """:func:`step_differences` of every story, in order: one row per step that changes."""
        return [row for index, scenario in enumerate(self.scenarios)
                for row in step_differences(scenario, a, b, seen_a=self.seen(index, a), seen_b=self.seen(index, b))]


def stories_diff(scenarios: list[Scenario], a: Policy, b: Policy) -> list[dict]:
    """Every scenario under ``a`` and ``b``: one row per step that changes (see :func:`step_differences`)."""
    return StoryRuns(scenarios).diff(a, b)


__all__ = ["COLUMNS", "NamedPolicy", "named_policy", "under", "what_each_step_showed", "step_differences", "StoryRuns",
           "stories_diff", "ScenarioError"]
