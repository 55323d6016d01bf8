"""The SQL tables of the shared store, and how a user and a second factor become a row and back.

One row per company, per user and per event. A user's second factor (secret, pending secret,
replay and drift memory, failures, lock, recovery-code hashes) is one JSON column holding its
snapshot, the very plain data a session file holds (one schema, one encoding): it is read and
written whole, under the user's row lock, so it never needs a join, and read back through
:meth:`Enrolment.restore`, which checks every value. ``schema_version`` holds
:data:`SCHEMA_VERSION`; a database with another version is refused, never guessed at.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import (BigInteger, Boolean, Column, Float, Integer, LargeBinary, MetaData, String, Table,
                        Text)

from ..core.events import Event, EventKind
from ..core.fields import encode_bytes
from ..core.messages import Said, as_written
from ..core.old_names import FACTOR_FIELDS, renamed
from ..core.passwords import PasswordHash
from ..login.company import Company
from ..login.enrolment import Enrolment
from ..login.user import BackendUser

SCHEMA_VERSION = 3
"""Raised whenever a table or a column changes meaning; a database of another version is refused by
name, except one this module can bring up to date (:data:`MIGRATED_VERSIONS`)."""

MIGRATED_VERSIONS = (1, 2)
"""Older versions brought up to date when opened: version 1 held recovery codes in hex in the factor
column (the snapshot's base64 since version 2) and had no ``database_identity``; versions 1 and 2
wrote the domain's old words (a factor's fields, the states and detail ids of events) that
:mod:`twofa_sim.core.old_names` maps to today's."""

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
)

database_identity = Table(
    "database_identity", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
)
"""One row: a random number drawn when the database was created. A store compares it on each new
connection, so a database dropped and created anew under running servers (the same name, another
database) is noticed, as an SQLite file's device and inode are."""

