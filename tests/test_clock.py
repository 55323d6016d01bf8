"""One clock: settable, advanceable, and controlled by freezegun when it follows the wall clock."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from twofa_sim import BackOffice, Clock, ClockError, Policy, State

from conftest import PASSWORD


def test_pinned_clock_moves_only_when_told():
    clock = Clock.at("2026-01-05T09:00:00Z")
    start = clock.now()
    clock.advance(90)
    assert clock.now() - start == 90
    clock.set(dt.datetime(2030, 1, 1))
    assert clock.now() == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc).timestamp()


def test_wall_clock_follows_freezegun():
    clock = Clock()
    with freeze_time("2026-03-01 12:00:00") as frozen:
        assert clock.now() == dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc).timestamp()
        frozen.tick(dt.timedelta(seconds=31))
        assert clock.now() == dt.datetime(2026, 3, 1, 12, 0, 31, tzinfo=dt.timezone.utc).timestamp()


def test_a_login_under_freezegun_expires_when_frozen_time_moves():
    with freeze_time("2026-03-01 12:00:00") as frozen:
        office = BackOffice(policy=Policy(kdf_log2_n=4))
        office.create_company("ACME")
        office.create_user("alice", PASSWORD, force_2fa=True)
        login = office.start_login()
        login.submit_password("alice", PASSWORD)
        frozen.tick(dt.timedelta(seconds=office.policy.code_prompt_timeout))
        assert login.poll().state is State.EXPIRED


def test_follow_then_pin_keeps_the_instant():
    clock = Clock.at(1_000_000)
    with freeze_time("2026-03-01 12:00:00") as frozen:
        clock.follow_wall_clock()
        frozen.tick(dt.timedelta(seconds=5))
        assert clock.now() == 1_000_005
        clock.pin()
        frozen.tick(dt.timedelta(seconds=5))
        assert clock.now() == 1_000_005


@pytest.mark.parametrize("moves, real_time, shown", [
    ([], True, "real time"),
    ([("advance", 30)], False, "following the wall clock +30 s"),
    ([("pin",)], False, "pinned"),
    ([("set", "2026-01-05T09:00:00Z"), ("follow_wall_clock",)], False, "following the wall clock"),
    ([("advance", -3600), ("follow_real_time",)], True, "real time"),
    ([("set", "2026-01-05T09:00:00Z"), ("follow_real_time",)], True, "real time"),
])
def test_real_time_is_the_wall_clock_with_no_offset(moves, real_time, shown):
    """Class mode's clock: real apps on correctly set phones show the codes it expects."""
    with freeze_time("2026-12-06 08:00:00"):
        clock = Clock.real_time()
        for name, *arguments in moves:
            getattr(clock, name)(*arguments)
        assert clock.is_real_time is real_time
        assert shown in repr(clock)
        if real_time:
            assert clock.now() == dt.datetime(2026, 12, 6, 8, tzinfo=dt.timezone.utc).timestamp()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, "yesterday", True, None])
def test_bad_times_are_clear_errors(value):
    clock = Clock.at(100)
    with pytest.raises(ClockError):
        clock.set(value)
    assert clock.now() == 100
