"""Which rules the stories tell: coverage of the transition table by scenario files and notebooks.

A :class:`FlowCoverage` listens to the login engine (:mod:`twofa_sim.core.observers`) and notes,
for each row of the transition table and each guard of each decision order, the places in the
stories that take it: a scenario step (file and line) or a notebook cell. The rows no story takes
are the rules a product owner reading the stories never sees played, and CI fails on them
(``tests/test_flow_coverage.py``). :func:`table_check` finds the rows no sequence of events can
reach at all, from the table alone, with the reason; ``twofa-sim cover`` prints all of it.
"""

from __future__ import annotations

import functools
import itertools
import json
import pathlib
import typing
from dataclasses import dataclass
from typing import Iterable, Sequence

from ..core import observers
from ..login.flow import FLOW, MALFORMED_RECORDED, Facts, FlowEvent, FlowTable, Guard, Transition
from .scenario import ScenarioResult, load_scenario, run_scenario

SHOWN_PER_ROW = 4
"""How many places ``twofa-sim cover`` names for a row before it says how many more there are."""


@dataclass(frozen=True, order=True)
class Place:
    """Where a story takes a row: a scenario step (``line`` in ``source``) or a notebook cell."""

    source: str
    line: int
    step: int = 0
    in_notebook: bool = False

    def __str__(self) -> str:
        if self.in_notebook:
            return f"{self.source} cell {self.line}"
        return f"{self.source}:{self.line}" + (f" (step {self.step})" if self.step else "")


def describe_row(row: Transition) -> str:
    """A row in one line: ``ENROLMENT --submit code: rejected (malformed code)--> ENROLMENT``."""
    outcome = row.outcome.value + (f" ({row.reason.value})" if row.reason else "")
    return f"{row.source.name} --{row.event.value}: {outcome}--> {row.target.name}"


def decision_orders(table: FlowTable) -> dict[str, tuple[Guard, ...]]:
    """The table's decision orders by name (``password_order``...), as the table holds them."""
    return {name: value for name, value in vars(table).items()
            if name.endswith("_order") and isinstance(value, tuple) and all(isinstance(g, Guard) for g in value)}


