"""What each app does, as read in its source at a tag: a second scan, an unsafe token, an hotp QR,
a locked add-on, and entries moved from one app into another. Each row is one fact of a profile
(the source field of the profile names repository, path and tag)."""

from __future__ import annotations

import pytest

from twofa_sim import EventKind, State, ValidationError
from twofa_sim.apps.profiles import profile
from twofa_sim.apps.authenticator import AppLocked, AuthenticatorApp, Choice, ImportOutcome, Question
from twofa_sim.apps.device import Device
from twofa_sim.apps.otpauth import build_key_uri

from conftest import PASSWORD, make_office
from helpers import independent_totp
from twofa_sim.render.tables import app_table

S = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
S2 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
T0 = 1_767_603_610.0
URI = build_key_uri(S, "alice", "plenigo")


def accounts(app: AuthenticatorApp) -> list[str]:
    return [e.account for e in app.entries]


# (app, second QR, the user's answer or None, outcome of the scan, outcome of the answer, accounts afterwards,
#  the secret of the last entry)
SECOND_SCANS = [
    # 2FAS asks "Service with this Secret Key already exists. Do you want to override it?"
    ("2fas", URI, Choice.REPLACE, ImportOutcome.NEEDS_CONFIRMATION, ImportOutcome.REPLACED, ["alice"], S),
    ("2fas", URI, Choice.CANCEL, ImportOutcome.NEEDS_CONFIRMATION, ImportOutcome.CANCELLED, ["alice"], S),
    ("2fas", build_key_uri(S, "bob", "other"), Choice.REPLACE, ImportOutcome.NEEDS_CONFIRMATION,
     ImportOutcome.REPLACED, ["bob"], S),                                  # the same secret under another name
    ("2fas@5.0", URI, Choice.CANCEL, ImportOutcome.NEEDS_CONFIRMATION, ImportOutcome.CANCELLED, ["alice"], S),
    # Aegis 3.4 asks on the same name and issuer: overwrite, add with a " #2" suffix, or cancel
    ("aegis", build_key_uri(S2, "alice", "plenigo"), Choice.REPLACE, ImportOutcome.NEEDS_CONFIRMATION,
     ImportOutcome.REPLACED, ["alice"], S2),
    ("aegis", URI, Choice.KEEP_BOTH, ImportOutcome.NEEDS_CONFIRMATION, ImportOutcome.KEPT_BOTH,
     ["alice", "alice #2"], S),
    # before 3.4 Aegis adds a second entry without asking
    ("aegis@3.3", URI, None, ImportOutcome.ADDED, None, ["alice", "alice"], S),
    # Google Authenticator 5.00: with an issuer parameter the entry of that issuer and name is overwritten
    ("google-authenticator", build_key_uri(S2, "alice", "plenigo"), None, ImportOutcome.REPLACED, None, ["alice"],
     S2),
    ("google-authenticator", URI, None, ImportOutcome.UNCHANGED, None, ["alice"], S),    # same secret: nothing
]


@pytest.mark.parametrize("key, second, choice, asked, answered, names, secret", SECOND_SCANS)
def test_a_second_scan_as_each_app_does_it(key, second, choice, asked, answered, names, secret):
    app = AuthenticatorApp(key)
    app.scan_uri(URI, T0)
    result = app.scan_uri(second, T0 + 5)
    assert result.outcome is asked
    if choice is not None:
        assert result.question is Question.DUPLICATE and choice in result.choices
        assert app.confirm(result, choice).outcome is answered
    assert accounts(app) == names and app.entries[-1].secret == secret and app.pending == []


# Google Authenticator 5.00 without an issuer parameter: a new "name(1)", and the same secret again does nothing
def test_google_authenticator_without_an_issuer_adds_a_numbered_name():
    app = AuthenticatorApp("google-authenticator")
    outcomes = [app.scan_uri(f"otpauth://totp/alice?secret={secret}", T0).outcome for secret in (S, S2, S2, S)]
    assert outcomes == [ImportOutcome.ADDED, ImportOutcome.ADDED, ImportOutcome.ADDED, ImportOutcome.UNCHANGED]
    assert accounts(app) == ["alice", "alice(1)", "alice(2)"]


# (app, choice offered by another app, refused)
@pytest.mark.parametrize("key, choice", [("2fas", Choice.KEEP_BOTH), ("2fas", Choice.ADD_ANYWAY),
                                         ("aegis", Choice.ADD_ANYWAY)])
