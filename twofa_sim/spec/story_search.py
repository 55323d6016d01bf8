"""Generated stories: for each rule no scenario tells, the shortest scenario file that tells it.

A breadth-first search over the things people do at the login mask and in the admin panel (log
in, scan, type the phone's code, a wrong code, a malformed one, a recovery code, wait, log out,
start over, an admin's reset or unlock, the server's clock set back), each written as a step of
the scenario format with the policy's own numbers (the code prompt's time-out, the period). Every
candidate is played as a real scenario by the scenario runner, so what the search finds is what
``twofa-sim run`` will see; the engine tells which rows each step takes (:mod:`.coverage`). States
the search has already been in (the logins' states, the user's second factor, the phone's entry)
are not explored again, so five wrong codes to the lock is a path of five steps, not a tree. A
candidate is not replayed from a fresh back office: its last step is played on a copy of the run
that played the rest (:func:`copy_of`), which goes on exactly as a replay from the start would
(``tests/test_flow_coverage.py`` plays both and compares), at a tenth of the cost.

:func:`generate_stories` writes one file per row: named steps, the rule in the name and the
description, and at the step that takes the row, expectations on the state, the outcome and the
events it records, so the file fails if the rule ever changes.
"""

from __future__ import annotations

import copy
import itertools
import json
import pathlib
import random
import re
import threading
import dataclasses
from dataclasses import dataclass, fields
from typing import Callable

from ..core import observers
from ..core.clock import Clock, iso
from ..core.policy import Policy
from ..core.secret_source import SeededSecretSource
from ..login.backoffice import BackOffice
from ..login.flow import FLOW, MALFORMED_RECORDED, FlowTable, Reason, Transition
from .coverage import FlowCoverage, describe_row, table_check
from .records import StepRecord
from .runner import ScenarioRun
from .scenario_file import parse_scenario
from .steps import Step

START = "2026-01-05T09:00:00Z"
SEED = 1
USER, OTHER_USER, PHONE = "alice", "bob", "alice-phone"
PHONE_APP = "google-authenticator"
WRONG_PASSWORD = "not her password 1"
MALFORMED_CODE = "12345"
UNKNOWN_RECOVERY_CODE = "0000-0000-0000-0000"
PASTED_LINE = ("Here are your recovery codes for the back office; keep them safe, each works once: "
               "3f2a-9c01-7be4-0d55")
MAX_DEPTH = 16
MAX_PLAYS = 20_000


@dataclass(frozen=True)
class Move:
    """One thing a person does, as a scenario step: ``step`` gives its YAML for the time ``now``
    (and the time after it); ``when`` says in which situations it makes sense."""

    name: str
    step: Callable[[float], tuple[str, float]]
    when: Callable[["Situation"], bool]
    user: str = USER
    tab: str = "main"
    sets_clock_back: bool = False


@dataclass(frozen=True)
class Situation:
    """What the search tells situations apart by: each login's state and whether its step is open,
    the user's second factor (enrolled, pending, failures, locked, recovery codes, the last used
    step against the current one), what the phone holds, and whether the server's clock went back."""

    logins: tuple[tuple[str, str, str, str], ...]
    enrolled: bool
    pending: bool
    failures: int
    locked_out: bool
    recovery_left: int | None
    last_step: int | None
    phone: str
    clock_set_back: bool

    def login(self, user: str, tab: str) -> str | None:
        return next((state for u, t, state, *_ in self.logins if (u, t) == (user, tab)), None)

    @property
    def open_prompt(self) -> bool:
        return any(state in ("ENROLMENT", "CODE_REQUIRED") for _, _, state, *_ in self.logins)


FRESH = Situation((), False, False, 0, False, None, None, "none", False)


def _at(user: str, tab: str, text: str) -> str:
    """``text`` (a mapping's inside) with the user and tab, as short as the format allows."""
    return text + (f", tab: {tab}" if tab != "main" else "")


