"""Each class says what it is as plain data (``snapshot()``) and is built again from it
(``restore()``): saving only reads, so it changes nothing, and a loaded session is the saved one.

Also kept now: HOTP entries with their counter, MD5 entries, FreeOTP's "Token is unsafe!" question
waiting for its answer, and an app's password lock (the hash, never the password).
"""

from __future__ import annotations

import json
import pathlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twofa_sim import BackOffice, State, TwofaSimError
from twofa_sim.apps.authenticator import AuthenticatorApp, Question
from twofa_sim.apps.device import Device
from twofa_sim.apps.entry import PendingQuestion
from twofa_sim.apps.otpauth import build_key_uri
from twofa_sim.core.clock import Clock
from twofa_sim.core.events import EventLog
from twofa_sim.core.messages import AS_WRITTEN, render
from twofa_sim.core.secret_source import SeededSecretSource, SystemSecretSource, restore_secret_source
from twofa_sim.io.persistence import SCHEMA_VERSION, Session, SessionFileError, dumps, load, loads, save

from conftest import PASSWORD, examples, make_office
from helpers import at_code_prompt, current_code
from test_persistence import prepared_office, state_of, state_of_device

DATA = pathlib.Path(__file__).resolve().parent / "data"
APP_PASSWORD = "add-on lock 7"
OTHER = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def busy_session() -> tuple[BackOffice, list[Device], object]:
    """Locked dave, alice with recovery codes, carol's enrolment pending (``prepared_office``), and
    now alice half way through a login, her Aegis waiting for an answer about a duplicate and
    holding an HOTP and an MD5 entry, bob's FreeOTP asking about an unsafe token, and carol's
    add-on protected by a password and locked."""
    office = prepared_office()
    open_login = at_code_prompt(office, "alice")
    aegis = Device.for_user(office, "alice", app="aegis", offset=-3)
    alice = build_key_uri(office.user("alice").enrolment.secret, "alice", "plenigo")
    aegis.app.scan_uri(alice, aegis.now())
    assert aegis.app.scan_uri(alice, aegis.now()).question is Question.DUPLICATE
    aegis.app.scan_uri(f"otpauth://hotp/Lab:hugo?secret={OTHER}&issuer=Lab&counter=5", aegis.now())
    aegis.app.next_counter_code(aegis.app.find("hugo"))
    aegis.app.scan_uri(build_key_uri(OTHER, "md", "Lab", algorithm="MD5", digits=5, period=90), aegis.now())
    freeotp = Device.for_user(office, "bob", app="freeotp", offset=4)
    assert freeotp.app.scan_uri(build_key_uri(OTHER, "eve", "Lab", algorithm="MD5"),
                                freeotp.now()).question is Question.UNSAFE
    addon = Device.for_user(office, "carol", app="authenticator-addon", offset=75)
    addon.app.scan_uri(build_key_uri(OTHER, "carol", "Lab", period=60), addon.now())
    addon.correct_clock()
    addon.set_app_password(APP_PASSWORD)
    addon.lock_app()
    return office, [aegis, freeotp, addon], open_login


def shown(app: AuthenticatorApp, local: float) -> list[str]:
    """The code of each entry, or the error where there is none (MD5's truncation past its end)."""
    out = []
    for entry in app.entries:
        try:
            out.append(app.code(entry, local))
        except TwofaSimError as error:
            out.append(type(error).__name__)
    return out


def whole_state(office: BackOffice, devices: list[Device]) -> tuple:
    """Read from the objects themselves (test_persistence's pictures) and through the snapshots."""
    return state_of(office), [state_of_device(d) for d in devices], Session(office, tuple(devices)).snapshot()


def story(office: BackOffice, devices: list[Device]) -> list:
    """What a trainer does next with the session: every answer the simulation gives."""
    aegis, freeotp, addon = devices
    out = [office.start_login().id, office.user_views()]
    answer = aegis.app.confirm(aegis.app.pending[0], "keep both")
    out.append((answer.outcome, answer.entry))
    out.append(freeotp.app.confirm(freeotp.app.pending[0], "add anyway").entry)
    out.append([aegis.app.next_counter_code(aegis.app.find("hugo")) for _ in range(3)])
    out.append(shown(aegis.app, aegis.now() + 1000))
    for password in ("wrong password 1", APP_PASSWORD):
        try:
            addon.unlock_app(password)
            out.append("unlocked")
        except TwofaSimError as error:
            out.append(type(error).__name__)
    out.append(addon.app.scan_uri(build_key_uri(OTHER, "second", "Lab"), addon.now()).entry)
    office.clock.advance(office.policy.lockout_seconds)
    out.append(at_code_prompt(office, "dave").submit_code("123456").outcome)
    out.append([(e.kind, e.user, e.detail) for e in office.events][-5:])
    return out


