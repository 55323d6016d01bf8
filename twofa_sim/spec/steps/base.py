"""The step type: one class per action of a scenario file, found by its YAML key.

A step type is a frozen dataclass that subclasses :class:`Step` with ``key="..."`` (the action's
key in the file). That one class knows everything about its action: ``parse`` reads it from YAML
(through the :class:`~twofa_sim.spec.scenario_file.StepParser`, which knows the users and devices
declared so far), ``describe`` writes the timeline's action column, and ``run`` carries it out on
the running scenario (:class:`~twofa_sim.spec.runner.ScenarioRun`) and fills in the step's record.
Subclassing registers it in :data:`STEP_TYPES`; the parser and the runner look nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import yaml

from ..reader import TAG, format_duration

if TYPE_CHECKING:
    from ..expectations import Expectation
    from ..records import StepRecord
    from ..runner import ScenarioRun
    from ..scenario_file import StepParser

#: Every step type by its YAML key, in the order the types were defined.
STEP_TYPES: dict[str, type["Step"]] = {}


@dataclass(frozen=True, kw_only=True)
class Step:
    """One line of the story. ``number`` counts from 1; ``line`` is where it starts in the file."""

    key: ClassVar[str] = ""

    number: int
    line: int
    note: str = ""
    expect: "Expectation | None" = None

    def __init_subclass__(cls, *, key: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if key is None:
            return
        if key in STEP_TYPES:
            raise TypeError(f"two step types for the key {key!r}: {STEP_TYPES[key].__name__} and {cls.__name__}")
        cls.key = key
        STEP_TYPES[key] = cls

    @property
    def subject(self) -> str | None:
        """The user the step is about (expectations default to it)."""
        return getattr(self, "user", None)

    @property
    def device_in_focus(self) -> str | None:
        """The device the step is about (device expectations default to it)."""
        return None

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> "Step":
        """The step from the value of its key; ``common`` holds ``number``, ``line`` and ``note``."""
        raise NotImplementedError

    def describe(self) -> str:
        """The action as the timeline shows it."""
        raise NotImplementedError

    def run(self, run: ScenarioRun, record: "StepRecord") -> None:
        """Carry the step out on the running scenario, filling in ``record`` (its actor and outcome)."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class CheckStep(Step):
    """A step with only ``expect`` (and maybe ``note``): checks, no action. It has no key of its own."""

    user: str | None = None

    def describe(self) -> str:
        return "checks" if self.expect else "note"

    def run(self, run: ScenarioRun, record: "StepRecord") -> None:
        record.actor = "check" if self.expect else "note"
        record.outcome = "-"


def is_scalar(node: yaml.Node) -> bool:
    """A single value that is not empty: ``login: alice`` rather than ``login: {user: alice}``."""
    return isinstance(node, yaml.ScalarNode) and node.tag != TAG + "null"


def signed(seconds: float) -> str:
    """A clock offset with its sign: ``+20s``, ``-45s``."""
    text = format_duration(seconds)
    return text if text.startswith("-") else "+" + text


def ahead(seconds: float) -> str:
    return "ahead" if seconds > 0 else "behind"
