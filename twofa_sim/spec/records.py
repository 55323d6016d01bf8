"""The records a scenario run leaves: one per step, with the checks made after it and the QR codes shown.

A record is one line of the timeline (when, who, what, what came of it); the runner fills it, the
step fills in what only the step knows (the code typed, the scan's result), and the timeline
prints it. Records hold the codes typed (spent once accepted) but never a password, a secret or a
recovery code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..login.screen import EnrolmentScreen
from ..core.frozen import FrozenValue
from ..core.events import Event
from ..login.attempt import StepResult
from ..login.flow import FlowEvent, Outcome, State

#: The browser tab a login happens in unless a step names another.
DEFAULT_TAB = "main"


def tab_suffix(tab: str) -> str:
    """`` [tab NAME]`` after an action in another tab than the default one; nothing in the default tab."""
    return "" if tab == DEFAULT_TAB else f" [tab {tab}]"


class StepFailed(Exception):
    """A step cannot be carried out as written (no open login, no such recovery code...)."""


@dataclass(frozen=True)
class Check:
    """One expectation checked after a step."""

    name: str
    expected: str
    actual: str
    ok: bool
    line: int

    def __str__(self) -> str:
        if self.ok:
            return f"{self.name} = {self.expected}"
        return f"{self.name}: expected {self.expected}, got {self.actual}"


@dataclass(frozen=True, repr=False)
class QrShown(FrozenValue):
    """A QR code the login showed: whose, the how-many-th for that user, when and at which step."""

    user: str
    number: int
    step: int
    time: float
    screen: EnrolmentScreen

    @property
    def filename(self) -> str:
        return f"qr-{self.user}-{self.number}.png"

    def __repr__(self) -> str:
        return f"QrShown({self.filename}, step {self.step})"


@dataclass
class StepRecord:
    """One line of the timeline: when, who, what, and what came of it, with the checks made after."""

    number: int
    line: int
    time: float
    actor: str
    action: str
    outcome: str
    note: str = ""
    checks: list[Check] = field(default_factory=list)
    error: str | None = None
    events: list[Event] = field(default_factory=list)
    code: str | None = None
    code_accepted: bool = False
    device: str | None = None
    code_time: int | None = None
    qr: QrShown | None = None
    result: StepResult | None = None
    transitions: list[tuple[State, FlowEvent, Outcome]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)

    @property
    def is_setup(self) -> bool:
        return self.number == 0

    def label(self) -> str:
        return "setup" if self.is_setup else f"step {self.number} (line {self.line}: {self.action})"