def moves(policy: Policy) -> list[Move]:
    """Everything the search may do, with the policy's numbers."""
    timeout = policy.code_prompt_timeout
    found: list[Move] = []

    def same(text: str) -> Callable[[float], tuple[str, float]]:
        return lambda now: (text, now)

    def in_state(user: str, tab: str, *states: str) -> Callable[[Situation], bool]:
        return lambda s: s.login(user, tab) in states

    def may_log_in(user: str, tab: str) -> Callable[[Situation], bool]:
        return lambda s: s.login(user, tab) in (None, "CREDENTIALS")

    for tab in ("main", "second"):
        login = "login: alice" if tab == "main" else "login: {user: alice, tab: second}"
        second_tab_makes_sense = (lambda s: True) if tab == "main" else (
            lambda s: s.login(USER, "main") in ("ENROLMENT", "CODE_REQUIRED"))
        found += [
            Move(f"{USER} logs in" + ("" if tab == "main" else " in a second tab"), same(login),
                 lambda s, tab=tab, extra=second_tab_makes_sense: may_log_in(USER, tab)(s) and extra(s), tab=tab),
            Move(f"{USER} types a wrong code", same('type: {' + _at(USER, tab, 'user: alice, code: "000000"') + '}'),
                 in_state(USER, tab, "ENROLMENT", "CODE_REQUIRED"), tab=tab),
            Move(f"{USER} types the code her phone shows", same(
                "type: {" + _at(USER, tab, f"from: {PHONE}") + "}"),
                 lambda s, tab=tab: s.login(USER, tab) in ("ENROLMENT", "CODE_REQUIRED") and s.phone != "none",
                 tab=tab),
        ]
    found += [
        Move(f"{USER} types her password wrong", same(f"login: {{user: {USER}, password: {WRONG_PASSWORD}}}"),
             may_log_in(USER, "main")),
        Move(f"{OTHER_USER}, who needs no second factor, logs in", same(f"login: {OTHER_USER}"),
             lambda s: s == FRESH, user=OTHER_USER),
        Move(f"{USER} types her key into the app on her phone", same(f"enter_key: {PHONE}"),
             lambda s: s.login(USER, "main") == "ENROLMENT" and s.phone != "pending"),
        Move(f"{USER} types a code of the wrong length", same(f'type: {{user: {USER}, code: "{MALFORMED_CODE}"}}'),
             in_state(USER, "main", "ENROLMENT", "CODE_REQUIRED")),
        Move(f"{USER} types her first recovery code", same(f"type: {{user: {USER}, recovery: 1}}"),
             lambda s: s.login(USER, "main") == "CODE_REQUIRED" and s.recovery_left is not None),
        Move(f"{USER} types a recovery code that was never issued",
             same(f"type: {{user: {USER}, recovery: {UNKNOWN_RECOVERY_CODE}}}"), in_state(USER, "main", "CODE_REQUIRED")),
        Move(f"{USER} pastes a whole line of text as a recovery code",
             same(f"type: {{user: {USER}, recovery: {json.dumps(PASTED_LINE)}}}"), in_state(USER, "main", "CODE_REQUIRED")),
        Move(f"{USER} logs out", same(f"log_out: {USER}"), in_state(USER, "main", "AUTHENTICATED")),
        Move(f"{USER} starts over at the login mask", same(f"start_over: {USER}"),
             in_state(USER, "main", "LOCKED_OUT", "EXPIRED")),
        Move(f"the admin issues recovery codes to {USER}", same(f"issue_recovery_codes: {USER}"),
             lambda s: s.enrolled and s.recovery_left is None and s.login(USER, "main") == "AUTHENTICATED",
             user="admin"),
        Move(f"the admin resets {USER}'s second factor (lost phone)", same(f"reset: {USER}"),
             lambda s: (s.enrolled or s.pending) and s.open_prompt, user="admin"),
        Move(f"the admin unlocks {USER}", same(f"unlock: {USER}"), lambda s: s.locked_out, user="admin"),
        Move(f"one period ({policy.period} s) passes", lambda now: (f"wait: {policy.period}s", now + policy.period),
             lambda s: s.last_step == 0, user="clock"),
        Move(f"a minute passes, the open step stays open", lambda now: ("wait: 1m", now + 60),
             lambda s: s.open_prompt and timeout > 60, user="clock"),
        Move(f"the open step's {_duration(timeout)} pass", lambda now: (f"wait: {_duration(timeout)}", now + timeout),
             lambda s: s.open_prompt, user="clock"),
        Move(f"the open step's {_duration(timeout)} pass while the page shows no timer",
             lambda now: (f"wait: {{for: {_duration(timeout)}, poll: false}}", now + timeout),
             lambda s: s.open_prompt, user="clock"),
        Move("the server's clock is set back an hour", lambda now: (f"clock: {{set: {iso(now - 3600).replace(' ', 'T')}Z}}", now - 3600),
             lambda s: s.last_step == 0 and not s.clock_set_back and not s.open_prompt, user="clock",
             sets_clock_back=True),
    ]
    return found


