"""The event log of a SQL store: the rows of the ``events`` table, seen as an :class:`EventLog`.

Every process appends in its own transactions; reading brings the local copy up to date first,
so ``len(log)``, ``log[-5:]``, ``log.count(kind)`` and ``log.rows()`` show every process's
events. Listeners hear the events this process records (pages that show other processes' events
poll, as the trainer dashboard does each second).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Iterator

from ..core.events import Event, EventKind, EventLog
from . import schema

if TYPE_CHECKING:
    from .sql import SqlStore


class SqlEventLog(EventLog):
    """An :class:`EventLog` whose events live in the store's database."""

    def __init__(self, store: "SqlStore") -> None:
        super().__init__()
        self._store = store
        self._top = 0

    def _append(self, event: Event) -> Event:
        return replace(event, seq=self._store.insert_event(event))

    def refresh(self) -> None:
        """Bring the local copy up to date with the database: one read that counts the table once
        and reads only the rows after the last one seen (none when nothing is new).

        Sequence numbers are handed out when a row is inserted, and on PostgreSQL transactions can
        commit in another order: when the rows after the last one seen do not add up to the count,
        the copy is read again whole, so no event is ever missed.
        """
        seen = (len(self._events), self._top)
        count, top, rows = self._store.event_rows(self._top, seen)  # one count of the table, in one read
        if (count, top) == seen:
            return
        if len(self._events) + len(rows) != count:
            count, top, rows = self._store.event_rows(0)
            self._events = []
        self._events.extend(schema.event_from_row(row) for row in rows)
        self._top = top

    def __iter__(self) -> Iterator[Event]:
        self.refresh()
        return super().__iter__()

    def __len__(self) -> int:
        self.refresh()
        return super().__len__()

    def __getitem__(self, index):
        self.refresh()
        return super().__getitem__(index)

    def of_kind(self, kind: EventKind, user: str | None = None) -> list[Event]:
        self.refresh()
        return super().of_kind(kind, user)

    def rows(self, last: int | None = None, language: str = "en") -> list[dict]:
        self.refresh()
        return super().rows(last, language)

    def snapshot(self) -> list[dict]:
        self.refresh()
        return super().snapshot()

    def __repr__(self) -> str:
        return f"SqlEventLog({len(self)} events in {self._store.where})"