class FlowCoverage:
    """The places that take each row and each guard, noted while the engine runs.

    Rows and guards the engine reports are *pending* until :meth:`credit` names the place (a
    scenario step once it has run, a notebook cell); :meth:`take_pending` hands them out and
    forgets them (a scenario that failed tells nothing)."""

    def __init__(self, table: FlowTable = FLOW) -> None:
        self.table = table
        self.orders = decision_orders(table)
        self._row_numbers = {row: number for number, row in enumerate(table.rows, start=1)}
        self.rows_taken: dict[int, list[Place]] = {n: [] for n in self._row_numbers.values()}
        self.guards_taken: dict[tuple[str, int], list[Place]] = {
            (name, index): [] for name, order in self.orders.items() for index in range(1, len(order) + 1)}
        self._pending_rows: list[int] = []
        self._pending_guards: list[tuple[str, int]] = []
        self.sources: list[str] = []
        self.not_counted: list[str] = []

    # -- what the engine tells (core.observers) ---------------------------------------------------

    def row_taken(self, row: Transition) -> None:
        number = self._row_numbers.get(row)
        if number is not None:  # a row of an edited copy of the table is not a row of this one
            self._pending_rows.append(number)

    def guard_taken(self, order: tuple[Guard, ...], guard: Guard) -> None:
        for name, known in self.orders.items():
            if order is known or order == known:
                index = next(i for i, g in enumerate(known, start=1) if g is guard or g == guard)
                self._pending_guards.append((name, index))
                return

    # -- naming the places ------------------------------------------------------------------------

    def take_pending(self) -> tuple[list[int], list[tuple[str, int]]]:
        """What was taken since the last credit (row numbers, guards), forgotten here."""
        taken = (list(dict.fromkeys(self._pending_rows)), list(dict.fromkeys(self._pending_guards)))
        self._pending_rows, self._pending_guards = [], []
        return taken

    def credit(self, place: Place, taken: tuple[list[int], list[tuple[str, int]]] | None = None) -> None:
        """What was taken since the last credit (or ``taken``, kept from then) was taken at ``place``."""
        rows, guards = self.take_pending() if taken is None else taken
        for number in rows:
            if place not in self.rows_taken[number]:
                self.rows_taken[number].append(place)
        for key in guards:
            if place not in self.guards_taken[key]:
                self.guards_taken[key].append(place)

    # -- the answers ------------------------------------------------------------------------------

    def row(self, number: int) -> Transition:
        return self.table.rows[number - 1]

    @property
    def untold(self) -> list[int]:
        """The numbers of the rows no place takes."""
        return [n for n, places in self.rows_taken.items() if not places]

    def told_by(self) -> dict[int, list[Place]]:
        """Each row's number and the places that take it, sorted."""
        return {n: sorted(places) for n, places in self.rows_taken.items()}

    def rows(self) -> list[dict]:
        """One plain row per transition: what the table says and which stories tell it."""
        return [{"#": n, "from": r.source.name, "event": r.event.value, "outcome": r.outcome.value,
                 "reason": r.reason.value if r.reason else "any", "to": r.target.name, "rule": r.rule,
                 "told by": [str(p) for p in sorted(self.rows_taken[n])],
                 "stories": list(dict.fromkeys(p.source for p in sorted(self.rows_taken[n])))}
                for n, r in enumerate(self.table.rows, start=1)]

    def report(self, *, show_all: bool = False) -> list[str]:
        """The coverage report ``twofa-sim cover`` prints: row by row, then the guards, then the gaps."""
        told = len(self.rows_taken) - len(self.untold)
        lines = [f"Transition table: {told} of {len(self.rows_taken)} rows told by "
                 f"{len(self.sources)} stories"]
        for source in self.not_counted:
            lines.append(f"  not counted: {source}")
        lines.append("")
        for number, places in self.told_by().items():
            row = self.row(number)
            lines.append(f"#{number:<3} {describe_row(row)}")
            lines.append(f"     rule: {row.rule}")
            shown = places if show_all else places[:SHOWN_PER_ROW]
            more = f" and {len(places) - len(shown)} more" if len(places) > len(shown) else ""
            lines.append("     told by: " + (", ".join(map(str, shown)) + more if places else "NO STORY"))
        lines.append("")
        lines.append("Decision orders (the first guard that holds decides):")
        for (name, index), places in self.guards_taken.items():
            guard = self.orders[name][index - 1]
            lines.append(f"  {name} {index}: {guard.outcome.value:<28} {len(places):>4} places"
                         + ("" if places else "   NO STORY"))
        lines.append("")
        if self.untold:
            lines.append(f"Rows no story tells ({len(self.untold)}):")
            lines.extend(f"  #{n} {describe_row(self.row(n))}: {self.row(n).rule}" for n in self.untold)
        else:
            lines.append("Every row is told by a story.")
        return lines


# ------------------------------------------------------------------------------------------------
# scenario files


def run_covered(scenario_path: str | pathlib.Path, coverage: FlowCoverage, *,
                shown_as: str | None = None) -> ScenarioResult:
    """Run one scenario file, crediting each row it takes to the step (file and line) that took it.

    A scenario that fails tells nothing: its rows are not counted, and it is named in
    ``coverage.not_counted``. ``shown_as`` is how the file is named in the report."""
    name = shown_as or str(scenario_path)
    scenario = load_scenario(scenario_path)
    steps: list[tuple[int, int, tuple]] = []

    def on_record(record) -> None:  # the step has run: what it took is pending
        steps.append((record.line, record.number, coverage.take_pending()))

    with observers.observing(coverage):
        result = run_scenario(scenario, on_record=on_record)
    coverage.take_pending()
    coverage.sources.append(name)
    if not result.passed:
        coverage.not_counted.append(f"{name} (it fails: {len(result.failures())} failures)")
        return result
    for line, number, taken in steps:
        coverage.credit(Place(name, line, number), taken)
    return result


def cover_scenarios(paths: Iterable[str | pathlib.Path], table: FlowTable = FLOW) -> FlowCoverage:
    """The coverage of ``table`` by the scenario files ``paths`` (each run on a fresh back office)."""
    coverage = FlowCoverage(table)
    for path in paths:
        run_covered(path, coverage)
    return coverage


class NotebookListener:
    """Listens inside a notebook's kernel: the cells say where they are (:meth:`at`), the last one
    hands the rows and guards each cell took back as JSON (:meth:`dump`). Started with :meth:`start`
    in the kernel's own context, which IPython keeps from one cell to the next."""

    def __init__(self) -> None:
        self.coverage = FlowCoverage(FLOW)
        self.cell: int | None = None
        self.taken: dict[int, tuple[list[int], list[tuple[str, int]]]] = {}

    @classmethod
    def start(cls) -> "NotebookListener":
        listener = cls()
        observers.listen(listener.coverage)
        return listener

    def at(self, cell: int) -> None:
        """The cell numbered ``cell`` runs next: what ran before belongs to the previous one."""
        self._close()
        self.cell = cell

    def _close(self) -> None:
        rows, guards = self.coverage.take_pending()
        if self.cell is not None and (rows or guards):
            self.taken[self.cell] = (rows, guards)

    def dump(self) -> str:
        self._close()
        return json.dumps({str(cell): {"rows": rows, "guards": [list(g) for g in guards]}
                           for cell, (rows, guards) in self.taken.items()})


