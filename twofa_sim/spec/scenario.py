"""Scenario files: a story and its expected outcomes, written in YAML and run by the engine.

A product owner states an expectation ("after five wrong codes the user is locked for 15
minutes") as a scenario file without writing Python. :func:`load_scenario` reads and validates
it, reporting every problem with the file and line; :func:`run_scenario` plays it against a fresh
:class:`~twofa_sim.login.backoffice.BackOffice` with a pinned clock and seeded secrets, and returns a
:class:`ScenarioResult`: the timeline of steps and the checks made after each. The format is
documented in ``docs/scenario-format.md``; ``data/scenarios/00_annotated_example.yaml`` shows
every part of it with comments.

The same companies-and-users sections describe the back office the notebooks start from
(``data/backoffice.yaml``, read by :func:`load_backoffice`).
"""

from __future__ import annotations

import dataclasses
import difflib
import io
import math
import os
import pathlib
import re
import stat
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import yaml
from PIL import Image

from ..apps.authenticator import Choice, ImportResult
from ..login.backoffice import BackOffice
from ..core.clock import Clock, iso, to_epoch
from ..apps.device import Device
from ..core.errors import (ClockError, PolicyError, ScanError, TwofaSimError, UriError, ValidationError, check_display_name,
                     shown)
from ..core.events import Event, EventKind
from ..login.flow import FlowEvent, Outcome, Reason, State
from ..login.attempt import LoginAttempt, StepResult
from ..core.passwords import check_password_rule
from ..core.policy import ALGORITHMS, Policy
from ..apps.qr import EnrolmentScreen
from ..apps.scan import check_screen_size
from ..core.secret_source import SecretSource, SeededSecretSource
from ..login.user import check_username
from ..render.tables import events_table

DEFAULT_START = "2026-01-05T09:00:00Z"
DEFAULT_SEED = 1
DEFAULT_PASSWORD = "correct horse 42"
DEFAULT_COMPANY = "ACME"
#: Scenario files create their users with this scrypt cost unless their ``policy`` says otherwise:
#: a scenario is about the flow, not about password hashing, and CI runs many of them.
SCENARIO_KDF_LOG2_N = 4
DEFAULT_TAB = "main"

#: The largest scenario or back-office file read (a 200,000-step scenario takes about 5 MiB).
MAX_FILE_BYTES = 16 * 1024 * 1024
#: The largest image file a scan step reads (a screenshot of an 8K screen as PNG is well below).
MAX_IMAGE_BYTES = 32 * 1024 * 1024
#: The most values a file may hold once its aliases (``*name``) and merge keys (``<<``) are
#: counted as often as they are used: a few hundred bytes of nested aliases otherwise stand for
#: billions of values (a "billion laughs" or merge-key bomb).
MAX_YAML_VALUES = 2_000_000
#: The largest whole number a scenario may hold anywhere (a seed, a count, a pixel).
MAX_WHOLE = 2 ** 64 - 1

# ------------------------------------------------------------------------------------------------
# errors


class ScenarioError(TwofaSimError, ValueError):
    """A scenario or back-office file is not valid: ``path:line: problem``."""

    def __init__(self, path: str, line: int, problem: str, column: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.problem = problem
        super().__init__(f"{self.path}:{line}: {problem}")


def _name_shown(text: str) -> str:
    """A file name as a message repeats it: cut at 64 characters, and printable in any terminal."""
    cut = text if len(text) <= 64 else text[:64] + "..."
    return repr(cut.encode("utf-8", "backslashreplace").decode("utf-8"))


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


class _FileRefused(Exception):
    """A file that is not a regular file, or too large: ``problem`` says which."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def read_regular_file(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Opened without blocking, so a named pipe cannot hang the reader, and checked with ``fstat`` on
    the open file (not the name), so what is read is what was checked: a device such as
    ``/dev/zero``, a pipe or a folder is refused before a byte is read, and no more than ``limit``
    bytes are ever read. Raises :class:`OSError` (and :class:`ValueError` for a name no file can
    have) as ``open`` does, and ``_FileRefused`` for the rest.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    handle = os.open(path, flags)
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise _FileRefused(f"is {_file_kind(info.st_mode)}, not a file")
        if info.st_size > limit:
            raise _FileRefused(f"is larger than {limit // (1024 * 1024)} MiB")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            raise _FileRefused(f"is larger than {limit // (1024 * 1024)} MiB")
        return data
    finally:
        os.close(handle)


# ------------------------------------------------------------------------------------------------
# reading YAML nodes with their line numbers

_TAG = "tag:yaml.org,2002:"
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(days?|d|hours?|h|minutes?|mins?|m|seconds?|secs?|s)?(?![a-z])",
                            re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _unit(text: str | None) -> int:
    if not text:
        return 1
    text = text.lower()
    if text.startswith("min"):
        return 60
    return _UNIT_SECONDS[text[0]]


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``15m``, ``15 min``, ``1h 30m``, ``2d``, ``-45s`` (a sign only in front)."""
    body = text.strip()
    sign = 1.0
    if body[:1] in "+-" and body:
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:].strip()
    if not body:
        raise ValueError("empty")
    total, position = 0.0, 0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        if not match or match.end() == position:
            raise ValueError(body)
        total += float(match.group(1)) * _unit(match.group(2))
        position = match.end()
        while position < len(body) and body[position] in " ,":
            position += 1
    return sign * total


def format_duration(seconds: float) -> str:
    """``15m``, ``1h 30m``, ``45s``, ``-45s``: the inverse of :func:`parse_duration` for whole seconds."""
    sign = "-" if seconds < 0 else ""
    rest = abs(seconds)
    if rest != int(rest):
        return f"{sign}{rest:g}s"
    rest = int(rest)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    if rest or not parts:
        parts.append(f"{rest}s")
    return sign + " ".join(parts)


