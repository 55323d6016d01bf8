"""What each app does around its entries, fact by fact, as read in its source at a tag (issue: the
manual forms, exports and imports, an hotp QR without counter). Each test reads the record and
drives the app model; the record's ``source`` names repository, path and tag."""

from __future__ import annotations

import pytest

from twofa_sim import UriError, ValidationError
from twofa_sim.apps.authenticator import AppStopped, AuthenticatorApp, Choice, ImportOutcome, Question
from twofa_sim.apps.backup import ExportRefused
from twofa_sim.apps.behaviour import (AUTOMATIC_TIME_WARNING, ExportFormat, ImportDuplicates, LinkHandling,
                                      LockedExport, Naming)
from twofa_sim.apps.device import Device
from twofa_sim.apps.otpauth import build_key_uri
from twofa_sim.apps.comparisons import apps_opening_links
from twofa_sim.apps.profiles import ClockSource, profile
from twofa_sim.core.clock import Clock

from helpers import independent_totp
from conftest import examples

S = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
S2 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
T0 = 1_767_603_610.0
URI = build_key_uri(S, "alice", "plenigo")


# -- the manual forms --------------------------------------------------------------------------------

# (app, the form's algorithms, digits, periods, the algorithm it starts on, a file the record names)
FORMS = [
    ("aegis", ("SHA1", "SHA256", "SHA512"), range(1, 11), range(1, 2_147_484), "SHA1", "arrays.xml"),
    ("freeotp", ("SHA1", "SHA224", "SHA256", "SHA384", "SHA512"), (6, 8), (15, 30, 60, 120, 300), "SHA256",
     "strings.xml"),
    ("authenticator-addon", ("SHA1", "SHA256", "SHA512", "GOST3411_2012_256", "GOST3411_2012_512"), (6, 8),
     range(1, 2_147_484), "SHA1", "AddAccountPage.vue"),
]


@pytest.mark.parametrize("key, algorithms, digits, periods, start, path", FORMS)
def test_the_manual_form_as_the_source_has_it(key, algorithms, digits, periods, start, path):
    form = profile(key).manual
    assert (form.algorithms, form.digits, form.periods, form.default_algorithm) == (algorithms, digits, periods, start)
    assert path in form.source


# (app, what the user picks in the form, the field refused or None, the algorithm of the entry)
TYPED = [
    ("aegis", {"algorithm": "MD5"}, "algorithm", None),          # MD5 only with the mOTP type
    ("aegis", {"algorithm": "SHA512", "digits": 10}, None, "SHA512"),
    ("freeotp", {}, None, "SHA256"),                               # the form starts on SHA256
    ("freeotp", {"digits": 7}, "digits", None),
    ("freeotp", {"period": 45}, "period", None),
    ("freeotp", {"algorithm": "SHA1", "period": 300}, None, "SHA1"),
    ("authenticator-addon", {"algorithm": "SHA256", "period": 100_000}, None, "SHA256"),   # no maximum
    ("authenticator-addon", {"digits": 7}, "digits", None),
    ("google-authenticator", {}, None, "SHA1"),
]


@pytest.mark.parametrize("key, picked, refused, algorithm", TYPED)
def test_a_key_typed_into_each_form(key, picked, refused, algorithm):
    app = AuthenticatorApp(key)
    if refused:
        with pytest.raises(ValidationError, match=f"{refused}: the manual form of .* offers"):
            app.enter_key("alice", S, T0, **picked)
        assert app.entries == []
        return
    entry = app.enter_key("alice", S, T0, **picked).entry
    assert entry.algorithm == algorithm
    assert app.code(entry, T0) == independent_totp(S, T0, algorithm, entry.digits, entry.period)


def test_the_addon_offers_gost_by_hand_but_no_gost_code_is_computed_here():
    app = AuthenticatorApp("authenticator-addon")
    with pytest.raises(ValidationError, match="offers GOST3411_2012_256 by hand, but this simulation computes no"):
        app.enter_key("alice", S, T0, algorithm="GOST3411_2012_256")
    assert app.entries == [] and "no maximum" in profile("authenticator-addon").manual.source


def test_a_scanned_md5_entry_keeps_md5_in_aegis_although_its_form_has_no_md5():
    app = AuthenticatorApp("aegis")
    entry = app.scan_uri(build_key_uri(S, "alice", "plenigo", algorithm="MD5"), T0).entry
    assert entry.algorithm == "MD5" and "MD5" not in app.profile.manual.algorithms