def test_an_answer_the_app_does_not_offer_is_refused_and_the_question_stays(key, choice):
    app = AuthenticatorApp(key)
    app.scan_uri(URI, T0)
    asked = app.scan_uri(URI, T0)
    with pytest.raises(ValidationError, match=f"choice: .* offers .*, not {choice.value}"):
        app.confirm(asked, choice)
    assert app.pending == [asked.pending] and len(app.entries) == 1


# Google Authenticator 5.00 shows "issuer (name)" from the issuer parameter; a differing label prefix stays
@pytest.mark.parametrize("uri, shown", [
    (f"otpauth://totp/plenigo:alice?secret={S}&issuer=plenigo", "plenigo (alice)"),
    (f"otpauth://totp/Other:alice?secret={S}&issuer=plenigo", "plenigo (Other:alice)"),
    (f"otpauth://totp/plenigo:alice?secret={S}", "plenigo:alice"),
    (f"otpauth://totp/alice?secret={S}&issuer=plenigo", "plenigo (alice)"),
])
def test_google_authenticator_shows_the_issuer_parameter(uri, shown):
    app = AuthenticatorApp("google-authenticator")
    entry = app.scan_uri(uri, T0).entry
    assert app.profile.shown_name(entry.issuer, entry.account) == shown
    assert app_table(app).iloc[-1].get("shown as", entry.label) == shown


# FreeOTP 2.x: "Token is unsafe!" with "Add Anyway" or Cancel
UNSAFE = [
    (f"otpauth://totp/A:b?secret={S}&digits=10", "digits 10 is outside 6 to 9", (10, "SHA1")),
    (f"otpauth://totp/A:b?secret={S}&algorithm=MD5", "algorithm MD5 is outside", (6, "MD5")),
    ("otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXPJBSWY3DP", "120 bits, under 128", (6, "SHA1")),
]


@pytest.mark.parametrize("uri, words, kept", UNSAFE)
@pytest.mark.parametrize("choice, added", [(Choice.ADD_ANYWAY, True), (Choice.CANCEL, False)])
def test_freeotp_warns_about_an_unsafe_token_and_the_user_decides(uri, words, kept, choice, added):
    app = AuthenticatorApp("freeotp")
    asked = app.scan_uri(uri, T0)
    assert asked.needs_confirmation and asked.question is Question.UNSAFE and asked.existing is None
    assert asked.choices == (Choice.ADD_ANYWAY, Choice.CANCEL) and any(words in w for w in asked.warnings)
    assert "Token is unsafe!" in asked.describe() and app.entries == []
    answered = app.confirm(asked, choice)
    assert answered.added is added and len(app.entries) == int(added)
    if added:
        entry = app.entries[0]
        assert (entry.digits, entry.algorithm) == kept
        assert app.code(entry, T0) == independent_totp(entry.secret, T0, entry.algorithm, entry.digits)


# (app, what it does with otpauth://hotp/...: type of the entry, code shown)
HOTP_URI = f"otpauth://hotp/plenigo:alice?secret={S}&counter=5&issuer=plenigo"


@pytest.mark.parametrize("key, kind", [("authenticator-addon", "totp"), ("aegis", "hotp"), ("freeotp", "hotp"),
                                       ("2fas", "hotp"), ("google-authenticator", "hotp")])
def test_an_hotp_qr_as_each_app_reads_it(key, kind):
    app = AuthenticatorApp(key)
    entry = app.scan_uri(HOTP_URI, T0).entry
    assert entry.type == kind
    if kind == "hotp":                   # the counter's code, the same at any time, until the user asks
        assert app.code(entry, T0) == app.code(entry, T0 + 3600) == independent_totp(S, 5, period=1)
        assert app.reading(entry, T0).seconds_left == float("inf")
        assert app.next_counter_code(entry) == independent_totp(S, 6, period=1)
    else:                                # the add-on: a time-based SHA1/30 s entry from the same secret
        assert app.code(entry, T0) == independent_totp(S, T0)


def test_an_hotp_entry_in_the_back_office_login_is_a_wrong_code():
    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    phone = Device.for_user(office, "alice", app="aegis")
    login = office.start_login()
    screen = login.submit_password("alice", PASSWORD).screen
    phone.app.scan_uri(screen.uri.replace("otpauth://totp/", "otpauth://hotp/") + "&counter=0", phone.now())
    assert login.submit_code(phone.code()).state is State.ENROLMENT


