"""Scenario files: the header (companies, users, devices, policy) and the steps, read and validated.

:func:`parse_scenario` reads the header with the back-office file's functions and each step with
the step type its action key names (:data:`~twofa_sim.spec.steps.STEP_TYPES`); :class:`StepParser`
is what a step type reads itself with: it knows the users, devices and companies declared so far
and whom the story is about. Every problem is a :class:`~twofa_sim.spec.reader.ScenarioError`
with the file and line, so nothing is run from a file that is not valid.
"""

from __future__ import annotations

import dataclasses
import pathlib
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import yaml

from ..core.clock import to_epoch
from ..core.errors import shown
from ..core.frozen import FrozenValue
from ..core.policy import Policy
from .backoffice_file import (DEFAULT_COMPANY, DEFAULT_SEED, DEFAULT_START, CompanySpec, UserSpec, policy_from,
                              read_backoffice, read_companies, read_users)
from .expectations import EXPECTATIONS, ExpectationKey, read_expectation
from .files import inside, printable, read_text
from .reader import MAX_WHOLE, TAG, Reader, ScenarioError, fold, name_shown
from .records import DEFAULT_TAB
from .steps import STEP_TYPES, CheckStep, CreateUserStep, InstallStep, Step

#: Scenario files create their users with this scrypt cost unless their ``policy`` says otherwise:
#: a scenario is about the flow, not about password hashing, and CI runs many of them.
SCENARIO_KDF_LOG2_N = 4
SCENARIO_KEYS = ["name", "description", "start", "seed", "policy", "backoffice", "companies", "users",
                 "devices", "steps"]
#: Short names a scenario may use for an app profile, besides each profile's key and name.
APP_ALIASES = {"authenticator": "authenticator-addon", "add-on": "authenticator-addon",
               "addon": "authenticator-addon", "google": "google-authenticator"}


