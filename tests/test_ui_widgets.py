"""The widgets are one-way adapters: one domain call per action, re-rendered from domain state,
errors shown and never lost."""

from __future__ import annotations

import pytest

from twofa_sim import EventKind, State
from twofa_sim.ui.admin_panel import AdminPanel
from twofa_sim.ui.clock_control import ClockControl
from twofa_sim.ui.common import Ticker
from twofa_sim.ui.event_log_view import EventLogView
from twofa_sim.ui.login_mask import LoginMask

from conftest import PASSWORD
from helpers import current_code, refused_code


def create_with_panel(panel: AdminPanel, name: str, force: bool = True) -> None:
    panel.username.value, panel.password.value, panel.force.value = name, PASSWORD, force
    panel.create.click()


def test_admin_panel_creates_a_forced_user(office):
    panel = AdminPanel(office)
    create_with_panel(panel, "alice")
    assert office.user("alice").force_2fa
    assert "alice" in panel.users_table.value and "tfs-ok" in panel.message.value
    assert panel.password.value == "", "the form forgets the password once used"


def test_admin_panel_shows_refusals_and_changes_nothing(office):
    panel = AdminPanel(office)
    panel.username.value, panel.password.value = "alice", "short"
    panel.create.click()
    assert "at least 10" in panel.message.value and "tfs-error" in panel.message.value
    assert office.users == []


@pytest.mark.parametrize("button, check", [
    ("toggle_force", lambda office: office.user("alice").force_2fa is False),
    ("reset", lambda office: not office.user("alice").enrolment.is_enrolled),
    ("unlock", lambda office: office.user("alice").enrolment.failures == 0
     and not office.user("alice").enrolment.is_locked_out(office.clock.now())),
])
def test_admin_panel_actions(office, button, check):
    panel = AdminPanel(office)
    create_with_panel(panel, "alice")
    mask = LoginMask(office)
    mask.username.value, mask.password.value = "alice", PASSWORD
    mask.login_button.click()
    secret = mask.attempt.screen.secret
    mask.code.value = current_code(office, secret)
    mask.code_button.click()
    office.clock.advance(30)
    login = office.start_login()                 # a second login locks her, so that each button has work
    login.submit_password("alice", PASSWORD)
    for _ in range(office.policy.failed_code_limit):
        login.submit_code(refused_code(office, secret))
    assert office.user("alice").enrolment.is_locked_out(office.clock.now())
    assert not check(office), "the button's effect is not there before the click"
    getattr(panel, button).click()
    assert check(office)


def test_company_checkbox_is_the_company_setting(office):
    panel = AdminPanel(office)
    panel.company_2fa.value = True
    assert office.company("ACME").force_2fa_for_all