# -- saving changes nothing --------------------------------------------------------------------------

def test_saving_a_busy_session_twice_changes_nothing(tmp_path):
    office, devices, open_login = busy_session()
    before = whole_state(office, devices)
    first = save(tmp_path / "first.json", office, devices).read_bytes()
    second = save(tmp_path / "second.json", office, devices).read_bytes()
    assert first == second, "the same session gives the same file"
    assert whole_state(office, devices) == before, "state, counters, questions and locks as they were"
    assert open_login.state is State.CODE_REQUIRED
    assert open_login.submit_code(current_code(office, office.user("alice").enrolment.secret)).state \
        is State.AUTHENTICATED, "a login open while saving goes on"


def test_a_saved_session_goes_on_exactly_like_one_never_saved(tmp_path):
    """Two identical sessions (seeded, pinned clock), one saved twice: the same answers after."""
    saved, saved_devices, _ = busy_session()
    twin, twin_devices, _ = busy_session()
    save(tmp_path / "a.json", saved, saved_devices)
    save(tmp_path / "b.json", saved, saved_devices)
    assert story(saved, saved_devices) == story(twin, twin_devices)


# -- load(save(x)) == x -------------------------------------------------------------------------------

def test_a_busy_session_loads_as_it_was_saved(tmp_path):
    office, devices, _ = busy_session()
    path = save(tmp_path / "s.json", office, devices)
    session = load(path)
    assert session.schema_version == SCHEMA_VERSION == 4
    assert session.snapshot() == Session(office, tuple(devices)).snapshot()
    assert [state_of_device(d) for d in session.devices] == [state_of_device(d) for d in devices]
    assert story(session.office, list(session.devices)) == story(office, devices)


@pytest.mark.parametrize("app, uri, kept", [
    ("aegis", f"otpauth://hotp/Lab:h?secret={OTHER}&issuer=Lab&counter=41", {"type": "hotp", "counter": 41}),
    ("aegis", build_key_uri(OTHER, "m", "Lab", algorithm="MD5", digits=5, period=90),
     {"algorithm": "MD5", "digits": 5, "period": 90}),
    ("aegis", build_key_uri(OTHER, "long", "Lab", period=86400), {"period": 86400}),
    ("2fas", build_key_uri(OTHER, "s", "Lab", algorithm="SHA384", digits=5, period=10),
     {"algorithm": "SHA384", "digits": 5, "period": 10}),
])
def test_entries_beyond_what_pyotp_computes_are_kept(tmp_path, app, uri, kept):
    office = make_office()
    device = Device("phone", "alice", office.clock, app=app, events=office.events)
    device.app.scan_uri(uri, device.now())
    restored = load(save(tmp_path / "s.json", office, [device])).devices[0]
    entry = restored.app.entries[0]
    assert {k: getattr(entry, k) for k in kept} == kept
    assert restored.app.entries == device.app.entries
    for at in (device.now() + 3600 * k for k in range(1, 6)):
        assert shown(restored.app, at) == shown(device.app, at)


def test_the_unsafe_question_is_answered_after_loading(tmp_path):
    office = make_office()
    device = Device("phone", "bob", office.clock, app="freeotp", events=office.events)
    asked = device.app.scan_uri(build_key_uri(OTHER, "eve", "Lab", digits=10), device.now())
    restored = load(save(tmp_path / "s.json", office, [device])).devices[0]
    assert restored.app.pending == [asked.pending]
    assert restored.app.snapshot()["waiting_for_choice"][0]["question"] == "unsafe"
    with pytest.raises(TwofaSimError, match="add anyway or cancel"):
        restored.app.confirm(asked.pending, "replace")
    added = restored.app.confirm(asked.pending, "add anyway")
    assert added.entry.digits == 10 and added.entry.warnings == asked.warnings


def test_the_app_lock_is_kept_as_a_hash_never_the_password(tmp_path):
    office = make_office()
    device = Device("browser", "carol", office.clock, app="authenticator-addon", events=office.events)
    device.set_app_password(APP_PASSWORD)
    device.lock_app()
    path = save(tmp_path / "s.json", office, [device])
    text = path.read_text()
    assert APP_PASSWORD not in text and APP_PASSWORD.encode().hex() not in text
    saved = json.loads(text)["session"]["devices"][0]
    assert saved["locked"] is True and saved["password_hash"]["scheme"] == "scrypt"
    app = load(path).devices[0].app
    assert app.locked and app.password_protected
    with pytest.raises(TwofaSimError, match="locked"):
        app.scan_uri(build_key_uri(OTHER, "x", "Lab"), 0.0)
    with pytest.raises(TwofaSimError, match="wrong password"):
        app.unlock("not the password")
    app.unlock(APP_PASSWORD)
    assert not app.locked


# -- each class: plain data, and back --------------------------------------------------------------------