# -- FreeOTP 2.0 compares the algorithm's name case-sensitively ----------------------------------------

@pytest.mark.parametrize("key, asks", [("freeotp@2.0", True), ("freeotp", False)])
def test_freeotp_2_0_finds_a_lower_case_algorithm_unsafe(key, asks):
    app = AuthenticatorApp(key)
    result = app.scan_uri(f"otpauth://totp/plenigo:alice?secret={S}&algorithm=sha256&issuer=plenigo", T0)
    assert result.needs_confirmation is asks
    if asks:
        assert result.question is Question.UNSAFE and "'sha256' is not written in capitals" in result.describe()
        result = app.confirm(result, Choice.ADD_ANYWAY)
    assert result.entry.algorithm == "SHA256" and app.profile.behaviour.algorithm_case_sensitive is asks
    assert ("equals" in app.profile.behaviour.source) is asks


# -- Aegis and MD5: read in the source, the app most likely stops ------------------------------------------

def test_aegis_most_likely_stops_where_the_md5_truncation_reads_past_the_digest():
    import hashlib
    import hmac
    from twofa_sim.apps.otpauth import secret_bytes

    app = AuthenticatorApp("aegis")
    entry = app.scan_uri(build_key_uri(S, "alice", "plenigo", algorithm="MD5"), T0).entry
    steps = [s for s in range(int(T0 // 30), int(T0 // 30) + 64)
             if hmac.new(secret_bytes(S), s.to_bytes(8, "big"), hashlib.md5).digest()[-1] & 0x0F > 12]
    assert steps                                        # about 3 of 16 steps
    with pytest.raises(AppStopped, match="most likely stops here .read in its source, not run on a device."):
        app.code(entry, steps[0] * 30)
    assert app.profile.behaviour.crashes_past_the_digest and "EntryHolder.java" in app.profile.behaviour.source
    assert "read in the source, not run" in app.profile.notes
    with pytest.raises(ValidationError, match="reads past them") as caught:     # FreeOTP takes MD5 after a warning
        freeotp = AuthenticatorApp("freeotp")
        md5 = freeotp.accept(freeotp.scan_uri(build_key_uri(S, "alice", "plenigo", algorithm="MD5"), T0)).entry
        freeotp.code(md5, steps[0] * 30)
    assert not isinstance(caught.value, AppStopped)


# -- Google Authenticator's clock correction ---------------------------------------------------------------

def test_google_authenticators_correction_comes_from_sync_now():
    ga = profile("google-authenticator")
    assert ga.clock_source is ClockSource.SYNC_NOW and "Sync now" in ga.describe_clock_correction()
    assert "NetworkTimeProvider.java" in ga.source
    device = Device("phone", "alice", Clock.at(T0), offset=95, app="google-authenticator")
    assert device.app.correction == 0                       # nothing happens until the user taps "Sync now"
    assert device.correct_clock().offset == -120            # whole minutes


# -- an hotp QR without a counter ------------------------------------------------------------------------

NO_COUNTER = f"otpauth://hotp/plenigo:alice?secret={S}&issuer=plenigo"


# (app, counter it starts at, or the field of the refusal, or "totp" when it becomes time-based)
@pytest.mark.parametrize("key, start", [("aegis", "counter"), ("aegis@3.3", "counter"), ("freeotp", 0),
                                        ("google-authenticator", 0), ("2fas", 1), ("2fas@5.0", 1),
                                        ("authenticator-addon", "totp"), ("reference", "type")])
def test_an_hotp_qr_without_counter(key, start):
    app = AuthenticatorApp(key)
    if start in ("counter", "type"):
        with pytest.raises(UriError, match=f"^{start}: "):
            app.scan_uri(NO_COUNTER, T0)
        assert app.entries == []
        return
    entry = app.accept(app.scan_uri(NO_COUNTER, T0)).entry
    if start == "totp":
        assert entry.type == "totp" and app.code(entry, T0) == independent_totp(S, T0)
        return
    assert (entry.type, entry.counter) == ("hotp", start)
    assert app.code(entry, T0) == independent_totp(S, start, period=1)
    assert app.profile.behaviour.hotp_without_counter() == f"starts the counter at {start}"


# -- Aegis: a scan opens an editable screen; nothing is saved until Save ----------------------------------

@pytest.mark.parametrize("choice, entries", [(Choice.SAVE, 1), (Choice.CANCEL, 0)])
def test_aegis_saves_a_scanned_entry_only_on_save(choice, entries):
    app = AuthenticatorApp("aegis")
    shown = app.scan_uri(URI, T0, save=False)
    assert shown.question is Question.EDITOR and shown.choices == (Choice.SAVE, Choice.CANCEL)
    assert app.entries == [] and app.pending == [shown.pending]
    assert len(app.entries) == 0 and app.confirm(shown, choice).added is bool(entries)
    assert len(app.entries) == entries and app.pending == []


def test_cancel_on_aegis_duplicate_sheet_goes_back_to_the_edit_screen():
    app = AuthenticatorApp("aegis")
    app.scan_uri(URI, T0)
    sheet = app.scan_uri(URI, T0, save=False)
    sheet = app.confirm(sheet, Choice.SAVE)
    assert sheet.question is Question.DUPLICATE
    back = app.confirm(sheet, Choice.CANCEL)
    assert back.question is Question.EDITOR and len(app.entries) == 1
    assert app.confirm(back, Choice.CANCEL).outcome is ImportOutcome.CANCELLED and app.pending == []


@pytest.mark.parametrize("key", ["freeotp", "2fas", "google-authenticator", "authenticator-addon"])
def test_other_apps_save_a_scan_at_once(key):
    app = AuthenticatorApp(key)
    assert app.scan_uri(URI, T0, save=False).added and not app.profile.behaviour.scan_opens_editor


# -- Aegis warns when the phone's automatic time is off ----------------------------------------------------

@pytest.mark.parametrize("key, warns", [("aegis", True), ("aegis@3.3", True), ("freeotp", False), ("2fas", False)])
def test_aegis_warns_when_the_phones_automatic_time_is_off(key, warns):
    device = Device("phone", "alice", Clock.at(T0), app=key)
    assert device.warnings() == []
    assert device.set_automatic_time(False) == ([AUTOMATIC_TIME_WARNING] if warns else [])
    assert device.set_automatic_time(True) == []


# -- exports ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, export", [("google-authenticator", ExportFormat.NONE),
                                         ("freeotp", ExportFormat.OWN_ENCRYPTED), ("aegis", ExportFormat.OTPAUTH_TEXT),
                                         ("authenticator-addon", ExportFormat.OTPAUTH_TEXT),
                                         ("2fas", ExportFormat.OTPAUTH_TEXT)])
