"""Steps about time: time passes for everyone, or the server's clock jumps to an instant.

Open QR and code prompts look at the clock when time moves (unless the ``wait`` says ``poll:
false``: a page without a timer) and close when due; every move of the clock is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from ...core.clock import iso
from ...core.messages import say
from ..reader import format_duration
from ..records import StepRecord
from .base import Step

if TYPE_CHECKING:
    from ..runner import ScenarioRun
    from ..scenario_file import StepParser


@dataclass(frozen=True, kw_only=True)
class WaitStep(Step, key="wait"):
    """Time passes. With ``poll`` (the default) open screens look at the clock and close when due."""

    seconds: float
    poll: bool = True

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        r = parser.reader
        if isinstance(node, yaml.MappingNode):
            entries = r.mapping(node, "wait", known=["for", "poll"], required=["for"])
            poll = r.boolean(entries["poll"][1], "poll") if "poll" in entries else True
            return cls(seconds=r.duration(entries["for"][1], "wait.for"), poll=poll, **common)
        return cls(seconds=r.duration(node, "wait"), **common)

    def describe(self) -> str:
        quiet = " (screens do not look at the clock)" if not self.poll else ""
        return f"{format_duration(self.seconds)} pass{quiet}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = "clock"
        run.office.clock.advance(self.seconds)
        run.note_clock(say("time_passed", duration=format_duration(self.seconds)))
        record.outcome = run.after_time_moved(record) if self.poll else f"now {iso(run.office.clock.now())[11:]}"


@dataclass(frozen=True, kw_only=True)
class ClockStep(Step, key="clock"):
    """The server clock jumps to an instant (back in time too; the timeline says so)."""

    at: float

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        entries = parser.reader.mapping(node, "clock", known=["set"], required=["set"])
        return cls(at=parser.reader.instant(entries["set"][1], "clock.set"), **common)

    def describe(self) -> str:
        return f"the clock is set to {iso(self.at)} UTC"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = "clock"
        before = run.office.clock.now()
        run.office.clock.set(self.at)
        run.note_clock(say("clock_set_to", at=iso(self.at)))
        record.outcome = run.after_time_moved(record)
        if self.at < before:
            record.outcome += f" (the clock went back {format_duration(round(before - self.at, 3))})"
