"""Which database a store is talking to: the one it opened, or a stranger under the same name.

A class's database must never be split: pages that go on writing into a deleted or replaced one
while new pages open another would each see half a class. Two checks, named on the next action:

* :class:`SqliteFiles`: the SQLite file's device and inode, compared when each transaction begins
  and again just before it commits; and its ``-wal`` and ``-shm`` files (what is committed but not
  yet copied into the file), which SQLite deletes only with the last connection, so they are
  compared while the store keeps a connection open.
* the class-database id: a random number written when the database is created
  (:func:`new_database_id`), read when a store opens it and compared on each new connection
  (:func:`check_database_id`): a PostgreSQL database dropped and created anew under the same name
  has another id, or none.
"""

from __future__ import annotations

import os
import secrets
import threading
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from ..core.messages import say
from . import schema
from .errors import StoreError, connection_lost

Identity = tuple[int, int]
"""A file's device and inode."""


class SqliteFiles:
    """The SQLite file a store opened and, while the store keeps a connection open, its ``-wal``
    and ``-shm`` files. The store's pool tells :meth:`connection_opened` and
    :meth:`connection_closed`; with its last connection closed SQLite may delete the two files, so
    they are forgotten then and remembered again by the next transaction."""

    def __init__(self, path: str, where: str, name: str) -> None:
        self._path, self._where, self._name = path, where, name
        self._file: Identity | None = None
        self._companions: tuple[Identity, ...] | None = None
        self._connections = 0
        self._counting = threading.Lock()

    @property
    def remembered(self) -> bool:
        return self._file is not None

    def remember(self) -> None:
        """Remember the file at the path as the one opened."""
        self._file = self._identity()

    def forget(self) -> None:
        self._file = None

    def check(self, record: bool = False) -> None:
        """The file at the path is still the one opened (SQLite keeps writing into a deleted file's
        inode, and a new connection to the path would open the replacement), and its -wal and -shm
        files are those the store's connections use; ``record`` (inside a transaction, when they
        exist) remembers them if none are remembered."""
        if self._identity() != self._file:
            raise StoreError(self._where, "was replaced by another file while in use: nothing more is written to "
                             "it; open the database anew", said=say("db_replaced", name=self._name))
        kept = self._companions
        if kept is None:
            if record and self._connections:
                self._companions = self._companion_identities()
        elif self._companion_identities() != kept:
            raise StoreError(self._where, "lost its write-ahead log (its -wal or -shm file was deleted or replaced "
                             "while in use): nothing more is written to it; open the database anew",
                             said=say("db_wal_lost", name=self._name))

    def _identity(self) -> Identity:
        try:
            found = os.stat(self._path)
        except FileNotFoundError:
            raise StoreError(self._where, "was deleted while in use: nothing more is written to it; "
                             "open the database anew", said=say("db_deleted", name=self._name)) from None
        except OSError as error:
            raise StoreError(self._where, f"cannot be checked ({error.strerror})") from None
        return found.st_dev, found.st_ino

    def _companion_identities(self) -> tuple[Identity, ...] | None:
        """(device, inode) of the -wal and -shm files; None if either is missing."""
        found = []
        for suffix in ("-wal", "-shm"):
            try:
                info = os.stat(self._path + suffix)
            except OSError:
                return None
            found.append((info.st_dev, info.st_ino))
        return tuple(found)

    def connection_opened(self, *_: Any) -> None:
        with self._counting:
            self._connections += 1

    def connection_closed(self, *_: Any) -> None:
        with self._counting:
            self._connections = max(self._connections - 1, 0)
            if not self._connections:
                self._companions = None

    def __repr__(self) -> str:
        return f"SqliteFiles({self._where}, {self._connections} connections open)"


def new_database_id() -> int:
    """The id a new database is created with."""
    return secrets.randbits(62)


def read_database_id(connection: Connection, where: str) -> int:
    """The id of the database the connection is in (a store remembers it when it opens one)."""
    ids = connection.execute(schema.SELECT_DATABASE_ID).scalars().all()
    if len(ids) != 1:
        raise StoreError(where, "holds no class-database id: it is damaged (restore a copy or use a new database)")
    return int(ids[0])


def check_database_id(connection: Connection, expected: int, where: str) -> None:
    """The database this connection reached is the one with the ``expected`` id. Once per
    connection (a connection stays in the database it reached), remembered in its ``info``."""
    if connection.info.get("twofa_database_id") == expected:
        return
    try:
        found = connection.execute(schema.SELECT_DATABASE_ID).scalars().all()
    except DBAPIError as error:
        if connection_lost(str(error.orig)):
            raise
        found = []  # no such table: a database without a class
    if found != [expected]:
        raise StoreError(where, "was dropped and created anew while in use: nothing more is written to it; "
                         "open the database anew", said=say("db_recreated", where=where))
    connection.info["twofa_database_id"] = expected