def test_what_each_app_exports(key, export):
    app = AuthenticatorApp(key)
    app.scan_uri(URI, T0)
    assert app.profile.behaviour.export is export
    if export is ExportFormat.NONE:
        with pytest.raises(ExportRefused, match="has no export"):
            app.export_backup()
    if export is not ExportFormat.OTPAUTH_TEXT:
        with pytest.raises(ExportRefused):
            app.export_text()
        with pytest.raises(ExportRefused):
            app.move_to(AuthenticatorApp("aegis"), T0)
        return
    assert app.export_text().count("otpauth://totp/") == 1


def test_freeotps_encrypted_backup_only_freeotp_restores():
    old, new = AuthenticatorApp("freeotp"), AuthenticatorApp("freeotp@2.0")
    old.scan_uri(URI, T0)
    assert old.move_to(new, T0).added == 1 and new.entries[0].secret == S
    with pytest.raises(ExportRefused, match="encrypted for FreeOTP 2.x alone: Aegis 3.4 cannot read it"):
        old.move_to(AuthenticatorApp("aegis"), T0)


def test_the_addon_restoring_its_own_backup_loses_algorithm_and_period():
    """A SHA256, 60 s entry typed by hand works; its backup restored in the add-on is SHA1, 30 s."""
    addon = AuthenticatorApp("authenticator-addon")
    addon.enter_key("alice", S, T0, issuer="plenigo", algorithm="SHA256", period=60)
    restored = AuthenticatorApp("authenticator-addon")
    report = addon.move_to(restored, T0)
    entry = restored.entries[0]
    assert report.added == 1 and (entry.algorithm, entry.period) == ("SHA1", 30)
    assert restored.code(entry, T0) != independent_totp(S, T0, "SHA256", 6, 60)
    assert "EntryStorage.import" in addon.profile.behaviour.source


