"""Reading YAML safely: typed access to the nodes of a scenario or back-office file.

A scenario file comes from people, and sometimes from an attacker: the reader refuses alias
loops and alias or merge-key bombs, counts every value once per use, refuses lone surrogates and
numbers too long to read, and reports every problem as a :class:`ScenarioError` with the file and
line. Fields are read as typed values (text, whole numbers in range, durations, instants, names
from a fixed list) so that the step types and expectations never touch raw YAML.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any, Iterable, Mapping

import yaml

from ..core.clock import to_epoch
from ..core.errors import ClockError, TwofaSimError, ValidationError, check_display_name, shown
from ..core.old_names import ENUM_NAMES

#: The most values a file may hold once its aliases (``*name``) and merge keys (``<<``) are
#: counted as often as they are used: a few hundred bytes of nested aliases otherwise stand for
#: billions of values (a "billion laughs" or merge-key bomb).
MAX_YAML_VALUES = 2_000_000
#: The largest whole number a scenario may hold anywhere (a seed, a count, a pixel).
MAX_WHOLE = 2 ** 64 - 1
NESTED_TOO_DEEPLY = "not valid YAML for a scenario: lists or mappings nest too deeply"
LONE_SURROGATE = "holds a lone surrogate (bytes that are not UTF-8): that is not Unicode text"
BAD_ESCAPE = ("holds an escape that is no Unicode character: a lone surrogate (\\ud800 to \\udfff) "
              "or past \\U0010FFFF")
TAG = "tag:yaml.org,2002:"


class ScenarioError(TwofaSimError, ValueError):
    """A scenario or back-office file is not valid: ``path:line: problem``."""

    def __init__(self, path: str, line: int, problem: str, column: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.problem = problem
        super().__init__(f"{self.path}:{line}: {problem}")


def name_shown(text: str) -> str:
    """A file name as a message repeats it: cut at 64 characters, and printable in any terminal."""
    short = text if len(text) <= 64 else text[:64] + "..."
    return repr(short.encode("utf-8", "backslashreplace").decode("utf-8"))


# -- durations -------------------------------------------------------------------------------------

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


# -- the reader ------------------------------------------------------------------------------------


class Reader:
    """Typed access to a composed YAML node tree; every problem raises a ScenarioError at its line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node | None, problem: str) -> ScenarioError:
        if node is None:
            return ScenarioError(self.path, 1, problem)
        return ScenarioError(self.path, node.start_mark.line + 1, problem, node.start_mark.column + 1)

    def compose(self, text: str) -> yaml.Node:
        """The node tree of ``text``, composed by libyaml (PyYAML's C parser: a scenario loads about
        fifteen times faster than with the pure-Python one, with the same nodes and marks)."""
        surrogate = SURROGATE.search(text)
        if surrogate:  # libyaml reads UTF-8, and no UTF-8 holds a lone surrogate
            line = text.count("\n", 0, surrogate.start()) + 1
            column = surrogate.start() - text.rfind("\n", 0, surrogate.start())
            raise ScenarioError(self.path, line, LONE_SURROGATE, column)
        try:
            node = yaml.compose(text, Loader=yaml.CSafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark else 1
            if "maximum nesting depth" in str(error.problem):  # libyaml's own limit
                raise ScenarioError(self.path, line, NESTED_TOO_DEEPLY) from None
            if "invalid Unicode character escape code" in str(error.problem):
                raise ScenarioError(self.path, line, BAD_ESCAPE, mark.column + 1 if mark else None) from None
            problem = " ".join(str(p) for p in (error.context, error.problem) if p)
            raise ScenarioError(self.path, line, f"not valid YAML: {cut(problem)}") from None
        except yaml.YAMLError as error:
            raise ScenarioError(self.path, 1, f"not valid YAML: {cut(str(error))}") from None
        except RecursionError:
            raise ScenarioError(self.path, 1, NESTED_TOO_DEEPLY) from None
        if node is None:
            raise ScenarioError(self.path, 1, "the file is empty")
        self.check_values(node)
        return node

    def check_values(self, root: yaml.Node) -> None:
        """Refuse alias loops and more than :data:`MAX_YAML_VALUES` values counting every use of an
        alias or merge key, before anything else reads the tree.

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
                total = 1 + sum(counted[id(child)] for child in children(node))
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
                counted[key] = 1
                continue
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children(node) if id(child) not in counted)

    # -- containers -------------------------------------------------------------------------------

    def mapping(self, node: yaml.Node, what: str, known: Iterable[str] = (), required: Iterable[str] = (),
                old_names: Mapping[str, str] | None = None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The entries of a mapping by key text, refusing duplicates and (if ``known`` is given) unknown
        keys. A key of ``old_names`` (a name from before a rename, :mod:`twofa_sim.core.old_names`) is
        read as its new name; a mapping with both is refused."""
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
            if old_names and name in old_names:
                name = old_names[name]
                if name in entries:
                    raise self.fail(key, f"{what} has {name_shown(name)} and its old name {name_shown(key.value)} "
                                         f"(first at line {entries[name][0].start_mark.line + 1}): keep one")
            if name in entries:
                first = entries[name][0]
                if first.value != name:
                    raise self.fail(key, f"{what} has {name_shown(name)} and its old name {name_shown(first.value)} "
                                         f"(first at line {first.start_mark.line + 1}): keep one")
                raise self.fail(key, f"{what} has {name_shown(name)} twice (first at line {first.start_mark.line + 1})")
            if known and name not in known:
                hint = difflib.get_close_matches(name, known, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else f" (known: {', '.join(known)})"
                raise self.fail(key, f"{what} has no setting {name_shown(name)}{suggestion}")
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
        if node.tag == TAG + "null":
            return "nothing"
        return shown(node.value)

    # -- scalars ----------------------------------------------------------------------------------

    def scalar(self, node: yaml.Node, what: str) -> yaml.ScalarNode:
        if not isinstance(node, yaml.ScalarNode) or node.tag == TAG + "null":
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
        if scalar.tag != TAG + "int":
            raise self.fail(node, f"{what} must be a whole number, got {shown(scalar.value)}")
        value = self._construct(scalar, what)
        if not low <= value <= high:
            bounds = (f"between {low} and {high}" if high != MAX_WHOLE else
                      f"at least {low}" if value < low else "at most 2**64 - 1")
            raise self.fail(node, f"{what} must be {bounds}, got {shown(value)}")
        return value

    def boolean(self, node: yaml.Node, what: str) -> bool:
        scalar = self.scalar(node, what)
        if scalar.tag != TAG + "bool":
            raise self.fail(node, f"{what} must be true or false, got {shown(scalar.value)}")
        return bool(self._construct(scalar, what))

    def value(self, node: yaml.Node, what: str) -> Any:
        """A plain value as YAML reads it (number, true/false, text)."""
        scalar = self.scalar(node, what)
        if scalar.tag == TAG + "timestamp":
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
        if scalar.tag in (TAG + "int", TAG + "float"):
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
        found = options.get(fold(text))
        if found is None:
            names = sorted({k for k in options})
            hint = difflib.get_close_matches(fold(text), names, n=1)
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


def children(node: yaml.Node) -> list[yaml.Node]:
    """The nodes a list or mapping holds (keys and values), in order; none for a single value."""
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


#: A lone surrogate: Python holds the bytes of a name that is not valid UTF-8 this way, and YAML's
#: ``"\\udXXX"`` escapes make them, but no Unicode text holds one.
SURROGATE = re.compile("[\ud800-\udfff]")


def cut(text: str, limit: int = 200) -> str:
    """``text`` cut at ``limit`` characters, so that a message never repeats a whole file."""
    return text if len(text) <= limit else text[:limit] + "..."


def fold(text: str) -> str:
    """Names as the format matches them: ignoring case, spaces, ``-`` and ``_``."""
    return re.sub(r"[\s_\-]+", " ", text.strip().casefold())


def enum_options(enum_type) -> dict[str, Any]:
    """The members of an enum by folded name and by folded value (the words the flow uses), and
    by a name it had before a rename (:data:`twofa_sim.core.old_names.ENUM_NAMES`) where that
    means nothing else."""
    options: dict[str, Any] = {}
    for member in enum_type:
        options[fold(member.name)] = member
        if member.value:
            options[fold(member.value)] = member
    for old, new in ENUM_NAMES.items():
        if new in enum_type.__members__:
            options.setdefault(fold(old), enum_type[new])
    return options


