"""Stores the back office can keep its companies, users, second factors and event log in.

:func:`open_store` picks the store from a URL: ``None`` or ``"memory"`` gives the in-memory store
(notebooks, scenarios, benchmarks), ``sqlite:///class.sqlite`` a file many processes share, a
``postgresql://`` URL a PostgreSQL database. A SQL store creates its database only with
``create=True`` (the default here; class mode opens every page with ``create=False`` and creates
the database only when the trainer creates a class). The contract and the in-memory store are the login
part's own (:mod:`twofa_sim.login.store`); the domain rules stay there too: a store only loads and
saves state inside a transaction.
"""

from __future__ import annotations

from ..login.store import MemoryStore, Store
from .errors import MissingDatabaseError, StoreError


def open_store(url: str | None = None, *, busy_timeout: float = 10.0, create: bool = True,
               missing_ok: bool = False) -> Store:
    """The store a URL names. ``busy_timeout`` is how long a SQL store waits for another writer
    before it gives up with a :class:`StoreError` naming the database. With ``create=False`` a
    database that holds no store raises :class:`MissingDatabaseError` instead of being created;
    with ``missing_ok`` too, the store waits for it (see :class:`~twofa_sim.store.sql.SqlStore`)."""
    if url is None or url == "memory":
        return MemoryStore()
    if not isinstance(url, str):
        raise StoreError("database URL", f"must be text, got {type(url).__name__}")
    from .sql import SqlStore  # SQLAlchemy is imported only when a SQL store is asked for
    return SqlStore(url, busy_timeout=busy_timeout, create=create, missing_ok=missing_ok)


__all__ = ["Store", "StoreError", "MissingDatabaseError", "MemoryStore", "open_store"]
