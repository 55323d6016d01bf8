"""Files written with the domain's old words still load, through the loaders only.

A session file of version 3 or older and a scenario file may name a policy knob (or a second
factor's field) by its name from before the rename (:mod:`twofa_sim.core.old_names`); they load as
with the new name. A file naming one thing by both names is refused where it says so. The package
itself knows only the new names.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

import sqlalchemy as sa

from twofa_sim import BackOffice, Clock, EventKind, Policy, SeededSecretSource, State
from twofa_sim.core import old_names
from twofa_sim.io.persistence import SCHEMA_VERSION, SessionFileError, dumps, loads
from twofa_sim.spec.reader import ScenarioError
from twofa_sim.spec.scenario import parse_scenario, run_scenario

from twofa_sim.store import open_store, schema

from conftest import FAST, PASSWORD, START
from helpers import at_code_prompt, enrol, refused_code
from pg_server import database, postgres  # noqa: F401 - fixtures: an SQLite file or a throw-away PostgreSQL database
from test_session_snapshots import busy_session

KNOBS = {f.name for f in dataclasses.fields(Policy)}


def old_of(table: dict[str, str]) -> dict[str, str]:
    return {new: old for old, new in table.items()}


STATES = {old: new for old, new in old_names.ENUM_NAMES.items() if new in State.__members__}
KINDS = {old: new for old, new in old_names.ENUM_NAMES.items() if new in EventKind.__members__}


def as_version_3(document: dict) -> dict:
    """The document as the version 3 writer wrote it: the old names, no checksum."""
    document.pop("sha256")
    document["schema_version"] = 3
    session = document["session"]
    session["policy"] = {old_of(old_names.POLICY_KNOBS).get(k, k): v for k, v in session["policy"].items()}
    for user in session["users"]:
        if user["enrolment"] is not None:
            user["enrolment"] = {old_of(old_names.FACTOR_FIELDS).get(k, k): v for k, v in user["enrolment"].items()}
    for event in session["events"]:
        event["kind"] = old_of(KINDS).get(event["kind"], event["kind"])
        event["state_from"] = old_of(STATES).get(event["state_from"], event["state_from"])
        event["state_to"] = old_of(STATES).get(event["state_to"], event["state_to"])
        event["detail_key"] = old_of(old_names.DETAIL_KEYS).get(event["detail_key"], event["detail_key"])
    return document


def old_words_in(text: str) -> set[str]:
    """The old names (of the tables above) that ``text`` holds as whole words (JSON keys or values)."""
    tables = (old_names.POLICY_KNOBS, old_names.FACTOR_FIELDS, STATES, KINDS, old_names.DETAIL_KEYS)
    return {old for table in tables for old in table if f'"{old}"' in text}


@pytest.mark.parametrize("old, new", sorted(old_names.POLICY_KNOBS.items()))
def test_each_old_knob_name_is_gone_and_its_new_name_is_a_knob(old, new):
    assert (old in KNOBS, new in KNOBS) == (False, True)
    with pytest.raises(Exception, match=old):
        Policy().replace(**{old: 60})           # the API has the new name alone


def test_a_version_3_session_with_the_old_names_loads_as_it_was():
    office, devices, _ = busy_session()   # dave locked out: the lockout's end, its events
    office.set_policy(office.policy.replace(code_prompt_timeout=420, lockout_seconds=600))
    assert office.start_login().submit_password("dave", PASSWORD).state is State.LOCKED_OUT
    new = json.loads(dumps(office, devices))
    old = as_version_3(json.loads(dumps(office, devices)))
    every_old_word = {*old_names.POLICY_KNOBS, *old_names.FACTOR_FIELDS, *STATES, *KINDS, *old_names.DETAIL_KEYS}
    assert old_words_in(json.dumps(old)) == every_old_word, "the file names everything by its old name"
    session = loads(json.dumps(old))
    assert session.schema_version == 3
    assert (session.office.policy.code_prompt_timeout, session.office.policy.lockout_seconds) == (420, 600)
    assert session.snapshot() == loads(json.dumps(new)).snapshot()
    again = dumps(session.office, session.devices).decode()
    assert json.loads(again)["schema_version"] == SCHEMA_VERSION == 4
    assert old_words_in(again) == set(), "saved again with the new names only"


@pytest.mark.parametrize("old, new", sorted(old_names.POLICY_KNOBS.items()))
def test_a_session_naming_a_knob_by_both_names_is_refused(old, new):
    office, devices, _ = busy_session()
    document = as_version_3(json.loads(dumps(office, devices)))
    document["session"]["policy"][new] = document["session"]["policy"][old]
    with pytest.raises(SessionFileError, match=rf"session\.policy.*{new}.*{old}"):
        loads(json.dumps(document))


def test_a_version_4_session_with_an_old_name_is_refused_by_name():
    """Only files written before the rename use the old words; a newer file with one is damaged."""
    office, devices, _ = busy_session()
    document = json.loads(dumps(office, devices))
    document.pop("sha256")
    policy = document["session"]["policy"]
    policy["code_step_timeout"] = policy.pop("code_prompt_timeout")
    with pytest.raises(SessionFileError, match=r"session\.policy\.code_prompt_timeout: is missing"):
        loads(json.dumps(document))


SCENARIO = """\
name: the old knob names
start: 2026-01-05T09:00:00Z
policy: {POLICY}
users:
  alice: {{force_2fa: true}}