class _Reader:
    """Typed access to a composed YAML node tree; every problem raises a ScenarioError at its line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node | None, problem: str) -> ScenarioError:
        if node is None:
            return ScenarioError(self.path, 1, problem)
        return ScenarioError(self.path, node.start_mark.line + 1, problem, node.start_mark.column + 1)

    def compose(self, text: str) -> yaml.Node:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark else 1
            problem = " ".join(str(p) for p in (error.context, error.problem) if p)
            raise ScenarioError(self.path, line, f"not valid YAML: {_cut(problem)}") from None
        except yaml.YAMLError as error:
            raise ScenarioError(self.path, 1, f"not valid YAML: {_cut(str(error))}") from None
        except RecursionError:
            raise ScenarioError(self.path, 1, "not valid YAML for a scenario: lists or mappings nest too deeply") from None
        if node is None:
            raise ScenarioError(self.path, 1, "the file is empty")
        self.check_values(node)
        return node

    def check_values(self, root: yaml.Node) -> None:
        """Refuse alias loops, more than :data:`MAX_YAML_VALUES` values counting every use of an
        alias or merge key, and text that is not valid Unicode, before anything else reads the tree.

        The count is made once per node (the composer shares an aliased node, it does not copy
        it), so it costs time in proportion to the file, whatever PyYAML's merge keys would cost.
        """
        counted: dict[int, int] = {}
        open_nodes: set[int] = set()
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            key = id(node)
            if children_done:
                open_nodes.discard(key)
                total = 1 + sum(counted[id(child)] for child in _children(node))
                if total > MAX_YAML_VALUES:
                    raise self.fail(node, f"the file holds more than {MAX_YAML_VALUES:,} values once its aliases "
                                          "(*name) and merge keys (<<) are counted as often as they are used")
                counted[key] = total
                continue
            if key in counted:
                continue
            if key in open_nodes:
                raise self.fail(node, "an alias (*name) refers to a list or mapping that holds it: a loop")
            if isinstance(node, yaml.ScalarNode):
                if _SURROGATE.search(node.value):
                    raise self.fail(node, "holds a lone surrogate (a \\udXXX escape): that is not Unicode text")
                counted[key] = 1
                continue
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in counted)

    # -- containers -------------------------------------------------------------------------------

    def mapping(self, node: yaml.Node, what: str, known: Iterable[str] = (), required: Iterable[str] = (),
                ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The entries of a mapping by key text, refusing duplicates and (if ``known`` is given) unknown keys."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping (key: value lines), got {self._kind(node)}")
        try:
            self._constructor.flatten_mapping(node)
        except yaml.MarkedYAMLError as error:  # a merge key (<<) of something that is not a mapping
            mark = error.problem_mark or error.context_mark or node.start_mark
            raise ScenarioError(self.path, mark.line + 1, f"{what}: a merge key (<<) must be given a mapping "
                                                          "or a list of mappings") from None
        known = list(known)
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.fail(key, f"a key in {what} must be plain text")
            name = key.value
            if name in entries:
                raise self.fail(key, f"{what} has {_name_shown(name)} twice (first at line {entries[name][0].start_mark.line + 1})")
            if known and name not in known:
                hint = difflib.get_close_matches(name, known, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else f" (known: {', '.join(known)})"
                raise self.fail(key, f"{what} has no setting {_name_shown(name)}{suggestion}")
            entries[name] = (key, value)
        for name in required:
            if name not in entries:
                raise self.fail(node, f"{what} needs {name!r}")
        return entries

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list (lines starting with '- '), got {self._kind(node)}")
        return list(node.value)

    @staticmethod
    def _kind(node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        if node.tag == _TAG + "null":
            return "nothing"
        return shown(node.value)

    # -- scalars ----------------------------------------------------------------------------------

    def scalar(self, node: yaml.Node, what: str) -> yaml.ScalarNode:
        if not isinstance(node, yaml.ScalarNode) or node.tag == _TAG + "null":
            raise self.fail(node, f"{what} must be a single value, got {self._kind(node)}")
        return node

    def text(self, node: yaml.Node, what: str, max_length: int = 1024) -> str:
        """The text exactly as written (so ``000000`` stays six zeros, ``yes`` stays ``yes``)."""
        value = self.scalar(node, what).value
        if not value.strip():
            raise self.fail(node, f"{what} must not be empty")
        if len(value) > max_length:
            raise self.fail(node, f"{what} must be at most {max_length} characters")
        return value

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int:
        scalar = self.scalar(node, what)
        if scalar.tag != _TAG + "int":
            raise self.fail(node, f"{what} must be a whole number, got {shown(scalar.value)}")
        value = self._construct(scalar, what)
        if not low <= value <= high:
            bounds = (f"between {low} and {high}" if high != MAX_WHOLE else
                      f"at least {low}" if value < low else "at most 2**64 - 1")
            raise self.fail(node, f"{what} must be {bounds}, got {shown(value)}")
        return value

    def boolean(self, node: yaml.Node, what: str) -> bool:
        scalar = self.scalar(node, what)
        if scalar.tag != _TAG + "bool":
            raise self.fail(node, f"{what} must be true or false, got {shown(scalar.value)}")
        return bool(self._construct(scalar, what))

    def value(self, node: yaml.Node, what: str) -> Any:
        """A plain value as YAML reads it (number, true/false, text)."""
        scalar = self.scalar(node, what)
        if scalar.tag == _TAG + "timestamp":
            return scalar.value
        value = self._construct(scalar, what)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_WHOLE:
            raise self.fail(node, f"{what} is out of range: {shown(value)}")
        return value

    def _construct(self, scalar: yaml.ScalarNode, what: str) -> Any:
        try:
            return self._constructor.construct_object(scalar)
        except ValueError:  # Python refuses to convert integers of more than 4300 digits
            raise self.fail(scalar, f"{what} is a number too long to read ({len(scalar.value)} characters)") from None

    def duration(self, node: yaml.Node, what: str, allow_negative: bool = False) -> float:
        scalar = self.scalar(node, what)
        try:
            seconds = parse_duration(scalar.value)
        except ValueError:
            raise self.fail(node, f"{what} must be a duration such as 30, 30s, 15m, 1h 30m or 2d, "
                                  f"got {shown(scalar.value)}") from None
        if not math.isfinite(seconds) or abs(seconds) > 10 * 365 * 86400:
            raise self.fail(node, f"{what} is out of range (at most 10 years): {shown(scalar.value)}")
        if seconds < 0 and not allow_negative:
            raise self.fail(node, f"{what} must not be negative, got {shown(scalar.value)}")
        return seconds

    def instant(self, node: yaml.Node, what: str) -> float:
        scalar = self.scalar(node, what)
        raw: Any = scalar.value
        if scalar.tag in (_TAG + "int", _TAG + "float"):
            raw = self._construct(scalar, what)
            if isinstance(raw, int) and abs(raw) > MAX_WHOLE:
                raise self.fail(node, f"{what} must be an ISO 8601 time such as 2026-01-05T09:00:00Z, "
                                      f"got {shown(raw)}")
        try:
            return to_epoch(raw, field=what)
        except ClockError as error:
            raise self.fail(node, f"{what} must be an ISO 8601 time such as 2026-01-05T09:00:00Z "
                                  f"({error.problem})") from None

    def choice(self, node: yaml.Node, what: str, options: dict[str, Any]) -> Any:
        """One of ``options`` by name, ignoring case, spaces, dashes and underscores."""
        text = self.text(node, what)
        found = options.get(_fold(text))
        if found is None:
            names = sorted({k for k in options})
            hint = difflib.get_close_matches(_fold(text), names, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            raise self.fail(node, f"{what} {shown(text)} is not known{suggestion} (known: {', '.join(names)})")
        return found

    def name(self, node: yaml.Node, what: str) -> str:
        return self.text(node, what, max_length=64).strip()

    def display_name(self, node: yaml.Node, what: str) -> str:
        """A company or device name, checked as the back office checks it (printable, 64 at most)."""
        try:
            return check_display_name(what, self.name(node, what))
        except ValidationError as error:
            raise self.fail(node, f"{what} {error.problem}") from None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_SURROGATE = re.compile("[\ud800-\udfff]")


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _fold(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().casefold())


def _enum_options(enum_type) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for member in enum_type:
        options[_fold(member.name)] = member
        if member.value:
            options[_fold(member.value)] = member
    return options


STATE_NAMES = _enum_options(State)
OUTCOME_NAMES = _enum_options(Outcome)
REASON_NAMES = _enum_options(Reason) | {"none": Reason.NONE}
EVENT_NAMES = _enum_options(EventKind)


# ------------------------------------------------------------------------------------------------
# the file's parts


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
class DeviceSpec:
    """An authenticator app on a device: its owner, its app profile and its clock's offset."""

    name: str
    owner: str
    app: str
    clock_offset: float = 0.0
    line: int = 0
    installed_by_step: bool = False


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


# -- steps ----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Step:
    """One line of the story. ``number`` counts from 1; ``line`` is where it starts in the file."""

    number: int
    line: int
    note: str = ""
    expect: "Expectation | None" = None

    @property
    def subject(self) -> str | None:
        """The user the step is about (expectations default to it)."""
        return getattr(self, "user", None)

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class LoginStep(Step):
    user: str
    password: str = field(repr=False)
    tab: str = DEFAULT_TAB
    password_given: bool = False

    def describe(self) -> str:
        how = "the password given in the step" if self.password_given else "username and password"
        return f"logs in with {how}" + _tab(self.tab)


@dataclass(frozen=True, kw_only=True)
class ScanStep(Step):
    """The device's app scans the QR the user's login shows (page image, bare QR or an image file)."""

    device: str
    user: str
    tab: str = DEFAULT_TAB
    image: str = "page"
    rect: tuple[int, int, int, int] | None = None
    choice: str | None = None

    def describe(self) -> str:
        what = {"page": "the page", "qr": "the QR alone"}.get(self.image, f"image {self.image}")
        where = f", rectangle {list(self.rect)}" if self.rect else ""
        answer = f", answers '{self.choice}'" if self.choice else ""
        return f"scans {what} with {self.device}{where}{answer}"


@dataclass(frozen=True, kw_only=True)
class EnterKeyStep(Step):
    """The user types the secret shown as text into the device's app (manual entry)."""

    device: str
    user: str
    tab: str = DEFAULT_TAB
    algorithm: str = "SHA1"
    digits: int = 6
    period: int = 30

    def describe(self) -> str:
        chosen = "" if (self.algorithm, self.digits, self.period) == ("SHA1", 6, 30) else \
            f" ({self.algorithm}, {self.digits} digits, {self.period} s)"
        return f"types the key shown as text into {self.device}{chosen}"


@dataclass(frozen=True, kw_only=True)
class TypeStep(Step):
    """The user types a code: the one a device shows, a literal, or a recovery code."""

    user: str
    tab: str = DEFAULT_TAB
    device: str | None = None
    entry: int | None = None
    code: str | None = field(default=None, repr=False)
    recovery: int | str | None = field(default=None, repr=False)

    def describe(self) -> str:
        if self.device is not None:
            which = f" (entry {self.entry})" if self.entry is not None else ""
            return f"types the code from {self.device}{which}" + _tab(self.tab)
        if self.recovery is not None:
            which = f"#{self.recovery}" if isinstance(self.recovery, int) else "(typed)"
            return f"types recovery code {which}" + _tab(self.tab)
        return f"types {self.code}" + _tab(self.tab)


@dataclass(frozen=True, kw_only=True)
class WaitStep(Step):
    """Time passes. With ``poll`` (the default) open screens look at the clock and close when due."""

    seconds: float
    poll: bool = True

    def describe(self) -> str:
        quiet = " (screens do not look at the clock)" if not self.poll else ""
        return f"{format_duration(self.seconds)} pass{quiet}"


@dataclass(frozen=True, kw_only=True)
class ClockStep(Step):
    at: float

    def describe(self) -> str:
        return f"the clock is set to {iso(self.at)} UTC"


@dataclass(frozen=True, kw_only=True)
class DeviceClockStep(Step):
    device: str
    offset: float

    def describe(self) -> str:
        if not self.offset:
            return f"{self.device}'s clock is set right"
        return f"{self.device}'s clock is set {_signed(self.offset)} off ({_ahead(self.offset)})"


@dataclass(frozen=True, kw_only=True)
class InstallStep(Step):
    """The owner installs the app on the device now (devices without such a step are there from the start)."""

    device: str
    user: str

    def describe(self) -> str:
        return f"installs the app on {self.device}"


@dataclass(frozen=True, kw_only=True)
class CorrectClockStep(Step):
    """The device's app corrects its clock against the server's time (the add-on's "sync clock")."""

    device: str

    def describe(self) -> str:
        return f"{self.device} corrects its clock from the server's time"


@dataclass(frozen=True, kw_only=True)
class MoveEntriesStep(Step):
    """Every entry of one device's app moves into another's: the first app's export, read by the
    second app's rules (a user changing apps). ``device`` is the app the entries move into."""

    source: str
    device: str

    def describe(self) -> str:
        return f"moves every entry from {self.source} into {self.device}"


@dataclass(frozen=True, kw_only=True)
class AdminStep(Step):
    """tick, untick, reset, unlock, issue_recovery_codes: one admin action on one user."""

    action: str
    user: str

    def describe(self) -> str:
        return {
            "tick": f"ticks \"Force 2 factor auth.\" for {self.user}",
            "untick": f"unticks \"Force 2 factor auth.\" for {self.user}",
            "reset": f"resets 2FA of {self.user} (lost phone)",
            "unlock": f"unlocks {self.user}",
            "issue_recovery_codes": f"issues recovery codes to {self.user}",
        }[self.action]


@dataclass(frozen=True, kw_only=True)
class CompanySettingStep(Step):
    company: str
    on: bool

    def describe(self) -> str:
        return f"turns 2FA for all users of {self.company} {'on' if self.on else 'off'}"


