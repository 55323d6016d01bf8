"""The project's own back office as a target: the specification itself, through the contract.

Every call is one public call of :class:`~twofa_sim.login.backoffice.BackOffice` or of a
:class:`~twofa_sim.login.attempt.LoginAttempt`, and the result is read from the
:class:`~twofa_sim.login.attempt.StepResult` it returns, so the conformance run plays the spec the
way the scenario runner does (``tests/test_conformance.py`` checks that both reach the same states).
"""

from __future__ import annotations

from typing import Any

from ..core.clock import Clock
from ..core.policy import Policy
from ..core.secret_source import SeededSecretSource
from ..login.attempt import LoginAttempt, StepResult
from ..login.backoffice import BackOffice
from ..login.flow import FlowEvent, Outcome, Reason, State
from .target import ACCEPTED, DONE, REFUSED, NotExpressible, Observation, Screen

#: The spec's outcomes of a password step that let the user on (the rest refuse).
_PASSWORD_PASSES = {Outcome.NO_2FA_NEEDED, Outcome.NEEDS_ENROLMENT, Outcome.NEEDS_CODE}

#: The message class of each refusal reason. A right code refused because the last accepted step
#: lies beyond the window (the server's clock went back) is refused by the replay memory: "replay".
_MESSAGE_BY_REASON = {
    Reason.BAD_CREDENTIALS: "wrong", Reason.MALFORMED: "wrong", Reason.WRONG_CODE: "wrong",
    Reason.UNKNOWN_RECOVERY_CODE: "wrong", Reason.REPLAY: "replay", Reason.CLOCK_BEHIND: "replay",
    Reason.LOCKED_OUT: "locked", Reason.EXPIRED: "expired", Reason.FACTOR_CHANGED: "expired",
}


def message_class(result: StepResult) -> str:
    """The spec's result in the five message classes ('' for a password accepted: no message)."""
    if result.outcome is Outcome.ACCEPTED:
        return "accepted"
    if result.outcome in (Outcome.LOCKS_OUT, Outcome.IS_LOCKED_OUT):
        return "locked"
    if result.outcome in (Outcome.TIMED_OUT, Outcome.FACTOR_CHANGED):
        return "expired"
    return _MESSAGE_BY_REASON.get(result.reason, "")


class ProjectTarget:
    """The project's back office (in memory), on the scenario's clock and seeded secrets."""

    name = "twofa-sim"

    def __init__(self, clock: Clock, *, policy: Policy | None = None, seed: int = 1) -> None:
        self.clock = clock
        self.office = BackOffice(policy=policy or Policy(), clock=clock, secret_source=SeededSecretSource(seed))
        self._logins: dict[tuple[str, str], LoginAttempt] = {}

    # -- the admin --------------------------------------------------------------------------------

    def create_company(self, name: str, force_2fa_for_all: bool) -> None:
        self.office.create_company(name, force_2fa_for_all)

    def create_user(self, name: str, password: str, company: str | None, force_2fa: bool) -> None:
        self.office.create_user(name, password, company=company, force_2fa=force_2fa)

    def change_policy(self, changes: dict[str, Any]) -> None:
        self.office.set_policy(self.office.policy.replace(**changes))

    def set_force_2fa(self, user: str, on: bool) -> None:
        self.office.set_force_2fa(user, on)

    def set_company_force_2fa(self, company: str, on: bool) -> None:
        self.office.set_company_force_2fa(company, on)

    def reset_2fa(self, user: str) -> None:
        self.office.reset_2fa(user)

    def unlock(self, user: str) -> None:
        self.office.unlock(user)

    def issue_recovery_codes(self, user: str) -> list[str]:
        return self.office.issue_recovery_codes(user)

    # -- the user at the login mask ---------------------------------------------------------------

    def submit_password(self, user: str, tab: str, username: str, password: str) -> Observation:
        login = self.office.start_login()
        self._logins[(user.casefold(), tab)] = login
        result = login.submit_password(username, password)
        outcome = ACCEPTED if result.outcome in _PASSWORD_PASSES else REFUSED
        message = "" if outcome == ACCEPTED else message_class(result)  # a password let through says nothing
        return Observation(outcome, message, result.state.name, result.message)

    def enrolment_screen(self, user: str, tab: str, image: str) -> Screen:
        login = self._login(user, tab)
        if login.state is not State.ENROLMENT or login.screen is None:
            raise NotExpressible(f"the login shows no QR code (state {login.state.name})")
        screen = login.screen
        picture = screen.page_image() if image == "page" else screen.qr_image()
        return Screen(picture, screen.secret_for_typing, screen.account, screen.issuer, rect_applies=True)

    def submit_code(self, user: str, tab: str, code: str) -> Observation:
        return self._submission(self._login(user, tab).submit_code, code)

    def submit_recovery_code(self, user: str, tab: str, code: str) -> Observation:
        return self._submission(self._login(user, tab).submit_recovery_code, code)

    def log_out(self, user: str, tab: str) -> Observation:
        result = self._login(user, tab).log_out()
        return Observation(DONE, "", result.state.name, result.message)

    def start_over(self, user: str, tab: str) -> Observation:
        result = self._login(user, tab).start_over()
        return Observation(DONE, "", result.state.name, result.message)

    def time_passed(self) -> dict[tuple[str, str], str]:
        """Every login with an open QR or code prompt looks at the clock, as the scenario runner's do."""
        for login in self._logins.values():
            if FlowEvent.TIME_PASSES in login.allowed_events:
                login.poll()
        return {key: login.state.name for key, login in self._logins.items()}

    def close(self) -> None:
        """Nothing to release: the back office lives in memory."""

    # -- helpers ----------------------------------------------------------------------------------

    def _login(self, user: str, tab: str) -> LoginAttempt:
        login = self._logins.get((user.casefold(), tab))
        if login is None:
            raise NotExpressible(f"{user} has no open login in tab {tab!r}")
        return login

    @staticmethod
    def _submission(submit: Any, code: str) -> Observation:
        result = submit(code)
        outcome = ACCEPTED if result.outcome is Outcome.ACCEPTED else REFUSED
        return Observation(outcome, message_class(result), result.state.name, result.message)
