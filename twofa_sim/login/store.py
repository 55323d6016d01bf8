"""Where the back office keeps companies, users (each with its second factor) and the event log.

:class:`Store` is the contract the back office needs, and :class:`MemoryStore` the default: plain
dictionaries of live objects behind one re-entrant lock. Inside ``with store.transaction():`` the
objects a store hands out are the ones it saves when the block ends without an error; the same
name asked twice gives the same object. That is all the back office needs to keep its rules
exactly once: a code check and its effect run in one transaction, so two threads or processes
never both accept one code. Stores on a database shared by many processes are in
:mod:`twofa_sim.store`.

The in-memory store is what notebooks, scenarios and benchmarks use, as fast as plain
dictionaries: an object handed out is the object kept, so there is nothing to save. Its lock is
held for a transaction, so a code check and its effect are one step for every thread: two tabs
(threads) of one kernel never both accept one code, and failures from many threads lock at
exactly the limit. A transaction that fails is rolled back here too: the users it handed out are
put back as they were, the companies and users it added and the events it recorded are gone (a
whole class is created, or nothing).
"""

from __future__ import annotations

import itertools
import threading
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager

from ..core.events import EventLog
from .company import Company
from .user import BackendUser


class Store(ABC):
    """Companies, users and events behind transactions (see the module's docstring)."""

    announces_events = False
    """Whether the store's own transaction keeps the events recorded in it from the log's listeners
    until it commits (and forgets them if it fails). The in-memory store does; around any other,
    the back office does it (:meth:`twofa_sim.login.backoffice.BackOffice.transaction`)."""

    @abstractmethod
    def transaction(self, write: bool = True) -> AbstractContextManager[None]:
        """One unit of work: everything in it happens, or nothing does. ``write=False`` only reads
        (a consistent view, without blocking writers where the database allows it)."""

    def ensure_created(self) -> None:
        """Create the database this store names if it holds no store yet (a class's creation does;
        every other page only opens it). A store in memory always exists."""

    @property
    @abstractmethod
    def events(self) -> EventLog:
        """The event log kept in this store."""

    @abstractmethod
    def company(self, key: str) -> Company | None:
        """The company whose casefolded name is ``key``."""

    @abstractmethod
    def companies(self) -> list[Company]:
        """Every company, in the order they were created."""

    @abstractmethod
    def add_company(self, company: Company) -> None:
        """Keep a new company (its casefolded name must be free)."""

    @abstractmethod
    def user(self, key: str) -> BackendUser | None:
        """The user whose casefolded username is ``key``; locked for this transaction when it writes."""

    @abstractmethod
    def users(self) -> list[BackendUser]:
        """Every user, in the order they were created."""

    @abstractmethod
    def add_user(self, user: BackendUser) -> None:
        """Keep a new user (the key must be free)."""

    @abstractmethod
    def password_costs(self) -> tuple[int, ...]:
        """The scrypt cost of every stored password hash, sorted."""

    def note_hash_change(self) -> None:
        """A password hash was replaced (a store that caches :meth:`password_costs` recounts)."""

    @abstractmethod
    def next_login_id(self) -> int:
        """A login number no other login of this store has had."""

    @abstractmethod
    def peek_login_id(self) -> int:
        """The number the next login will get, without taking it."""

    @abstractmethod
    def set_next_login_id(self, value: int) -> None:
        """Continue login numbers at ``value`` (a restored session)."""

    def close(self) -> None:
        """Release connections and files (the in-memory store has none)."""

    @property
    def where(self) -> str:
        """What this store is, for messages: a file name, a server, or 'memory'."""
        return "memory"


class MemoryStore(Store):
    """``events`` is the log to keep (a restored session's); a new one by default."""

    announces_events = True

    def __init__(self, events: EventLog | None = None) -> None:
        self._transaction_lock = threading.RLock()
        self._depth = 0                              # how deep in transactions (one thread at a time: the lock)
        # the open transaction's undo: users handed out as they were (None: added), functions run
        # last first, and how many events the log held
        self._kept: dict[str, tuple | None] = {}
        self._undo: list = []
        self._events_at = 0
        self._events = events if events is not None else EventLog()
        self._companies: dict[str, Company] = {}
        self._users: dict[str, BackendUser] = {}
        self._login_ids = itertools.count(1)
        self._costs_key: tuple[int, int] | None = None
        self._costs: tuple[int, ...] = ()
        self._hash_changes = 0

    def transaction(self, write: bool = True) -> AbstractContextManager:
        return self  # the store is its own transaction context: no object per step on the hot path

    def __enter__(self) -> None:
        self._transaction_lock.acquire()
        if self._depth == 0:
            self._events.hold()
            self._kept, self._undo, self._events_at = {}, [], len(self._events)
        self._depth += 1

    def __exit__(self, kind, error, traceback) -> bool:
        """End a transaction; the outermost one that fails puts back what it changed. Its events
        reach the listeners after the lock is released, and only when it committed."""
        outermost = False
        try:
            self._depth -= 1
            if self._depth == 0:
                outermost = True
                if kind is not None:
                    for held in self._kept.values():
                        if held is not None:
                            held[0].put_back(held[1])
                    for step in reversed(self._undo):
                        step()
                    self._events.forget_after(self._events_at)
        finally:
            self._transaction_lock.release()
            if outermost:
                self._events.release(announce=kind is None)
        return False

    @property
    def events(self) -> EventLog:
        return self._events

    def company(self, key: str) -> Company | None:
        return self._companies.get(key)

    def companies(self) -> list[Company]:
        return list(self._companies.values())

    def add_company(self, company: Company) -> None:
        with self._transaction_lock:
            key = company.name.casefold()
            if self._depth:
                self._undo.append(lambda: self._companies.pop(key, None))
            self._companies[key] = company

    def user(self, key: str) -> BackendUser | None:
        user = self._users.get(key)
        if self._depth and user is not None and key not in self._kept:
            self._kept[key] = (user, user.keep())
        return user

    def users(self) -> list[BackendUser]:
        return list(self._users.values())

    def add_user(self, user: BackendUser) -> None:
        with self._transaction_lock:
            key = user.key
            if self._depth:
                self._kept[key] = None                 # new in this transaction: nothing to put back
                self._undo.append(lambda: self._users.pop(key, None))
            self._users[key] = user

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
        with self._transaction_lock:
            return next(self._login_ids)

    def peek_login_id(self) -> int:
        # itertools.count cannot be read without taking a number: take it and start a fresh counter there.
        with self._transaction_lock:
            upcoming = next(self._login_ids)
            self._login_ids = itertools.count(upcoming)
            return upcoming

    def set_next_login_id(self, value: int) -> None:
        with self._transaction_lock:
            self._login_ids = itertools.count(value)

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._companies)} companies, {len(self._users)} users, {len(self._events)} events)"