def pieces(office: BackOffice, devices: list[Device]) -> list[tuple[object, dict | list]]:
    aegis = devices[0]
    user = office.user("alice")
    question = aegis.app.snapshot()["waiting_for_choice"][0]
    return [(office.policy, office.policy.snapshot()), (office.clock, office.clock.snapshot()),
            (office.companies[0], office.companies[0].snapshot()), (user, user.snapshot()),
            (user.password_hash, user.password_hash.snapshot()), (user.enrolment, user.enrolment.snapshot()),
            (user.enrolment.recovery, user.enrolment.recovery.snapshot()), (office.events, office.events.snapshot()),
            (office.events[3], office.events[3].snapshot()), (aegis.app.entries[0], aegis.app.entries[0].snapshot()),
            (PendingQuestion, {k: v for k, v in question.items() if k != "token"}),
            (aegis.app, aegis.app.snapshot()), (office, office.snapshot())]


def test_every_snapshot_is_plain_json_and_restores_to_the_same_snapshot():
    office, devices, _ = busy_session()
    for thing, data in pieces(office, devices):
        kind = thing if isinstance(thing, type) else type(thing)
        assert json.loads(json.dumps(data, allow_nan=False)) == data, kind.__name__
        restored = kind.restore(json.loads(json.dumps(data)))
        assert restored.snapshot() == data, kind.__name__
    device = devices[2]
    again = Device.restore(json.loads(json.dumps(device.snapshot())), office.clock, office.events)
    assert again.snapshot() == device.snapshot() and again.events is office.events


@pytest.mark.parametrize("source", [SystemSecretSource(), SeededSecretSource(7), SeededSecretSource("class 7")])
def test_secret_sources_restore_where_they_stood(source):
    source.token_bytes(5)
    data = json.loads(json.dumps(source.snapshot()))
    again = type(source).restore(data)
    assert type(again) is type(source) and again.snapshot() == source.snapshot()
    assert type(restore_secret_source(data)) is type(source)
    if isinstance(source, SeededSecretSource):
        assert again.token_bytes(16) == source.token_bytes(16)


@pytest.mark.parametrize("clock", [Clock.at("2026-01-05T09:00:10Z"), Clock()])
def test_a_clock_restores_pinned_or_following(clock):
    clock.advance(-3600)
    again = Clock.restore(clock.snapshot())
    assert again.is_pinned == clock.is_pinned and again.snapshot() == clock.snapshot()


def test_restoring_a_log_numbers_its_events_again():
    log = EventLog.restore(make_office().events.snapshot())
    assert [e.seq for e in log] == list(range(1, len(log) + 1)) and len(log) == 1


# -- files written before this version ------------------------------------------------------------------

def test_a_version_1_file_loads_and_works():
    """Written by the version 1 writer: no entry types, no question kinds, no app lock."""
    raw = (DATA / "session_v1.json").read_bytes()
    assert json.loads(raw)["schema_version"] == 1 and b'"counter"' not in raw
    session = load(DATA / "session_v1.json")
    assert session.schema_version == 1
    aegis, addon = session.devices
    assert [e.type for d in session.devices for e in d.app.entries] == ["totp", "totp"]
    assert aegis.app.snapshot()["waiting_for_choice"][0]["question"] == "duplicate"
    assert not addon.app.password_protected and not addon.app.locked
    office = session.office
    secret = office.user("alice").enrolment.secret
    assert aegis.app.code(aegis.app.find("alice"), office.clock.now()) == current_code(office, secret)
    assert loads(dumps(office, session.devices)).snapshot() == session.snapshot(), "saved again as the newest version"
    assert json.loads(dumps(office, session.devices))["schema_version"] == SCHEMA_VERSION


def as_version_2(document: dict) -> dict:
    """The document as the version 2 writer wrote it: each event's detail as English text."""
    document.pop("sha256")
    document["schema_version"] = 2
    for event in document["session"]["events"]:
        key, values = event.pop("detail_key"), event.pop("detail_fields")
        event["detail"] = render(key, **values) if key else ""
    return document


def test_a_version_2_file_keeps_each_detail_as_written():
    office, devices, _ = busy_session()
    written = [e.detail for e in office.events]
    old = loads(json.dumps(as_version_2(json.loads(dumps(office, devices)))))
    assert old.schema_version == 2
    assert [e.detail for e in old.office.events] == [e.detail_in("de") for e in old.office.events] == written
    assert {e.detail_key for e in old.office.events} <= {"", AS_WRITTEN}
    again = loads(dumps(old.office, old.devices))
    assert again.schema_version == SCHEMA_VERSION and [e.detail for e in again.office.events] == written