steps:
  - login: alice
  - policy: {STEP}
  - wait: 1m
    expect: {{state: ENROLMENT}}
  - wait: 1m
    expect: {{state: EXPIRED}}
"""


@pytest.mark.parametrize("top, step", [
    ("{code_step_timeout: 120}", "{code_step_timeout: 60}"),        # the old name, in both places
    ("{code_prompt_timeout: 120}", "{code_prompt_timeout: 60}"),    # the new name
    ("{code_step_timeout: 120}", "{code_prompt_timeout: 60}"),      # one of each
])
def test_a_scenario_reads_a_knob_by_its_old_or_its_new_name(top, step):
    scenario = parse_scenario(SCENARIO.format(POLICY=top, STEP=step))
    assert scenario.policy.code_prompt_timeout == 120
    result = run_scenario(scenario)
    assert result.passed, result.timeline()


@pytest.mark.parametrize("top", [
    "{code_step_timeout: 120, code_prompt_timeout: 120}",
    "{code_prompt_timeout: 120, code_step_timeout: 120}",
])
def test_a_scenario_naming_a_knob_by_both_names_is_refused_at_its_line(top):
    with pytest.raises(ScenarioError, match=r":3: .*'code_prompt_timeout' and its old name 'code_step_timeout'"):
        parse_scenario(SCENARIO.format(POLICY=top, STEP="{window: 1}"))


@pytest.mark.parametrize("both", [
    "{state: LOCKED, outcome: LOCKS, locked: true, locked_for: 15m, locked_out: true}",
    "{locked_out_until: 2026-01-05T09:16:00Z, locked_until: 2026-01-05T09:16:00Z}",
])
def test_a_scenario_expecting_one_thing_by_both_names_is_refused(both):
    text = LOCKOUT.replace("{state: LOCKED, outcome: LOCKS, locked: true, locked_for: 15m}", both)
    with pytest.raises(ScenarioError, match=r"and its old name"):
        parse_scenario(text)


LOCKOUT = """\
name: the old words of the lockout
start: 2026-01-05T09:00:00Z
policy: {lock_seconds: 900}
users:
  alice: {force_2fa: true}
devices:
  alice-phone: {owner: alice, app: 2fas}
steps:
  - login: alice
  - scan: alice-phone
  - type: {code: "000000"}
  - type: {code: "000000"}
  - type: {code: "000000"}
  - type: {code: "000000"}
  - type: {code: "000000"}
    expect: {state: LOCKED, outcome: LOCKS, locked: true, locked_for: 15m}
  - start_over: alice
  - login: alice
    expect: {state: locked, outcome: IS_LOCKED, reason: LOCKED, locked_until: 2026-01-05T09:15:00Z}
  - wait: 15m
    expect: {locked: false}