@dataclass(frozen=True, kw_only=True)
class CreateUserStep(Step):
    spec: UserSpec

    @property
    def subject(self) -> str | None:
        return self.spec.name

    def describe(self) -> str:
        flag = "ticked" if self.spec.force_2fa else "not ticked"
        return f"creates user {self.spec.name} (Force 2 factor auth. {flag})"


@dataclass(frozen=True, kw_only=True)
class PolicyStep(Step):
    changes: tuple[tuple[str, Any], ...]

    def describe(self) -> str:
        return "changes the policy: " + ", ".join(f"{k}={v!r}" for k, v in self.changes)


@dataclass(frozen=True, kw_only=True)
class LogOutStep(Step):
    user: str
    tab: str = DEFAULT_TAB

    def describe(self) -> str:
        return "logs out" + _tab(self.tab)


@dataclass(frozen=True, kw_only=True)
class StartOverStep(Step):
    user: str
    tab: str = DEFAULT_TAB

    def describe(self) -> str:
        return "starts over at the login mask" + _tab(self.tab)


@dataclass(frozen=True, kw_only=True)
class CheckStep(Step):
    """A step with only ``expect`` (and maybe ``note``): checks, no action."""

    user: str | None = None

    def describe(self) -> str:
        return "checks" if self.expect else "note"


def _signed(seconds: float) -> str:
    text = format_duration(seconds)
    return text if text.startswith("-") else "+" + text


def _ahead(seconds: float) -> str:
    return "ahead" if seconds > 0 else "behind"


def _tab(tab: str) -> str:
    return "" if tab == DEFAULT_TAB else f" [tab {tab}]"


# -- expectations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What must hold after a step: ``(key, value, line)`` triples in file order, about ``user``/``tab``."""

    user: str | None
    tab: str
    items: tuple[tuple[str, Any, int], ...]
    device: str | None = None


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


# ------------------------------------------------------------------------------------------------
# the loader

SCENARIO_KEYS = ["name", "description", "start", "seed", "policy", "backoffice", "companies", "users",
                 "devices", "steps"]
BACKOFFICE_KEYS = ["description", "start", "seed", "policy", "companies", "users"]
ACTIONS = ["install", "login", "scan", "enter_key", "type", "wait", "clock", "device_clock", "correct_clock", "move", "tick", "untick", "reset",
           "unlock", "issue_recovery_codes", "company_setting", "create_user", "policy", "log_out",
           "start_over"]
STEP_KEYS = ACTIONS + ["expect", "note"]
EXPECT_KEYS = ["user", "tab", "device", "error", "state", "outcome", "reason", "qr_shown", "message", "enrolled",
               "needs_2fa", "locked", "locked_until", "locked_for", "failures", "recovery_codes_left", "events",
               "user_events", "step_events", "entries", "scan", "app_changed"]
DEVICE_EXPECTATIONS = ("entries", "scan", "app_changed")
SCAN_RESULTS = {"added": "added", "entry added": "added", "failed": "failed", "scan failed": "failed",
                "not added": "not added"}
CHOICES = {_fold(c.value): c.value for c in Choice}
PARAMETERS = {"algorithm": "algorithm", "digits": "digits", "period": "period"}


#: Short names a scenario may use for an app profile, besides each profile's key and name.
APP_ALIASES = {"authenticator": "authenticator-addon", "add-on": "authenticator-addon",
               "addon": "authenticator-addon", "google": "google-authenticator"}


def _app_profiles() -> dict[str, str]:
    """Profile keys by folded key, name or alias (``authenticator`` is the article's add-on)."""
    from ..apps.profiles import PROFILES
    options = {}
    for key, profile in PROFILES.items():
        options[_fold(key)] = key
        options[_fold(profile.name)] = key
    for alias, key in APP_ALIASES.items():
        if key in PROFILES:
            options[_fold(alias)] = key
    return options


def _policy_from(reader: _Reader, node: yaml.Node, base: Policy) -> tuple[Policy, tuple[tuple[str, Any], ...]]:
    known = [f.name for f in dataclasses.fields(Policy)]
    entries = reader.mapping(node, "policy", known=known)
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


def _companies(reader: _Reader, node: yaml.Node) -> list[CompanySpec]:
    companies = []
    for name, (key, value) in reader.mapping(node, "companies").items():
        company = reader.display_name(key, "a company name")
        force = False
        if not (isinstance(value, yaml.ScalarNode) and value.tag == _TAG + "null"):
            settings = reader.mapping(value, f"company {company!r}", known=["force_2fa_for_all"])
            if "force_2fa_for_all" in settings:
                force = reader.boolean(settings["force_2fa_for_all"][1], "force_2fa_for_all")
        companies.append(CompanySpec(company, force, key.start_mark.line + 1))
    return companies


def _user_spec(reader: _Reader, name_node: yaml.Node, name: str, value: yaml.Node | None,
               company_names: dict[str, str]) -> UserSpec:
    try:
        check_username(name)
    except ValidationError as error:
        raise reader.fail(name_node, f"user {name!r}: {error.problem}") from None
    company, force, password = None, False, DEFAULT_PASSWORD
    if value is not None and not (isinstance(value, yaml.ScalarNode) and value.tag == _TAG + "null"):
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


def _users(reader: _Reader, node: yaml.Node, company_names: dict[str, str],
           taken: dict[str, UserSpec]) -> list[UserSpec]:
    users = []
    for name, (key, value) in reader.mapping(node, "users").items():
        name = reader.name(key, "a username")
        if name.casefold() in taken:
            raise reader.fail(key, f"user {name!r} is declared twice (usernames ignore case; first at line "
                                   f"{taken[name.casefold()].line})")
        spec = _user_spec(reader, key, name, value, company_names)
        taken[name.casefold()] = spec
        users.append(spec)
    return users


def _printable(text: str) -> str:
    """A file name as messages and the timeline show it: a name that is not valid UTF-8 (Python
    holds its bytes as lone surrogates) is written with backslash escapes, so it prints anywhere."""
    return text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace") \
        if _SURROGATE.search(text) else text


def _read_text(path: pathlib.Path, shown_as: str) -> str:
    try:
        data = read_regular_file(path, MAX_FILE_BYTES)
    except _FileRefused as refused:
        raise ScenarioError(shown_as, 1, f"cannot read the file: it {refused.problem}") from None
    except OSError as error:
        raise ScenarioError(shown_as, 1, f"cannot read the file: {error.strerror or error}") from None
    except ValueError:  # a name the system cannot take: a NUL character, or text that is not valid Unicode
        raise ScenarioError(_printable(shown_as), 1,
                            "cannot read the file: the name holds a character no file name can hold") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ScenarioError(shown_as, line, "the file is not UTF-8 text") from None


def open_screen_image(path: pathlib.Path) -> Image.Image:
    """An image file a scan step names, decoded; its size is checked against a screen's before any
    pixel is decoded. Raises ``_FileRefused`` (with the problem) for anything else."""
    try:
        data = read_regular_file(path, MAX_IMAGE_BYTES)
    except (OSError, ValueError):
        raise _FileRefused("cannot be read") from None
    try:
        with warnings.catch_warnings():  # Pillow warns from 89 megapixels; the screen's bound is lower
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        check_screen_size(image.width, image.height)
        image.load()  # a full decode: verify() passes damaged image data whose checksums fit
    except ScanError as error:
        raise _FileRefused(str(error)) from None
    except Image.DecompressionBombError:  # Pillow's own bound (178 megapixels) refused it first
        raise _FileRefused("is larger than a screen shows (Pillow calls it a decompression bomb)") from None
    except Exception:  # noqa: BLE001 - any decoder failure means "not an image"
        raise _FileRefused("is not an image file PIL can read") from None
    return image


def confined(scenario_path: str, ref: str) -> pathlib.Path | None:
    """The file ``ref`` names relative to the scenario's folder, if it lies inside that folder (or
    a folder below it) once every symbolic link is followed; None if it does not. Whether the file
    exists plays no part, so the answer for a name outside tells nothing about the machine."""
    if pathlib.PurePath(ref).is_absolute():
        return None
    folder = pathlib.Path(scenario_path).parent
    try:
        base = folder.resolve()
        target = (folder / ref).resolve()
        return target if target != base and target.is_relative_to(base) else None
    except (OSError, ValueError, RuntimeError):  # a link loop, a NUL character
        return None


def _inside(reader: "_Reader", node: yaml.Node, ref: str, what: str) -> pathlib.Path:
    target = confined(reader.path, ref)
    if target is None:
        raise reader.fail(node, f"{what} must name a file in the scenario's folder or a folder below it, "
                                f"not {_name_shown(ref)}")
    return target


def parse_backoffice(text: str, path: str = "<backoffice>") -> BackOfficeSpec:
    """Companies, users, policy, start and seed from back-office YAML text."""
    reader = _Reader(path)
    top = reader.mapping(reader.compose(text), "the file", known=BACKOFFICE_KEYS, required=["users"])
    policy, _ = (_policy_from(reader, top["policy"][1], Policy()) if "policy" in top else (Policy(), ()))
    start = reader.instant(top["start"][1], "start") if "start" in top else to_epoch(DEFAULT_START)
    seed = reader.integer(top["seed"][1], "seed", 0, MAX_WHOLE) if "seed" in top else DEFAULT_SEED
    companies = _companies(reader, top["companies"][1]) if "companies" in top else [CompanySpec(DEFAULT_COMPANY)]
    if not companies:
        raise reader.fail(top["companies"][1], "companies must name at least one company")
    names = {c.name.casefold(): c.name for c in companies}
    users = _users(reader, top["users"][1], names, {})
    return BackOfficeSpec(path, tuple(companies), tuple(users), policy, start, seed)


