"""Steps a user takes at the login mask: log in, type a code, log out, start over.

Each login is one browser tab (``tab``, default ``main``); the steps fire the flow's events on the
login of that user and tab, and the runner notes the result (outcome, state, a QR code shown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from ...login.flow import FlowEvent, Outcome
from ..reader import TAG
from ..records import DEFAULT_TAB, StepFailed, StepRecord, tab_suffix
from .base import Step, is_scalar

if TYPE_CHECKING:
    from ..runner import ScenarioRun
    from ..scenario_file import StepParser


@dataclass(frozen=True, kw_only=True)
class LoginStep(Step, key="login"):
    """Open the login mask and submit username and password (the declared one unless given)."""

    user: str
    password: str = field(repr=False)
    tab: str = DEFAULT_TAB
    password_given: bool = False

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        if is_scalar(node):
            entries, user_node = {}, node
        else:
            entries = parser.reader.mapping(node, "login", known=["user", "password", "tab"], required=["user"])
            user_node = entries["user"][1]
        user = parser.reader.name(user_node, "login user")
        spec = parser.users.get(user.casefold())
        if "password" in entries:
            password = parser.reader.scalar(entries["password"][1], "password").value
            given = True
        elif spec is not None:
            password, given = spec.password, False
        else:
            raise parser.reader.fail(user_node, f"login: {user!r} is not a declared user, so say which password "
                                                "is typed ('password: ...')")
        parser.note_login(user)
        return cls(user=spec.name if spec else user, password=password, tab=parser.tab(entries),
                   password_given=given, **common)

    def describe(self) -> str:
        how = "the password given in the step" if self.password_given else "username and password"
        return f"logs in with {how}" + tab_suffix(self.tab)

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        login = run.open_login(self.user, self.tab)
        result = run.fire(login, FlowEvent.SUBMIT_PASSWORD,
                          lambda: login.submit_password(self.user, self.password), record)
        record.events = run.step_events()
        run.note_result(self.user, self.tab, result, record, self.number)


@dataclass(frozen=True, kw_only=True)
class TypeStep(Step, key="type"):
    """The user types a code: the one a device shows, a literal, or a recovery code."""

    user: str
    tab: str = DEFAULT_TAB
    device: str | None = None
    entry: int | None = None
    code: str | None = field(default=None, repr=False)
    recovery: int | str | None = field(default=None, repr=False)

    @property
    def device_in_focus(self) -> str | None:
        return self.device

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        r = parser.reader
        entries = r.mapping(node, "type", known=["user", "tab", "from", "entry", "code", "recovery"])
        sources = [k for k in ("from", "code", "recovery") if k in entries]
        if len(sources) != 1:
            raise r.fail(node, "type needs exactly one of 'from: DEVICE', 'code: DIGITS' or "
                               "'recovery: N' (the N-th recovery code issued) / 'recovery: TEXT'")
        device = entry = code = recovery = None
        if "from" in entries:
            device_spec = parser.known_device(entries["from"][1])
            device = device_spec.name
            default_user = device_spec.owner
            if "entry" in entries:
                entry = r.integer(entries["entry"][1], "entry", 1, 1000)
        else:
            if "entry" in entries:
                raise r.fail(entries["entry"][0], "entry only goes with 'from: DEVICE'")
            default_user = None
        if "code" in entries:
            code = r.scalar(entries["code"][1], "code").value
        if "recovery" in entries:
            rnode = entries["recovery"][1]
            recovery = (r.integer(rnode, "recovery", 1, 100) if r.scalar(rnode, "recovery").tag == TAG + "int"
                        else r.text(rnode, "recovery"))  # as long as the login mask takes
        if "user" in entries:
            user = parser.known_user(entries["user"][1])
        elif default_user is not None:
            user = default_user
        else:
            user = parser.default_user(node, "type")
        return cls(user=user, tab=parser.tab(entries), device=device, entry=entry, code=code,
                   recovery=recovery, **common)

    def describe(self) -> str:
        if self.device is not None:
            which = f" (entry {self.entry})" if self.entry is not None else ""
            return f"types the code from {self.device}{which}" + tab_suffix(self.tab)
        if self.recovery is not None:
            which = f"#{self.recovery}" if isinstance(self.recovery, int) else "(typed)"
            return f"types recovery code {which}" + tab_suffix(self.tab)
        return f"types {self.code}" + tab_suffix(self.tab)

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        login = run.login_of(self.user, self.tab)
        if self.recovery is not None:
            text = self.recovery_code(run)
            result = run.fire(login, FlowEvent.SUBMIT_RECOVERY_CODE, lambda: login.submit_recovery_code(text), record)
        else:
            if self.device is not None:
                code, record.code_time = self.device_code(run)
                record.device = self.device
                record.action = f"types {code} from {self.device}" + (
                    f" (entry {self.entry})" if self.entry is not None else "") + tab_suffix(self.tab)
            else:
                code = self.code
            record.code = code
            result = run.fire(login, FlowEvent.SUBMIT_CODE, lambda: login.submit_code(code), record)
            record.code_accepted = result.outcome is Outcome.ACCEPTED
        record.events = run.step_events()
        run.note_result(self.user, self.tab, result, record, self.number)

    def recovery_code(self, run: ScenarioRun) -> str:
        """The recovery code typed: the N-th issued to the user in this scenario, or the text given."""
        if not isinstance(self.recovery, int):
            return self.recovery
        codes = run.recovery_codes_of(self.user)
        if self.recovery > len(codes):
            raise StepFailed(f"{self.user} was issued {len(codes)} recovery codes in this scenario, "
                             f"so there is no #{self.recovery}: add an 'issue_recovery_codes' step")
        return codes[self.recovery - 1]

    def device_code(self, run: ScenarioRun) -> tuple[str, int]:
        """The code the device shows for the user's entry, and the whole second its app computed it for."""
        device = run.devices[self.device]
        app = device.app
        if not app.entries:
            raise StepFailed(f"{self.device} has no entries yet: scan a QR code (or enter the key) first")
        if self.entry is not None:
            if self.entry > len(app.entries):
                raise StepFailed(f"{self.device} has {len(app.entries)} entries, so there is no entry {self.entry}")
            entry = app.entries[self.entry - 1]
        else:
            mine = [e for e in app.entries if e.account.casefold() == self.user.casefold()]
            entry = mine[-1] if mine else app.entries[-1]
        local = device.now()
        return app.code(entry, local), app.app_seconds(local)


