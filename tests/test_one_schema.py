"""One schema per class: what the SQL store keeps is what the classes' snapshots say they are.

A user's snapshot (and its password hash and second factor) is the one plain form of a user: a
session file holds it, the SQL store spreads it over the users table's columns (checked here field
by field, with each column's type against the field's type) and keeps the second factor's snapshot
whole in one JSON column, in the same encoding (bytes in base64). Every entry of a snapshot is
checked by its class's ``restore()``, so a field added to a class and forgotten in the snapshot, in
its checks or in the table fails here. Databases written before (recovery codes in hex) still open.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import types
import typing

import pytest
import sqlalchemy as sa

from twofa_sim.core.clock import iso
from twofa_sim.core.errors import ValidationError
from twofa_sim.core.events import Event
from twofa_sim.core.passwords import PasswordHash
from twofa_sim.io.persistence import dumps, loads
from twofa_sim.login import user as user_module
from twofa_sim.login.enrolment import SNAPSHOT_FIELDS as FACTOR_FIELDS, Enrolment
from twofa_sim.login.recovery_codes import RecoveryCodes
from twofa_sim.login.user import BackendUser
from twofa_sim.store import StoreError, open_store
from twofa_sim.store import schema

from conftest import PASSWORD, make_office
from helpers import enrol
from pg_server import database, postgres  # noqa: F401 - fixtures: an SQLite file or a throw-away PostgreSQL database

ROW_KEYS = {"id", "key"}      # the row's own identity: the surrogate key and the casefolded username
SQL_TYPE_OF = {str: sa.String, bool: sa.Boolean, float: sa.Float, int: sa.Integer, bytes: sa.LargeBinary}
"""The column type a field's Python type is kept in; a snapshot of a class of its own is JSON text."""


EVENT_WORDS = "detail"       # the detail in English beside its id and fields: for whoever reads the table itself


def test_the_events_table_has_one_column_per_field_of_an_event():
    names = [c.name for c in schema.events.columns]
    assert [n for n in names if n != EVENT_WORDS] == [f.name for f in dataclasses.fields(Event)]
    assert EVENT_WORDS in names


def test_an_event_read_back_from_its_row_is_the_same_event():
    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    for event in office.events:
        row = types.SimpleNamespace(seq=event.seq, **schema.event_row(event))
        assert schema.event_from_row(row) == event
        assert row.detail == event.detail


def test_a_row_written_before_details_had_ids_keeps_its_words():
    event = make_office().events[-1]
    row = types.SimpleNamespace(seq=event.seq, **schema.event_row(event) | {
        "detail": "2FA for all users: off", "detail_key": "", "detail_fields": "{}"})
    old = schema.event_from_row(row)
    assert old.detail == old.detail_in("de") == "2FA for all users: off"


def story_office(story: str):
    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    if story != "new":
        enrol(office, "alice")
    if story == "recovery codes":
        office.issue_recovery_codes("alice")
    if story == "locked":
        office.user("alice").enrolment.failures, office.user("alice").enrolment.locked_out_until = 5, 1e9
    return office


def field_types(cls: type) -> dict[str, type]:
    return {name: kind for name, kind in typing.get_type_hints(cls).items()
            if name in {f.name for f in dataclasses.fields(cls)}}


@pytest.mark.parametrize("cls, snapshot_fields, snapshot_of", [
    (BackendUser, user_module.SNAPSHOT_FIELDS, lambda office: office.user("alice").snapshot()),
    (Enrolment, FACTOR_FIELDS, lambda office: office.user("alice").enrolment.snapshot()),
    (RecoveryCodes, ("salt", "unused", "used"), lambda office: office.user("alice").enrolment.recovery.snapshot()),
])
def test_a_snapshot_holds_one_entry_per_field_of_its_class(cls, snapshot_fields, snapshot_of):
    office = story_office("recovery codes")
    assert list(snapshot_of(office)) == list(snapshot_fields)
    assert set(snapshot_fields) == {f.name for f in dataclasses.fields(cls)}


def test_the_users_table_holds_every_entry_of_a_users_snapshot_and_nothing_else():
    assert list(schema.USER_COLUMNS) == list(user_module.SNAPSHOT_FIELDS)
    held = {column for columns in schema.USER_COLUMNS.values() for column in columns}
    assert {c.name for c in schema.users.columns} == held | ROW_KEYS


