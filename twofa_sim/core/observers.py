"""Who listens to the login engine: the rows of the transition table and the guards it takes.

The engine reports each row it finds and each guard of a decision order that decides, and nothing
else; whoever wants to know (coverage of the table by scenario files and notebooks) listens for a
while with :func:`observing`. The listeners live in a context variable, so a listener sees only the
logins run in its own thread or task (a widget's ticker thread is not a scenario's step), and
nothing is reported when no one listens.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Iterator, Protocol


class FlowObserver(Protocol):
    """What a listener is told: a row found, a guard that decided (with the order it belongs to)."""

    def row_taken(self, row: Any) -> None: ...

    def guard_taken(self, order: tuple[Any, ...], guard: Any) -> None: ...


_LISTENERS: contextvars.ContextVar[tuple[FlowObserver, ...]] = contextvars.ContextVar(
    "twofa_sim_flow_observers", default=())


def row_taken(row: Any) -> None:
    """The engine found ``row`` of its transition table and is about to take it."""
    for listener in _LISTENERS.get():
        listener.row_taken(row)


def guard_taken(order: tuple[Any, ...], guard: Any) -> None:
    """``guard``, an entry of the decision order ``order``, decided the outcome."""
    for listener in _LISTENERS.get():
        listener.guard_taken(order, guard)


def listen(observer: FlowObserver) -> contextvars.Token:
    """Start telling ``observer`` (in this context); :func:`stop_listening` with the token ends it.
    For a notebook, whose cells cannot share one ``with`` block."""
    return _LISTENERS.set(_LISTENERS.get() + (observer,))


def stop_listening(token: contextvars.Token) -> None:
    _LISTENERS.reset(token)


class _Held:
    """Stands in for the listeners while reports are held: keeps each report for :func:`tell`."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, tuple[Any, ...]]] = []

    def row_taken(self, row: Any) -> None:
        self.reports.append(("row_taken", (row,)))

    def guard_taken(self, order: tuple[Any, ...], guard: Any) -> None:
        self.reports.append(("guard_taken", (order, guard)))


@contextlib.contextmanager
def held() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Reports made inside the block are kept, not told: a step the engine only tries (and may
    take again another way) is reported once, by :func:`tell`, when it is taken."""
    if not _LISTENERS.get():
        yield []  # nobody listens: nothing to hold
        return
    stand_in = _Held()
    token = _LISTENERS.set((stand_in,))
    try:
        yield stand_in.reports
    finally:
        _LISTENERS.reset(token)


def tell(reports: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Tell the listeners the reports :func:`held` kept, in their order."""
    for name, args in reports:
        {"row_taken": row_taken, "guard_taken": guard_taken}[name](*args)


@contextlib.contextmanager
def observing(observer: FlowObserver) -> Iterator[FlowObserver]:
    """Tell ``observer`` every row and guard the engine takes inside the block."""
    token = listen(observer)
    try:
        yield observer
    finally:
        stop_listening(token)


__all__ = ["FlowObserver", "row_taken", "guard_taken", "observing", "listen", "stop_listening", "held", "tell"]