def test_the_addons_locked_export_is_in_the_record():
    addon = profile("authenticator-addon").behaviour
    assert addon.locked_export is LockedExport.LEAVES_OUT_LOCKED and "phrase_incorrect_export" in addon.source


# -- duplicates on import --------------------------------------------------------------------------------

# (app the entries move into, what it held, outcome for an entry it holds, entries afterwards)
IMPORTS = [
    ("aegis", URI, ImportOutcome.UNTICKED, 1),                                     # same issuer and secret
    ("aegis", build_key_uri(S, "alice", "other"), ImportOutcome.ADDED, 2),         # another issuer: ticked
    ("2fas", build_key_uri(S, "old name", "plenigo"), ImportOutcome.REPLACED, 1),  # same secret: replaced silently
    ("authenticator-addon", URI, ImportOutcome.ADDED, 2),                          # no duplicate check
]


@pytest.mark.parametrize("target, held, outcome, count", IMPORTS)
def test_an_import_of_an_entry_the_app_holds(target, held, outcome, count):
    source, app = AuthenticatorApp("reference"), AuthenticatorApp(target)
    source.scan_uri(URI, T0)
    app.accept(app.scan_uri(held, T0))
    report = source.move_to(app, T0)
    assert [r.outcome for r in report.results] == [outcome] and len(app.entries) == count
    assert app.pending == []                             # an import never asks
    if outcome is ImportOutcome.REPLACED:
        assert app.entries[0].account == "alice"


def test_aegis_imports_an_unticked_entry_when_the_user_ticks_it():
    source, aegis = AuthenticatorApp("reference"), AuthenticatorApp("aegis")
    source.scan_uri(URI, T0)
    aegis.scan_uri(URI, T0)
    assert source.move_to(aegis, T0, tick=True).added == 1 and len(aegis.entries) == 2
    assert profile("aegis").behaviour.import_duplicates is ImportDuplicates.UNTICK
    assert "findDuplicates" in profile("aegis").behaviour.source


def test_2fas_keeps_its_own_entry_when_its_own_backup_holds_the_same_secret():
    old, new = AuthenticatorApp("2fas"), AuthenticatorApp("2fas")
    old.scan_uri(build_key_uri(S, "from the backup", "plenigo"), T0)
    new.scan_uri(URI, T0)
    report = old.move_to(new, T0)
    assert [r.outcome for r in report.results] == [ImportOutcome.SKIPPED]
    assert [e.account for e in new.entries] == ["alice"]


@pytest.mark.parametrize("key", ["google-authenticator", "freeotp"])
def test_apps_without_an_import_of_other_apps_files(key):
    with pytest.raises(ExportRefused, match="imports no other app's export"):
        AuthenticatorApp("aegis").move_to(AuthenticatorApp(key), T0)


# -- Google Authenticator: a link asks first, the camera does not ----------------------------------------

@pytest.mark.parametrize("choice, added", [(Choice.SAVE, True), (Choice.CANCEL, False)])
def test_google_authenticator_asks_before_saving_a_links_key(choice, added):
    app = AuthenticatorApp("google-authenticator")
    asked = app.open_link(URI, T0)
    assert asked.question is Question.LINK and app.entries == []
    assert app.confirm(asked, choice).added is added and len(app.entries) == int(added)
    assert app.open_link(URI, T0).outcome is (ImportOutcome.UNCHANGED if added else ImportOutcome.NEEDS_CONFIRMATION)


