"""Attacker analysis: closed form and simulation agree; the schedules do what their systems do."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twofa_sim import Policy, ValidationError
from twofa_sim.analysis.attacker import (DAY, HORIZONS, HOUR, REFERENCE_SCHEDULES, BackendRules, CountLockoutRules, Schedule,
                                attack_table, guess_times, simulate_attack, success_probability,
                                time_to_probability)

ALL = (Schedule.ours(),) + REFERENCE_SCHEDULES
NAMES = [s.name for s in ALL]


@pytest.mark.parametrize("window, digits, p", [(0, 6, 1e-6), (1, 6, 3e-6), (2, 6, 5e-6), (1, 8, 3e-8)])
def test_one_guess_hits_one_of_the_window_codes(window, digits, p):
    assert success_probability(window, digits) == pytest.approx(p)


@pytest.mark.parametrize("name, one_hour, one_day, thirty_days", [
    # ours: 5 guesses 1 s apart, then 900 s locked: a cycle of 904 s
    ("ours", 20, 480, 14_340),
    # django-otp: the k-th guess at 2**(k-1) - 1 s
    ("django-otp", 12, 17, 22),
    # Authelia: its regulation bans after password failures only, so wrong codes go on one a second
    ("Authelia", 3601, 86_401, 2_592_001),
    # GitLab: 10 guesses, then 600 s locked: a cycle of 609 s
    ("GitLab", 60, 1420, 42_570),
    # Keycloak by default: one a second
    ("Keycloak (default)", 3601, 86_401, 2_592_001),
])
def test_guesses_by_hand(name, one_hour, one_day, thirty_days):
    schedule = ALL[NAMES.index(name)]
    assert [schedule.guesses_by(h) for h in HORIZONS.values()] == [one_hour, one_day, thirty_days]


@pytest.mark.parametrize("schedule", ALL, ids=NAMES)
@pytest.mark.parametrize("interval", [0.5, 1.0, 2.0, 8.0, 64.0, 400.0])
def test_closed_form_counts_what_the_rules_engine_does(schedule, interval):
    times = guess_times(schedule, 30 * DAY, interval)
    assert np.all(np.diff(times) >= interval)
    for horizon in (0.0, 7.0, 100.0, 1000.0, HOUR, DAY, 7 * DAY, 30 * DAY):
        assert schedule.guesses_by(horizon, interval) == int(np.searchsorted(times, horizon, side="right")), horizon


def test_the_real_backend_locks_on_our_policy_as_its_closed_form_says():
    policy = Policy(failed_code_limit=4, lockout_seconds=120, code_prompt_timeout=10)
    # 4 s apart, the fourth guess comes after the 10 s code prompt closed: the attacker logs in again
    rules = guess_times(Schedule.ours(policy), DAY, 4.0)
    by_hand = guess_times(Schedule("same numbers", "count-lockout", {"limit": 4, "lockout_seconds": 120.0}), DAY, 4.0)
    assert np.array_equal(rules, by_hand)
    assert list(rules[:9]) == [0, 4, 8, 12, 132, 136, 140, 144, 264]
    assert len(rules) == Schedule.ours(policy).guesses_by(DAY, 4.0)


def test_backend_rules_lock_and_lapse_in_the_real_back_office():
    rules = BackendRules(Policy(failed_code_limit=2, lockout_seconds=60))
    rules.fail(0.0)
    assert rules.earliest(1.0) == 1.0
    rules.fail(1.0)
    assert rules.earliest(2.0) == 61.0
    assert rules.office.user("victim").enrolment.is_locked_out(rules.origin + 30.0)
    rules.fail(61.0)
    assert rules.office.user("victim").enrolment.failures == 1


@pytest.mark.parametrize("schedule", ALL, ids=NAMES)
def test_simulation_agrees_with_the_closed_form_within_statistical_error(schedule):
    sim = simulate_attack(schedule, attackers=400_000, seed=3)
    for label, horizon in HORIZONS.items():
        closed = schedule.probability_by(horizon)
        assert sim.guesses[label] == schedule.guesses_by(horizon)
        assert abs(sim.probability[label] - closed) <= 4 * sim.standard_error[label], label


def test_attack_table_puts_both_side_by_side():
    table = attack_table(Policy(), attackers=200_000)
    assert list(table.index) == NAMES
    for label in HORIZONS:
        assert (table[(label, "z")].abs() < 4).all()
        assert (table[(label, "closed form")] <= 1).all()
    # no lockout at all (Keycloak's default, and Authelia, whose regulation counts passwords only)
    # is far the weakest; doubling delays the strongest
    month = table[("30 days", "closed form")]
    assert month.max() == month["Keycloak (default)"] == month["Authelia"] and month["Authelia"] > 0.99
    assert month.idxmin() == "django-otp"
    assert month["ours"] == pytest.approx(-math.expm1(14_340 * math.log1p(-3e-6)))


def test_policy_knobs_move_the_attackers_odds():
    base = Schedule.ours(Policy())
    assert Schedule.ours(Policy(window=2)).probability_by(DAY) > base.probability_by(DAY)
    assert Schedule.ours(Policy(digits=8)).probability_by(DAY) < base.probability_by(DAY) / 50
    assert Schedule.ours(Policy(failed_code_limit=10)).guesses_by(DAY) > base.guesses_by(DAY)
    assert Schedule.ours(Policy(lockout_seconds=3600)).guesses_by(DAY) < base.guesses_by(DAY)


def test_a_slow_attacker_never_trips_a_regulation_of_3_failures_in_2_minutes():
    """A regulation like Authelia's for passwords (3 failures in 2 min ban for 5 min), applied to codes."""
    regulation = Schedule("regulation", "regulation", {"max_retries": 3, "find_time": 120.0, "ban_time": 300.0}, 1, 6,
                          "ban 5 min after 3 failures in 2 min")
    assert regulation.guesses_by(DAY, 61.0) == math.floor(DAY / 61.0) + 1
    assert regulation.guesses_by(DAY) < math.floor(DAY / 1.0) + 1


def test_time_to_probability_is_the_first_time_the_odds_are_reached():
    ours = Schedule.ours()
    t = time_to_probability(ours, 0.5)
    needed = math.ceil(math.log(0.5) / math.log1p(-ours.p))
    assert ours.guesses_by(t) >= needed > ours.guesses_by(t - 1)
    assert time_to_probability(REFERENCE_SCHEDULES[0], 0.5) == math.inf


@pytest.mark.parametrize("call", [
    lambda: Schedule.ours().guesses_by(DAY, 0.0),
    lambda: simulate_attack(Schedule.ours(), attackers=0),
    lambda: time_to_probability(Schedule.ours(), 1.5),
    lambda: Schedule("odd", "sometimes").guesses_by(DAY),
])
def test_misuse_is_refused(call):
    with pytest.raises(ValidationError):
        call()


def test_count_lock_rules_restart_after_the_lock():
    rules = CountLockoutRules(2, 10.0)
    rules.fail(0.0)
    rules.fail(1.0)
    assert rules.earliest(2.0) == 11.0 and rules.failures == 0
