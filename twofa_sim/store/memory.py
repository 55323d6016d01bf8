"""The in-memory store: dictionaries of live objects behind one re-entrant lock.

What notebooks, scenarios and benchmarks use, as fast as plain dictionaries: an object handed out
is the object kept, so there is nothing to save. The lock is held for a transaction, so a code
check and its effect are one step for every thread: two tabs (threads) of one kernel never both
accept one code, and failures from many threads lock at exactly the limit.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..core.events import EventLog
from ..login.company import Company
from ..login.user import BackendUser
from .base import Store


class MemoryStore(Store):
    """``events`` is the log to keep (a restored session's); a new one by default."""

    def __init__(self, events: EventLog | None = None) -> None:
        self._lock = threading.RLock()
        self._events = events if events is not None else EventLog()
        self._companies: dict[str, Company] = {}
        self._users: dict[str, BackendUser] = {}
        self._login_ids = itertools.count(1)
        self._costs_key: tuple[int, int] | None = None
        self._costs: tuple[int, ...] = ()
        self._hash_changes = 0

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[None]:
        with self._lock:
            yield

    @property
    def events(self) -> EventLog:
        return self._events

    def company(self, key: str) -> Company | None:
        return self._companies.get(key)

    def companies(self) -> list[Company]:
        return list(self._companies.values())

    def add_company(self, company: Company) -> None:
        with self._lock:
            self._companies[company.name.casefold()] = company

    def user(self, key: str) -> BackendUser | None:
        return self._users.get(key)

    def users(self) -> list[BackendUser]:
        return list(self._users.values())

    def add_user(self, user: BackendUser) -> None:
        with self._lock:
            self._users[user.key] = user

    def password_costs(self) -> tuple[int, ...]:
        """Recounted only when users were added or a hash replaced (a population has thousands)."""
        key = (len(self._users), self._hash_changes)
        if self._costs_key != key:
            self._costs = tuple(sorted(u.password_hash.log2_n for u in self._users.values()))
            self._costs_key = key
        return self._costs

    def note_hash_change(self) -> None:
        self._hash_changes += 1

    def next_login_id(self) -> int:
        with self._lock:
            return next(self._login_ids)

    def peek_login_id(self) -> int:
        # itertools.count cannot be read without taking a number: take it and start a fresh counter there.
        with self._lock:
            upcoming = next(self._login_ids)
            self._login_ids = itertools.count(upcoming)
            return upcoming

    def set_next_login_id(self, value: int) -> None:
        with self._lock:
            self._login_ids = itertools.count(value)

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._companies)} companies, {len(self._users)} users, {len(self._events)} events)"