DEFAULT_BACKOFFICE_YAML = """\
# The back office the notebooks start from: two contracting companies and their backend users.
# Read by twofa_sim.spec.scenario.load_backoffice(); the same text is built into the package, so
# load_backoffice() with no path needs no file. Passwords are in plain text on purpose: these are
# demonstration users, and the simulation stores only their scrypt hashes.
description: Two contracting companies of the back office and their backend users.
start: 2026-01-05T09:00:00Z     # the notebooks' clock starts here (pinned)
seed: 2026                      # seeded secrets, so every run shows the same QR codes
companies:
  ACME Publishing:
    force_2fa_for_all: false    # the company's security setting: 2FA for all its backend users
  Globex Media:
    force_2fa_for_all: true
users:
  alice:                        # the article's user: the admin ticked "Force 2 factor auth."
    company: ACME Publishing
    force_2fa: true
    password: correct horse 42
  bob:                          # no flag, company setting off: password only
    company: ACME Publishing
    password: battery staple 7
  carol:                        # flag not ticked, but her company turns 2FA on for everyone
    company: Globex Media
    password: purple monkey dishwasher
  dave:
    company: Globex Media
    force_2fa: true
    password: tr0ub4dor and 3
"""


def read_backoffice(path: str | pathlib.Path | None = None) -> BackOfficeSpec:
    """The back-office description at ``path`` (the built-in default, equal to data/backoffice.yaml, if None)."""
    if path is None:
        return parse_backoffice(DEFAULT_BACKOFFICE_YAML, "data/backoffice.yaml")
    path = pathlib.Path(path)
    return parse_backoffice(_read_text(path, _printable(str(path))), _printable(str(path)))


def load_backoffice(path: str | pathlib.Path | None = None, *, policy: Policy | None = None,
                    clock: Clock | None = None, secret_source: SecretSource | None = None) -> BackOffice:
    """The back office the notebooks start from, ready to use.

    Without arguments: the built-in companies and users (the same as ``data/backoffice.yaml``),
    a clock pinned at the file's ``start`` and secrets seeded with its ``seed``. Pass ``policy``,
    ``clock`` or ``secret_source`` to change any of them.
    """
    return read_backoffice(path).build(policy=policy, clock=clock, secret_source=secret_source)