@pytest.mark.parametrize("key, opens, handling, manifest", [
    ("aegis@3.3", True, LinkHandling.LIKE_A_SCAN, "at tag v3.3.4 (the same at v3.0): app/src/main/AndroidManifest.xml"),
    ("aegis", True, LinkHandling.LIKE_A_SCAN, "at tag v3.4 (the same at v3.4.2): app/src/main/AndroidManifest.xml"),
    ("freeotp@2.0", True, LinkHandling.LIKE_A_SCAN, "at tag v2.0: mobile/src/main/AndroidManifest.xml"),
    ("freeotp", True, LinkHandling.LIKE_A_SCAN, "at tag v2.0.6: mobile/src/main/AndroidManifest.xml"),
    ("2fas@5.0", True, LinkHandling.ADDS_AT_ONCE, "at tag 5.0.0: app/src/main/AndroidManifest.xml"),
    ("2fas@5.1", True, LinkHandling.ADDS_AT_ONCE, "at tag 5.3.0: app/src/main/AndroidManifest.xml"),
    ("2fas", True, LinkHandling.ADDS_AT_ONCE, "at tag 5.3.5 (the same at 5.5.3): app/src/main/AndroidManifest.xml"),
    ("google-authenticator", True, LinkHandling.ASKS_FIRST,
     "at tag v5.00 (the open-source tree): java/com/google/android/apps/authenticator/AndroidManifest.xml"),
    ("authenticator-addon", False, LinkHandling.NOT_HANDLED, "at tag v8.0.2: manifests/ declare no protocol_handlers"),
    ("reference", None, LinkHandling.LIKE_A_SCAN, "installed on no phone"),
])
def test_which_apps_a_tapped_link_opens_and_where_the_source_says_so(key, opens, handling, manifest):
    app = profile(key)
    assert (app.otpauth_links.registered, app.behaviour.links) == (opens, handling)
    assert manifest in app.otpauth_links.source
    if opens:
        assert "android.intent.action.VIEW" in app.otpauth_links.source and "scheme otpauth" in app.otpauth_links.source


def test_the_apps_a_link_opens_are_named_from_the_profiles():
    assert apps_opening_links() == ["Aegis", "FreeOTP", "2FAS", "Google Authenticator"]
    assert apps_opening_links(["authenticator-addon", "reference"]) == []


@pytest.mark.parametrize("key, first, second", [
    ("aegis", Question.EDITOR, Question.EDITOR),            # the edit screen of a scan, each time
    ("freeotp", ImportOutcome.ADDED, ImportOutcome.ADDED),  # a new token per link, as per scan
    ("2fas", ImportOutcome.ADDED, ImportOutcome.REPLACED),  # no question: the same secret is replaced
    ("google-authenticator", Question.LINK, Question.LINK),
])
def test_how_each_app_takes_a_link_opened_twice(key, first, second):
    app = AuthenticatorApp(key)
    results = [app.open_link(URI, T0) for _ in range(2)]
    assert [r.question or r.outcome for r in results] == [first, second]
    if key == "2fas":
        assert len(app.entries) == 1 and results[1].existing == results[0].entry


def test_2fas_scans_ask_where_its_links_do_not():
    app = AuthenticatorApp("2fas")
    app.scan_uri(URI, T0)
    assert app.scan_uri(URI, T0).needs_confirmation and not app.open_link(URI, T0).needs_confirmation


def test_the_addon_opens_no_link():
    with pytest.raises(ValidationError, match="does not open otpauth:// links"):
        AuthenticatorApp("authenticator-addon").open_link(URI, T0)


# -- 2FAS names ---------------------------------------------------------------------------------------------

# (label, issuer parameter, name 2FAS shows, account)
TWOFAS_NAMES = [
    ("plenigo:alice", "plenigo", "plenigo", "alice"),
    ("github:alice", "github", "GitHub", "alice"),                                # a known service's own name
    ("ProtonMail:alice", "ProtonMail", "Proton", "alice"),
    ("x:alice", "A" * 40, "A" * 30, "alice"),                                     # cut to 30 characters
    ("alice@example.com:alice", None, "Unknown", "alice"),                        # a prefix with '@' is skipped
    ("ACME:alice", None, "ACME", "alice"),
    ("plenigo:" + "b" * 60, "plenigo", "plenigo", "b" * 50),                       # the account cut to 50
]


@pytest.mark.parametrize("label, issuer, name, account", TWOFAS_NAMES)
def test_2fas_names_an_entry(label, issuer, name, account):
    issuer_part = "" if issuer is None else f"&issuer={issuer}"
    entry = AuthenticatorApp("2fas").scan_uri(f"otpauth://totp/{label}?secret={S}{issuer_part}", T0).entry
    assert (entry.issuer, entry.account) == (name, account)
    assert profile("2fas").behaviour.naming is Naming.KNOWN_SERVICE and "take(30)" in profile("2fas").behaviour.source


# -- FreeOTP shows a code only after a tap ---------------------------------------------------------------------