def test_login_mask_walks_the_article(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    mask = LoginMask(office)
    mask.username.value, mask.password.value = "alice", PASSWORD
    mask.login_button.click()
    assert mask.attempt.state is State.ENROLMENT
    assert bytes(mask.qr.value).startswith(b"\x89PNG") and mask.qr in mask.second_window.children
    assert mask.dialog_open and mask.second_window.layout.display is None, "the second window opens"
    assert mask.username.disabled and mask.credentials.layout.display is None, "over the mask, which stays"
    mask.code.value = current_code(office, mask.attempt.screen.secret)
    mask.code_button.click()
    assert mask.attempt.state is State.AUTHENTICATED and "logged in" in mask.message.value
    mask.done_button.click()
    assert mask.attempt.state is State.CREDENTIALS and mask.credentials.layout.display is None
    assert not mask.username.disabled and mask.second_window.layout.display == "none"


def test_login_mask_wrong_password_message(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    mask = LoginMask(office)
    mask.username.value, mask.password.value = "alice", "nope nope nope"
    mask.login_button.click()
    assert "Wrong username or password." in mask.message.value and mask.second_window.children == ()


def test_login_mask_screen_image_holds_the_qr_only_in_enrolment(office):
    import zxingcpp
    office.create_user("alice", PASSWORD, force_2fa=True)
    mask = LoginMask(office)
    assert zxingcpp.read_barcodes(mask.screen_image()) == []
    mask.username.value, mask.password.value = "alice", PASSWORD
    mask.login_button.click()
    [barcode] = zxingcpp.read_barcodes(mask.screen_image())
    assert barcode.text == mask.attempt.screen.uri


def test_login_mask_refresh_expires_the_prompt(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    mask = LoginMask(office)
    mask.username.value, mask.password.value = "alice", PASSWORD
    mask.login_button.click()
    mask.refresh()
    assert "closes in 5:00" in mask.countdown.value
    office.clock.advance(office.policy.code_prompt_timeout)
    mask.refresh()
    assert mask.attempt.state is State.EXPIRED and "took too long" in mask.message.value


def test_unexpected_errors_are_captured_not_lost(office):
    mask = LoginMask(office)
    mask.attempt = None  # a broken state: the click must not raise into the kernel
    mask.login_button.click()
    assert "Something went wrong" in mask.message.value
    assert any("Traceback" in o.get("text", "") for o in mask.safe.errors.outputs)


def test_clock_control_buttons(office):
    control = ClockControl(office.clock)
    start = office.clock.now()
    control.step_button.click()
    assert office.clock.now() == start + 30
    control.last_second.click()
    assert office.clock.now() % 30 == 29
    control.when.value = "2026-02-01 10:00:00"
    control.set_button.click()
    assert "2026-02-01 10:00:00" in control.display.value
    control.when.value = "not a time"
    control.set_button.click()
    assert "not an ISO 8601 time" in control.message.value


def test_clock_control_live_toggle(office):
    control = ClockControl(office.clock)
    control.live.value = True
    assert not office.clock.is_pinned
    control.live.value = False
    assert office.clock.is_pinned


def test_event_log_view_follows_the_log(office):
    view = EventLogView(office.events)
    office.create_user("alice", PASSWORD)
    assert "user created" in view.table.value


def test_ticker_calls_listeners_and_survives_failures():
    calls = []
    ticker = Ticker(interval=0.01)
    ticker.add(lambda: calls.append(1))
    ticker.add(lambda: 1 / 0)
    ticker.tick()
    assert calls == [1] and ticker.failures == 1
    ticker.start()
    assert ticker.running
    ticker.stop()
    assert not ticker.running


# -- the app and the trainer demo -------------------------------------------------------------------

from twofa_sim.apps.device import Device  # noqa: E402
from twofa_sim.ui.authenticator_view import AuthenticatorView  # noqa: E402
from twofa_sim.ui.trainer_demo import TrainerDemo  # noqa: E402


def mask_at_qr(office, name="alice"):
    office.create_user(name, PASSWORD, force_2fa=True)
    mask = LoginMask(office)
    mask.username.value, mask.password.value = name, PASSWORD
    mask.login_button.click()
    return mask


def test_app_scan_button_reads_the_login_window_from_pixels(office):
    mask = mask_at_qr(office)
    app = AuthenticatorView(Device.for_user(office, "alice", app="authenticator-addon"), capture=mask.screen_image)
    app.scan_button.click()
    [card] = app.cards.values()
    assert "Entry added" in app.message.value
    shown = card.code.value.split(">")[1].split("<")[0].replace(" ", "")
    assert shown == app.device.code() and 0 < card.bar.value <= 1
    mask.code.value = shown
    mask.code_button.click()
    assert mask.attempt.state is State.AUTHENTICATED


def test_app_scan_with_nothing_to_scan_is_a_message(office):
    mask = LoginMask(office)
    office.create_user("alice", PASSWORD)
    app = AuthenticatorView(Device.for_user(office, "alice"), capture=mask.screen_image)
    app.scan_button.click()
    assert "no QR code" in app.message.value and app.device.app.entries == []


def test_app_asks_about_a_duplicate_when_its_profile_does(office):
    mask = mask_at_qr(office)
    app = AuthenticatorView(Device.for_user(office, "alice", app="aegis"), capture=mask.screen_image)
    app.scan_button.click()
    app.save.click()                            # Aegis saves a scanned entry on its edit screen's Save
    app.scan_button.click()
    app.save.click()
    assert app.question.layout.display is None
    app.keep_both.click()
    assert len(app.device.app.entries) == 2 and app.question.layout.display == "none"


def test_app_offset_sync_and_install(office):
    mask = mask_at_qr(office)
    app = AuthenticatorView(Device.for_user(office, "alice", app="authenticator-addon"), capture=mask.screen_image)
    app.offset.value = 95
    assert app.device.offset == 95
    app.sync.click()
    assert "tfs-ok" in app.message.value
    app.scan_button.click()
    app.profile.value = "aegis"
    assert app.device.app.profile.key == "aegis" and app.device.app.entries == []
    assert app.sync.disabled is not (app.device.app.profile.corrects_clock)


def test_trainer_demo_ticks_live_and_stops():
    demo = TrainerDemo.standard(live=True)
    try:
        assert demo.ticker.running and not demo.office.clock.is_pinned
    finally:
        demo.pause()
    assert not demo.ticker.running and demo.office.clock.is_pinned


def test_trainer_demo_clock_step_rotates_the_app_code():
    demo = TrainerDemo.standard(live=False)
    demo.admin.username.value, demo.admin.password.value, demo.admin.force.value = "alice", PASSWORD, True
    demo.admin.create.click()
    demo.login.username.value, demo.login.password.value = "alice", PASSWORD
    demo.login.login_button.click()
    demo.app.scan_button.click()
    [card] = demo.app.cards.values()
    before = card.code.value
    demo.clock.step_button.click()
    assert card.code.value != before


def test_clock_moves_are_in_the_event_log(office):
    control = ClockControl(office.clock, events=office.events)
    control.step_button.click()
    control.when.value = "2026-02-01 10:00:00"
    control.set_button.click()
    moves = [e.detail for e in office.events.of_kind(EventKind.CLOCK_MOVED)]
    assert moves == ["forward 30 s", "set to 2026-02-01 10:00:00 UTC"]


def test_last_second_never_moves_the_clock_back(office):
    control = ClockControl(office.clock)
    office.clock.set(office.clock.now() - office.clock.now() % 30 + 29.6)
    before = office.clock.now()
    control.last_second.click()
    assert office.clock.now() > before and office.clock.now() % 30 == pytest.approx(29)


def test_event_log_view_shows_the_newest_rows_only(office):
    for n in range(20):
        office.create_user(f"user{n:02d}", PASSWORD)
    view = EventLogView(office.events, rows=5)
    assert "user19" in view.table.value and "user14" not in view.table.value


def qr_of(uri):
    """A screen showing only this QR code, for the app's scan button."""
    import qrcode
    return lambda: qrcode.make(uri, border=4, box_size=6).get_image().convert("RGB")


UNSAFE_URI = "otpauth://totp/plenigo:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&digits=10&issuer=plenigo"
HOTP_URI = "otpauth://hotp/plenigo:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&counter=5&issuer=plenigo"


# (app, QR, answers shown, the answer clicked, entries after it)
QUESTIONS = [
    ("freeotp", UNSAFE_URI, {"add_anyway", "cancel"}, "add_anyway", 1),
    ("freeotp", UNSAFE_URI, {"add_anyway", "cancel"}, "cancel", 0),
]


@pytest.mark.parametrize("app_key, uri, shown, clicked, entries", QUESTIONS)
def test_the_app_widget_offers_exactly_the_answers_its_app_offers(office, app_key, uri, shown, clicked, entries):
    office.create_user("alice", PASSWORD)
    app = AuthenticatorView(Device.for_user(office, "alice", app=app_key), capture=qr_of(uri))
    app.scan_button.click()
    assert app.question.layout.display is None and "Token is unsafe!" in app.message.value
    visible = {name for name in ("replace", "keep_both", "add_anyway", "cancel")
               if getattr(app, name).layout.display != "none"}
    assert visible == shown
    getattr(app, clicked).click()
    assert len(app.device.app.entries) == entries and app.question.layout.display == "none"


@pytest.mark.parametrize("language, words", [("en", "counter-based"), ("de", "zählerbasiert")])
def test_an_hotp_entry_shows_its_code_without_a_countdown(office, language, words):
    office.create_user("alice", PASSWORD)
    app = AuthenticatorView(Device.for_user(office, "alice", app="aegis"), capture=qr_of(HOTP_URI), language=language)
    app.scan_button.click()
    app.save.click()
    [card] = app.cards.values()
    shown = card.code.value.split(">")[1].split("<")[0].replace(" ", "")
    assert shown.isdigit() and len(shown) == 6
    assert words in card.seconds.value and card.bar.layout.visibility == "hidden"
    app.refresh()  # the ticker's call once a second
    assert words in card.seconds.value
