"""The widgets are one-way adapters: one domain call per action, re-rendered from domain state,
errors shown and never lost."""

from __future__ import annotations

import pytest

from twofa_sim import State
from twofa_sim.ui.admin_panel import AdminPanel
from twofa_sim.ui.clock_control import ClockControl
from twofa_sim.ui.common import Ticker
from twofa_sim.ui.event_log_view import EventLogView
from twofa_sim.ui.login_mask import LoginMask

from conftest import PASSWORD
from helpers import current_code


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
    ("unlock", lambda office: office.user("alice").enrolment.failures == 0),
])
def test_admin_panel_actions(office, button, check):
    panel = AdminPanel(office)
    create_with_panel(panel, "alice")
    mask = LoginMask(office)
    mask.username.value, mask.password.value = "alice", PASSWORD
    mask.login_button.click()
    mask.code.value = current_code(office, mask.attempt.screen.secret)
    mask.code_button.click()
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
    assert bytes(mask.qr.value).startswith(b"\x89PNG") and mask.second_window.children
    assert mask.credentials.layout.display == "none"
    mask.code.value = current_code(office, mask.attempt.screen.secret)
    mask.code_button.click()
    assert mask.attempt.state is State.AUTHENTICATED and "logged in" in mask.message.value
    mask.done_button.click()
    assert mask.attempt.state is State.CREDENTIALS and mask.credentials.layout.display is None


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


def test_login_mask_refresh_expires_the_step(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    mask = LoginMask(office)
    mask.username.value, mask.password.value = "alice", PASSWORD
    mask.login_button.click()
    mask.refresh()
    assert "closes in 5:00" in mask.countdown.value
    office.clock.advance(office.policy.code_step_timeout)
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