def test_freeotp_shows_a_code_after_a_tap_until_it_changes():
    app = AuthenticatorApp("freeotp")
    entry = app.scan_uri(URI, T0).entry
    assert not app.reading(entry, T0).shown
    tapped = app.tap(entry, T0)
    assert tapped.shown and tapped.code == independent_totp(S, T0)
    assert app.reading(entry, T0 + tapped.seconds_left - 0.01).shown
    assert not app.reading(entry, T0 + tapped.seconds_left + 0.01).shown


def test_a_device_taps_freeotp_before_reading_the_code():
    device = Device("phone", "alice", Clock.at(T0), app="freeotp")
    device.app.scan_uri(URI, device.now())
    assert not device.reading().shown
    assert device.code() == independent_totp(S, T0) and device.reading().shown


@pytest.mark.parametrize("key", ["aegis", "2fas", "google-authenticator", "authenticator-addon"])
def test_other_apps_show_codes_without_a_tap(key):
    app = AuthenticatorApp(key)
    entry = app.scan_uri(URI, T0).entry
    assert app.reading(entry, T0).shown


# -- every behaviour says whether it was seen on a device ------------------------------------------------------

@pytest.mark.parametrize("key", ["authenticator-addon", "aegis", "freeotp", "freeotp@2.0", "2fas",
                                 "google-authenticator"])
def test_each_behaviour_names_its_source_and_says_it_was_read_not_seen(key):
    behaviour = profile(key).behaviour
    tag = profile(key).tag
    assert behaviour.source and (tag in behaviour.source or profile(key).app == "aegis")
    assert behaviour.evidence() == "read in the source, not seen on a device"


# (what the user changes on Aegis's edit screen, the field refused or None)
@pytest.mark.parametrize("edits, refused", [
    ({"algorithm": "SHA256", "period": 60}, None),
    ({"account": "alice at work", "digits": 8}, None),
    ({"algorithm": "SHA224"}, "algorithm"),                      # not in the form's list
    ({"account": "a:b"}, "account"),
    ({"colour": "red"}, "edits"),
])
def test_what_the_user_changes_on_aegis_edit_screen_is_saved(edits, refused):
    app = AuthenticatorApp("aegis")
    shown = app.scan_uri(URI, T0, save=False)
    if refused:
        with pytest.raises(ValidationError, match=f"^{refused}: "):
            app.confirm(shown, Choice.SAVE, edits=edits)
        assert app.entries == [] and app.pending == [shown.pending]
        return
    entry = app.confirm(shown, Choice.SAVE, edits=edits).entry
    assert all(getattr(entry, k) == v for k, v in edits.items())
    assert app.code(entry, T0) == independent_totp(S, T0, entry.algorithm, entry.digits, entry.period)


def test_a_scanned_md5_stays_on_offer_on_aegis_edit_screen():
    app = AuthenticatorApp("aegis")
    shown = app.scan_uri(build_key_uri(S, "alice", "plenigo", algorithm="MD5"), T0, save=False)
    assert app.confirm(shown, Choice.SAVE, edits={"algorithm": "MD5", "digits": 7}).entry.algorithm == "MD5"


# -- the apps side by side (what notebook 6 shows) -----------------------------------------------------------

def test_a_refusal_is_a_value_and_names_its_kind():
    from twofa_sim.apps.comparisons import refusal
    assert refusal(lambda: AuthenticatorApp("aegis").scan_uri(NO_COUNTER, T0)).startswith("UriError: counter: ")
    assert refusal(lambda: AuthenticatorApp("2fas").scan_uri(NO_COUNTER, T0)) is None
    with pytest.raises(ZeroDivisionError):                # only the simulation's own refusals are values
        refusal(lambda: 1 / 0)


def test_each_app_and_moves_give_one_row_per_app_or_pair_without_secrets():
    from twofa_sim.apps.comparisons import each_app, entry_made_of, moves, second_scan
    rows = each_app(entry_made_of(NO_COUNTER), ["aegis", "2fas"])
    assert [(r["app"], r["outcome"]) for r in rows] == [("Aegis 3.4", "refused"), ("2FAS 5.3.5+", "hotp, counter 1")]
    assert each_app(second_scan(URI), ["aegis@3.3"])[0]["outcome"] == "added (offers: -); 2 entries"
    moved = moves([("google-authenticator", "aegis"), ("reference", "aegis")], URI, held=URI)
    assert moved[0]["why refused"].startswith("ExportRefused: ") and moved[1]["entries afterwards"] == 1
    assert S not in repr(rows + moved)