def _duration(seconds: int) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return (f"{minutes}m" if minutes else "") + (f" {rest}s" if rest and minutes else f"{rest}s" if rest else "")


@dataclass
class Played:
    """A candidate story played: the rows its last step took, where it ended, the run itself, and
    the story's time after its last step (where the next step's text starts)."""

    rows: list[int]
    situation: Situation
    run: ScenarioRun
    record: StepRecord | None
    now: float


def header(policy_lines: list[str], users: set[str], name: str, description: str) -> str:
    lines = [f"name: {json.dumps(name)}", "description: >"]
    lines += ["  " + chunk for chunk in _wrap(description, 96)]
    lines += [f"start: {START}", f"seed: {SEED}"]
    if policy_lines:
        lines += ["policy:"] + [f"  {line}" for line in policy_lines]
    lines.append("users:")
    lines.append(f"  {USER}: {{force_2fa: true}}")
    if OTHER_USER in users:
        lines.append(f"  {OTHER_USER}: {{force_2fa: false}}")
    lines += ["devices:", f"  {PHONE}: {{owner: {USER}, app: {PHONE_APP}}}", "steps:"]
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + [line] if line else lines


def _policy_lines(policy: Policy) -> list[str]:
    """The knobs that differ from the defaults, as ``knob: value``."""
    default = Policy()
    return [f"{f.name}: {json.dumps(getattr(policy, f.name))}" for f in fields(policy)
            if getattr(policy, f.name) != getattr(default, f.name)]


