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
from .backoffice_file import policy_from
from .files import read_text
from .reader import Reader, ScenarioError
from .records import StepRecord
from .runner import run_scenario
from .scenario_file import Scenario

COLUMNS = ["scenario", "step", "line", "action", "what differs", "outcome A", "outcome B", "message A", "message B",
           "events A", "events B"]


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


def step_differences(scenario: Scenario, a: Policy, b: Policy) -> list[dict]:
    """The steps of ``scenario`` whose outcome, message or events differ between policies ``a`` and ``b``.

    A step one run never reached (the other stopped at an error) is shown as "not run".
    """
    records_a = [r for r in run_scenario(under(scenario, a)).records if not r.is_setup]
    records_b = [r for r in run_scenario(under(scenario, b)).records if not r.is_setup]
    rows = []
    for index, step in enumerate(scenario.steps):
        ra = records_a[index] if index < len(records_a) else None
        rb = records_b[index] if index < len(records_b) else None
        if ra is None and rb is None:
            break
        seen_a = (ra.outcome, _message(ra), _events(ra)) if ra else ("not run", "", "")
        seen_b = (rb.outcome, _message(rb), _events(rb)) if rb else ("not run", "", "")
        differs = [what for what, x, y in zip(("outcome", "message", "events"), seen_a, seen_b) if x != y]
        if differs:
            ref = ra or rb
            rows.append({"scenario": scenario.stem, "step": ref.number, "line": ref.line, "action": ref.action,
                         "what differs": ", ".join(differs),
                         "outcome A": seen_a[0], "outcome B": seen_b[0], "message A": seen_a[1],
                         "message B": seen_b[1], "events A": seen_a[2], "events B": seen_b[2]})
    return rows


def stories_diff(scenarios: list[Scenario], a: Policy, b: Policy) -> list[dict]:
    """:func:`step_differences` of every scenario, in order: one row per step that changes."""
    return [row for scenario in scenarios for row in step_differences(scenario, a, b)]


__all__ = ["COLUMNS", "NamedPolicy", "named_policy", "under", "step_differences", "stories_diff", "ScenarioError"]