class _StepParser:
    """Reads the ``steps`` list in order, keeping track of which users and devices exist."""

    def __init__(self, reader: _Reader, users: dict[str, UserSpec], devices: dict[str, DeviceSpec],
                 companies: dict[str, str], policy: Policy) -> None:
        self.r = reader
        self.users = users
        self.devices = devices
        self.companies = companies
        self.policy = policy
        self.subject: str | None = None
        self.login_names: set[str] = set()
        self.installed = {d.name for d in devices.values() if not d.installed_by_step}

    # -- references -------------------------------------------------------------------------------

    def known_user(self, node: yaml.Node, what: str = "user") -> str:
        name = self.r.name(node, what)
        spec = self.users.get(name.casefold())
        if spec is None:
            known = ", ".join(u.name for u in self.users.values()) or "none yet"
            raise self.r.fail(node, f"no user {name!r} declared before this step (known: {known})")
        return spec.name

    def known_device(self, node: yaml.Node, installed: bool = True) -> DeviceSpec:
        name = self.r.name(node, "device")
        spec = self.devices.get(name.casefold())
        if spec is None:
            known = ", ".join(d.name for d in self.devices.values()) or "none"
            raise self.r.fail(node, f"no device {name!r} in devices (known: {known})")
        if installed and spec.name not in self.installed:
            raise self.r.fail(node, f"device {spec.name!r} is used before its 'install' step")
        return spec

    def default_user(self, node: yaml.Node, what: str) -> str:
        if len(self.users) == 1:
            return next(iter(self.users.values())).name
        if self.subject is not None:
            return self.subject
        raise self.r.fail(node, f"{what}: say whose login with 'user: NAME'")

    def tab(self, entries: dict) -> str:
        return self.r.name(entries["tab"][1], "tab") if "tab" in entries else DEFAULT_TAB

    def user_or_mapping(self, node: yaml.Node, what: str, known: list[str]) -> tuple[str, dict]:
        """``action: alice`` or ``action: {user: alice, ...}``."""
        if isinstance(node, yaml.ScalarNode) and node.tag != _TAG + "null":
            return self.known_user(node), {}
        entries = self.r.mapping(node, what, known=known)
        if "user" in entries:
            return self.known_user(entries["user"][1]), entries
        return self.default_user(node, what), entries

    # -- steps ------------------------------------------------------------------------------------

    def parse(self, node: yaml.Node) -> list[Step]:
        steps = []
        for number, step_node in enumerate(self.r.sequence(node, "steps"), start=1):
            steps.append(self.step(number, step_node))
        if not steps:
            raise self.r.fail(node, "steps must have at least one step")
        return steps

    def step(self, number: int, node: yaml.Node) -> Step:
        if isinstance(node, yaml.ScalarNode) and node.tag != _TAG + "null":
            raise self.r.fail(node, f"step {number} must be a mapping such as 'login: alice', got {shown(node.value)}")
        entries = self.r.mapping(node, f"step {number}", known=STEP_KEYS)
        actions = [name for name in entries if name in ACTIONS]
        if len(actions) > 1:
            raise self.r.fail(entries[actions[1]][0], f"step {number} has two actions ({actions[0]!r} and "
                                                      f"{actions[1]!r}); make them two steps")
        if not actions and not entries:
            raise self.r.fail(node, f"step {number} is empty")
        common = {"number": number, "line": node.start_mark.line + 1}
        if "note" in entries:
            common["note"] = self.r.text(entries["note"][1], "note", max_length=500)
        step: Step
        if actions:
            name = actions[0]
            key, value = entries[name]
            step = getattr(self, f"_{name}")(value, common, key)
        else:
            step = CheckStep(**common)
        if step.subject is not None:
            self.subject = step.subject
        if "expect" in entries:
            expectation = self.expectation(entries["expect"][1], step)
            step = dataclasses.replace(step, expect=expectation)
        elif not actions and "note" not in entries:
            raise self.r.fail(node, f"step {number} has neither an action nor expect")
        return step

    def _login(self, node, common, key) -> Step:
        if isinstance(node, yaml.ScalarNode) and node.tag != _TAG + "null":
            entries, user_node = {}, node
        else:
            entries = self.r.mapping(node, "login", known=["user", "password", "tab"], required=["user"])
            user_node = entries["user"][1]
        user = self.r.name(user_node, "login user")
        spec = self.users.get(user.casefold())
        if "password" in entries:
            password = self.r.scalar(entries["password"][1], "password").value
            given = True
        elif spec is not None:
            password, given = spec.password, False
        else:
            raise self.r.fail(user_node, f"login: {user!r} is not a declared user, so say which password "
                                         "is typed ('password: ...')")
        self.login_names.add(user.casefold())
        return LoginStep(user=spec.name if spec else user, password=password, tab=self.tab(entries),
                         password_given=given, **common)

    def _device_step(self, node, what: str, known: list[str]) -> tuple[DeviceSpec, str, dict]:
        if isinstance(node, yaml.ScalarNode) and node.tag != _TAG + "null":
            device = self.known_device(node)
            return device, device.owner, {}
        entries = self.r.mapping(node, what, known=known, required=["device"])
        device = self.known_device(entries["device"][1])
        user = self.known_user(entries["user"][1]) if "user" in entries else device.owner
        return device, user, entries

    def _scan(self, node, common, key) -> Step:
        device, user, entries = self._device_step(node, "scan", ["device", "user", "tab", "image", "rect", "choice"])
        image, rect = "page", None
        if "image" in entries:
            image_node = entries["image"][1]
            image = self.r.text(image_node, "image")
            if image not in ("page", "qr"):
                found = _inside(self.r, image_node, image, "image ('page', 'qr' or an image file)")
                try:
                    if not found.is_file():
                        raise _FileRefused("no such file")
                    open_screen_image(found).close()
                except _FileRefused as refused:
                    if refused.problem == "no such file":
                        raise self.r.fail(image_node, f"image must be 'page', 'qr' or an image file next to the "
                                                      f"scenario; no file {_name_shown(image)}") from None
                    raise self.r.fail(image_node, f"{_name_shown(image)} {refused.problem}") from None
        if "rect" in entries:
            rect_node = entries["rect"][1]
            values = self.r.sequence(rect_node, "rect")
            if len(values) != 4:
                raise self.r.fail(rect_node, "rect must be [left, top, right, bottom] in pixels of the image")
            left, top, right, bottom = (self.r.integer(v, "rect", 0, 100_000) for v in values)
            if right <= left or bottom <= top:
                raise self.r.fail(rect_node, "rect must be [left, top, right, bottom] with right > left and "
                                             "bottom > top")
            rect = (left, top, right, bottom)
        choice = self.r.choice(entries["choice"][1], "choice", CHOICES) if "choice" in entries else None
        return ScanStep(device=device.name, user=user, tab=self.tab(entries), image=image, rect=rect, choice=choice,
                        **common)

    def _enter_key(self, node, common, key) -> Step:
        device, user, entries = self._device_step(node, "enter_key",
                                                  ["device", "user", "tab", "algorithm", "digits", "period"])
        form = {}
        if "algorithm" in entries:
            form["algorithm"] = self.r.choice(entries["algorithm"][1], "algorithm",
                                              {_fold(a): a for a in ALGORITHMS})
        if "digits" in entries:
            form["digits"] = self.r.integer(entries["digits"][1], "digits", 1, 10)
        if "period" in entries:
            form["period"] = self.r.integer(entries["period"][1], "period", 1, 86_400)
        return EnterKeyStep(device=device.name, user=user, tab=self.tab(entries), **form, **common)

    def _install(self, node, common, key) -> Step:
        spec = self.known_device(node, installed=False)
        if spec.name in self.installed:
            raise self.r.fail(node, f"device {spec.name!r} is installed already")
        self.installed.add(spec.name)
        return InstallStep(device=spec.name, user=spec.owner, **common)

    def _correct_clock(self, node, common, key) -> Step:
        return CorrectClockStep(device=self.known_device(node).name, **common)

    def _move(self, node, common, key) -> Step:
        entries = self.r.mapping(node, "move", known=["from", "to"], required=["from", "to"])
        source, target = (self.known_device(entries[k][1]).name for k in ("from", "to"))
        if source == target:
            raise self.r.fail(node, "move needs two different devices: 'from' and 'to'")
        return MoveEntriesStep(source=source, device=target, **common)

    def _type(self, node, common, key) -> Step:
        entries = self.r.mapping(node, "type", known=["user", "tab", "from", "entry", "code", "recovery"])
        sources = [k for k in ("from", "code", "recovery") if k in entries]
        if len(sources) != 1:
            raise self.r.fail(node, "type needs exactly one of 'from: DEVICE', 'code: DIGITS' or "
                                    "'recovery: N' (the N-th recovery code issued) / 'recovery: TEXT'")
        device = entry = code = recovery = None
        if "from" in entries:
            device_spec = self.known_device(entries["from"][1])
            device = device_spec.name
            default_user = device_spec.owner
            if "entry" in entries:
                entry = self.r.integer(entries["entry"][1], "entry", 1, 1000)
        else:
            if "entry" in entries:
                raise self.r.fail(entries["entry"][0], "entry only goes with 'from: DEVICE'")
            default_user = None
        if "code" in entries:
            code = self.r.scalar(entries["code"][1], "code").value
        if "recovery" in entries:
            rnode = entries["recovery"][1]
            recovery = (self.r.integer(rnode, "recovery", 1, 100) if self.r.scalar(rnode, "recovery").tag == _TAG + "int"
                        else self.r.text(rnode, "recovery", 64))
        if "user" in entries:
            user = self.known_user(entries["user"][1])
        elif default_user is not None:
            user = default_user
        else:
            user = self.default_user(node, "type")
        return TypeStep(user=user, tab=self.tab(entries), device=device, entry=entry, code=code,
                        recovery=recovery, **common)

    def _wait(self, node, common, key) -> Step:
        if isinstance(node, yaml.MappingNode):
            entries = self.r.mapping(node, "wait", known=["for", "poll"], required=["for"])
            poll = self.r.boolean(entries["poll"][1], "poll") if "poll" in entries else True
            return WaitStep(seconds=self.r.duration(entries["for"][1], "wait.for"), poll=poll, **common)
        return WaitStep(seconds=self.r.duration(node, "wait"), **common)

    def _clock(self, node, common, key) -> Step:
        entries = self.r.mapping(node, "clock", known=["set"], required=["set"])
        return ClockStep(at=self.r.instant(entries["set"][1], "clock.set"), **common)

    def _device_clock(self, node, common, key) -> Step:
        entries = self.r.mapping(node, "device_clock", known=["device", "offset"], required=["device", "offset"])
        device = self.known_device(entries["device"][1])
        offset = self.r.duration(entries["offset"][1], "offset", allow_negative=True)
        return DeviceClockStep(device=device.name, offset=offset, **common)

    def _admin(self, action: str, node, common) -> Step:
        return AdminStep(action=action, user=self.known_user(node, action), **common)

    def _tick(self, node, common, key):
        return self._admin("tick", node, common)

    def _untick(self, node, common, key):
        return self._admin("untick", node, common)

    def _reset(self, node, common, key):
        return self._admin("reset", node, common)

    def _unlock(self, node, common, key):
        return self._admin("unlock", node, common)

    def _issue_recovery_codes(self, node, common, key):
        return self._admin("issue_recovery_codes", node, common)

    def _company_setting(self, node, common, key) -> Step:
        entries = self.r.mapping(node, "company_setting", known=["company", "force_2fa_for_all"],
                                 required=["force_2fa_for_all"])
        if "company" in entries:
            name_node = entries["company"][1]
            name = self.r.name(name_node, "company")
            if name.casefold() not in self.companies:
                raise self.r.fail(name_node, f"no company {name!r} (known: {', '.join(self.companies.values())})")
            company = self.companies[name.casefold()]
        elif len(self.companies) == 1:
            company = next(iter(self.companies.values()))
        else:
            raise self.r.fail(node, "company_setting: name the company ('company: NAME')")
        on = self.r.boolean(entries["force_2fa_for_all"][1], "force_2fa_for_all")
        return CompanySettingStep(company=company, on=on, **common)

    def _create_user(self, node, common, key) -> Step:
        entries = self.r.mapping(node, "create_user", known=["name", "company", "force_2fa", "password"],
                                 required=["name"])
        name_node = entries["name"][1]
        name = self.r.name(name_node, "name")
        if name.casefold() in self.users:
            raise self.r.fail(name_node, f"user {name!r} already exists (line {self.users[name.casefold()].line})")
        rest = yaml.MappingNode(_TAG + "map", [(k, v) for n, (k, v) in entries.items() if n != "name"],
                                start_mark=node.start_mark, end_mark=node.end_mark)
        spec = _user_spec(self.r, name_node, name, rest, self.companies)
        self.users[name.casefold()] = spec
        return CreateUserStep(spec=spec, **common)

    def _policy(self, node, common, key) -> Step:
        self.policy, changes = _policy_from(self.r, node, self.policy)
        if not changes:
            raise self.r.fail(node, "policy needs at least one setting to change")
        return PolicyStep(changes=changes, **common)

    def _log_out(self, node, common, key) -> Step:
        user, entries = self.user_or_mapping(node, "log_out", ["user", "tab"])
        return LogOutStep(user=user, tab=self.tab(entries), **common)

    def _start_over(self, node, common, key) -> Step:
        user, entries = self.user_or_mapping(node, "start_over", ["user", "tab"])
        return StartOverStep(user=user, tab=self.tab(entries), **common)

    # -- expect -----------------------------------------------------------------------------------

    def expectation(self, node: yaml.Node, step: Step) -> Expectation:
        entries = self.r.mapping(node, "expect", known=EXPECT_KEYS)
        if not entries:
            raise self.r.fail(node, "expect needs at least one check")
        r = self.r
        user = None
        if "user" in entries:
            user_node = entries["user"][1]
            user = r.name(user_node, "expect.user")
            spec = self.users.get(user.casefold())
            if spec is not None:
                user = spec.name
            elif user.casefold() not in self.login_names:
                raise r.fail(user_node, f"expect.user: no user {user!r} declared or logged in before this step")
            self.subject = user
        else:
            user = step.subject or self.subject
        tab = r.name(entries["tab"][1], "expect.tab") if "tab" in entries else getattr(step, "tab", DEFAULT_TAB)
        device = None
        if "device" in entries:
            device = self.known_device(entries["device"][1]).name
        elif isinstance(step, (ScanStep, EnterKeyStep, DeviceClockStep, CorrectClockStep, InstallStep,
                               MoveEntriesStep)):
            device = step.device
        elif isinstance(step, TypeStep):
            device = step.device
        items: list[tuple[str, Any, int]] = []
        for name, (key, value) in entries.items():
            if name in ("user", "tab", "device"):
                continue
            line = key.start_mark.line + 1
            if name in DEVICE_EXPECTATIONS and device is None:
                raise r.fail(key, f"expect.{name} is about a device: add 'device: NAME'")
            if name not in ("events", "step_events", "error", *DEVICE_EXPECTATIONS) and user is None:
                raise r.fail(key, f"expect.{name} is about a user: add 'user: NAME'")
            items.append((name, self._expected_value(name, value), line))
        return Expectation(user, tab, tuple(items), device)

    def _expected_value(self, name: str, node: yaml.Node) -> Any:
        r = self.r
        if name == "state":
            return r.choice(node, "state", STATE_NAMES)
        if name == "outcome":
            return r.choice(node, "outcome", OUTCOME_NAMES)
        if name == "reason":
            return r.choice(node, "reason", REASON_NAMES)
        if name in ("qr_shown", "enrolled", "needs_2fa", "locked"):
            return r.boolean(node, name)
        if name in ("message", "error"):
            return r.text(node, name)
        if name == "locked_until":
            if isinstance(node, yaml.ScalarNode) and (node.tag == _TAG + "null" or node.value.lower() == "none"):
                return None
            return r.instant(node, "locked_until")
        if name == "locked_for":
            return r.duration(node, "locked_for")
        if name in ("failures", "recovery_codes_left", "entries"):
            return r.integer(node, name, 0, 1_000_000_000)
        if name == "scan":
            return r.choice(node, "scan", SCAN_RESULTS)
        if name in ("events", "user_events"):
            counts = {}
            for kind_text, (key, value) in r.mapping(node, name).items():
                kind = r.choice(key, "event kind", EVENT_NAMES)
                counts[kind] = r.integer(value, f"count of {kind.value!r}", 0, 1_000_000_000)
            if not counts:
                raise r.fail(node, f"{name} needs at least one 'event kind: count'")
            return tuple(counts.items())
        if name == "step_events":
            return tuple(r.choice(item, "event kind", EVENT_NAMES) for item in r.sequence(node, "step_events"))
        if name == "app_changed":
            return tuple(sorted({r.choice(item, "parameter", PARAMETERS) for item in r.sequence(node, "app_changed")}))
        raise AssertionError(name)  # pragma: no cover - EXPECT_KEYS and this function agree


