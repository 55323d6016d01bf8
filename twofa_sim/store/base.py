"""The contract every store keeps, and the error a store raises when its database fails it.

A store holds companies, users (each with its second factor) and the event log, and offers
transactions. Inside ``with store.transaction():`` the objects a store hands out are the ones it
saves when the block ends without an error; the same name asked twice gives the same object. That
is all the back office needs to keep its rules exactly once: a code check and its effect run in
one transaction, so two processes or threads never both accept one code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager

from ..core.errors import TwofaSimError
from ..core.events import EventLog
from ..login.company import Company
from ..login.user import BackendUser


class StoreError(TwofaSimError):
    """The database cannot be used: it cannot be opened, was locked too long, or has another
    schema version. ``where`` names the database (a file, or a server without its password)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class Store(ABC):
    """Companies, users and events behind transactions (see the module's docstring)."""

    @abstractmethod
    def transaction(self, write: bool = True) -> AbstractContextManager[None]:
        """One unit of work: everything in it happens, or nothing does. ``write=False`` only reads
        (a consistent view, without blocking writers where the database allows it)."""

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