def credit_notebook(coverage: FlowCoverage, source: str, dumped: str) -> None:
    """Credit to ``source``'s cells what :meth:`NotebookListener.dump` says they took."""
    for cell, taken in json.loads(dumped).items():
        coverage.credit(Place(source, int(cell), in_notebook=True),
                        (list(taken["rows"]), [(name, index) for name, index in taken["guards"]]))
    coverage.sources.append(source)


# ------------------------------------------------------------------------------------------------
# the table check: rows no sequence of events can reach


EVENT_ORDER = {FlowEvent.SUBMIT_PASSWORD: "password_order", FlowEvent.TIME_PASSES: "time_passes_order",
               FlowEvent.SUBMIT_CODE: "code_order", FlowEvent.SUBMIT_RECOVERY_CODE: "recovery_code_order"}
"""The decision order that gives every outcome of each event (the facts come from the engine and
the second factor; the order alone decides)."""

FACT_SAMPLES = {bool: (False, True), int: (0, MALFORMED_RECORDED), float | None: (None, 1.0)}
"""The values tried for each kind of fact: both truth values; none and as many as the malformed
codes a login records (counts, seconds and step offsets); no lock and a lock."""


@functools.cache
def all_facts() -> tuple[Facts, ...]:
    """Every combination of what the engine may know about an input."""
    names = list(Facts._fields)
    kinds = typing.get_type_hints(Facts)
    samples = [FACT_SAMPLES[kinds[name]] for name in names]
    return tuple(Facts(*values) for values in itertools.product(*samples))


def never_deciding(order: Sequence[Guard]) -> dict[int, str]:
    """The guards of ``order`` that decide for no combination of facts (1-based), with the reason."""
    return dict(_never_deciding(tuple(order)))


@functools.lru_cache(maxsize=64)
def _never_deciding(order: tuple[Guard, ...]) -> dict[int, str]:
    # Trying every guard on all 2**16 combinations of facts takes a twentieth of a second; a table's
    # orders are checked by every table check (the story search, twofa-sim cover), so once for each
    # order (guards are frozen: an order's answer never changes).
    combos = all_facts()
    first = {next((i for i, g in enumerate(order) if g.holds(f)), None) for f in combos}
    found = {}
    for index, guard in enumerate(order):
        if index in first:
            continue
        if not any(guard.holds(f) for f in combos):
            found[index + 1] = "its test holds for no facts"
        else:
            found[index + 1] = "every case it holds for is decided by a guard before it"
    return found


def table_check(table: FlowTable = FLOW) -> dict[int, str]:
    """The rows of ``table`` that no sequence of events can take, each with the reason.

    A row is out of reach when its state cannot be reached from the initial state through the
    table's rows, or when its event's decision order can never give its outcome (no guard for it,
    or only guards that never decide)."""
    reachable, frontier = {table.initial}, [table.initial]
    while frontier:
        state = frontier.pop()
        for row in table.rows:
            if row.source is state and row.target not in reachable:
                reachable.add(row.target)
                frontier.append(row.target)
    orders = decision_orders(table)
    dead_guards = {name: never_deciding(orders[name]) for name in set(EVENT_ORDER.values()) if name in orders}
    unreachable: dict[int, str] = {}
    for number, row in enumerate(table.rows, start=1):
        if row.source not in reachable:
            unreachable[number] = (f"no row leads to state {row.source.name} from {table.initial.name}")
            continue
        order_name = EVENT_ORDER.get(row.event)
        if order_name in orders:
            order = orders[order_name]
            dead = dead_guards[order_name]
            live = {g.outcome for i, g in enumerate(order, start=1) if i not in dead}
            if row.outcome not in live:
                unreachable[number] = (f"'{row.event.value}' is decided by {order_name}, which never gives "
                                       f"'{row.outcome.value}'" + (" (its guard never decides)" if any(
                                           order[i - 1].outcome is row.outcome for i in dead) else ""))
    return unreachable


__all__ = ["Place", "FlowCoverage", "NotebookListener", "credit_notebook", "cover_scenarios", "run_covered", "table_check", "never_deciding",
           "decision_orders", "describe_row"]