# -- the add-on imports Google Authenticator's otpauth-migration:// export ---------------------------------

def test_a_migration_payload_built_by_hand_from_the_message_declaration_reads_back():
    """MigrationPayload as Aegis's google_auth.proto declares it: account 1 {secret 1, name 2, issuer 3,
    algorithm 4 (2 = SHA256), digits 5 (2 = eight), type 6 (2 = TOTP)}, version 2."""
    import base64
    from urllib.parse import quote
    from twofa_sim.apps.migration import read_migration

    secret = bytes(range(1, 21))
    account = (b"\x0a\x14" + secret + b"\x12\x05alice" + b"\x1a\x07plenigo" + b"\x20\x02" + b"\x28\x02" + b"\x30\x02")
    payload = b"\x0a" + bytes([len(account)]) + account + b"\x10\x01"
    uri = "otpauth-migration://offline?data=" + quote(base64.b64encode(payload).decode(), safe="")
    expected = build_key_uri(base64.b32encode(secret).decode().rstrip("="), "alice", "plenigo", algorithm="SHA256",
                             digits=8)
    assert read_migration(uri) == [expected]


def test_the_addon_imports_a_migration_export_by_its_own_rules():
    from twofa_sim.apps.migration import build_migration
    uri = build_migration([{"secret": S, "name": "alice", "issuer": "plenigo", "algorithm": "SHA256", "digits": 8},
                           {"secret": S2, "name": "bob", "issuer": "Lab", "counter": 3}])
    addon = AuthenticatorApp("authenticator-addon")
    report = addon.import_text(uri, T0)
    assert report.added == 2 and report.failures == ()
    assert [(e.account, e.type, e.algorithm, e.digits) for e in addon.entries] == [
        ("alice", "totp", "SHA1", 8), ("bob", "totp", "SHA1", 6)]        # its import drops algorithm and HOTP
    assert profile("authenticator-addon").behaviour.imports_migration
    assert AuthenticatorApp("aegis").import_text(uri, T0).failures[0][1].startswith(
        "scheme: this simulation reads otpauth-migration:// exports only where")


@pytest.mark.parametrize("data, words", [("%%%", "not base64"), ("CgIKAA==", "has no secret"),
                                         ("Cg==", "cut off"), ("CgMSAf8=", "has no secret")])
def test_a_damaged_migration_export_is_a_clear_error(data, words):
    from twofa_sim.apps.migration import read_migration
    with pytest.raises(UriError, match=words):
        read_migration(f"otpauth-migration://offline?data={data}")


def test_a_session_saved_while_aegis_shows_its_edit_screen_loads_with_the_question(tmp_path):
    from conftest import PASSWORD, make_office
    from twofa_sim import load_session, save_session

    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    aegis = Device.for_user(office, "alice", app="aegis")
    google = Device.for_user(office, "alice", app="google-authenticator")
    aegis.app.scan_uri(NO_COUNTER.replace("hotp", "totp"), aegis.now(), save=False)
    google.open_link(URI)
    save_session(tmp_path / "s.twofa.json", office, [aegis, google])
    restored = load_session(tmp_path / "s.twofa.json").devices
    questions = [d.app.waiting(d.app.pending[-1]).question for d in restored]
    assert questions == [Question.EDITOR, Question.LINK] and all(d.app.entries == [] for d in restored)
    assert restored[0].confirm(restored[0].app.pending[-1], Choice.SAVE).added


def test_any_bytes_as_a_migration_payload_read_back_or_are_a_clear_error():
    import base64
    from urllib.parse import quote
    from hypothesis import given, settings, strategies as st
    from twofa_sim.apps.migration import read_migration

    @settings(max_examples=examples(300), deadline=None, database=None)
    @given(st.binary(max_size=200))
    def check(payload):
        uri = "otpauth-migration://offline?data=" + quote(base64.b64encode(payload).decode(), safe="")
        try:
            lines = read_migration(uri)
        except UriError:
            return
        assert all(line.startswith(("otpauth://totp/", "otpauth://hotp/")) for line in lines)

    check()