# the add-on with a password: locked, it cannot scan; unlocked, it can
@pytest.mark.parametrize("password, unlocks", [("add-on password 1", True), ("wrong", False)])
def test_a_locked_addon_cannot_scan(password, unlocks):
    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    browser = Device.for_user(office, "alice", app="authenticator-addon")
    browser.set_app_password("add-on password 1")
    browser.lock_app()
    login = office.start_login()
    page = login.submit_password("alice", PASSWORD).screen.page_image()
    with pytest.raises(AppLocked, match="is locked: it cannot scan until its password is typed") as caught:
        browser.scan(page)
    assert "add-on password" not in str(caught.value) and "add-on password" not in repr(browser.app)
    assert browser.app.entries == [] and office.events[-1].kind is EventKind.SCAN_FAILED
    assert office.events[-1].reason == "app locked"
    if unlocks:
        browser.unlock_app(password)
        assert browser.scan(page).added
    else:
        with pytest.raises(AppLocked, match="wrong password"):
            browser.unlock_app(password)
        assert browser.app.locked


@pytest.mark.parametrize("key", ["aegis", "2fas", "freeotp", "google-authenticator", "reference"])
def test_only_the_addon_has_a_password_lock_here(key):
    with pytest.raises(ValidationError, match="has no password protection in this simulation"):
        AuthenticatorApp(key).set_password("secret password")


# (policy, app the entries move to, the entry's settings there, the moved entry signs in)
MOVES = [
    ({}, "aegis", ("SHA1", 6, 30), True),
    ({"algorithm": "SHA256"}, "aegis", ("SHA1", 6, 30), False),      # the add-on's breakage moves along
    ({"period": 60}, "2fas", ("SHA1", 6, 30), False),
    ({"digits": 8}, "2fas", ("SHA1", 8, 30), True),                    # the add-on keeps digits, and exports them
    ({"algorithm": "SHA512"}, "reference", ("SHA1", 6, 30), False),
]


@pytest.mark.parametrize("policy, target, settings, works", MOVES)
def test_entries_moved_from_the_addon_keep_what_the_addon_made_of_them(policy, target, settings, works):
    office = make_office(**policy)
    office.create_user("alice", PASSWORD, force_2fa=True)
    browser = Device.for_user(office, "alice", app="authenticator-addon")
    phone = Device.for_user(office, "alice", app=target)
    login = office.start_login()
    browser.scan(login.submit_password("alice", PASSWORD).screen.page_image())
    exported = browser.export_text()
    assert "algorithm=" not in exported and "period=" not in exported          # the add-on leaves both out
    report = browser.move_entries_to(phone)
    assert report.added == 1 and report.failures == ()
    entry = phone.entry()
    assert (entry.algorithm, entry.digits, entry.period) == settings
    assert (login.submit_code(phone.code()).state is State.AUTHENTICATED) is works


def test_a_locked_addon_still_exports_but_leaves_out_what_it_cannot_decrypt():
    """BackupPage.vue: the page still exports and warns 'phrase_incorrect_export'."""
    app = AuthenticatorApp("authenticator-addon")
    app.scan_uri(URI, T0)
    app.set_password("add-on password 1")
    app.lock()
    aegis = AuthenticatorApp("aegis")
    report = app.move_to(aegis, T0)
    assert (report.added, report.left_out, aegis.entries) == (0, 1, [])
    assert report.warnings == ("Accounts that were not able to be decrypted will not be included in this backup.",)
    assert app.export_text() == "" and "add-on password" not in repr(app.export_backup())
    app.unlock("add-on password 1")
    assert app.move_to(aegis, T0).added == 1


def test_an_app_that_moves_entries_spells_every_parameter_out():
    aegis = AuthenticatorApp("aegis")
    aegis.scan_uri(build_key_uri(S, "alice", "plenigo", algorithm="SHA256", period=60), T0)
    two_fas = AuthenticatorApp("2fas")
    assert aegis.move_to(two_fas, T0).added == 1
    assert (two_fas.entries[0].algorithm, two_fas.entries[0].period) == ("SHA256", 60)
    assert profile("aegis").export_omits_defaults is False
