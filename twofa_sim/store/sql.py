"""The shared store on a SQL database (SQLAlchemy Core): an SQLite file by default, PostgreSQL by URL.

Many processes (one kernel per trainee) use one database. Exactly once comes from the database:

* SQLite (WAL mode, so readers never wait): a writing transaction starts with ``BEGIN IMMEDIATE``,
  which takes the database's write lock at once, so two code checks never interleave. Reading
  transactions start deferred and see one consistent snapshot.
* PostgreSQL: a writing transaction reads each user ``SELECT ... FOR UPDATE``; a second check of the
  same user waits for the first to commit and then sees its effect.

The database is never split. A store creates its database only when asked to (``create=True``;
class mode asks only when the trainer creates a class); otherwise it opens an existing one (an SQLite
file through a ``file:...?mode=rw`` URI, which never creates a file) or names the problem. Each
transaction compares the SQLite file's identity (device and inode) with the one it opened, when it
begins and again just before it commits (a ``stat`` each, about 2 microseconds): a file deleted or
replaced under running processes is named on the next action, instead of writing on into an
unlinked file while new pages open a new, empty one. Its ``-wal`` and ``-shm`` files (what is
committed but not yet copied into the file) are compared the same way while the store keeps a
connection open. Each database holds a random id drawn when it was created, compared once per new
connection: a PostgreSQL database dropped and created anew under the same name is named too.
PostgreSQL connections are checked before use (``pool_pre_ping``), so the first action after a
server restart works.

There is no file lock and no Python lock: threads each take their own connection from the pool.
Inside a transaction the store keeps the objects it handed out (an identity map) and writes back
the users and companies whose rows changed when the block ends; an error rolls everything back.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import stat
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError

from ..core.errors import AlreadyExistsError, ValidationError
from ..core.messages import Said, say
from ..core.events import Event, EventLog
from ..core.files import file_kind
from ..core.old_names import DETAIL_KEYS, ENUM_NAMES
from ..login.company import Company
from ..login.flow import State
from ..login.store import Store
from ..login.user import BackendUser
from . import schema
from .errors import MissingDatabaseError, StoreError, connection_lost
from .identity import SqliteFiles, check_database_id, new_database_id, read_database_id
from .sql_events import SqlEventLog


@dataclass(repr=False)
class _Unit:
    """The open transaction of one thread: its connection and the objects it handed out. The rows
    it remembers hold secrets and hashes, so its repr names only how much it holds."""

    connection: Connection
    write: bool
    users: dict[str, BackendUser | None] = field(default_factory=dict)
    user_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    companies: dict[str, Company | None] = field(default_factory=dict)
    company_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    new_users: set[str] = field(default_factory=set)
    new_companies: set[str] = field(default_factory=set)

    def __repr__(self) -> str:
        return (f"_Unit({'writing' if self.write else 'reading'}, {len(self.users)} users, "
                f"{len(self.companies)} companies)")


class SqlStore(Store):
    """A store on the database at ``url`` (``sqlite:///file``, ``postgresql://user@host/db``).

    ``create`` lets this store create the database (the SQLite file, or the tables in a
    PostgreSQL database) when it holds no store yet; without it a missing store raises
    :class:`MissingDatabaseError`, or, with ``missing_ok``, the store opens it at the first
    transaction after someone created it (:meth:`ensure_created`, or another process) and until
    then every transaction raises that error.
    """

    def __init__(self, url: str, busy_timeout: float = 10.0, *, create: bool = True, missing_ok: bool = False) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StoreError("database URL", "is not a database URL (e.g. sqlite:///class.sqlite)") from None
        self._dialect = parsed.get_backend_name()
        self._path = ""
        self._files: SqliteFiles | None = None   # the SQLite file and its -wal and -shm files
        self._database_id: int | None = None      # the class-database id, read when the database is opened
        if self._dialect == "sqlite":
            if not parsed.database or parsed.database == ":memory:":
                raise StoreError("database URL", "name an SQLite file, e.g. sqlite:///class.sqlite "
                                 "(an in-memory store is open_store('memory'))")
            self._where = f"database file {parsed.database!r}"
            self._name = repr(parsed.database)
            self._path = os.path.abspath(parsed.database)
            # mode=rw: a connection opens the file that exists, never creates one (only ensure_created does)
            existing_only = f"file:{urllib.parse.quote(self._path)}?mode=rw"
            self._engine = sa.create_engine(
                "sqlite+pysqlite://", poolclass=sa.pool.QueuePool,
                creator=lambda: sqlite3.connect(existing_only, uri=True, timeout=busy_timeout,
                                                check_same_thread=False))
            _sqlite_transactions(self._engine, busy_timeout)
            self._files = SqliteFiles(self._path, self._where, self._name)
            sa_event.listen(self._engine.pool, "connect", self._files.connection_opened)
            sa_event.listen(self._engine.pool, "close", self._files.connection_closed)
            sa_event.listen(self._engine.pool, "close_detached", self._files.connection_closed)
        elif self._dialect == "postgresql":
            self._where = f"database {parsed.database!r} on {parsed.host or 'the local socket'}"
            self._name = repr(parsed.database)
            parsed = parsed.set(drivername="postgresql+psycopg")
            # pool_pre_ping: a pooled connection is checked before use, so after a server restart
            # the next action reconnects instead of failing with "server closed the connection"
            self._engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args={
                "connect_timeout": max(1, int(busy_timeout)),
                "options": f"-c lock_timeout={int(busy_timeout * 1000)}"})
        else:
            raise StoreError("database URL", f"names the database kind {self._dialect!r}; "
                             "use sqlite:///file or postgresql://...")
        self._local = threading.local()
        self._events = SqlEventLog(self)
        self._opening = threading.Lock()
        self._opened = False
        try:
            self._open(create)
        except MissingDatabaseError:
            if not missing_ok:
                raise

    # -- opening -------------------------------------------------------------------------------

    def ensure_created(self) -> None:
        """Create the database if it holds no store yet (creating a class does this, and only
        that); an existing one is opened as it is."""
        if not self._opened:
            self._open(create=True)

    def _open(self, create: bool) -> None:
        """Open the database (creating it if ``create``), remember the SQLite file's identity,
        and check the schema; a store that is not there raises :class:`MissingDatabaseError`."""
        with self._opening:
            if self._opened:
                return
            if self._dialect == "sqlite":
                if not os.path.exists(self._path):
                    if not os.path.isdir(os.path.dirname(self._path)):
                        raise StoreError(self._where, "cannot be opened (does its folder exist, may it be written?)",
                                         said=self._said("db_cannot_open"))
                    if not create:
                        raise MissingDatabaseError(self._where, "does not exist", said=self._said("db_missing"))
                    self._create_file()
                mode = os.stat(self._path).st_mode
                if not stat.S_ISREG(mode):  # a named pipe would hang the page on its first read
                    raise StoreError(self._where, f"is {file_kind(mode)}, not a database file")
                self._files.remember()
            self._local.opening = True
            try:
                self._prepare(create)
            except BaseException:
                if self._files is not None:
                    self._files.forget()
                raise
            finally:
                self._local.opening = False
            self._opened = True

    def _create_file(self) -> None:
        try:
            sqlite3.connect(self._path).close()  # mode rwc: the one place a file is created
        except sqlite3.Error as error:
            raise self._error(error) from None

    def _prepare(self, create: bool) -> None:
        """Create the tables of a new database, bring an older schema version up to date, or check
        the schema version of an existing one. The check only reads, so opening a store does not
        wait for other processes' writes."""
        with self.transaction(write=False):
            found = self._found_version()
            if found == schema.SCHEMA_VERSION and not self._missing_event_columns():
                self._database_id = read_database_id(self._connection(), self._where)
                return
        if found is None and not create:
            raise MissingDatabaseError(self._where, "holds no twofa-sim store yet (it was never created)",
                                       said=self._said("db_never_created"))
        with self.transaction():
            if self._dialect == "postgresql":
                # Kernels that open a new database at the same instant create its tables one after
                # the other (SQLite's BEGIN IMMEDIATE already does that): a lock of the database's own.
                self._connection().execute(sa.text("SELECT pg_advisory_xact_lock(20261)"))
            found = self._found_version()  # again, under the write lock: another process may have done it
            if found is None:
                self._create_tables()
            elif found != schema.SCHEMA_VERSION:
                self._migrate(found)
            self._add_event_columns()
            self._database_id = read_database_id(self._connection(), self._where)

    def _missing_event_columns(self) -> list[str]:
        """The event columns a database made before them lacks (:data:`schema.EVENT_COLUMNS_ADDED`)."""
        present = {c["name"] for c in sa.inspect(self._connection()).get_columns(schema.events.name)}
        return [name for name in schema.EVENT_COLUMNS_ADDED if name not in present]

    def _add_event_columns(self) -> None:
        """Add the missing event columns, with their defaults (the older rows keep their detail's words)."""
        connection = self._connection()
        for name in self._missing_event_columns():
            column = sa.schema.CreateColumn(schema.events.c[name]).compile(dialect=connection.dialect)
            connection.execute(sa.text(f"ALTER TABLE {schema.events.name} ADD COLUMN {column}"))

    def _found_version(self) -> int | None:
        """The database's schema version (None if it holds no store yet); one this twofa-sim can
        neither read nor bring up to date is refused by name."""
        connection = self._connection()
        tables = set(sa.inspect(connection).get_table_names())
        if "schema_version" not in tables:
            if tables - {t.name for t in schema.metadata.sorted_tables}:
                raise StoreError(self._where, "holds other tables: it is not a twofa-sim store",
                                 said=self._said("db_foreign_tables"))
            return None
        versions = connection.execute(sa.select(schema.schema_version.c.version)).scalars().all()
        if len(versions) != 1 or versions[0] not in (schema.SCHEMA_VERSION, *schema.MIGRATED_VERSIONS):
            found = ", ".join(map(str, versions)) or "none"
            raise StoreError(self._where, f"has schema version {found}; this twofa-sim reads version "
                             f"{schema.SCHEMA_VERSION} (use a new database file)",
                             said=self._said("db_schema_version", found=found, version=schema.SCHEMA_VERSION))
        return versions[0]

    def _create_tables(self) -> None:
        connection = self._connection()
        schema.metadata.create_all(connection)
        connection.execute(schema.schema_version.insert().values(version=schema.SCHEMA_VERSION))
        connection.execute(schema.counters.insert().values(name="login", value=1))
        connection.execute(schema.database_identity.insert().values(id=new_database_id()))

    def _migrate(self, found: int) -> None:
        """Bring a database of an older schema version up to date, in the open write transaction
        (all or nothing). Version 1 held recovery codes in hex in the factor column; versions 1
        and 2 wrote the domain's old words."""
        connection = self._connection()
        if found == 1:
            schema.database_identity.create(connection)
            connection.execute(schema.database_identity.insert().values(id=new_database_id()))
            for key, factor in connection.execute(sa.select(schema.users.c.key, schema.users.c.factor)).all():
                try:
                    factor = schema.factor_json_from_version_1(factor)
                except (ValueError, TypeError, KeyError, AttributeError):
                    raise StoreError(self._where, f"holds a damaged user row (users row {key[:64]!r}: its factor "
                                     "column is not a version 1 second factor); nothing was changed") from None
                connection.execute(schema.users.update().where(schema.users.c.key == key).values(factor=factor))
        if found <= 2:
            self._rename_old_words()
        connection.execute(schema.schema_version.update().values(version=schema.SCHEMA_VERSION))

    def _rename_old_words(self) -> None:
        """Versions 1 and 2 wrote the domain's old words: a factor's fields, and the states and
        detail ids of events, get today's names (:mod:`twofa_sim.core.old_names`)."""
        connection, events = self._connection(), schema.events
        for key, factor in connection.execute(sa.select(schema.users.c.key, schema.users.c.factor)).all():
            try:
                factor = schema.factor_json_from_version_2(factor)
            except (ValueError, TypeError, AttributeError):
                raise StoreError(self._where, f"holds a damaged user row (users row {key[:64]!r}: its factor "
                                 "column is not a second factor); nothing was changed") from None
            connection.execute(schema.users.update().where(schema.users.c.key == key).values(factor=factor))
        states = {old: new for old, new in ENUM_NAMES.items() if new in State.__members__}
        for column in (events.c.state_from, events.c.state_to):
            for old, new in states.items():
                connection.execute(events.update().where(column == old).values({column.name: new}))
        if "detail_key" not in self._missing_event_columns():
            for old, new in DETAIL_KEYS.items():
                connection.execute(events.update().where(events.c.detail_key == old).values(detail_key=new))

    @property
    def where(self) -> str:
        return self._where

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._dialect

    # -- transactions --------------------------------------------------------------------------

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[None]:
        unit = getattr(self._local, "unit", None)
        if unit is not None:
            if write and not unit.write:
                raise RuntimeError("a writing transaction cannot start inside a reading one")
            yield
            return
        if not self._opened and not getattr(self._local, "opening", False):
            self._open(create=False)
        files = self._files if self._files is not None and self._files.remembered else None
        if files is not None:
            files.check()
        try:
            connection = self._engine.connect()
            if self._dialect == "sqlite":
                connection = connection.execution_options(sqlite_begin="IMMEDIATE" if write else "DEFERRED")
            elif not write:
                # One snapshot for every statement of a read (the event log's count and its rows agree);
                # writes stay READ COMMITTED, where a row lock waits and then sees the committed row.
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            unit = _Unit(connection, write)
            with connection:
                with connection.begin():
                    if self._database_id is not None:
                        check_database_id(connection, self._database_id, self._where)
                    self._local.unit = unit
                    try:
                        yield
                        if write:
                            self._flush(unit)
                        if files is not None:           # once more just before COMMIT: a file deleted
                            files.check(record=True)    # meanwhile gets nothing, all rolls back
                    finally:
                        self._local.unit = None
        except StoreError:
            raise
        except IntegrityError:
            # Two processes created the same company or username at the same moment (PostgreSQL lets
            # both check; the unique key refuses the second at commit, and nothing of it stays).
            raise AlreadyExistsError(f"{self._where}: another process created the same name at the same moment; "
                                     "nothing was changed") from None
        except DBAPIError as error:
            raise self._error(error.orig) from None
        except sqlite3.Error as error:  # raised by the BEGIN IMMEDIATE loop, below SQLAlchemy
            raise self._error(error) from None
        except SQLAlchemyError as error:
            raise StoreError(self._where, f"cannot be used ({type(error).__name__})") from None

    def _said(self, key: str, **fields: object) -> Said:
        """An error of this database in plain words: the message ``key``, naming the database."""
        return say(key, name=self._name, where=self._where, **fields)

    def _error(self, original: BaseException) -> StoreError:
        """The database's failure as a message naming it, without SQL text or parameters."""
        if isinstance(original, sqlite3.OperationalError) and "locked" in str(original):
            return StoreError(self._where, "is locked by another process for too long (busy timeout); try again",
                              said=self._said("db_busy"))
        if isinstance(original, sqlite3.DatabaseError) and "not a database" in str(original):
            return StoreError(self._where, "is not an SQLite database", said=self._said("db_not_sqlite"))
        if isinstance(original, sqlite3.OperationalError) and "unable to open" in str(original):
            return StoreError(self._where, "cannot be opened (does its folder exist, may it be written?)",
                              said=self._said("db_cannot_open"))
        code = getattr(original, "sqlite_errorname", "")  # the result code's name, not its wording
        if code == "SQLITE_FULL":
            return StoreError(self._where, "is full (no room left on its disk): nothing of this action was saved",
                              said=self._said("db_full"))
        if code.startswith("SQLITE_READONLY"):
            return StoreError(self._where, "cannot be written (a read-only file or folder?): nothing of this action "
                              "was saved", said=self._said("db_read_only"))
        if code.startswith("SQLITE_IOERR"):
            return StoreError(self._where, "cannot be read or written (a disk error): nothing of this action was saved")
        if code.startswith("SQLITE_CORRUPT"):
            return StoreError(self._where, "is damaged (SQLite reports a malformed file): restore a copy or use a "
                              "new database file")
        if re.search(r'FATAL:\s+database "[^"]*" does not exist', str(original)):
            return StoreError(self._where, "does not exist on its server (create it first, e.g. with createdb)",
                              said=self._said("db_missing_on_server"))
        if connection_lost(str(original)):
            return StoreError(self._where, "cannot be reached (is the database server running?); "
                              "the next action tries again", said=self._said("db_unreachable"))
        if "lock timeout" in str(original) or "could not obtain lock" in str(original):
            return StoreError(self._where, "is locked by another process for too long (lock timeout); try again",
                              said=self._said("db_busy"))
        first_line = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
        return StoreError(self._where, f"cannot be used: {first_line[:200]}")

    def _unit(self) -> _Unit:
        unit = getattr(self._local, "unit", None)
        if unit is None:
            raise RuntimeError("the store is used outside a transaction")
        return unit

    def _connection(self) -> Connection:
        return self._unit().connection

    @contextmanager
    def _reading(self) -> Iterator[_Unit]:
        """The open transaction, or a short reading one for a call made outside any."""
        with self.transaction(write=bool(getattr(self._local, "unit", None) and self._local.unit.write)):
            yield self._unit()

    def _flush(self, unit: _Unit) -> None:
        """Write back what changed: new rows first (companies before their users), then updates."""
        for key, company in unit.companies.items():
            if company is None:
                continue
            row = schema.company_row(company)
            if key in unit.new_companies:
                unit.connection.execute(schema.INSERT_COMPANY, row)
            elif row != unit.company_rows.get(key):
                unit.connection.execute(schema.UPDATE_COMPANY, {"match_key": key, **row})
        for key, user in unit.users.items():
            if user is None:
                continue
            row = schema.user_row(user)
            if key in unit.new_users:
                unit.connection.execute(schema.INSERT_USER, row)
            elif row != unit.user_rows.get(key):
                unit.connection.execute(schema.UPDATE_USER, {"match_key": key, **row})

    # -- companies -----------------------------------------------------------------------------

    @property
    def events(self) -> EventLog:
        return self._events

    def company(self, key: str) -> Company | None:
        with self._reading() as unit:
            if key not in unit.companies:
                row = unit.connection.execute(schema.SELECT_COMPANY, {"match_key": key}).first()
                unit.companies[key] = None if row is None else self._company_from(unit, row)
            return unit.companies[key]

    def _company_from(self, unit: _Unit, row: Any) -> Company:
        names = unit.connection.execute(schema.COMPANY_USERNAMES, {"company_name": row.name}).scalars().all()
        company = schema.company_from_row(row, list(names))
        unit.company_rows[row.key] = schema.company_row(company)
        return company

    def companies(self) -> list[Company]:
        with self._reading() as unit:
            keys = unit.connection.execute(schema.SELECT_COMPANY_KEYS).scalars().all()
            found = [self.company(key) for key in keys]
            found += [unit.companies[k] for k in unit.new_companies if k not in keys]
            return [c for c in found if c is not None]

    def add_company(self, company: Company) -> None:
        with self.transaction():
            unit = self._unit()
            key = company.name.casefold()
            unit.companies[key] = company
            unit.new_companies.add(key)

    # -- users ---------------------------------------------------------------------------------

    def user(self, key: str) -> BackendUser | None:
        with self._reading() as unit:
            if key not in unit.users:
                query = schema.SELECT_USER_FOR_UPDATE if unit.write else schema.SELECT_USER
                row = unit.connection.execute(query, {"match_key": key}).first()
                unit.users[key] = None if row is None else self._user_from(unit, row)
            return unit.users[key]

    def _user_from(self, unit: _Unit, row: Any) -> BackendUser:
        try:
            user = schema.user_from_row(row)
        except ValidationError as problem:  # names the place, never a value (the row holds secrets)
            raise StoreError(self._where, f"holds a damaged user row ({problem})") from None
        except (ValueError, TypeError):
            raise StoreError(self._where, f"holds a damaged user row (users row {row.key[:64]!r}: its factor "
                             "column is not a second factor's JSON)") from None
        unit.user_rows[user.key] = schema.user_row_as_read(row)
        return user

    def users(self) -> list[BackendUser]:
        with self._reading() as unit:
            query = schema.SELECT_USERS_FOR_UPDATE if unit.write else schema.SELECT_USERS
            found = []
            for row in unit.connection.execute(query).all():
                if row.key not in unit.users:
                    unit.users[row.key] = self._user_from(unit, row)
                found.append(unit.users[row.key])
            found += [unit.users[k] for k in unit.new_users if unit.users[k] is not None and unit.users[k] not in found]
            return found

    def add_user(self, user: BackendUser) -> None:
        with self.transaction():
            unit = self._unit()
            unit.users[user.key] = user
            unit.new_users.add(user.key)
            company = unit.companies.get(user.company.casefold())
            if company is not None and user.username not in company.usernames:
                company.usernames.append(user.username)

    def password_costs(self) -> tuple[int, ...]:
        with self._reading() as unit:
            stored = unit.connection.execute(schema.SELECT_COSTS).all()
            costs = {key: cost for key, cost in stored}
            costs.update({k: u.password_hash.log2_n for k, u in unit.users.items() if u is not None})
            return tuple(sorted(costs.values()))

    # -- login numbers -------------------------------------------------------------------------

    def next_login_id(self) -> int:
        with self.transaction():
            taken = self._connection().execute(schema.TAKE_LOGIN_ID).scalar_one()
            return int(taken) - 1

    def peek_login_id(self) -> int:
        with self._reading() as unit:
            return int(unit.connection.execute(schema.PEEK_LOGIN_ID).scalar_one())

    def set_next_login_id(self, value: int) -> None:
        with self.transaction():
            self._connection().execute(schema.SET_LOGIN_ID, {"value": value})

    # -- the event log's rows --------------------------------------------------------------------

    def insert_event(self, event: Event) -> int:
        """Append one event's row in the open transaction (or a short one); its sequence number."""
        with self.transaction():
            result = self._connection().execute(schema.INSERT_EVENT, schema.event_row(event))
            return int(result.inserted_primary_key[0])

    def event_rows(self, after: int, seen: tuple[int, int] | None = None) -> tuple[int, int, list[Any]]:
        """(rows in the log, highest sequence number, rows after ``after``) in one consistent read,
        counting the table once; when the count and number are ``seen`` (nothing new), no row is read."""
        with self._reading() as unit:
            count, top = unit.connection.execute(schema.EVENT_SUMMARY).one()
            if (count, top) == seen:
                return int(count), int(top), []
            rows = unit.connection.execute(schema.EVENTS_AFTER, {"after": after}).all()
            return int(count), int(top), rows

    def event_summary(self) -> tuple[int, int]:
        """(rows in the log, highest sequence number): cheap, to know whether anything is new."""
        with self._reading() as unit:
            count, top = unit.connection.execute(schema.EVENT_SUMMARY).one()
            return int(count), int(top)

    def close(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self._dialect}, {self._where})"