def test_each_column_has_the_type_of_the_field_it_holds():
    """Field by field: a plain field in the column of its type; the password hash's fields in one
    column each (its scheme and cost parameters are constants its restore() insists on); the second
    factor as JSON text."""
    checked = []
    for name, kind in field_types(BackendUser).items():
        columns = [schema.users.c[c] for c in schema.USER_COLUMNS[name]]
        if kind in SQL_TYPE_OF:
            assert [type(c.type) for c in columns] == [SQL_TYPE_OF[kind]], name
        elif kind is PasswordHash:
            inner = field_types(PasswordHash)
            assert [f"password_{f}" for f in inner] == [c.name for c in columns]
            assert [SQL_TYPE_OF[t] for t in inner.values()] == [type(c.type) for c in columns]
        else:
            assert kind is Enrolment and [type(c.type) for c in columns] == [sa.Text], name
        assert all(not c.nullable for c in columns), name
        checked.append(name)
    assert checked == [f.name for f in dataclasses.fields(BackendUser)]


@pytest.mark.parametrize("story", ["new", "enrolled", "recovery codes", "locked"])
def test_a_row_holds_the_session_files_encoding_and_reads_back_to_the_same_snapshot(story):
    office = story_office(story)
    user = office.user("alice")
    row = schema.user_row(user)
    in_file = next(u for u in json.loads(dumps(office))["session"]["users"] if u["username"] == "alice")
    assert json.loads(row["factor"]) == in_file["enrolment"] == user.enrolment.snapshot()
    assert (row["password_salt"], row["password_digest"], row["password_log2_n"]) == (
        user.password_hash.salt, user.password_hash.digest, user.password_hash.log2_n)
    assert PasswordHash.restore(in_file["password_hash"]) == user.password_hash
    assert {k: in_file[k] for k in ("username", "company", "force_2fa", "created_at")} == {
        k: row[k] for k in ("username", "company", "force_2fa", "created_at")}
    assert schema.user_from_row(types.SimpleNamespace(**row)).snapshot() == user.snapshot()


WRONG_KIND = ["not of any field's kind"]


def entries(snapshot: dict, prefix: str = "") -> list[str]:
    """Every entry of a snapshot, nested ones included (``enrolment.recovery.salt``)."""
    found = []
    for key, value in snapshot.items():
        found.append(prefix + key)
        if isinstance(value, dict):
            found += entries(value, f"{prefix}{key}.")
    return found


def replaced(snapshot: dict, path: str, value) -> dict:
    copy = json.loads(json.dumps(snapshot))
    *outer, last = path.split(".")
    inner = copy
    for key in outer:
        inner = inner[key]
    inner[last] = value
    return copy


@pytest.mark.parametrize("path", entries(story_office("recovery codes").user("alice").snapshot()))
def test_restore_checks_every_entry_of_a_users_snapshot_and_names_it(path):
    snapshot = story_office("recovery codes").user("alice").snapshot()
    with pytest.raises(ValidationError) as refused:
        BackendUser.restore(replaced(snapshot, path, WRONG_KIND), "user")
    assert refused.value.field.startswith(f"user.{path}"), refused.value.field
    assert BackendUser.restore(snapshot).snapshot() == snapshot


def test_a_session_file_and_the_sql_store_refuse_the_same_damaged_second_factor(tmp_path):
    office = story_office("enrolled")
    damaged = json.loads(dumps(office))
    del damaged["sha256"]
    damaged["session"]["users"][0]["enrolment"]["drift"] = "far"
    with pytest.raises(ValidationError, match=r"session\.users\[0\]\.enrolment\.drift: must be a whole number"):
        loads(json.dumps(damaged))
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"
    store = open_store(url, create=True)
    with store.transaction():
        store.add_user(office.user("alice"))
    store.close()
    with sqlite3.connect(tmp_path / "class.sqlite") as db:
        factor = json.loads(db.execute("SELECT factor FROM users").fetchone()[0])
        db.execute("UPDATE users SET factor = ?", (json.dumps({**factor, "drift": "far"}),))
    store = open_store(url)
    with pytest.raises(StoreError, match=r"users row 'alice', factor\.drift: must be a whole number") as refused:
        with store.transaction(write=False):
            store.user("alice")
    assert factor["secret"] not in str(refused.value)
    store.close()