class StorySearch:
    """The search for one policy: plays candidate stories and remembers the shortest that takes each row."""

    def __init__(self, policy: Policy | None = None, table: FlowTable = FLOW) -> None:
        self.policy = policy or Policy()
        self.table = table
        self.moves = moves(self.policy)
        self.plays = 0
        self._policy = _policy_lines(self.policy)
        self._steps: dict[str, Step] = {}
        self._coverage = FlowCoverage(table)  # one listener for every step the search plays
        self._world = parse_scenario(header(self._policy, {OTHER_USER}, "search", "the search's world")
                                     + "  - log_out: alice\n", "generated story")

    def _step(self, text: str, number: int) -> Step:
        """The step ``text`` says, read once (reading YAML costs more than playing a step)."""
        if text not in self._steps:
            one = parse_scenario(header(self._policy, {OTHER_USER}, "search", "one step") + f"  - {text}\n",
                                 "generated story")
            self._steps[text] = one.steps[0]
        return dataclasses.replace(self._steps[text], number=number)

    def text(self, path: tuple[int, ...], *, name: str = "search", description: str = "candidate",
             notes: dict[int, str] | None = None, expect: dict[str, object] | None = None) -> str:
        """The scenario file for ``path`` (move numbers); ``expect`` is checked at its last step."""
        now = Clock.at(START).now()
        steps = []
        for index, number in enumerate(path):
            move = self.moves[number]
            step, now = move.step(now)
            steps.append(f"  - {step}")
            note = (notes or {}).get(index)
            if note:
                steps.append(f"    note: {_value(note)}")
        if expect:
            steps.append("    expect:")
            steps += [f"      {key}: {_value(value)}" for key, value in expect.items()]
        users = {self.moves[n].user for n in path}
        return header(self._policy, users, name, description) + "\n".join(steps) + "\n"

    def _fresh(self) -> ScenarioRun:
        """The search's world set up on a fresh back office, before any step."""
        world = self._world
        office = BackOffice(policy=world.policy, clock=Clock.at(world.start),
                            secret_source=SeededSecretSource(world.seed))
        run = ScenarioRun(world, office, None)
        run.setup()
        return run

    def _take(self, run: ScenarioRun, number: int, index: int, now: float) -> tuple[StepRecord, list[int], float]:
        """Move ``number`` played on ``run`` as the story's step ``index`` (from 0) at the story's
        time ``now``: its record, the rows it took, and the story's time after it."""
        text, now = self.moves[number].step(now)
        self._coverage.take_pending()  # nothing of an earlier step that failed half way
        with observers.observing(self._coverage):
            record = run.run_step(self._step(text, index + 1))
        return record, self._coverage.take_pending()[0], now

    def play(self, path: tuple[int, ...]) -> Played | None:
        """Play ``path`` on a fresh back office; None when a step cannot be carried out."""
        self.plays += 1
        run, now = self._fresh(), Clock.at(START).now()
        rows: list[int] = []
        record = None
        for index, number in enumerate(path):
            record, rows, now = self._take(run, number, index, now)
            if record.error is not None:
                return None
        clock_back = any(self.moves[n].sets_clock_back for n in path)
        return Played(rows, situation_of(run, clock_back), run, record, now)

    def play_after(self, played: Played, path: tuple[int, ...], number: int, *, reuse: bool = False) -> Played | None:
        """Play ``path`` (which ``played`` played) and then move ``number``, as :meth:`play` would,
        from a copy of ``played``'s run (from the run itself with ``reuse``: ``played`` is spent)."""
        self.plays += 1
        run = played.run if reuse else copy_of(played.run, self.table)
        record, rows, now = self._take(run, number, len(path), played.now)
        if record.error is not None:
            return None
        clock_back = played.situation.clock_set_back or self.moves[number].sets_clock_back
        return Played(rows, situation_of(run, clock_back), run, record, now)

    def numbers(self) -> str:
        """The policy's numbers the moves use, in words."""
        p = self.policy
        return (f"{p.failed_code_limit} failed codes lock, a code prompt stays open {_duration(p.code_prompt_timeout)}, "
                f"codes change every {p.period} s")

    def counts(self, path: tuple[int, ...]) -> list[str]:
        """For each step of ``path``, the failed codes after it, where that count changed ("" elsewhere).
        Each step's count is that of the story cut after it, played step by step on one run."""
        shown, before = [], 0
        run, now, failed = self._fresh(), Clock.at(START).now(), False
        for index, number in enumerate(path):
            self.plays += 1  # the story up to this step, as a candidate of its own
            if not failed:
                record, _, now = self._take(run, number, index, now)
                failed = record.error is not None
            failures = before if failed else situation_of(run, False).failures
            shown.append(f" ({failures} of {self.policy.failed_code_limit} failed codes)"
                         if failures != before and failures else "")
            before = failures
        return shown

    def search(self, targets: set[int], *, max_depth: int = MAX_DEPTH,
               max_plays: int = MAX_PLAYS) -> dict[int, tuple[tuple[int, ...], dict[str, object]]]:
        """For each row of ``targets``, the shortest path found that takes it at its last step, with
        the expectations there.

        Breadth first, level by level: each situation not seen before keeps its played run, and
        each move from it is played on a copy of that run (:func:`copy_of`), one step, instead of
        replaying the whole path from a fresh back office; the last move takes the run itself."""
        found: dict[int, tuple[tuple[int, ...], dict[str, object]]] = {}
        root = Played([], FRESH, self._fresh(), None, Clock.at(START).now())
        frontier: list[tuple[tuple[int, ...], Situation, Played]] = [((), FRESH, root)]
        seen = {FRESH}
        for _ in range(max_depth):
            following = []
            for path, situation, before in frontier:
                possible = [number for number, move in enumerate(self.moves) if move.when(situation)]
                for number in possible:
                    if self.plays >= max_plays:
                        continue
                    move = self.moves[number]
                    played = self.play_after(before, path, number, reuse=number == possible[-1])
                    if played is None:
                        continue
                    for row in played.rows:
                        if row in targets and row not in found:
                            found[row] = (path + (number,), expectations(
                                played.run, played.record, move, self.table.rows[row - 1]))
                    if played.situation not in seen:
                        seen.add(played.situation)
                        following.append((path + (number,), played.situation, played))
                if targets <= set(found):
                    return found
            frontier = following
            if not frontier:
                break
        return found