@dataclass(frozen=True, kw_only=True)
class LogOutStep(Step, key="log_out"):
    """From ``AUTHENTICATED`` back to the login mask."""

    user: str
    tab: str = DEFAULT_TAB

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        user, entries = parser.user_or_mapping(node, "log_out", ["user", "tab"])
        return cls(user=user, tab=parser.tab(entries), **common)

    def describe(self) -> str:
        return "logs out" + tab_suffix(self.tab)

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        login = run.login_of(self.user, self.tab)
        result = run.fire(login, FlowEvent.LOG_OUT, login.log_out, record)
        run.note_result(self.user, self.tab, result, record, self.number)


@dataclass(frozen=True, kw_only=True)
class StartOverStep(Step, key="start_over"):
    """From ``LOCKED_OUT`` or ``EXPIRED`` back to the login mask."""

    user: str
    tab: str = DEFAULT_TAB

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        user, entries = parser.user_or_mapping(node, "start_over", ["user", "tab"])
        return cls(user=user, tab=parser.tab(entries), **common)

    def describe(self) -> str:
        return "starts over at the login mask" + tab_suffix(self.tab)

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        login = run.login_of(self.user, self.tab)
        result = run.fire(login, FlowEvent.START_OVER, login.start_over, record)
        run.note_result(self.user, self.tab, result, record, self.number)
