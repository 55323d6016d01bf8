"""Steps the back office's admin takes: the force flag, reset, unlock, recovery codes, company setting,
new users and policy changes.

Each admin action on one user is its own small step type (``tick``, ``untick``, ``reset``,
``unlock``, ``issue_recovery_codes``), all of them an :class:`AdminStep`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from ..backoffice_file import UserSpec, policy_from, read_user
from ..reader import TAG
from ..records import StepRecord
from .base import Step

if TYPE_CHECKING:
    from ..runner import ScenarioRun
    from ..scenario_file import StepParser


@dataclass(frozen=True, kw_only=True)
class AdminStep(Step):
    """One admin action on one user: ``tick: alice``."""

    user: str

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        return cls(user=parser.known_user(node, cls.key), **common)

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = "admin"
        record.outcome = self.act(run)

    def act(self, run: ScenarioRun) -> str:
        """Carry the action out on the back office; the outcome the timeline shows."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class TickStep(AdminStep, key="tick"):
    """The admin ticks "Force 2 factor auth." for the user."""

    def describe(self) -> str:
        return f"ticks \"Force 2 factor auth.\" for {self.user}"

    def act(self, run: ScenarioRun) -> str:
        run.office.set_force_2fa(self.user, True)
        return "done"


@dataclass(frozen=True, kw_only=True)
class UntickStep(AdminStep, key="untick"):
    """The admin unticks "Force 2 factor auth." for the user."""

    def describe(self) -> str:
        return f"unticks \"Force 2 factor auth.\" for {self.user}"

    def act(self, run: ScenarioRun) -> str:
        run.office.set_force_2fa(self.user, False)
        return "done"


@dataclass(frozen=True, kw_only=True)
class ResetStep(AdminStep, key="reset"):
    """Lost phone: back to "not enrolled" (secret, replay memory, lock and recovery codes gone)."""

    def describe(self) -> str:
        return f"resets 2FA of {self.user} (lost phone)"

    def act(self, run: ScenarioRun) -> str:
        run.office.reset_2fa(self.user)
        return "done"


@dataclass(frozen=True, kw_only=True)
class UnlockStep(AdminStep, key="unlock"):
    """The admin ends the user's lock at once."""

    def describe(self) -> str:
        return f"unlocks {self.user}"

    def act(self, run: ScenarioRun) -> str:
        run.office.unlock(self.user)
        return "done"


@dataclass(frozen=True, kw_only=True)
class IssueRecoveryCodesStep(AdminStep, key="issue_recovery_codes"):
    """A fresh set of single-use recovery codes; the run keeps them for ``type: {recovery: N}``."""

    def describe(self) -> str:
        return f"issues recovery codes to {self.user}"

    def act(self, run: ScenarioRun) -> str:
        codes = run.office.issue_recovery_codes(self.user)
        run.remember_recovery_codes(self.user, codes)
        return f"{len(codes)} codes issued (shown once to {self.user})"


@dataclass(frozen=True, kw_only=True)
class CompanySettingStep(Step, key="company_setting"):
    """The company's "2FA for all backend users"."""

    company: str
    on: bool

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        r = parser.reader
        entries = r.mapping(node, "company_setting", known=["company", "force_2fa_for_all"],
                            required=["force_2fa_for_all"])
        if "company" in entries:
            name_node = entries["company"][1]
            name = r.name(name_node, "company")
            if name.casefold() not in parser.companies:
                raise r.fail(name_node, f"no company {name!r} (known: {', '.join(parser.companies.values())})")
            company = parser.companies[name.casefold()]
        elif len(parser.companies) == 1:
            company = next(iter(parser.companies.values()))
        else:
            raise r.fail(node, "company_setting: name the company ('company: NAME')")
        on = r.boolean(entries["force_2fa_for_all"][1], "force_2fa_for_all")
        return cls(company=company, on=on, **common)

    def describe(self) -> str:
        return f"turns 2FA for all users of {self.company} {'on' if self.on else 'off'}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = "admin"
        run.office.set_company_force_2fa(self.company, self.on)
        record.outcome = "done"


@dataclass(frozen=True, kw_only=True)
class CreateUserStep(Step, key="create_user"):
    """The admin creates a user during the story."""

    spec: UserSpec

    @property
    def subject(self) -> str | None:
        return self.spec.name

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        r = parser.reader
        entries = r.mapping(node, "create_user", known=["name", "company", "force_2fa", "password"],
                            required=["name"])
        name_node = entries["name"][1]
        name = r.name(name_node, "name")
        if name.casefold() in parser.users:
            raise r.fail(name_node, f"user {name!r} already exists (line {parser.users[name.casefold()].line})")
        rest = yaml.MappingNode(TAG + "map", [(k, v) for n, (k, v) in entries.items() if n != "name"],
                                start_mark=node.start_mark, end_mark=node.end_mark)
        spec = read_user(r, name_node, name, rest, parser.companies)
        parser.add_user(spec)
        return cls(spec=spec, **common)

    def describe(self) -> str:
        flag = "ticked" if self.spec.force_2fa else "not ticked"
        return f"creates user {self.spec.name} (Force 2 factor auth. {flag})"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = "admin"
        spec = self.spec
        run.office.create_user(spec.name, spec.password, company=spec.company, force_2fa=spec.force_2fa)
        record.outcome = "done"


@dataclass(frozen=True, kw_only=True)
class PolicyStep(Step, key="policy"):
    """The admin changes policy knobs; open prompts keep the deadline they were given."""

    changes: tuple[tuple[str, Any], ...]

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        policy, changes = policy_from(parser.reader, node, parser.policy)
        if not changes:
            raise parser.reader.fail(node, "policy needs at least one setting to change")
        parser.policy = policy
        return cls(changes=changes, **common)

    def describe(self) -> str:
        return "changes the policy: " + ", ".join(f"{k}={v!r}" for k, v in self.changes)

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = "admin"
        run.office.set_policy(run.office.policy.replace(**dict(self.changes)))
        record.outcome = "done"