"""


def test_a_scenario_in_the_old_words_of_the_lockout_runs_as_in_the_new():
    old = parse_scenario(LOCKOUT)
    new_text = LOCKOUT
    for before, after in [("lock_seconds", "lockout_seconds"), ("locked_for", "locked_out_for"),
                          ("locked_until", "locked_out_until"), ("locked", "locked_out"),
                          ("IS_LOCKED", "IS_LOCKED_OUT"), ("LOCKS", "LOCKS_OUT"), ("LOCKED", "LOCKED_OUT")]:
        new_text = re.sub(rf"\b{before}\b(?=[:,}}])", after, new_text)
    assert "lock_seconds" not in new_text and "locked:" not in new_text
    new = parse_scenario(new_text)
    old_run, new_run = run_scenario(old), run_scenario(new)
    assert old_run.passed and new_run.passed, old_run.timeline() + new_run.timeline()
    assert old_run.timeline().replace(old.name, "") == new_run.timeline().replace(new.name, "")


# -- the SQL store: a version 2 database -------------------------------------------------------------

def locked_out_office(store=None) -> BackOffice:
    """dave locked out by wrong codes, then refused at the password: his factor holds the lockout's
    end, and the events the states and detail of it."""
    office = BackOffice(policy=FAST, clock=Clock.at(START), secret_source=SeededSecretSource(2026), store=store)
    office.create_company("ACME")
    office.create_user("dave", PASSWORD, force_2fa=True)
    secret = enrol(office, "dave")
    for _ in range(office.policy.failed_code_limit):
        at_code_prompt(office, "dave").submit_code(refused_code(office, secret))
    assert office.start_login().submit_password("dave", PASSWORD).state is State.LOCKED_OUT
    return office


def sql_engine(url: str) -> sa.engine.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def as_sql_version_2(url: str) -> None:
    """Turn a database of today into one version 2 wrote: the old names in the factor column and the events."""
    engine = sql_engine(url)
    with engine.begin() as db:
        for key, text in db.execute(sa.text("SELECT key, factor FROM users")).all():
            factor = {old_of(old_names.FACTOR_FIELDS).get(k, k): v for k, v in json.loads(text).items()}
            db.execute(sa.text("UPDATE users SET factor = :factor WHERE key = :key"),
                       {"factor": json.dumps(factor, sort_keys=True), "key": key})
        for column, table in (("state_from", STATES), ("state_to", STATES), ("detail_key", old_names.DETAIL_KEYS)):
            for old, new in table.items():
                db.execute(sa.text(f"UPDATE events SET {column} = :old WHERE {column} = :new"), {"old": old, "new": new})
        db.execute(sa.text("UPDATE schema_version SET version = 2"))
    engine.dispose()


def stored_text(url: str) -> tuple[list[int], str]:
    """The schema version, and every factor column and event row as text."""
    engine = sql_engine(url)
    with engine.connect() as db:
        versions = db.execute(sa.text("SELECT version FROM schema_version")).scalars().all()
        rows = [*db.execute(sa.text("SELECT factor FROM users")).scalars().all(),
                *(json.dumps([*row]) for row in db.execute(sa.text(
                    "SELECT state_from, state_to, detail_key FROM events")).all())]
    engine.dispose()
    return versions, "\n".join(rows)


def test_a_version_2_database_gets_the_new_names_when_opened_and_reads_the_same(database):
    store = open_store(database, create=True)
    office = locked_out_office(store)
    dave, events = office.user("dave").snapshot(), list(office.events)
    store.close()
    as_sql_version_2(database)
    versions, text = stored_text(database)
    assert versions == [2] and old_words_in(text) == set(old_names.FACTOR_FIELDS) | set(STATES) | set(old_names.DETAIL_KEYS)
    store = open_store(database)
    with store.transaction(write=False):
        assert store.user("dave").snapshot() == dave
        assert list(store.events) == events
    store.close()
    versions, text = stored_text(database)
    assert versions == [schema.SCHEMA_VERSION] == [3] and old_words_in(text) == set()
