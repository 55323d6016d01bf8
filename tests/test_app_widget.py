"""The app widget shows what each app shows and asks around its entries: Aegis's edit screen after a
scan, FreeOTP's code after a tap, Google Authenticator's "Save key for ...?" on a link, Aegis's
warning about the phone's automatic time, an hotp link without counter, Aegis stopping on MD5, and
moving entries into another app through the first app's export."""

from __future__ import annotations

import re

import pytest

from twofa_sim import State
from twofa_sim.apps.device import Device
from twofa_sim.apps.otpauth import build_key_uri
from twofa_sim.ui.authenticator_view import AuthenticatorView
from twofa_sim.ui.login_mask import LoginMask

from conftest import PASSWORD, make_office
from helpers import independent_totp

S = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"


def at_qr(app: str, language: str = "en"):
    """A login showing its QR code and the app widget of a device with ``app``."""
    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    mask = LoginMask(office)
    mask.username.value, mask.password.value = "alice", PASSWORD
    mask.login_button.click()
    view = AuthenticatorView(Device.for_user(office, "alice", app=app), capture=mask.screen_image, language=language)
    return mask, view


def code_on(card) -> str:
    return re.sub(r"\D", "", card.code.value)


def test_aegis_shows_its_edit_screen_and_saves_what_the_user_changed():
    mask, view = at_qr("aegis")
    view.scan_button.click()
    assert view.editor.layout.display is None and view.device.app.entries == []
    assert view.edit_account.value == "alice" and view.edit_algorithm.value == "SHA1"
    assert view.save.layout.display is None and view.keep_both.layout.display == "none"
    view.edit_account.value = "alice at work"
    view.save.click()
    [entry] = view.device.app.entries
    assert entry.account == "alice at work" and view.editor.layout.display == "none"
    mask.code.value = code_on(next(iter(view.cards.values())))
    mask.code_button.click()
    assert mask.attempt.state is State.AUTHENTICATED


def test_cancel_on_aegis_edit_screen_saves_nothing():
    _, view = at_qr("aegis")
    view.scan_button.click()
    view.cancel.click()
    assert view.device.app.entries == [] and "Cancelled" in view.message.value


def test_freeotp_shows_the_code_after_a_tap():
    mask, view = at_qr("freeotp")
    view.scan_button.click()
    [card] = view.cards.values()
    assert code_on(card) == "" and card.tap.layout.display is None
    card.tap.click()
    assert len(code_on(card)) == 6 and card.tap.layout.display == "none"
    mask.code.value = code_on(card)
    mask.code_button.click()
    assert mask.attempt.state is State.AUTHENTICATED


@pytest.mark.parametrize("language, words", [("en", "Save key for this account?"),
                                             ("de", "Schlüssel für dieses Konto speichern?")])
def test_google_authenticator_asks_before_saving_a_link(language, words):
    mask, view = at_qr("google-authenticator", language)
    view.link.value = mask.attempt.screen.uri
    view.link_button.click()
    assert words in view.message.value and view.device.app.entries == []
    view.save.click()
    assert len(view.device.app.entries) == 1
    view.scan_button.click()                      # the camera: the same key changes nothing, and asks nothing
    assert len(view.device.app.entries) == 1 and view.question.layout.display == "none"


def test_an_hotp_link_without_counter_in_2fas_starts_at_1():
    _, view = at_qr("2fas")
    view.link.value = f"otpauth://hotp/Lab:alice?secret={S}&issuer=Lab"
    view.link_button.click()
    [card] = view.cards.values()
    assert code_on(card) == independent_totp(S, 1, period=1)


def test_aegis_refuses_an_hotp_link_without_counter_in_plain_words():
    _, view = at_qr("aegis")
    view.link.value = f"otpauth://hotp/Lab:alice?secret={S}&issuer=Lab"
    view.link_button.click()
    assert "refuses an hotp QR code without a counter" in view.message.value and S not in view.message.value
    assert view.device.app.entries == []


@pytest.mark.parametrize("app, warns", [("aegis", True), ("2fas", False)])
def test_aegis_warns_when_the_phones_automatic_time_is_off(app, warns):
    _, view = at_qr(app)
    view.automatic_time.value = False
    assert ("automatically synchronize the time" in view.warning.value) is warns
    view.automatic_time.value = True
    assert view.warning.value == ""


def test_moving_entries_out_of_google_authenticator_is_refused():
    _, view = at_qr("google-authenticator")
    view.scan_button.click()
    view.move_target.value = "aegis"
    view.move_button.click()
    assert "has no export" in view.message.value
    assert view.device.app.profile.key == "google-authenticator" and len(view.device.app.entries) == 1


def test_moving_from_the_addon_into_2fas_on_a_new_phone():
    _, view = at_qr("authenticator-addon")
    view.scan_button.click()
    view.move_target.value = "2fas"
    view.move_button.click()
    assert view.device.app.profile.key == "2fas" and "1 added" in view.message.value
    assert len(view.device.app.entries) == 1


def test_aegis_stopping_on_md5_is_shown_on_the_entry():
    office = make_office()
    office.create_user("alice", PASSWORD)
    device = Device.for_user(office, "alice", app="aegis")
    device.app.scan_uri(build_key_uri(S, "alice", "Lab", algorithm="MD5"), device.now())
    view = AuthenticatorView(device, capture=lambda: None)
    [card] = view.cards.values()
    shown = []
    for step in range(64):
        office.clock.set(1_767_600_000 + 30 * step)
        view.refresh()
        shown.append("most likely stops here" in card.code.value)
    assert 0 < sum(shown) < 64                     # about 3 of 16 steps
    office.clock.set(1_767_600_000 + 30 * shown.index(False))
    view.refresh()
    assert len(code_on(card)) == 6 and card.bar.layout.visibility == "visible"


def test_the_addon_imports_google_authenticators_export_from_the_widget():
    from twofa_sim.apps.migration import build_migration
    _, view = at_qr("authenticator-addon")
    view.link.value = build_migration([{"secret": S, "name": "bob", "issuer": "Lab", "algorithm": "SHA256"}])
    view.link_button.click()
    assert "Imported: 1 added." in view.message.value and len(view.device.app.entries) == 1
    assert view.device.app.entries[0].algorithm == "SHA1" and S not in view.message.value
