"""The app's entries: what a scan adds, what a second scan does per profile, removal, the text
backup, and codes with the seconds left, followed over time (also under freezegun)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from freezegun import freeze_time

from twofa_sim import Clock, ClockError, NotFoundError, UriError, ValidationError
from twofa_sim.apps.profiles import PROFILES
from twofa_sim.apps.authenticator import AuthenticatorApp, Choice, Entry, ImportOutcome
from twofa_sim.apps.device import Device
from twofa_sim.apps.otpauth import build_key_uri

from helpers import independent_totp
from twofa_sim.render.tables import app_table, device_table, events_table

S = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
S2 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
T0 = 1_767_603_610.0          # 2026-01-05 09:00:10 UTC, 10 s into a 30 s step
URI = build_key_uri(S, "alice", "plenigo")


def app_with(key: str = "reference", *uris: str) -> AuthenticatorApp:
    app = AuthenticatorApp(key)
    for uri in uris:
        app.scan_uri(uri, T0)
    return app


# -- entries ------------------------------------------------------------------------------------------

def test_an_entry_shows_issuer_account_code_and_seconds_left():
    app = app_with("reference", build_key_uri(S, "alice", "plenigo", algorithm="SHA256", digits=8, period=60))
    entry = app.find("alice")
    assert (entry.issuer, entry.account, entry.algorithm, entry.digits, entry.period) == ("plenigo", "alice",
                                                                                           "SHA256", 8, 60)
    reading = app.reading(entry, T0 + 0.25)
    assert reading.code == independent_totp(S, T0, "SHA256", 8, 60)
    assert reading.seconds_left == pytest.approx(60 - (T0 + 0.25) % 60)
    assert reading.step == int(T0 // 60) and reading.next_change == (int(T0 // 60) + 1) * 60
    assert 0 < reading.fraction_left < 1
    frame = app_table(app, T0)
    assert frame.loc[entry.id, "code"] == reading.code and frame.loc[entry.id, "seconds left"] == 50.0


def test_entries_never_show_their_secret():
    app = app_with("authenticator-addon", URI)
    entry = app.entries[0]
    texts = [repr(entry), str(entry), repr(app), app_table(app, T0).to_csv(), app_table(app, T0).to_html(),
             app.scan_uri(URI, T0).describe()]
    for text in texts:
        assert S not in text and S.lower() not in text
    assert repr(entry) == "Entry(#1 'plenigo: alice', SHA1, 6 digits, 30 s)"


# (app, outcome of the second scan, entries afterwards)
SECOND_SCAN = [
    ("reference", ImportOutcome.NEEDS_CONFIRMATION, 1),
    ("authenticator-addon", ImportOutcome.ADDED, 2),
    ("aegis", ImportOutcome.NEEDS_CONFIRMATION, 1),
    ("freeotp", ImportOutcome.ADDED, 2),
    ("2fas", ImportOutcome.NEEDS_CONFIRMATION, 1),
    ("google-authenticator", ImportOutcome.UNCHANGED, 1),
]


@pytest.mark.parametrize("key, outcome, count", SECOND_SCAN)
def test_a_second_scan_of_the_same_qr(key, outcome, count):
    app = app_with(key, URI)
    first = app.entries[0]
    result = app.scan_uri(URI, T0 + 5)
    assert result.outcome is outcome and len(app.entries) == count
    assert result.existing == first
    if outcome is ImportOutcome.NEEDS_CONFIRMATION:
        assert result.needs_confirmation and result.entry is None and app.pending == [result.pending]
        assert app.entries == [first]
    if outcome is ImportOutcome.REPLACED:
        assert app.entries == [result.entry] and result.entry.id != first.id


@pytest.mark.parametrize("choice, outcome, ids", [
    (Choice.REPLACE, ImportOutcome.REPLACED, "new"),
    (Choice.KEEP_BOTH, ImportOutcome.KEPT_BOTH, "both"),
    ("keep both", ImportOutcome.KEPT_BOTH, "both"),
])
def test_answering_the_apps_question(choice, outcome, ids):
    app = app_with("aegis", URI)
    first = app.entries[0]
    asked = app.scan_uri(URI, T0 + 5)
    answered = app.confirm(asked, choice)
    assert answered.outcome is outcome and app.pending == []
    expected = {"new": [answered.entry], "both": [first, answered.entry], "old": [first]}[ids]
    assert app.entries == expected
    with pytest.raises(NotFoundError, match="no question waiting"):
        app.confirm(asked, Choice.REPLACE)


def test_a_bad_answer_is_a_clear_error_and_keeps_the_question():
    app = app_with("reference", URI)
    asked = app.scan_uri(URI, T0)
    with pytest.raises(ValidationError, match="choice: must be one of replace, keep both, cancel"):
        app.confirm(asked, "maybe")
    with pytest.raises(ValidationError, match="choice: must be a Choice"):
        app.confirm(asked.pending, 1)
    assert app.pending == [asked.pending]


@pytest.mark.parametrize("key, second, count", [
    ("2fas", build_key_uri(S, "alice-renamed", "plenigo"), 1),             # same secret: replaced
    ("2fas", build_key_uri(S2, "alice", "plenigo"), 2),                    # same label, new secret: added
    ("google-authenticator", build_key_uri(S2, "alice", "plenigo"), 1),    # same name: replaced
    ("google-authenticator", build_key_uri(S, "alice", "other"), 2),       # another issuer: another name
    ("reference", build_key_uri(S2, "alice", "plenigo"), 1),               # same label: asks
    ("reference", build_key_uri(S, "bob", "plenigo"), 2),
])
def test_what_counts_as_the_same_entry(key, second, count):
    app = app_with(key, URI)
    app.scan_uri(second, T0)
    assert len(app.entries) == count


def test_remove_an_entry():
    app = app_with("authenticator-addon", URI, build_key_uri(S2, "bob", "plenigo"))
    alice = app.find("alice")
    assert app.remove(alice) == alice
    assert [e.account for e in app.entries] == ["bob"]
    with pytest.raises(NotFoundError, match="no entry #1"):
        app.remove(alice)
    with pytest.raises(NotFoundError, match="no entry account='alice'"):
        app.find("alice")
    with pytest.raises(NotFoundError, match="no entry #1"):
        app.code(alice, T0)


def test_find_takes_the_newest_match():
    app = app_with("authenticator-addon", URI, URI)
    assert app.find("alice") is app.entries[-1]
    assert app.find(issuer="plenigo") is app.entries[-1]
    with pytest.raises(NotFoundError, match="at all"):
        AuthenticatorApp().find()


# -- manual entry -------------------------------------------------------------------------------------

def test_a_key_typed_by_hand_in_groups_of_four():
    app = AuthenticatorApp("authenticator-addon")
    grouped = " ".join(S[i:i + 4] for i in range(0, len(S), 4)).lower()
    result = app.enter_key("alice", grouped, T0, issuer="plenigo", algorithm="SHA256", period=60)
    assert result.added and result.entry.origin == "manual" and result.entry.secret == S
    assert (result.entry.algorithm, result.entry.period) == ("SHA256", 60)   # the manual form keeps them
    assert app.code(result.entry, T0) == independent_totp(S, T0, "SHA256", 6, 60)


@pytest.mark.parametrize("kwargs, field, words", [
    ({"account": ""}, "account", "is required"),
    ({"account": "a:b"}, "account", "must not contain ':'"),
    ({"issuer": "x" * 65}, "issuer", "at most 64"),
    ({"secret": "JBSW 1Y3D"}, "secret", "not base32"),
    ({"secret": ""}, "secret", "missing"),
    ({"secret": "JBSWY3"}, "secret", "cannot end with 1, 3 or 6"),
    ({"digits": 7}, "digits", "manual form"),
    ({"period": 0}, "period", "manual form"),
])
def test_manual_entry_refuses_bad_input_and_adds_nothing(kwargs, field, words):
    app = AuthenticatorApp("authenticator-addon")
    args = {"account": "alice", "secret": S} | kwargs
    with pytest.raises(ValidationError) as caught:
        app.enter_key(args.pop("account"), args.pop("secret"), T0, **args)
    assert caught.value.field == field and words in caught.value.problem
    assert app.entries == [] and S not in str(caught.value)


# (app, parameters pyotp cannot compute but the app accepts, secret, algorithm, digits, period)
BEYOND_PYOTP = [
    ("aegis", "&digits=5", S, "SHA1", 5, 30),
    ("aegis", "&digits=1&algorithm=MD5", S, "MD5", 1, 30),
    ("aegis", "&period=150", S, "SHA1", 6, 150),
    ("aegis", "&period=2147483&algorithm=SHA512", S, "SHA512", 6, 2_147_483),
    ("2fas", "&digits=5&algorithm=SHA224&period=10", S, "SHA224", 5, 10),
    ("2fas", "&algorithm=SHA384", S, "SHA384", 6, 30),
]


@pytest.mark.parametrize("key, params, secret, algorithm, digits, period", BEYOND_PYOTP)
def test_codes_pyotp_cannot_compute_follow_rfc_4226(key, params, secret, algorithm, digits, period):
    app = AuthenticatorApp(key)
    app.scan_uri(f"otpauth://totp/A:b?secret={secret}{params}", T0)
    entry = app.entries[0]
    assert (entry.algorithm, entry.digits, entry.period) == (algorithm, digits, period)
    for t in (T0, T0 + period, T0 + 7 * period + 0.5):
        assert app.code(entry, t) == independent_totp(secret, t, algorithm, digits, period)


@pytest.mark.parametrize("key, params, field, words", [
    ("aegis", "&period=2147484", "period", "from 1 to 2147483"),
    ("reference", "", "secret", "has 80 bits: this simulation computes codes for secrets of at least 112 bits"),
    ("freeotp", "", "secret", "has 80 bits"),
])
def test_what_no_code_is_computed_for_is_refused(key, params, field, words):
    secret = S if field != "secret" else "JBSWY3DPEHPK3PXP"
    app = AuthenticatorApp(key)
    with pytest.raises(UriError) as caught:
        app.scan_uri(f"otpauth://totp/A:b?secret={secret}{params}", T0)
    assert caught.value.field == field and words in caught.value.problem
    assert app.entries == []


def test_a_period_no_code_can_be_computed_for_is_refused():
    with pytest.raises(UriError, match="period: must be a whole number of seconds from 1 to 2147483"):
        AuthenticatorApp("aegis").scan_uri(f"otpauth://totp/A:b?secret={S}&period=2147484", T0)


# -- text backup --------------------------------------------------------------------------------------

def test_export_and_import_round_trip_in_the_reference_app():
    app = app_with("reference", URI, build_key_uri(S2, "bob smith@x.com", "ACME Co", algorithm="SHA512", digits=8,
                                                   period=60))
    text = app.export_text()
    assert text.count("otpauth://totp/") == 2 and text.endswith("\n")
    again = AuthenticatorApp("reference")
    report = again.import_text("\n" + text + "\n\n", T0)
    assert report.added == 2 and report.failures == ()
    key = lambda e: (e.issuer, e.account, e.secret, e.algorithm, e.digits, e.period)  # noqa: E731
    assert [key(e) for e in again.entries] == [key(e) for e in app.entries]
    assert all(e.origin == "import" for e in again.entries)


def test_the_addons_backup_loses_the_algorithm_on_import():
    """Issue #1442: a SHA256 entry typed by hand works, but its exported line re-imports as SHA1."""
    addon = AuthenticatorApp("authenticator-addon")
    addon.enter_key("alice", S, T0, issuer="plenigo", algorithm="SHA256", period=60)
    line = addon.export_text()
    assert "algorithm=SHA256" in line and "period=60" in line
    report = AuthenticatorApp("authenticator-addon").import_text(line, T0)
    (result,) = report.results
    assert (result.entry.algorithm, result.entry.period) == ("SHA1", 30)
    assert {a.field for a in result.adjustments} == {"algorithm", "period"}