def _created_users(steps: yaml.Node) -> tuple[dict[str, str], set[str]]:
    """Names the steps create with ``create_user`` (a device may belong to a user created later), and
    the devices that ``install`` steps install (the others are there from the start)."""
    names: dict[str, str] = {}
    installed: set[str] = set()
    if isinstance(steps, yaml.SequenceNode):
        for step in steps.value:
            if not isinstance(step, yaml.MappingNode):
                continue
            for key, value in step.value:
                if getattr(key, "value", None) == "create_user" and isinstance(value, yaml.MappingNode):
                    for k, v in value.value:
                        if getattr(k, "value", None) == "name" and isinstance(v, yaml.ScalarNode):
                            names[v.value.strip().casefold()] = v.value.strip()
                if getattr(key, "value", None) == "install" and isinstance(value, yaml.ScalarNode):
                    installed.add(value.value.strip().casefold())
    return names, installed


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """A validated :class:`Scenario` from YAML text; raises :class:`ScenarioError` with the line."""
    reader = _Reader(path)
    top = reader.mapping(reader.compose(text), "the scenario", known=SCENARIO_KEYS, required=["name", "steps"])
    name = reader.text(top["name"][1], "name", 200).strip()
    description = reader.text(top["description"][1], "description", 4000).strip() if "description" in top else ""
    start = reader.instant(top["start"][1], "start") if "start" in top else to_epoch(DEFAULT_START)
    seed = reader.integer(top["seed"][1], "seed", 0, MAX_WHOLE) if "seed" in top else DEFAULT_SEED
    base = Policy(kdf_log2_n=SCENARIO_KDF_LOG2_N)
    policy, overrides = _policy_from(reader, top["policy"][1], base) if "policy" in top else (base, ())

    companies: list[CompanySpec] = []
    users: list[UserSpec] = []
    if "backoffice" in top:
        bo_node = top["backoffice"][1]
        ref = reader.text(bo_node, "backoffice")
        try:
            shared = read_backoffice(None if ref == "default" else _inside(reader, bo_node, ref, "backoffice"))
        except ScenarioError as error:
            if error.path == path or ref == "default":
                raise
            raise reader.fail(bo_node, f"backoffice {_name_shown(ref)}: line {error.line}: {error.problem}") from None
        companies.extend(shared.companies)
        users.extend(shared.users)
    if "companies" in top:
        for company in _companies(reader, top["companies"][1]):
            if any(c.name.casefold() == company.name.casefold() for c in companies):
                raise ScenarioError(path, company.line, f"company {company.name!r} is declared twice")
            companies.append(company)
    if not companies:
        companies.append(CompanySpec(DEFAULT_COMPANY))
    company_names = {c.name.casefold(): c.name for c in companies}
    taken = {u.name.casefold(): u for u in users}
    if "users" in top:
        users.extend(_users(reader, top["users"][1], company_names, taken))

    devices: list[DeviceSpec] = []
    created, installed_later = _created_users(top["steps"][1])
    if "devices" in top:
        profiles: dict[str, Any] | None = None
        for dev_name, (key, value) in reader.mapping(top["devices"][1], "devices").items():
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

    parser = _StepParser(reader, dict(taken), {d.name.casefold(): d for d in devices}, company_names, policy)
    steps = parser.parse(top["steps"][1])
    return Scenario(path, name, description, start, seed, policy, overrides, tuple(companies), tuple(users),
                    tuple(devices), tuple(steps))


def load_scenario(path: str | pathlib.Path) -> Scenario:
    """Read and validate a scenario file."""
    shown_as = _printable(str(path))
    return parse_scenario(_read_text(pathlib.Path(path), shown_as), shown_as)


# ------------------------------------------------------------------------------------------------
# results


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
class QrShown:
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


@dataclass
class ScenarioResult:
    scenario: Scenario
    office: BackOffice
    records: list[StepRecord]
    qrs: list[QrShown]
    not_run: int = 0
    devices: dict[str, Device] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(r.ok for r in self.records) and self.not_run == 0

    @property
    def checks(self) -> list[Check]:
        return [c for r in self.records for c in r.checks]

    @property
    def transitions(self) -> list[tuple[State, FlowEvent, Outcome]]:
        """Every row of the flow's transition table the run took, as (state, event, outcome), in order."""
        return [t for r in self.records for t in r.transitions]

    def failures(self) -> list[str]:
        """One line per failed check or error, naming the step."""
        lines = []
        for record in self.records:
            if record.error is not None:
                lines.append(f"{self.scenario.path}: {record.label()}: error: {record.error}")
            for check in record.checks:
                if not check.ok:
                    lines.append(f"{self.scenario.path}: {record.label()}: {check} (line {check.line})")
        if self.not_run:
            lines.append(f"{self.scenario.path}: {self.not_run} later step(s) not run")
        return lines

    def timeline(self, *, show_checks: bool = True) -> str:
        return "\n".join(format_timeline(self, show_checks=show_checks))

    def write_artifacts(self, directory: str | pathlib.Path) -> list[pathlib.Path]:
        """Every QR shown as ``qr-<user>-<n>.png`` and the event log as ``events.csv``."""
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for qr in self.qrs:
            target = directory / qr.filename
            qr.screen.qr_image().save(target, format="PNG")
            written.append(target)
        target = directory / "events.csv"
        events_table(self.office.events).to_csv(target)
        written.append(target)
        return written


# ------------------------------------------------------------------------------------------------
# the timeline

TIME_WIDTH, ACTOR_WIDTH, ACTION_WIDTH = 8, 14, 52


def _short_time(seconds: float) -> str:
    text = iso(seconds)[11:]
    fraction = seconds - math.floor(seconds)
    return text if fraction < 0.0005 else f"{text}.{int(round(fraction * 1000)):03d}"


def format_record(record: StepRecord, *, show_checks: bool = True) -> list[str]:
    """The timeline lines of one step: ``time  actor  action  outcome`` and its checks."""
    action = record.action
    lines = [f"  {_short_time(record.time):<{TIME_WIDTH}}  {record.actor:<{ACTOR_WIDTH}}  "
             f"{action:<{ACTION_WIDTH}}  {record.outcome}".rstrip()]
    if len(action) > ACTION_WIDTH and record.outcome:  # the outcome keeps its column, on a line of its own
        lines = [lines[0][:-len(record.outcome)].rstrip(), " " * (2 + TIME_WIDTH + 2 + ACTOR_WIDTH + 2 + ACTION_WIDTH + 2)
                 + record.outcome]
    indent = " " * (2 + TIME_WIDTH + 2)
    if record.note:
        lines.insert(0, f"{indent}# {record.note}")
    for check in record.checks:
        if show_checks or not check.ok:
            lines.append(f"{indent}{'ok  ' if check.ok else 'FAIL'}  {check}")
    if record.error is not None:
        lines.append(f"{indent}ERROR {record.error}")
    return lines


def timeline_header(scenario: Scenario) -> list[str]:
    knobs = ", ".join(f"{k}={v!r}" for k, v in scenario.policy_overrides) or "defaults"
    lines = [f"== {scenario.name} ({scenario.path})",
             f"   starts {iso(scenario.start)} UTC, seed {scenario.seed}, policy: {knobs}"]
    lines.append(f"  {'time':<{TIME_WIDTH}}  {'actor':<{ACTOR_WIDTH}}  {'action':<{ACTION_WIDTH}}  outcome")
    return lines


class TimelineWriter:
    """Turns records into timeline lines as they come, with a date line whenever the day changes."""

    def __init__(self, scenario: Scenario, *, show_checks: bool = True) -> None:
        self.day = iso(scenario.start)[:10]
        self.show_checks = show_checks

    def lines(self, record: StepRecord) -> list[str]:
        lines = []
        if iso(record.time)[:10] != self.day:
            self.day = iso(record.time)[:10]
            lines.append(f"  -- {self.day}")
        return lines + format_record(record, show_checks=self.show_checks)


def format_timeline(result: ScenarioResult, *, show_checks: bool = True) -> list[str]:
    lines = timeline_header(result.scenario)
    writer = TimelineWriter(result.scenario, show_checks=show_checks)
    for record in result.records:
        lines.extend(writer.lines(record))
    lines.append(summary_line(result))
    return lines


def summary_line(result: ScenarioResult) -> str:
    steps = sum(1 for r in result.records if not r.is_setup)
    checks = result.checks
    failed = sum(1 for c in checks if not c.ok)
    errors = sum(1 for r in result.records if r.error is not None)
    verdict = "PASS" if result.passed else "FAIL"
    parts = [f"{steps} steps", f"{len(checks)} checks"]
    if failed:
        parts.append(f"{failed} failed")
    if errors:
        parts.append(f"{errors} error")
    if result.not_run:
        parts.append(f"{result.not_run} not run")
    return f"{verdict} {result.scenario.path}: " + ", ".join(parts)


# ------------------------------------------------------------------------------------------------
# the runner


def _describe_result(result: StepResult) -> str:
    text = result.outcome.value
    if result.reason is not Reason.NONE and result.reason.value not in text:
        text += f" ({result.reason.value})"
    text += f" -> {result.state.name}"
    if result.locked_until is not None and result.outcome in (Outcome.LOCKS, Outcome.IS_LOCKED):
        text += f" until {iso(result.locked_until)[11:]}"
    return text


