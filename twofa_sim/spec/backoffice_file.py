"""Back-office files: companies and users in YAML, the start of every scenario and notebook.

``data/backoffice.yaml`` describes the back office the notebooks start from; the package ships
the same file as ``twofa_sim/spec/backoffice.yaml`` (one text, checked equal by a test), so
:func:`load_backoffice` with no path needs no file outside the package. A scenario's header uses
the same sections (``companies``, ``users``, ``policy``), read by the same functions here.
"""

from __future__ import annotations

import dataclasses
import pathlib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from ..core.clock import Clock, to_epoch
from ..core.errors import PolicyError, ValidationError
from ..core.old_names import POLICY_KNOBS
from ..core.passwords import check_password_rule
from ..core.policy import Policy
from ..core.secret_source import SecretSource, SeededSecretSource
from ..login.backoffice import BackOffice
from ..login.user import check_username
from .files import printable, read_text
from .reader import MAX_WHOLE, TAG, Reader

DEFAULT_START = "2026-01-05T09:00:00Z"
DEFAULT_SEED = 1
DEFAULT_PASSWORD = "correct horse 42"
DEFAULT_COMPANY = "ACME"
BACKOFFICE_KEYS = ["description", "start", "seed", "policy", "companies", "users"]
#: The built-in back office: package data, the same text as ``data/backoffice.yaml``.
DEFAULT_BACKOFFICE_YAML = resources.files(__package__).joinpath("backoffice.yaml").read_text(encoding="utf-8")


@dataclass(frozen=True)
class CompanySpec:
    name: str
    force_2fa_for_all: bool = False
    line: int = 0


@dataclass(frozen=True)
class UserSpec:
    name: str
    company: str | None = None
    force_2fa: bool = False
    password: str = field(default=DEFAULT_PASSWORD, repr=False)
    line: int = 0


@dataclass(frozen=True)
class BackOfficeSpec:
    """Companies and users, as in ``data/backoffice.yaml`` or a scenario's header."""

    path: str
    companies: tuple[CompanySpec, ...]
    users: tuple[UserSpec, ...]
    policy: Policy = field(default_factory=Policy)
    start: float = 0.0
    seed: int = DEFAULT_SEED

    def password(self, username: str) -> str:
        """The password a demo user logs in with (the data files hold them in plain text on purpose)."""
        for user in self.users:
            if user.name.casefold() == username.casefold():
                return user.password
        raise KeyError(username)

    def build(self, *, policy: Policy | None = None, clock: Clock | None = None,
              secret_source: SecretSource | None = None) -> BackOffice:
        """A back office with these companies and users; pinned clock at ``start`` and seeded secrets by default."""
        office = BackOffice(policy=policy or self.policy, clock=clock or Clock.at(self.start),
                            secret_source=secret_source or SeededSecretSource(self.seed))
        for company in self.companies:
            office.create_company(company.name, company.force_2fa_for_all)
        for user in self.users:
            office.create_user(user.name, user.password, company=user.company, force_2fa=user.force_2fa)
        return office


# -- the sections ---------------------------------------------------------------------------------


def policy_from(reader: Reader, node: yaml.Node, base: Policy) -> tuple[Policy, tuple[tuple[str, Any], ...]]:
    """``base`` with the knobs of a ``policy`` mapping, checked as :class:`Policy` checks them, and the changes."""
    known = [f.name for f in dataclasses.fields(Policy)]
    entries = reader.mapping(node, "policy", known=known, old_names=POLICY_KNOBS)
    changes: list[tuple[str, Any]] = []
    policy = base
    for name, (key, value) in entries.items():
        parsed = reader.value(value, f"policy.{name}")
        try:
            policy = policy.replace(**{name: parsed})
        except PolicyError as error:
            raise reader.fail(value, f"{error.field}: {error.problem}") from None
        changes.append((name, parsed))
    return policy, tuple(changes)


def read_companies(reader: Reader, node: yaml.Node) -> list[CompanySpec]:
    """The ``companies`` section: ``NAME: {force_2fa_for_all: true/false}``."""
    companies = []
    for name, (key, value) in reader.mapping(node, "companies").items():
        company = reader.display_name(key, "a company name")
        force = False
        if not (isinstance(value, yaml.ScalarNode) and value.tag == TAG + "null"):
            settings = reader.mapping(value, f"company {company!r}", known=["force_2fa_for_all"])
            if "force_2fa_for_all" in settings:
                force = reader.boolean(settings["force_2fa_for_all"][1], "force_2fa_for_all")
        companies.append(CompanySpec(company, force, key.start_mark.line + 1))
    return companies