def test_bad_backup_lines_are_reported_by_number_and_the_rest_imported():
    text = "\n".join([URI, "otpauth://totp/x?secret=JBSW1", "not a uri", build_key_uri(S2, "bob", "plenigo")])
    report = AuthenticatorApp("authenticator-addon").import_text(text, T0)
    assert report.added == 2
    assert [n for n, _ in report.failures] == [2, 3]
    assert report.failures[0][1].startswith("secret: ") and report.failures[1][1].startswith("scheme: ")
    with pytest.raises(ValidationError, match="text: must be text"):
        AuthenticatorApp().import_text(None, T0)


# -- rotation -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, period, after, change", [
    ("reference", 30, T0, 1_767_603_630.0),
    ("reference", 30, 1_767_603_629.999, 1_767_603_630.0),
    ("reference", 30, 1_767_603_630.0, 1_767_603_660.0),
    ("authenticator-addon", 30, T0, 1_767_603_629.5),          # 0.5 s early: it rounds to the nearest second
    ("authenticator-addon", 30, 1_767_603_629.5, 1_767_603_659.5),
    ("reference", 60, T0, 1_767_603_660.0),
])
def test_the_next_change(key, period, after, change):
    app = AuthenticatorApp(key)
    entry = app.enter_key("alice", S, T0, period=period).entry if key == "reference" else \
        app.scan_uri(URI, T0).entry
    assert app.next_change(entry, after) == change
    before, at = app.reading(entry, change - 0.001), app.reading(entry, change)
    assert at.step == before.step + 1 and at.seconds_left == pytest.approx(entry.period)


