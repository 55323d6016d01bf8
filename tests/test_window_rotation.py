"""The window and rotation analyses of chapter 4, checked against real logins and an independent
TOTP."""

from __future__ import annotations

import pytest

from twofa_sim import BackOffice, Clock, Device, Policy, PolicyError, SeededSecretSource, ValidationError
from twofa_sim.analysis.rotation import code_table, shown_codes, turnovers
from twofa_sim.analysis.window import skew_acceptance, window_acceptance
from twofa_sim.core.secret_source import new_base32_secret

from helpers import independent_totp

SECRET = new_base32_secret(SeededSecretSource(4))
NINE = Clock.at("2026-01-05T09:00:00Z").now()


@pytest.mark.parametrize("window, accepted", [
    (0, [False, False, False, True, False, False, False]),
    (1, [False, False, True, True, True, False, False]),
    (2, [False, True, True, True, True, True, False]),
    (3, [True, True, True, True, True, True, True]),
])
def test_the_window_accepts_exactly_its_steps(window, accepted):
    table = window_acceptance(windows=[window])
    assert table.loc[f"window {window}"].tolist() == accepted
    assert table.columns.tolist() == ["-3", "-2", "-1", "+0", "+1", "+2", "+3"]


def test_the_window_counts_steps_of_the_policys_period():
    table = window_acceptance(windows=[1], offsets=[-2, -1, 0, 1, 2], base=Policy(period=60))
    assert table.loc["window 1"].tolist() == [False, True, True, True, False]


@pytest.mark.parametrize("skew, inside", [
    (-65, False), (-41, False), (-40, True), (-25, True), (0, True), (25, True), (49, True), (50, False),
    (65, False),
])
def test_a_device_off_the_clock_gets_in_while_its_code_is_in_the_window(skew, inside):
    # 10 s into a step: "ahead" reaches the next step's end at +50 s, "behind" the previous step's start at -40 s
    assert skew_acceptance([skew]).to_dict() == {skew: inside}


@pytest.mark.parametrize("call, field", [
    (lambda: window_acceptance(windows=[]), "windows"),
    (lambda: window_acceptance(windows=["1"]), "windows"),
    (lambda: window_acceptance(offsets=[0.5]), "offsets"),
    (lambda: skew_acceptance([True]), "skews"),
    (lambda: code_table(SECRET, [NINE], period=0), "period"),
    (lambda: shown_codes(SECRET, [], NINE, every=-10), "period"),
    (lambda: turnovers([], NINE, 0), "seconds"),
])
def test_bad_arguments_are_named(call, field):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.field == field


def test_a_window_the_policy_refuses_is_a_policy_error():
    with pytest.raises(PolicyError):
        window_acceptance(windows=[11])


@pytest.mark.parametrize("period", [30, 60])
def test_the_code_table_is_rfc_6238(period):
    instants = [NINE + s for s in (0, 1, 29, 30, 59, 60, 89, 90)]
    table = code_table(SECRET, instants, period=period)
    assert table["code"].tolist() == [independent_totp(SECRET, t, period=period) for t in instants]
    assert table["step"].tolist() == [int(t // period) for t in instants]
    assert table["seconds left"].tolist() == [period - int(t) % period for t in instants]


def devices():
    office = BackOffice(policy=Policy(kdf_log2_n=4), clock=Clock.at("2026-01-05T09:00:10Z"),
                        secret_source=SeededSecretSource(4))
    office.create_company("ACME")
    office.create_user("alice", "correct horse 42", force_2fa=True)
    screen = office.start_login().submit_password("alice", "correct horse 42").screen
    phone = Device.for_user(office, "alice", app="reference", name="phone")
    browser = Device.for_user(office, "alice", app="authenticator-addon", name="browser")
    ahead = Device.for_user(office, "alice", app="reference", name="ahead", offset=7)
    for device in (phone, browser, ahead):
        device.scan(screen.page_image())
    return office, screen, [phone, browser, ahead]


def test_turnovers_follow_each_apps_own_clock_and_rounding():
    office, _, apps = devices()
    assert turnovers(apps, office.clock.now(), 60) == {"phone": [20.0, 50.0], "browser": [19.5, 49.5],
                                                     "ahead": [13.0, 43.0]}


def test_shown_codes_are_what_each_app_shows():
    office, screen, apps = devices()
    now = office.clock.now()
    shown = shown_codes(screen.secret, apps, now, seconds=60, every=10)
    assert shown["expected"].tolist() == [independent_totp(screen.secret, now + s) for s in range(0, 60, 10)]
    assert (shown["phone"] == shown["expected"]).all() and (shown["browser"] == shown["expected"]).all()
    assert shown["ahead"].tolist() == [independent_totp(screen.secret, now + s + 7) for s in range(0, 60, 10)]