def _twin(generator: random.Random) -> random.Random:
    twin = type(generator).__new__(type(generator))  # not seeded: the state comes next
    twin.setstate(generator.getstate())
    return twin


def _counter_at(counter: itertools.count) -> itertools.count:
    """A counter that goes on where ``counter`` stands (read from its repr: taking a number would
    move it, and counters cannot be copied from Python 3.14 on)."""
    standing = re.fullmatch(r"count\((-?\d+)\)", repr(counter))
    if standing is None:
        raise TypeError(f"the story search copies counters by ones from an integer, not {counter!r}")
    return itertools.count(int(standing[1]))


_MADE_AFRESH: dict[type, Callable] = {
    type(threading.Lock()): lambda lock: threading.Lock(),
    type(threading.RLock()): lambda lock: threading.RLock(),
    threading.local: lambda local: type(local)(),
    itertools.count: _counter_at,
    random.Random: _twin,
}
"""What a copy of a run gets a new one of: locks (no step holds one between steps, and a lock
cannot be copied), per-thread holds, counters and generators (where the original stands)."""


def copy_of(run: ScenarioRun, table: FlowTable = FLOW) -> ScenarioRun:
    """A copy of ``run``, between two steps, that goes on apart from it: ``copy.deepcopy``, except that
    what no step changes is shared (the scenario, the policy, the flow table, the apps' profiles,
    the events already logged, the setup's records; frozen values such as password hashes, screens,
    QR records, app entries and device specs are their own deep copies), and that the back
    office's locks, per-thread holds, counters and generators are new ones (:data:`_MADE_AFRESH`)."""
    office = run.office
    memo: dict[int, object] = {id(shared): shared for shared in (run.scenario, office.policy, FLOW, table)}
    memo.update((id(event), event) for event in office.events)
    memo.update((id(record), record) for record in run.records)
    memo.update((id(device.app.profile), device.app.profile) for device in run.devices.values())
    kinds = tuple(_MADE_AFRESH)
    for holder in (office, office.store, office.events, office.secret_source):
        for value in vars(holder).values():
            if isinstance(value, kinds):
                make = next(make for kind, make in _MADE_AFRESH.items() if isinstance(value, kind))
                memo[id(value)] = make(value)
    return copy.deepcopy(run, memo)