def _sqlite_transactions(engine: Engine, busy_timeout: float) -> None:
    """Let SQLAlchemy, not the sqlite3 module, begin transactions, and begin them the way asked
    (the recipe of SQLAlchemy's pysqlite documentation, "Serializable isolation"): a writing
    transaction ``BEGIN IMMEDIATE`` takes the write lock before it reads anything."""

    @sa_event.listens_for(engine, "connect")
    def _connect(dbapi_connection, connection_record):  # noqa: ARG001 - SQLAlchemy's signature
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.close()
        # Turning a new file to WAL needs its exclusive lock; kernels opening the class at the same
        # instant can be told "locked" at once (SQLite does not always wait here), so retry as for a write.
        _retry_while_busy(dbapi_connection, "PRAGMA journal_mode = WAL", busy_timeout)
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")

    @sa_event.listens_for(engine, "begin")
    def _begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        if mode == "IMMEDIATE":
            _retry_while_busy(connection.connection.dbapi_connection, "BEGIN IMMEDIATE", busy_timeout)
        else:
            connection.exec_driver_sql(f"BEGIN {mode}")


def _retry_while_busy(dbapi_connection: sqlite3.Connection, statement: str, busy_timeout: float) -> None:
    """``statement`` (``BEGIN IMMEDIATE``, or the switch to WAL), retried every millisecond or so
    while another process holds the lock.

    SQLite's own busy handler sleeps in growing steps (up to 100 ms at a time), so a writer that
    waits behind a 2 ms transaction can sleep for 100 ms; 30 trainees then see long tails. Here the
    wait is short and jittered, and bounded by the busy timeout like SQLite's; the lock itself is
    still SQLite's (a retry loop, not a Python lock).
    """
    deadline = time.monotonic() + busy_timeout
    delay = 0.0005
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi_connection.execute(statement)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 1.5, 0.005)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