class _Run:
    """The state of one scenario while it runs."""

    def __init__(self, scenario: Scenario, office: BackOffice,
                 on_record: Callable[[StepRecord], None] | None) -> None:
        self.scenario = scenario
        self.office = office
        self.on_record = on_record
        self.logins: dict[tuple[str, str], LoginAttempt] = {}
        self.last: dict[tuple[str, str], StepResult] = {}
        self.recovery_codes: dict[str, list[str]] = {}
        self.devices: dict[str, Device] = {}
        self.device_specs = {d.name: d for d in scenario.devices}
        self.scan_results: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.step_error: str | None = None
        self.qrs: list[QrShown] = []
        self.qr_counts: Counter[str] = Counter()
        self.records: list[StepRecord] = []
        # events counted by kind and by (kind, user) as the log grows: an expectation about counts
        # then costs the same at step 40,000 as at step 1 (counting the whole log each time does not)
        self.event_counts: Counter = Counter()
        self.events_counted = 0

    # -- helpers ----------------------------------------------------------------------------------

    def count_events(self) -> Counter:
        """Counts of events by kind and by (kind, user), brought up to date with the log."""
        for event in self.office.events[self.events_counted:]:
            self.event_counts[event.kind] += 1
            self.event_counts[(event.kind, event.user)] += 1
        self.events_counted = len(self.office.events)
        return self.event_counts

    def emit(self, record: StepRecord) -> None:
        self.records.append(record)
        if self.on_record is not None:
            self.on_record(record)

    @staticmethod
    def key(user: str, tab: str) -> tuple[str, str]:
        return user.casefold(), tab

    def login_of(self, user: str, tab: str) -> LoginAttempt:
        login = self.logins.get(self.key(user, tab))
        if login is None:
            where = "" if tab == DEFAULT_TAB else f" in tab {tab!r}"
            raise _StepFailed(f"{user} has no open login{where}: add a 'login: {user}' step first")
        return login

    def note_result(self, user: str, tab: str, result: StepResult, record: StepRecord, step_number: int) -> None:
        self.last[self.key(user, tab)] = result
        record.result = result
        record.outcome = _describe_result(result)
        if any(e.kind is EventKind.QR_SHOWN for e in record.events):
            login = self.logins[self.key(user, tab)]
            self.qr_counts[user.casefold()] += 1
            count = self.qr_counts[user.casefold()]
            qr = QrShown(login.username or user, count, step_number, self.office.clock.now(), login.screen)
            self.qrs.append(qr)
            record.qr = qr
            record.outcome += ", QR shown"

    def poll_open_logins(self, record: StepRecord) -> list[str]:
        """Time passed: every login with an open QR or code step looks at the clock (closing if due)."""
        closed = []
        for (user, tab), login in self.logins.items():
            if FlowEvent.TIME_PASSES in login.allowed_events:
                result = self.fire(login, FlowEvent.TIME_PASSES, login.poll, record)
                self.last[(user, tab)] = result
                if result.outcome is Outcome.TIMED_OUT:
                    closed.append(login.username or user)
        return closed

    # -- setup ------------------------------------------------------------------------------------

    def setup(self) -> None:
        office = self.office
        for company in self.scenario.companies:
            mark = len(office.events)
            office.create_company(company.name, company.force_2fa_for_all)
            setting = "on" if company.force_2fa_for_all else "off"
            self.emit(StepRecord(0, company.line, office.clock.now(), "admin",
                                 f"creates company {company.name} (2FA for all users: {setting})", "done",
                                 events=office.events[mark:]))
        for user in self.scenario.users:
            mark = len(office.events)
            office.create_user(user.name, user.password, company=user.company, force_2fa=user.force_2fa)
            flag = "ticked" if user.force_2fa else "not ticked"
            self.emit(StepRecord(0, user.line, office.clock.now(), "admin",
                                 f"creates user {user.name} (Force 2 factor auth. {flag})", "done",
                                 events=office.events[mark:]))
        for spec in self.scenario.devices:
            if not spec.installed_by_step:
                mark = len(office.events)
                action = self.install(spec)
                self.emit(StepRecord(0, spec.line, office.clock.now(), spec.owner, action, "done",
                                     events=office.events[mark:]))

    def install(self, spec: DeviceSpec) -> str:
        owner = self.office.find_user(spec.owner)
        device = Device(spec.name, spec.owner, self.office.clock, offset=spec.clock_offset, app=spec.app,
                        events=self.office.events, company=owner.company if owner else "")
        self.devices[spec.name] = device
        offset = (f", clock {_signed(spec.clock_offset)} off ({_ahead(spec.clock_offset)})"
                  if spec.clock_offset else "")
        return f"installs {device.app.profile.title} as {spec.name}{offset}"

    def _InstallStep(self, step: InstallStep, record: StepRecord, mark: int) -> None:
        record.action = self.install(self.device_specs[step.device])
        record.outcome = "done"

    # -- steps ------------------------------------------------------------------------------------

    def run_step(self, step: Step) -> StepRecord:
        office = self.office
        actor = getattr(step, "user", None) or "-"
        record = StepRecord(step.number, step.line, office.clock.now(), actor, step.describe(), "", note=step.note)
        mark = len(office.events)
        try:
            handler = getattr(self, f"_{type(step).__name__}")
            handler(step, record, mark)
        except _StepFailed as failure:
            record.error = str(failure)
        except TwofaSimError as error:
            record.error = f"{type(error).__name__}: {error}"
        record.events = office.events[mark:]
        self.step_error = record.error
        if record.error is not None and step.expect is not None and any(k == "error" for k, _, _ in step.expect.items):
            record.outcome = f"refused: {record.error}"
            record.error = None  # an error the file expects is an outcome like any other
        if record.error is None and step.expect is not None:
            record.checks = self.check(step, record)
        if not record.outcome:
            record.outcome = "error" if record.error else "done"
        return record

    def fire(self, login: LoginAttempt, event: FlowEvent, call: Callable[[], StepResult],
             record: StepRecord) -> StepResult:
        """One flow event on a login, remembering which row of the table it took."""
        source = login.state
        result = call()
        record.transitions.append((source, event, result.outcome))
        return result

    def _LoginStep(self, step: LoginStep, record: StepRecord, mark: int) -> None:
        login = self.office.start_login()
        self.logins[self.key(step.user, step.tab)] = login
        result = self.fire(login, FlowEvent.SUBMIT_PASSWORD,
                           lambda: login.submit_password(step.user, step.password), record)
        record.events = self.office.events[mark:]
        self.note_result(step.user, step.tab, result, record, step.number)

    def _TypeStep(self, step: TypeStep, record: StepRecord, mark: int) -> None:
        login = self.login_of(step.user, step.tab)
        if step.recovery is not None:
            codes = self.recovery_codes.get(step.user.casefold(), [])
            if isinstance(step.recovery, int):
                if step.recovery > len(codes):
                    raise _StepFailed(f"{step.user} was issued {len(codes)} recovery codes in this scenario, "
                                      f"so there is no #{step.recovery}: add an 'issue_recovery_codes' step")
                text = codes[step.recovery - 1]
            else:
                text = step.recovery
            result = self.fire(login, FlowEvent.SUBMIT_RECOVERY_CODE, lambda: login.submit_recovery_code(text),
                               record)
        else:
            if step.device is not None:
                code, record.code_time = self.device_code(step)
                record.device = step.device
                record.action = f"types {code} from {step.device}" + (
                    f" (entry {step.entry})" if step.entry is not None else "") + _tab(step.tab)
            else:
                code = step.code
            record.code = code
            result = self.fire(login, FlowEvent.SUBMIT_CODE, lambda: login.submit_code(code), record)
            record.code_accepted = result.outcome is Outcome.ACCEPTED
        record.events = self.office.events[mark:]
        self.note_result(step.user, step.tab, result, record, step.number)

    # -- devices ----------------------------------------------------------------------------------

    def shown_screen(self, user: str, tab: str) -> EnrolmentScreen:
        """The enrolment screen the user's login shows now (what a device can scan or copy)."""
        login = self.login_of(user, tab)
        if login.state is not State.ENROLMENT or login.screen is None:
            raise _StepFailed(f"{user}'s login shows no QR code (state {login.state.name}): nothing to scan; "
                              "use 'image: FILE' to scan something else")
        return login.screen

    def device_code(self, step: TypeStep) -> tuple[str, int]:
        """The code the device shows for the user's entry, and the whole second its app computed it for."""
        device: Device = self.devices[step.device]
        app = device.app
        if not app.entries:
            raise _StepFailed(f"{step.device} has no entries yet: scan a QR code (or enter the key) first")
        if step.entry is not None:
            if step.entry > len(app.entries):
                raise _StepFailed(f"{step.device} has {len(app.entries)} entries, so there is no entry {step.entry}")
            entry = app.entries[step.entry - 1]
        else:
            mine = [e for e in app.entries if e.account.casefold() == step.user.casefold()]
            entry = mine[-1] if mine else app.entries[-1]
        local = device.now()
        return app.code(entry, local), app.app_seconds(local)

    def _ScanStep(self, step: ScanStep, record: StepRecord, mark: int) -> None:
        record.actor = step.user
        device: Device = self.devices[step.device]
        if step.image in ("page", "qr"):
            screen = self.shown_screen(step.user, step.tab)
            image = screen.page_image() if step.image == "page" else screen.qr_image()
        else:
            found = confined(self.scenario.path, step.image)
            try:
                if found is None:  # a link changed since the scenario was read
                    raise _FileRefused("is no longer inside the scenario's folder")
                with open_screen_image(found) as opened:
                    image = opened.convert("RGB")
            except _FileRefused as refused:
                raise _StepFailed(f"image {_name_shown(step.image)} {refused.problem}") from None
        try:
            result = device.scan(image, list(step.rect) if step.rect else None)
        except (ScanError, UriError) as error:
            self.scan_results[step.device] = ("failed", ())
            record.outcome = f"scan failed: {error}"
            return
        if result.needs_confirmation and step.choice is not None:
            result = device.confirm(result, step.choice)
        self.note_import(step.device, result, record)

    def _EnterKeyStep(self, step: EnterKeyStep, record: StepRecord, mark: int) -> None:
        record.actor = step.user
        device: Device = self.devices[step.device]
        screen = self.shown_screen(step.user, step.tab)
        try:
            result = device.enter_key(screen.account, screen.secret_for_typing, issuer=screen.issuer,
                                      algorithm=step.algorithm, digits=step.digits, period=step.period)
        except ValidationError as error:
            self.scan_results[step.device] = ("failed", ())
            record.outcome = f"entry refused: {error}"
            return
        self.note_import(step.device, result, record)

    def note_import(self, device: str, result: ImportResult, record: StepRecord) -> None:
        changed = tuple(a.field for a in result.adjustments)
        self.scan_results[device] = ("added" if result.added else "not added", changed)
        record.outcome = ("entry " if result.added else "") + result.describe()

    def _DeviceClockStep(self, step: DeviceClockStep, record: StepRecord, mark: int) -> None:
        record.actor = self.device_specs[step.device].owner
        self.devices[step.device].set_offset(step.offset)
        record.outcome = "done"

    def _MoveEntriesStep(self, step: MoveEntriesStep, record: StepRecord, mark: int) -> None:
        record.actor = self.device_specs[step.device].owner
        report = self.devices[step.source].move_entries_to(self.devices[step.device])
        changed = tuple(a.field for r in report.results for a in r.adjustments)
        self.scan_results[step.device] = ("added" if report.added else "not added", changed)
        record.outcome = f"{report.added} entries added" + "".join(f"; {r.describe()}" for r in report.results)

    def _CorrectClockStep(self, step: CorrectClockStep, record: StepRecord, mark: int) -> None:
        record.actor = self.device_specs[step.device].owner
        correction = self.devices[step.device].correct_clock()
        record.outcome = correction.reason

    def _WaitStep(self, step: WaitStep, record: StepRecord, mark: int) -> None:
        record.actor = "clock"
        self.office.clock.advance(step.seconds)
        self._note_clock(f"{format_duration(step.seconds)} passed")
        record.outcome = self._after_time_moved(record) if step.poll else f"now {iso(self.office.clock.now())[11:]}"

    def _ClockStep(self, step: ClockStep, record: StepRecord, mark: int) -> None:
        record.actor = "clock"
        before = self.office.clock.now()
        self.office.clock.set(step.at)
        self._note_clock(f"set to {iso(step.at)} UTC")
        record.outcome = self._after_time_moved(record)
        if step.at < before:
            record.outcome += f" (the clock went back {format_duration(round(before - step.at, 3))})"

    def _note_clock(self, detail: str) -> None:
        self.office.events.record(self.office.clock.now(), EventKind.CLOCK_MOVED, "scenario", detail=detail)

    def _after_time_moved(self, record: StepRecord) -> str:
        closed = self.poll_open_logins(record)
        now = f"now {iso(self.office.clock.now())[11:]}"
        return now + (f"; open step expired for {', '.join(closed)}" if closed else "")

    def _AdminStep(self, step: AdminStep, record: StepRecord, mark: int) -> None:
        record.actor = "admin"
        office = self.office
        if step.action in ("tick", "untick"):
            office.set_force_2fa(step.user, step.action == "tick")
        elif step.action == "reset":
            office.reset_2fa(step.user)
        elif step.action == "unlock":
            office.unlock(step.user)
        elif step.action == "issue_recovery_codes":
            codes = office.issue_recovery_codes(step.user)
            self.recovery_codes[step.user.casefold()] = codes
            record.outcome = f"{len(codes)} codes issued (shown once to {step.user})"
            return
        record.outcome = "done"

    def _CompanySettingStep(self, step: CompanySettingStep, record: StepRecord, mark: int) -> None:
        record.actor = "admin"
        self.office.set_company_force_2fa(step.company, step.on)
        record.outcome = "done"

    def _CreateUserStep(self, step: CreateUserStep, record: StepRecord, mark: int) -> None:
        record.actor = "admin"
        spec = step.spec
        self.office.create_user(spec.name, spec.password, company=spec.company, force_2fa=spec.force_2fa)
        record.outcome = "done"

    def _PolicyStep(self, step: PolicyStep, record: StepRecord, mark: int) -> None:
        record.actor = "admin"
        self.office.set_policy(self.office.policy.replace(**dict(step.changes)))
        record.outcome = "done"

    def _LogOutStep(self, step: LogOutStep, record: StepRecord, mark: int) -> None:
        login = self.login_of(step.user, step.tab)
        result = self.fire(login, FlowEvent.LOG_OUT, login.log_out, record)
        self.note_result(step.user, step.tab, result, record, step.number)

    def _StartOverStep(self, step: StartOverStep, record: StepRecord, mark: int) -> None:
        login = self.login_of(step.user, step.tab)
        result = self.fire(login, FlowEvent.START_OVER, login.start_over, record)
        self.note_result(step.user, step.tab, result, record, step.number)

    def _CheckStep(self, step: CheckStep, record: StepRecord, mark: int) -> None:
        record.actor = "check" if step.expect else "note"
        record.outcome = "-"

    # -- expectations -----------------------------------------------------------------------------

    def check(self, step: Step, record: StepRecord) -> list[Check]:
        expectation = step.expect
        assert expectation is not None
        checks = []
        for name, expected, line in expectation.items:
            try:
                actual = self._actual(name, expectation, record)
            except _StepFailed as failure:
                checks.append(Check(name, _show(name, expected), f"nothing ({failure})", False, line))
                continue
            except TwofaSimError as error:
                checks.append(Check(name, _show(name, expected), f"nothing ({error})", False, line))
                continue
            checks.append(Check(name, _show(name, expected), _show(name, actual),
                                _matches(name, expected, actual), line))
        return checks

    def _actual(self, name: str, expectation: Expectation, record: StepRecord) -> Any:
        office = self.office
        now = office.clock.now()
        user, tab = expectation.user, expectation.tab
        if name == "events":
            counts = self.count_events()
            return tuple((kind, counts[kind]) for kind, _ in _expected_of(expectation, name))
        if name == "step_events":
            return tuple(e.kind for e in record.events)
        if name == "error":
            return self.step_error or "no error"
        if name in ("entries", "scan", "app_changed"):
            if name == "entries":
                return len(self.devices[expectation.device].app.entries)
            if expectation.device not in self.scan_results:
                raise _StepFailed(f"{expectation.device} has not scanned yet")
            outcome, changed = self.scan_results[expectation.device]
            return outcome if name == "scan" else tuple(sorted(set(changed)))
        assert user is not None
        if name == "user_events":
            username, counts = office.user(user).username, self.count_events()
            return tuple((kind, counts[(kind, username)]) for kind, _ in _expected_of(expectation, name))
        if name in ("state", "outcome", "reason", "qr_shown", "message"):
            key = self.key(user, tab)
            login = self.logins.get(key)
            if login is None:
                raise _StepFailed(f"{user} has no login" + _tab(tab))
            if name == "state":
                return login.state
            last = self.last.get(key)
            if last is None:
                raise _StepFailed(f"{user}'s login has no result yet")
            if name == "qr_shown":
                return login.state is State.ENROLMENT and login.screen is not None
            return {"outcome": last.outcome, "reason": last.reason, "message": last.message}[name]
        target = office.user(user)
        enrolment = target.enrolment
        if name == "enrolled":
            return enrolment.is_enrolled
        if name == "needs_2fa":
            return office.needs_2fa(target)
        if name == "locked":
            return enrolment.is_locked(now)
        if name == "locked_until":
            return enrolment.locked_until if enrolment.is_locked(now) else None
        if name == "locked_for":
            return max(0.0, enrolment.locked_until - now) if enrolment.is_locked(now) else 0.0
        if name == "failures":
            # the failed codes that count towards a lock now: a lock that has run out leaves none
            lapsed = enrolment.locked_until is not None and now >= enrolment.locked_until
            return 0 if lapsed else enrolment.failures
        if name == "recovery_codes_left":
            return enrolment.recovery.remaining if enrolment.recovery else 0
        raise AssertionError(name)  # pragma: no cover