def situation_of(run: ScenarioRun, clock_set_back: bool) -> Situation:
    office = run.office
    now = office.clock.now()
    logins = []
    for (user, tab), login in sorted(run.logins.items()):
        if user != USER:  # the other user's logins change nothing for alice's
            continue
        left = login.seconds_left()
        logins.append((user, tab, login.state.name, "closed" if left is None else "due" if left == 0 else "open",
                       min(login.malformed_codes, MALFORMED_RECORDED)))  # the flood rule counts them per login
    enrolment = office.user(USER).enrolment
    step = int(now // office.policy.period)
    last = enrolment.last_used_step
    entries = run.devices[PHONE].app.entries
    newest = entries[-1].secret if entries else None
    phone = ("none" if newest is None else "confirmed" if newest == enrolment.secret
             else "pending" if newest == enrolment.pending_secret else "stale")
    left = enrolment.recovery.remaining if enrolment.recovery is not None else None
    return Situation(tuple(logins), enrolment.is_enrolled, enrolment.pending_secret is not None,
                     enrolment.failures_at(now), enrolment.is_locked_out(now), None if left is None else min(left, 2),
                     None if last is None else max(-2, min(2, step - last)), phone, clock_set_back)


def expectations(run: ScenarioRun, record: StepRecord, move: Move, row: Transition) -> dict[str, object]:
    """What holds after the step that takes ``row``: whose login, its state, outcome, reason, events."""
    taking = [key for key, login in run.logins.items() if login.state is row.target
              and key in run.last and run.last[key].outcome is row.outcome]
    own = (move.user, move.tab)
    user, tab = own if own in taking or not taking else taking[0]
    expect: dict[str, object] = {}
    if user != move.user:
        expect["user"] = user
    if tab != "main":
        expect["tab"] = tab
    result = run.last[(user, tab)]
    expect["state"] = result.state.name
    expect["outcome"] = result.outcome.value
    expect["reason"] = result.reason.value if result.reason is not Reason.NONE else "none"
    enrolment = run.office.user(user).enrolment
    now = run.office.clock.now()
    expect["failures"] = enrolment.failures_at(now)
    expect["locked_out"] = "true" if enrolment.is_locked_out(now) else "false"  # plain words, not quoted
    expect["step_events"] = [event.kind.value for event in record.events]
    return expect


def _value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return text if re.fullmatch(r"[A-Za-z][\w .()'-]*", text) and text.strip() == text else json.dumps(text)


# ------------------------------------------------------------------------------------------------
# writing the files


@dataclass
class Generated:
    """What :func:`generate_stories` did: files written, rows out of reach (and why), rows not found."""

    written: dict[int, pathlib.Path]
    unreachable: dict[int, str]
    not_found: list[int]
    plays: int


def story_name(table: FlowTable, number: int) -> str:
    return f"Rule {number} of the flow: {table.rows[number - 1].rule}"


def file_name(table: FlowTable, number: int) -> str:
    row = table.rows[number - 1]
    event = row.event.value.replace("submit ", "").replace("username and password", "password")
    words = re.sub(r"[^a-z0-9]+", "_", f"{row.source.name} {event} {row.outcome.value} "
                                        f"{row.reason.value if row.reason else ''}".lower()).strip("_")
    return f"rule_{number:02d}_{words[:70].strip('_')}.yaml"


def generate_stories(directory: str | pathlib.Path, rows: list[int] | None = None, *, policy: Policy | None = None,
                     table: FlowTable = FLOW, max_depth: int = MAX_DEPTH) -> Generated:
    """Write, into ``directory``, the shortest story found for each row of ``rows`` (default: all)."""
    directory = pathlib.Path(directory)
    wanted = list(range(1, len(table.rows) + 1)) if rows is None else list(rows)
    unreachable = {n: why for n, why in table_check(table).items() if n in wanted}
    targets = {n for n in wanted if n not in unreachable}
    search = StorySearch(policy, table)
    found = search.search(targets, max_depth=max_depth) if targets else {}
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for number in sorted(found):
        path, expect = found[number]
        row = table.rows[number - 1]
        notes = {i: search.moves[n].name + counted for i, (n, counted) in enumerate(zip(path, search.counts(path)))}
        notes[len(path) - 1] = f"{search.moves[path[-1]].name}: {row.rule}"
        description = (f"Generated: the shortest story found from a fresh back office that takes rule {number} of the "
                       f"flow, \"{row.rule}\" ({describe_row(row)}), in {len(path)} steps with the "
                       f"policy's numbers ({search.numbers()}). Its last step checks the state, the outcome and "
                       f"the events the rule records. Written by twofa-sim cover --generate.")
        text = search.text(path, name=story_name(table, number), description=description, notes=notes,
                           expect=expect)
        target = directory / file_name(table, number)
        target.write_text(text, encoding="utf-8")
        written[number] = target
    return Generated(written, unreachable, sorted(targets - set(found)), search.plays)


__all__ = ["StorySearch", "Situation", "Move", "moves", "generate_stories", "Generated", "story_name", "file_name"]