def test_a_clock_correction_moves_the_changes():
    app = app_with("authenticator-addon", URI)
    entry = app.entries[0]
    assert app.correct_clock(T0, T0 + 7).applied
    assert app.next_change(entry, T0) == 1_767_603_629.5 - 7
    assert app.reading(entry, T0).code == independent_totp(S, T0 + 7)


@pytest.mark.parametrize("key, rounding_shift", [("reference", 0.0), ("authenticator-addon", 0.5)])
def test_following_the_code_over_time(key, rounding_shift):
    app = app_with(key, URI)
    entry = app.entries[0]
    readings = list(app.changes(entry, T0, T0 + 95))
    assert readings[0].at == T0
    assert [r.at for r in readings[1:]] == [1_767_603_630.0 + 30 * k - rounding_shift for k in range(3)]
    assert [r.step for r in readings] == list(range(readings[0].step, readings[0].step + 4))
    for r in readings:
        assert r.code == independent_totp(S, math.floor(r.at + rounding_shift))
    endless = app.changes(entry, T0)
    assert [next(endless).step for _ in range(100)][-1] == readings[0].step + 99


def test_a_devices_reading_follows_codes_under_freezegun():
    with freeze_time("2026-01-05 09:00:10") as frozen:
        device = Device("alice's phone", "alice", Clock(), app="reference")
        device.app.scan_uri(URI, device.now())
        first = device.reading()
        assert first.code == independent_totp(S, device.now()) and first.seconds_left == pytest.approx(20)
        frozen.tick(dt.timedelta(seconds=19))
        assert device.reading().step == first.step
        frozen.tick(dt.timedelta(seconds=1))
        changed = device.reading()
        assert changed.step == first.step + 1 and changed.seconds_left == pytest.approx(30)
        assert changed.code == independent_totp(S, device.now())