def sql_engine(url: str) -> sa.engine.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def as_version_1(url: str) -> None:
    """Turn a database of today into one version 1 wrote: recovery-code salt and hashes in hex, no
    class-database id."""
    engine = sql_engine(url)
    with engine.begin() as db:
        for key, text in db.execute(sa.text("SELECT key, factor FROM users")).all():
            factor = json.loads(text)
            if factor["recovery"] is not None:
                restored = RecoveryCodes.restore(factor["recovery"])
                factor["recovery"] = {"salt": restored.salt.hex(), "unused": [h.hex() for h in restored.unused],
                                      "used": restored.used}
            db.execute(sa.text("UPDATE users SET factor = :factor WHERE key = :key"),
                       {"factor": json.dumps(factor, sort_keys=True), "key": key})
        db.execute(sa.text("UPDATE schema_version SET version = 1"))
        db.execute(sa.text("DROP TABLE database_identity"))
    engine.dispose()


def stored(url: str) -> tuple[list, list, str]:
    """The schema version, the class-database ids and alice's factor column, as stored."""
    engine = sql_engine(url)
    with engine.connect() as db:
        found = (db.execute(sa.text("SELECT version FROM schema_version")).scalars().all(),
                 db.execute(sa.text("SELECT id FROM database_identity")).scalars().all()
                 if "database_identity" in sa.inspect(db).get_table_names() else [],
                 db.execute(sa.text("SELECT factor FROM users")).scalar_one())
    engine.dispose()
    return found


@pytest.mark.parametrize("story", ["new", "recovery codes"])
def test_a_version_1_database_is_brought_up_to_date_when_opened_and_reads_the_same(database, story):
    office = story_office(story)
    store = open_store(database, create=True)
    with store.transaction():
        store.add_user(office.user("alice"))
    store.close()
    as_version_1(database)
    versions, ids, old_factor = stored(database)
    assert (versions, ids) == ([1], [])
    store = open_store(database)
    with store.transaction(write=False):
        assert store.user("alice").snapshot() == office.user("alice").snapshot()
    store.close()
    versions, ids, factor = stored(database)
    assert (versions, len(ids)) == ([schema.SCHEMA_VERSION], 1)
    assert json.loads(factor) == office.user("alice").enrolment.snapshot()
    assert (story == "recovery codes") == (json.loads(old_factor) != office.user("alice").enrolment.snapshot())


# -- the typed user view: labels only where a table is drawn ---------------------------------------------

RENDERINGS = ("render", "ui")


def label_reads(label_set: set[str]) -> list[str]:
    """Places in the package outside the renderings that read a row by one of these labels
    (``row["failed codes"]``, ``row.get("locked out until")``)."""
    import ast
    import pathlib

    import twofa_sim
    root = pathlib.Path(twofa_sim.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] in RENDERINGS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            key = None
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                key = node.slice.value
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                  and node.args and isinstance(node.args[0], ast.Constant)):
                key = node.args[0].value
            if key in label_set:
                found.append(f"{path.relative_to(root)}:{node.lineno} reads {key!r}")
    return found


def test_the_back_office_hands_out_typed_views_and_only_renderings_use_labels():
    from twofa_sim.login.user import UserView
    from twofa_sim.render.tables import USER_LABELS, users_table

    office = story_office("enrolled")
    lockout_end = office.clock.now() + 600
    office.user("alice").enrolment.failures, office.user("alice").enrolment.locked_out_until = 5, lockout_end
    views = office.user_views()
    assert [type(v) for v in views] == [UserView] and dataclasses.is_dataclass(views[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        views[0].failed_codes = 0
    assert (views[0].failed_codes, views[0].locked_out_until, views[0].enrolled) == (5, lockout_end, True)
    assert list(USER_LABELS) == [f.name for f in dataclasses.fields(UserView)]
    assert users_table(office).loc["alice", "locked out until"] == iso(lockout_end)
    office.clock.advance(600)
    assert (office.user_views()[0].failed_codes, office.user_views()[0].locked_out_until) == (0, None)
    assert users_table(office).loc["alice", "locked out until"] == ""
    spoken = {label for label in USER_LABELS.values() if label not in USER_LABELS}  # the labels that are not field names
    assert label_reads(spoken) == []


def test_each_read_of_a_factor_column_is_a_copy_of_its_own():
    """A column's text is checked once per process; what a read hands out is never shared."""
    user = story_office("recovery codes").user("alice")
    text = schema.factor_json(user.enrolment)
    first, second = schema.enrolment_from_json(text, "factor"), schema.enrolment_from_json(text, "factor")
    assert first is not second and first.recovery is not second.recovery
    first.failures, first.secret = 3, None
    first.recovery.consume(0)
    again = schema.enrolment_from_json(text, "factor")
    assert again.snapshot() == user.enrolment.snapshot() != first.snapshot()