@dataclass(frozen=True)
class DeviceSpec(FrozenValue):
    """An authenticator app on a device: its owner, its app profile and its clock's offset."""

    name: str
    owner: str
    app: str
    clock_offset: float = 0.0
    line: int = 0
    installed_by_step: bool = False


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file, ready to run."""

    path: str
    name: str
    description: str
    start: float
    seed: int
    policy: Policy
    policy_overrides: tuple[tuple[str, Any], ...]
    companies: tuple[CompanySpec, ...]
    users: tuple[UserSpec, ...]
    devices: tuple[DeviceSpec, ...]
    steps: tuple[Step, ...]

    @property
    def stem(self) -> str:
        return pathlib.PurePath(self.path).stem


class StepParser:
    """Reads the ``steps`` list in order, keeping track of which users and devices exist.

    A step type's ``parse`` reads its value with :attr:`reader` and names users, devices and tabs
    through the methods here, so that a name the story has not declared is refused at its line.
    """

    def __init__(self, reader: Reader, users: dict[str, UserSpec], devices: dict[str, DeviceSpec],
                 companies: dict[str, str], policy: Policy,
                 expectations: Mapping[str, ExpectationKey] = EXPECTATIONS) -> None:
        self.reader = reader
        self.users = users
        self.devices = devices
        self.companies = companies
        self.policy = policy
        self.expectations = expectations
        self.subject: str | None = None
        self._login_names: set[str] = set()
        self._installed = {d.name for d in devices.values() if not d.installed_by_step}

    # -- what the story has declared so far -------------------------------------------------------

    def known_user(self, node: yaml.Node, what: str = "user") -> str:
        name = self.reader.name(node, what)
        spec = self.users.get(name.casefold())
        if spec is None:
            known = ", ".join(u.name for u in self.users.values()) or "none yet"
            raise self.reader.fail(node, f"no user {name!r} declared before this step (known: {known})")
        return spec.name

    def known_device(self, node: yaml.Node, installed: bool = True) -> DeviceSpec:
        name = self.reader.name(node, "device")
        spec = self.devices.get(name.casefold())
        if spec is None:
            known = ", ".join(d.name for d in self.devices.values()) or "none"
            raise self.reader.fail(node, f"no device {name!r} in devices (known: {known})")
        if installed and spec.name not in self._installed:
            raise self.reader.fail(node, f"device {spec.name!r} is used before its 'install' step")
        return spec

    def default_user(self, node: yaml.Node, what: str) -> str:
        if len(self.users) == 1:
            return next(iter(self.users.values())).name
        if self.subject is not None:
            return self.subject
        raise self.reader.fail(node, f"{what}: say whose login with 'user: NAME'")

    def expected_user(self, node: yaml.Node) -> str:
        """The user ``expect: {user: NAME}`` names: declared, or a name a login step used; now in focus."""
        user = self.reader.name(node, "expect.user")
        spec = self.users.get(user.casefold())
        if spec is not None:
            user = spec.name
        elif user.casefold() not in self._login_names:
            raise self.reader.fail(node, f"expect.user: no user {user!r} declared or logged in before this step")
        self.subject = user
        return user

    def tab(self, entries: dict) -> str:
        return self.reader.name(entries["tab"][1], "tab") if "tab" in entries else DEFAULT_TAB

    def user_or_mapping(self, node: yaml.Node, what: str, known: list[str]) -> tuple[str, dict]:
        """``action: alice`` or ``action: {user: alice, ...}``."""
        if isinstance(node, yaml.ScalarNode) and node.tag != TAG + "null":
            return self.known_user(node), {}
        entries = self.reader.mapping(node, what, known=known)
        if "user" in entries:
            return self.known_user(entries["user"][1]), entries
        return self.default_user(node, what), entries

    def device_step(self, node: yaml.Node, what: str, known: list[str]) -> tuple[DeviceSpec, str, dict]:
        """``action: DEVICE`` or ``action: {device: DEVICE, user: ..., ...}``: the device, whose, the entries."""
        if isinstance(node, yaml.ScalarNode) and node.tag != TAG + "null":
            device = self.known_device(node)
            return device, device.owner, {}
        entries = self.reader.mapping(node, what, known=known, required=["device"])
        device = self.known_device(entries["device"][1])
        user = self.known_user(entries["user"][1]) if "user" in entries else device.owner
        return device, user, entries

    # -- what steps add to the story --------------------------------------------------------------

    def add_user(self, spec: UserSpec) -> None:
        self.users[spec.name.casefold()] = spec

    def note_login(self, name: str) -> None:
        """A login step typed this name (a user or not): ``expect.user`` may name it from now on."""
        self._login_names.add(name.casefold())

    def is_installed(self, device: str) -> bool:
        return device in self._installed

    def note_installed(self, device: str) -> None:
        self._installed.add(device)

    # -- the list ---------------------------------------------------------------------------------

    def parse(self, node: yaml.Node) -> list[Step]:
        steps = []
        for number, step_node in enumerate(self.reader.sequence(node, "steps"), start=1):
            steps.append(self.step(number, step_node))
        if not steps:
            raise self.reader.fail(node, "steps must have at least one step")
        return steps

    def step(self, number: int, node: yaml.Node) -> Step:
        r = self.reader
        if isinstance(node, yaml.ScalarNode) and node.tag != TAG + "null":
            raise r.fail(node, f"step {number} must be a mapping such as 'login: alice', got {shown(node.value)}")
        entries = r.mapping(node, f"step {number}", known=[*STEP_TYPES, "expect", "note"])
        actions = [name for name in entries if name in STEP_TYPES]
        if len(actions) > 1:
            raise r.fail(entries[actions[1]][0], f"step {number} has two actions ({actions[0]!r} and "
                                                 f"{actions[1]!r}); make them two steps")
        if not actions and not entries:
            raise r.fail(node, f"step {number} is empty")
        common = {"number": number, "line": node.start_mark.line + 1}
        if "note" in entries:
            common["note"] = r.text(entries["note"][1], "note", max_length=500)
        step: Step
        if actions:
            step = STEP_TYPES[actions[0]].parse(entries[actions[0]][1], self, common)
        else:
            step = CheckStep(**common)
        if step.subject is not None:
            self.subject = step.subject
        if "expect" in entries:
            expectation = read_expectation(self, entries["expect"][1], step, self.expectations)
            step = dataclasses.replace(step, expect=expectation)
        elif not actions and "note" not in entries:
            raise r.fail(node, f"step {number} has neither an action nor expect")
        return step


# -- the header -----------------------------------------------------------------------------------


def _app_profiles() -> dict[str, str]:
    """Profile keys by folded key, name or alias (``authenticator`` is the article's add-on)."""
    from ..apps.profiles import PROFILES
    options = {}
    for key, profile in PROFILES.items():
        options[fold(key)] = key
        options[fold(profile.name)] = key
    for alias, key in APP_ALIASES.items():
        if key in PROFILES:
            options[fold(alias)] = key
    return options


def _created_later(steps: yaml.Node) -> tuple[dict[str, str], set[str]]:
    """Names the steps create with ``create_user`` (a device may belong to a user created later), and
    the devices that ``install`` steps install (the others are there from the start)."""
    names: dict[str, str] = {}
    installed: set[str] = set()
    if isinstance(steps, yaml.SequenceNode):
        for step in steps.value:
            if not isinstance(step, yaml.MappingNode):
                continue
            for key, value in step.value:
                if getattr(key, "value", None) == CreateUserStep.key and isinstance(value, yaml.MappingNode):
                    for k, v in value.value:
                        if getattr(k, "value", None) == "name" and isinstance(v, yaml.ScalarNode):
                            names[v.value.strip().casefold()] = v.value.strip()
                if getattr(key, "value", None) == InstallStep.key and isinstance(value, yaml.ScalarNode):
                    installed.add(value.value.strip().casefold())
    return names, installed


def _devices(reader: Reader, node: yaml.Node, taken: dict[str, UserSpec], steps: yaml.Node) -> list[DeviceSpec]:
    devices: list[DeviceSpec] = []
    created, installed_later = _created_later(steps)
    profiles: dict[str, Any] | None = None
    for dev_name, (key, value) in reader.mapping(node, "devices").items():
        dev_name = reader.display_name(key, "a device name")
        if any(d.name.casefold() == dev_name.casefold() for d in devices):
            raise reader.fail(key, f"device {dev_name!r} is declared twice")
        settings = reader.mapping(value, f"device {dev_name!r}", known=["owner", "app", "clock_offset"],
                                  required=["owner", "app"])
        owner_node = settings["owner"][1]
        owner = reader.name(owner_node, "owner")
        if owner.casefold() not in taken and owner.casefold() not in created:
            raise reader.fail(owner_node, f"device {dev_name!r}: owner {owner!r} is not a user of this file")
        owner = taken[owner.casefold()].name if owner.casefold() in taken else created[owner.casefold()]
        if profiles is None:
            profiles = _app_profiles()
        app = reader.choice(settings["app"][1], "app", profiles)
        offset = (reader.duration(settings["clock_offset"][1], "clock_offset", allow_negative=True)
                  if "clock_offset" in settings else 0.0)
        devices.append(DeviceSpec(dev_name, owner, app, offset, key.start_mark.line + 1,
                                  installed_by_step=dev_name.casefold() in installed_later))
    return devices


def parse_scenario(text: str, path: str = "<scenario>", *,
                   expectations: Mapping[str, ExpectationKey] = EXPECTATIONS) -> Scenario:
    """A validated :class:`Scenario` from YAML text; raises :class:`ScenarioError` with the line.

    ``expectations`` is the table of ``expect`` keys (a copy with a key added reads that key too).
    """
    reader = Reader(path)
    top = reader.mapping(reader.compose(text), "the scenario", known=SCENARIO_KEYS, required=["name", "steps"])
    name = reader.text(top["name"][1], "name", 200).strip()
    description = reader.text(top["description"][1], "description", 4000).strip() if "description" in top else ""
    start = reader.instant(top["start"][1], "start") if "start" in top else to_epoch(DEFAULT_START)
    seed = reader.integer(top["seed"][1], "seed", 0, MAX_WHOLE) if "seed" in top else DEFAULT_SEED
    base = Policy(kdf_log2_n=SCENARIO_KDF_LOG2_N)
    policy, overrides = policy_from(reader, top["policy"][1], base) if "policy" in top else (base, ())

    companies: list[CompanySpec] = []
    users: list[UserSpec] = []
    if "backoffice" in top:
        bo_node = top["backoffice"][1]
        ref = reader.text(bo_node, "backoffice")
        try:
            shared = read_backoffice(None if ref == "default" else inside(reader, bo_node, ref, "backoffice"))
        except ScenarioError as error:
            if error.path == path or ref == "default":
                raise
            raise reader.fail(bo_node, f"backoffice {name_shown(ref)}: line {error.line}: {error.problem}") from None
        companies.extend(shared.companies)
        users.extend(shared.users)
    if "companies" in top:
        for company in read_companies(reader, top["companies"][1]):
            if any(c.name.casefold() == company.name.casefold() for c in companies):
                raise ScenarioError(path, company.line, f"company {company.name!r} is declared twice")
            companies.append(company)
    if not companies:
        companies.append(CompanySpec(DEFAULT_COMPANY))
    company_names = {c.name.casefold(): c.name for c in companies}
    taken = {u.name.casefold(): u for u in users}
    if "users" in top:
        users.extend(read_users(reader, top["users"][1], company_names, taken))
    devices = _devices(reader, top["devices"][1], taken, top["steps"][1]) if "devices" in top else []

    parser = StepParser(reader, dict(taken), {d.name.casefold(): d for d in devices}, company_names, policy,
                        expectations)
    steps = parser.parse(top["steps"][1])
    return Scenario(path, name, description, start, seed, policy, overrides, tuple(companies), tuple(users),
                    tuple(devices), tuple(steps))


def load_scenario(path: str | pathlib.Path) -> Scenario:
    """Read and validate a scenario file."""
    shown_as = printable(str(path))
    return parse_scenario(read_text(pathlib.Path(path), shown_as), shown_as)


def scenario_paths(given: Sequence[str]) -> list[pathlib.Path]:
    """Files as given; a directory stands for its ``*.yaml`` and ``*.yml`` files, sorted."""
    found: list[pathlib.Path] = []
    for text in given:
        path = pathlib.Path(text)
        try:
            is_dir = path.is_dir()
        except (OSError, ValueError):  # a name too long, or one holding NUL: reading it says why
            is_dir = False
        if is_dir:
            found.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()))
        else:
            found.append(path)
    return found


def load_scenario_files(given: Sequence[str], command: str, *,
                        none_is_fine: bool = False) -> tuple[list[Scenario], list[str]]:
    """Every scenario the paths name, read before any is run (the commands run all or nothing), and
    the lines that say why nothing can run: each invalid file, then a summary; none when all are
    valid (and there is at least one, unless ``none_is_fine``)."""
    paths = scenario_paths(given)
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for path in paths:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as error:
            problems.append(f"error: {error}")
    if problems:
        return scenarios, problems + [f"{len(problems)} of {len(paths)} scenario files are invalid; nothing was run"]
    if not paths and not none_is_fine:
        return scenarios, [f"twofa-sim {command}: no scenario files found"]
    return scenarios, []