def test_a_devices_reading_under_freezegun_sees_the_addons_early_turnover():
    with freeze_time("2026-01-05 09:00:29.4") as frozen:
        device = Device("alice's browser", "alice", Clock(), app="authenticator-addon")
        device.app.scan_uri(URI, device.now())
        start = device.reading()
        frozen.tick(dt.timedelta(seconds=0.1))   # 09:00:29.5: the add-on already shows the next code
        assert device.reading().step == start.step + 1


@pytest.mark.parametrize("local, words", [
    (-1.0, "outside 1970 to 9999"), (253_402_300_800.0, "outside 1970 to 9999"), (float("nan"), "finite"),
    ("now", "finite"), (None, "finite"),
])
def test_an_app_clock_outside_what_can_be_computed_is_a_clear_error(local, words):
    app = app_with("reference", URI)
    with pytest.raises(ClockError, match=f"time: .*{words}"):
        app.reading(app.entries[0], local)


def test_entries_compute_through_the_backends_code_path():
    entry = Entry(1, "plenigo", "alice", S, "SHA512", 8, 60)
    assert entry.code_at(int(T0)) == independent_totp(S, T0, "SHA512", 8, 60)
    assert entry.to_uri() == build_key_uri(S, "alice", "plenigo", algorithm="SHA512", digits=8, period=60,
                                           explicit=True)


