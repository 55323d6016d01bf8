"""What the SQL store keeps is what the classes say they are: its columns are checked against the
classes' own snapshots (a field added to a class and forgotten in the tables fails here), and a
user written to a row and read back has the very snapshot it had."""

from __future__ import annotations

import dataclasses
import types

import pytest

from twofa_sim.core.events import Event
from twofa_sim.store import schema

from conftest import PASSWORD, make_office
from helpers import enrol

# how a snapshot's parts are spread over columns (the rest are one column each, by the same name)
USER_COLUMNS_OF = {"password_hash": {"password_salt", "password_digest", "password_log2_n"}, "enrolment": {"factor"}}
ROW_KEYS = {"id", "key"}      # the row's own identity: the surrogate key and the casefolded username


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


def test_the_users_table_has_the_columns_of_a_users_snapshot():
    office = make_office()
    office.create_user("alice", PASSWORD)
    expected = set()
    for name in office.user("alice").snapshot():
        expected |= USER_COLUMNS_OF.get(name, {name})
    assert {c.name for c in schema.users.columns} - ROW_KEYS == expected


@pytest.mark.parametrize("story", ["new", "enrolled", "recovery codes", "locked"])
def test_a_user_read_back_from_its_row_has_the_same_snapshot(story):
    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    if story != "new":
        enrol(office, "alice")
    if story == "recovery codes":
        office.issue_recovery_codes("alice")
    if story == "locked":
        office.user("alice").enrolment.failures, office.user("alice").enrolment.locked_until = 5, 1e9
    user = office.user("alice")
    row = schema.user_row(user)
    read = schema.user_from_row(types.SimpleNamespace(**row))
    assert read.snapshot() == user.snapshot()