def test_a_saved_event_keeps_its_detail_id_and_fields():
    office, devices, _ = busy_session()
    again = loads(dumps(office, devices)).office.events
    assert [(e.detail_key, e.detail_fields) for e in again] == [(e.detail_key, e.detail_fields) for e in office.events]
    assert [e.detail_in("de") for e in again] == [e.detail_in("de") for e in office.events]
    assert any(e.detail_in("de") != e.detail for e in again), "some detail has German words"


@pytest.mark.parametrize("key, values, where", [
    ("no_such_message", {}, "detail_key"),
    ("matched_step", {}, "detail_fields"),
    ("matched_step", {"offset": "-1"}, "detail_fields"),
    ("matched_step", {"offset": [1]}, "detail_fields.offset"),
    ("", {"offset": 1}, "detail_fields"),
])
def test_an_event_detail_that_the_catalogue_cannot_word_is_refused(key, values, where):
    document = json.loads(dumps(*busy_session()[:2]))
    document.pop("sha256")
    document["session"]["events"][0].update(detail_key=key, detail_fields=values)
    with pytest.raises(SessionFileError, match=rf"session\.events\[0\]\.{where}"):
        loads(json.dumps(document))


def test_a_version_1_file_may_not_hold_what_only_version_2_can_mean():
    document = json.loads((DATA / "session_v1.json").read_bytes())
    document.pop("sha256")
    document["session"]["devices"][0]["entries"][0]["type"] = "hotp"
    with pytest.raises(SessionFileError, match=r"entries\[0\]\.counter"):
        loads(json.dumps(document))


# -- the property: load(save(x)) == x, whatever a session went through ------------------------------------

ACTIONS = st.lists(st.sampled_from(["user", "login", "wrong", "advance", "codes", "reset", "scan", "hotp",
                                    "next", "unsafe", "answer", "lock", "half"]), max_size=14)


def play(actions: list[str]) -> tuple[BackOffice, list[Device]]:
    office = make_office()
    phone = Device("phone", "owner", office.clock, app="aegis", events=office.events, company="ACME")
    tab = Device("tab", "owner", office.clock, app="freeotp")
    browser = Device("browser", "owner", office.clock, app="authenticator-addon", events=office.events)
    names = []
    for number, action in enumerate(actions):
        try:
            if action == "user":
                names.append(office.create_user(f"user{number}", PASSWORD, force_2fa=True).username)
            elif action in ("login", "wrong", "half") and names:
                login = office.start_login()
                shown = login.submit_password(names[-1], PASSWORD)
                secret = shown.screen.secret if shown.screen is not None else office.user(names[-1]).enrolment.secret
                if shown.screen is not None:
                    phone.app.scan_uri(build_key_uri(secret, names[-1], "plenigo"), phone.now())
                if action != "half" and secret is not None:
                    login.submit_code("000000" if action == "wrong" else current_code(office, secret))
            elif action == "advance":
                office.clock.advance(17 + number)
            elif action == "codes" and names:
                office.issue_recovery_codes(names[-1])
            elif action == "reset" and names:
                office.reset_2fa(names[0])
            elif action == "scan":
                phone.app.scan_uri(build_key_uri(OTHER, "dup", "Lab"), phone.now())
            elif action == "hotp":
                phone.app.scan_uri(f"otpauth://hotp/Lab:h{number}?secret={OTHER}&counter={number}", phone.now())
            elif action == "next":
                phone.app.next_counter_code(next(e for e in phone.app.entries if e.counter_based))
            elif action == "unsafe":
                tab.app.scan_uri(build_key_uri(OTHER, f"t{number}", "Lab", digits=10), tab.now())
            elif action == "answer" and phone.app.pending:
                phone.app.confirm(phone.app.pending[0], "keep both")
            elif action == "lock":
                if not browser.app.password_protected:
                    browser.set_app_password(APP_PASSWORD)
                browser.lock_app()
        except (TwofaSimError, StopIteration):
            pass                                  # refused as the domain refuses it: the state stands
    return office, [phone, tab, browser]


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ACTIONS)
def test_load_of_save_is_the_session_and_saving_changes_nothing(actions):
    office, devices = play(actions)
    before = whole_state(office, devices)
    data = dumps(office, devices)
    assert dumps(office, devices) == data and whole_state(office, devices) == before
    restored = loads(data)
    assert whole_state(restored.office, list(restored.devices)) == before
    assert dumps(restored.office, restored.devices) == data


def test_a_2fas_phone_that_set_its_own_clock_loads(tmp_path):
    """2FAS corrects its clock by NTP to the millisecond: a fractional correction. Version 1's
    reader took only whole seconds, so such a phone was saved and then refused."""
    office = make_office()
    phone = Device.for_user(office, office.create_user("alice", PASSWORD).username, app="2fas", offset=-12.5)
    assert phone.app.correction == 12.5
    restored = load(save(tmp_path / "s.json", office, [phone])).devices[0]
    assert restored.app.correction == 12.5 and restored.snapshot() == phone.snapshot()