@pytest.mark.parametrize("key", list(PROFILES))
def test_every_app_reads_the_backends_default_qr(key):
    app = app_with(key, URI)
    assert app.reading(app.entries[0], T0).code == independent_totp(S, T0)


def test_nothing_secret_leaks_from_a_device_story():
    from twofa_sim import EventLog, TwofaSimError
    from twofa_sim.apps.qr import qr_image
    from twofa_sim.login.screen import EnrolmentScreen
    from twofa_sim.core.policy import Policy

    events = EventLog()
    device = Device("alice's phone", "alice", Clock.at(T0), app="aegis", events=events)
    screen = EnrolmentScreen.for_user(S, "alice", Policy(algorithm="SHA256"))
    results = [device.scan(screen.page_image()), device.scan(screen.page_image())]
    results.append(device.confirm(results[-1], "keep both"))
    results.append(device.enter_key("bob", S2, issuer="plenigo"))
    report = device.import_text(f"otpauth://totp/x:y?secret={S}1\n{device.export_text()}")
    device.correct_clock()
    device.remove(device.entry("bob"))
    errors = []
    for bad in (lambda: device.enter_key("carol", S + "1"), lambda: device.enter_key("carol", S[:3]),
                lambda: device.scan(qr_image(f"otpauth://totp/x:y?secret={S}&digits={S}")),
                lambda: device.scan(qr_image(S)), lambda: device.enter_key(S + ":x", S)):
        with pytest.raises(TwofaSimError) as caught:
            bad()
        errors.append(str(caught.value))
    texts = [events_table(events).to_csv(), "\n".join(map(str, events)), repr(device), device_table(device).to_html(),
             repr(device.app), device_table(device).to_csv(), *map(repr, results), *(r.describe() for r in results),
             repr(report), *errors, *map(repr, device.app.entries)]
    for text in texts:
        for needle in (S, S.lower(), S2, S[:8], S2[:8]):
            assert needle not in text, (needle, text[:200])
    assert [e.kind.name for e in events] == [
        "DEVICE_ADDED", "QR_SCANNED", "ENTRY_ADDED", "QR_SCANNED", "ENTRY_ADDED", "ENTRY_ADDED", "SCAN_FAILED",
        "CLOCK_CORRECTED", "ENTRY_REMOVED", "SCAN_FAILED", "SCAN_FAILED"]
    assert [r.outcome for r in report.results] == [ImportOutcome.UNTICKED] * 3   # Aegis unticks what it holds
    assert report.failures[0][0] == 1