def read_user(reader: Reader, name_node: yaml.Node, name: str, value: yaml.Node | None,
              company_names: dict[str, str]) -> UserSpec:
    """One user's settings (``company``, ``force_2fa``, ``password``), checked as the back office checks them."""
    try:
        check_username(name)
    except ValidationError as error:
        raise reader.fail(name_node, f"user {name!r}: {error.problem}") from None
    company, force, password = None, False, DEFAULT_PASSWORD
    if value is not None and not (isinstance(value, yaml.ScalarNode) and value.tag == TAG + "null"):
        settings = reader.mapping(value, f"user {name!r}", known=["company", "force_2fa", "password"])
        if "company" in settings:
            company_node = settings["company"][1]
            company = reader.name(company_node, "company")
            if company.casefold() not in company_names:
                raise reader.fail(company_node, f"user {name!r}: no company {company!r} in this file "
                                                f"(known: {', '.join(company_names.values())})")
            company = company_names[company.casefold()]
        if "force_2fa" in settings:
            force = reader.boolean(settings["force_2fa"][1], "force_2fa")
        if "password" in settings:
            password_node = settings["password"][1]
            password = reader.scalar(password_node, "password").value
            try:
                check_password_rule(password, name)
            except ValidationError as error:
                raise reader.fail(password_node, f"user {name!r}: password {error.problem}") from None
    if company is None and len(company_names) > 1:
        raise reader.fail(name_node, f"user {name!r}: name the company (company: ...), the file has "
                                     f"{len(company_names)}")
    return UserSpec(name, company, force, password, name_node.start_mark.line + 1)


def read_users(reader: Reader, node: yaml.Node, company_names: dict[str, str],
               taken: dict[str, UserSpec]) -> list[UserSpec]:
    """The ``users`` section; ``taken`` (by folded name) grows with each user, refusing a name twice."""
    users = []
    for name, (key, value) in reader.mapping(node, "users").items():
        name = reader.name(key, "a username")
        if name.casefold() in taken:
            raise reader.fail(key, f"user {name!r} is declared twice (usernames ignore case; first at line "
                                   f"{taken[name.casefold()].line})")
        spec = read_user(reader, key, name, value, company_names)
        taken[name.casefold()] = spec
        users.append(spec)
    return users


# -- the file -------------------------------------------------------------------------------------


def parse_backoffice(text: str, path: str = "<backoffice>") -> BackOfficeSpec:
    """Companies, users, policy, start and seed from back-office YAML text."""
    reader = Reader(path)
    top = reader.mapping(reader.compose(text), "the file", known=BACKOFFICE_KEYS, required=["users"])
    policy, _ = (policy_from(reader, top["policy"][1], Policy()) if "policy" in top else (Policy(), ()))
    start = reader.instant(top["start"][1], "start") if "start" in top else to_epoch(DEFAULT_START)
    seed = reader.integer(top["seed"][1], "seed", 0, MAX_WHOLE) if "seed" in top else DEFAULT_SEED
    companies = read_companies(reader, top["companies"][1]) if "companies" in top else [CompanySpec(DEFAULT_COMPANY)]
    if not companies:
        raise reader.fail(top["companies"][1], "companies must name at least one company")
    names = {c.name.casefold(): c.name for c in companies}
    users = read_users(reader, top["users"][1], names, {})
    return BackOfficeSpec(path, tuple(companies), tuple(users), policy, start, seed)


def read_backoffice(path: str | pathlib.Path | None = None) -> BackOfficeSpec:
    """The back-office description at ``path`` (the built-in default, equal to data/backoffice.yaml, if None)."""
    if path is None:
        return parse_backoffice(DEFAULT_BACKOFFICE_YAML, "data/backoffice.yaml")
    path = pathlib.Path(path)
    return parse_backoffice(read_text(path, printable(str(path))), printable(str(path)))


def load_backoffice(path: str | pathlib.Path | None = None, *, policy: Policy | None = None,
                    clock: Clock | None = None, secret_source: SecretSource | None = None) -> BackOffice:
    """The back office the notebooks start from, ready to use.

    Without arguments: the built-in companies and users (the same as ``data/backoffice.yaml``),
    a clock pinned at the file's ``start`` and secrets seeded with its ``seed``. Pass ``policy``,
    ``clock`` or ``secret_source`` to change any of them.
    """
    return read_backoffice(path).build(policy=policy, clock=clock, secret_source=secret_source)