def _expected_of(expectation: Expectation, name: str) -> Any:
    return next(value for key, value, _ in expectation.items if key == name)


def _matches(name: str, expected: Any, actual: Any) -> bool:
    if name in ("message", "error"):
        return str(expected).casefold() in str(actual).casefold()
    if name in ("locked_for", "locked_until") and expected is not None and actual is not None:
        return abs(expected - actual) < 0.5
    return expected == actual


def _show(name: str, value: Any) -> str:
    if isinstance(value, (State, Outcome)):
        return value.name
    if isinstance(value, Reason):
        return value.value or "none"
    if name == "locked_until":
        return "none" if value is None else f"{iso(value)} UTC"
    if name == "locked_for":
        return format_duration(round(value, 3))
    if name in ("events", "user_events"):
        return "{" + ", ".join(f"{kind.value}: {count}" for kind, count in value) + "}"
    if name == "step_events":
        return "[" + ", ".join(kind.value for kind in value) + "]"
    if name == "app_changed":
        return "[" + ", ".join(sorted(value)) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in ("message", "error"):
        return repr(value)
    return str(value)


class _StepFailed(Exception):
    """A step cannot be carried out as written (no open login, no such recovery code...)."""


def run_scenario(scenario: Scenario, *, start: float | None = None, secret_source: SecretSource | None = None,
                 on_record: Callable[[StepRecord], None] | None = None) -> ScenarioResult:
    """Play ``scenario`` on a fresh back office and check every expectation.

    The clock is pinned at the scenario's ``start`` and secrets come from a
    :class:`SeededSecretSource` with its ``seed``, so a run is deterministic; ``start`` and
    ``secret_source`` replace them (the demo without ``--seed`` uses the wall clock and real
    randomness). ``on_record`` sees each timeline line as soon as it happens. A step that cannot
    be carried out (for example typing a code with no login open) is an error: it is recorded and
    the remaining steps are not run.
    """
    office = BackOffice(policy=scenario.policy, clock=Clock.at(scenario.start if start is None else start),
                        secret_source=secret_source or SeededSecretSource(scenario.seed))
    run = _Run(scenario, office, on_record)
    run.setup()
    not_run = 0
    for index, step in enumerate(scenario.steps):
        record = run.run_step(step)
        run.emit(record)
        if record.error is not None:
            not_run = len(scenario.steps) - index - 1
            break
    return ScenarioResult(scenario, office, run.records, run.qrs, not_run, run.devices)


__all__ = [
    "Scenario", "ScenarioError", "ScenarioResult", "StepRecord", "Check", "QrShown", "BackOfficeSpec",
    "parse_scenario", "load_scenario", "run_scenario", "parse_backoffice", "read_backoffice", "load_backoffice",
    "format_timeline", "TimelineWriter", "parse_duration", "format_duration", "DEFAULT_BACKOFFICE_YAML", "SCENARIO_KDF_LOG2_N",
]