counters = Table(
    "counters", metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

companies = Table(
    "companies", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(64), nullable=False),
    Column("force_2fa_for_all", Boolean, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("username", String(64), nullable=False),
    Column("company", String(64), nullable=False, index=True),
    Column("password_salt", LargeBinary, nullable=False),
    Column("password_digest", LargeBinary, nullable=False),
    Column("password_log2_n", Integer, nullable=False),
    Column("force_2fa", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("factor", Text, nullable=False),
)

events = Table(
    "events", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False),
    Column("kind", String(40), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("user", String(64), nullable=False),
    Column("company", String(64), nullable=False),
    Column("outcome", String(64), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("login", BigInteger, nullable=True),
    Column("state_from", String(32), nullable=False),
    Column("state_to", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("detail_key", String(64), nullable=False, server_default=""),
    Column("detail_fields", Text, nullable=False, server_default="{}"),
)

EVENT_COLUMNS_ADDED = ("detail_key", "detail_fields")
"""Columns of ``events`` that a database created before them lacks: opening it adds them (its
older rows keep their ``detail`` text as written, under an empty ``detail_key``)."""


# -- companies -----------------------------------------------------------------------------------

def company_row(company: Company) -> dict[str, Any]:
    return {"key": company.name.casefold(), "name": company.name, "force_2fa_for_all": company.force_2fa_for_all}


def company_from_row(row: Any, usernames: list[str]) -> Company:
    return Company(row.name, bool(row.force_2fa_for_all), usernames)


# -- users and their second factor ----------------------------------------------------------------

USER_COLUMNS = {"username": ("username",), "company": ("company",), "force_2fa": ("force_2fa",),
                "created_at": ("created_at",), "password_hash": ("password_salt", "password_digest", "password_log2_n"),
                "enrolment": ("factor",)}
"""Where each entry of a user's snapshot (:data:`twofa_sim.login.user.SNAPSHOT_FIELDS`) lives in the
users table; the row's own ``id`` and ``key`` come beside them. ``tests/test_one_schema.py`` checks
it field by field, with each column's type against the field's."""


def factor_json(enrolment: Enrolment) -> str:
    """The second factor's snapshot as JSON (sorted keys, so equal states give equal text): the
    very plain data a session file holds, bytes in base64."""
    return json.dumps(enrolment.snapshot(), sort_keys=True)


def enrolment_from_json(text: str, where: str = "factor") -> Enrolment:
    """The second factor of a factor column, each value checked by :meth:`Enrolment.restore`
    (a :class:`ValidationError` names the place in the column). Every transaction reads its users'
    rows again and most are unchanged, so a column's text is checked once per process: each read
    gets its own copy of the checked factor."""
    checked = _checked_factor(text, where)
    recovery = checked.recovery
    return replace(checked, recovery=None if recovery is None else replace(recovery, unused=list(recovery.unused)))


@functools.lru_cache(maxsize=1024)
def _checked_factor(text: str, where: str) -> Enrolment:
    """Never handed out: :func:`enrolment_from_json` copies it (a failed check is not kept)."""
    return Enrolment.restore(json.loads(text), where)


def user_row_as_read(row: Any) -> dict[str, Any]:
    """A row's column values as :func:`user_row` gives them, read from the row itself (what a
    transaction compares its users with before writing them back)."""
    return {"key": row.key, "username": row.username, "company": row.company, "password_salt": bytes(row.password_salt),
            "password_digest": bytes(row.password_digest), "password_log2_n": row.password_log2_n,
            "force_2fa": bool(row.force_2fa), "created_at": row.created_at, "factor": row.factor}


def factor_json_from_version_1(text: str) -> str:
    """A version 1 factor column (recovery-code salt and hashes in hex) in today's encoding (base64)."""
    state = json.loads(text)
    recovery = state.get("recovery")
    if recovery is not None:
        recovery["salt"] = encode_bytes(bytes.fromhex(recovery["salt"]))
        recovery["unused"] = [encode_bytes(bytes.fromhex(h)) for h in recovery["unused"]]
    return json.dumps(state, sort_keys=True)


def factor_json_from_version_2(text: str) -> str:
    """A version 2 factor column with its fields under today's names (:data:`FACTOR_FIELDS`)."""
    return json.dumps(renamed(json.loads(text), FACTOR_FIELDS, "factor"), sort_keys=True)


def user_row(user: BackendUser) -> dict[str, Any]:
    """Everything of a user as column values; two users in the same state give equal rows."""
    h = user.password_hash
    return {"key": user.key, "username": user.username, "company": user.company,
            "password_salt": h.salt, "password_digest": h.digest, "password_log2_n": h.log2_n,
            "force_2fa": user.force_2fa, "created_at": user.created_at, "factor": factor_json(user.enrolment)}


def user_from_row(row: Any) -> BackendUser:
    """The user of a row; a damaged factor column is a :class:`ValidationError` naming its place."""
    return BackendUser(row.username, row.company,
                       PasswordHash(bytes(row.password_salt), bytes(row.password_digest), row.password_log2_n),
                       force_2fa=bool(row.force_2fa), created_at=row.created_at,
                       enrolment=enrolment_from_json(row.factor, f"users row {row.key[:64]!r}, factor"))


# -- events ----------------------------------------------------------------------------------------

def event_row(event: Event) -> dict[str, Any]:
    """The event's columns; the database numbers it (``seq``). The detail is kept as its message id
    and fields (JSON), and in English words for whoever reads the table itself."""
    return {"time": event.time, "kind": event.kind.value, "actor": event.actor, "user": event.user,
            "company": event.company, "outcome": event.outcome, "reason": event.reason, "login": event.login,
            "state_from": event.state_from, "state_to": event.state_to, "detail": event.detail,
            "detail_key": event.detail_key,
            "detail_fields": json.dumps(dict(event.detail_fields), sort_keys=True, ensure_ascii=False)}


def event_from_row(row: Any) -> Event:
    """The event of a row; a row written before details had ids keeps its ``detail`` text as written."""
    said = (Said(row.detail_key, tuple(sorted(json.loads(row.detail_fields).items()))) if row.detail_key
            else as_written(row.detail))
    return Event(seq=row.seq, time=row.time, kind=EventKind(row.kind), actor=row.actor, user=row.user,
                 company=row.company, outcome=row.outcome, reason=row.reason, login=row.login,
                 state_from=row.state_from, state_to=row.state_to, detail_key=said.key, detail_fields=said.fields)


# -- statements, built once (SQLAlchemy caches their compiled form; building one costs more than running it) --

SELECT_DATABASE_ID = sa.select(database_identity.c.id)
SELECT_USER = sa.select(users).where(users.c.key == sa.bindparam("match_key"))
SELECT_USER_FOR_UPDATE = SELECT_USER.with_for_update()
SELECT_USERS = sa.select(users).order_by(users.c.id)
SELECT_USERS_FOR_UPDATE = SELECT_USERS.with_for_update()
SELECT_COSTS = sa.select(users.c.key, users.c.password_log2_n)
INSERT_USER = users.insert()
UPDATE_USER = users.update().where(users.c.key == sa.bindparam("match_key"))
SELECT_COMPANY = sa.select(companies).where(companies.c.key == sa.bindparam("match_key"))
SELECT_COMPANY_KEYS = sa.select(companies.c.key).order_by(companies.c.id)
COMPANY_USERNAMES = sa.select(users.c.username).where(users.c.company == sa.bindparam("company_name")).order_by(users.c.id)
INSERT_COMPANY = companies.insert()
UPDATE_COMPANY = companies.update().where(companies.c.key == sa.bindparam("match_key"))
INSERT_EVENT = events.insert()
EVENT_SUMMARY = sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(events.c.seq), 0)).select_from(events)
EVENTS_AFTER = sa.select(events).where(events.c.seq > sa.bindparam("after")).order_by(events.c.seq)
TAKE_LOGIN_ID = (counters.update().where(counters.c.name == "login").values(value=counters.c.value + 1)
                 .returning(counters.c.value))
PEEK_LOGIN_ID = sa.select(counters.c.value).where(counters.c.name == "login")
SET_LOGIN_ID = counters.update().where(counters.c.name == "login")
