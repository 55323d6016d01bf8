"""The target contract: what a scenario needs from a back office, and what a step shows.

A scenario's story touches a back office in few ways: the admin sets up companies and users
(with "Force 2 factor auth." where the target has such a notion), a user submits username and
password, reads the enrolment screen (the QR as an image, the key as text), submits a code or a
recovery code, logs out or starts over; the admin resets, unlocks, issues recovery codes; time
passes. :class:`Target` is that, and nothing more. The project's own back office is one target
(:mod:`.project_target`, the default); another implementation is another (:mod:`.django_target`).

What a step shows is an :class:`Observation` in words both can be held to: the outcome, the
message class and the state, each from a short fixed list, plus the target's own words. A step a
target cannot express raises :class:`NotExpressible` with the reason: it is reported as such,
never faked by doing something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image

from ..core.clock import Clock

#: Outcomes of a step: a submission went through, was refused, or an action was simply done.
ACCEPTED, REFUSED, DONE = "accepted", "refused", "done"

#: Message classes: what the user is told about a submission, in the five words the spec uses.
MESSAGE_CLASSES = ("accepted", "wrong", "replay", "locked", "expired")

#: States a login can be in, named as the spec's flow names them (``State`` names).
STATES = ("CREDENTIALS", "ENROLMENT", "CODE_REQUIRED", "AUTHENTICATED", "LOCKED_OUT", "EXPIRED")


class NotExpressible(Exception):
    """The target has no way to do what the step asks; the message says why."""


@dataclass(frozen=True)
class Observation:
    """What one step showed: outcome, message class ('' when no message), state ('' when no login), words."""

    outcome: str
    message: str = ""
    state: str = ""
    words: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in (ACCEPTED, REFUSED, DONE):
            raise ValueError(f"outcome must be accepted, refused or done, not {self.outcome!r}")
        if self.message and self.message not in MESSAGE_CLASSES:
            raise ValueError(f"message class must be one of {', '.join(MESSAGE_CLASSES)}, not {self.message!r}")


@dataclass(frozen=True, repr=False)
class Screen:
    """The enrolment screen as the user sees it: the QR image, the key as text, whose and from whom."""

    image: Image.Image
    key_text: str
    account: str
    issuer: str
    #: whether a rectangle marked on the spec's page image applies to this image (the spec's own page)
    rect_applies: bool = False

    def __repr__(self) -> str:
        return f"Screen({self.issuer}: {self.account}, QR {self.image.width}x{self.image.height} px)"


class Target(Protocol):
    """A back office a scenario can be played on. Logins are named by (user, tab)."""

    name: str
    clock: Clock

    # the admin
    def create_company(self, name: str, force_2fa_for_all: bool) -> None: ...
    def create_user(self, name: str, password: str, company: str | None, force_2fa: bool) -> None: ...
    def change_policy(self, changes: dict[str, Any]) -> None: ...
    def set_force_2fa(self, user: str, on: bool) -> None: ...
    def set_company_force_2fa(self, company: str, on: bool) -> None: ...
    def reset_2fa(self, user: str) -> None: ...
    def unlock(self, user: str) -> None: ...
    def issue_recovery_codes(self, user: str) -> list[str]: ...

    # the user at the login mask
    def submit_password(self, user: str, tab: str, username: str, password: str) -> Observation: ...
    def enrolment_screen(self, user: str, tab: str, image: str) -> Screen: ...
    def submit_code(self, user: str, tab: str, code: str) -> Observation: ...
    def submit_recovery_code(self, user: str, tab: str, code: str) -> Observation: ...
    def log_out(self, user: str, tab: str) -> Observation: ...
    def start_over(self, user: str, tab: str) -> Observation: ...

    # time (the target's clock has already moved when this is called)
    def time_passed(self) -> dict[tuple[str, str], str]: ...

    def close(self) -> None: ...
