"""The login's arithmetic rules are one set of pure functions: the same answers on plain numbers
(None: no lock, no step) and on numpy arrays (NaN: no lock; the smallest step: none used), so the
exact engine, the numpy engine and the attacker model cannot drift apart."""

from __future__ import annotations

import numpy as np
import pytest

from twofa_sim.analysis.population import NO_STEP
from twofa_sim.core.otp import a_code_outside_window, code_at, step_of
from twofa_sim.core.rules import (in_window, is_replay, lockout_end, lockout_holds, lockout_lapsed, lockout_standing,
                                  reaches_limit, prompt_timed_out, window_steps)

T = 1_767_600_000.0


@pytest.mark.parametrize("now, locked_out_until, holds, lapsed", [
    (T, None, False, False),
    (T, T + 1, True, False),
    (T, T, False, True),          # the lock ends at its instant
    (T, T - 1, False, True),
])
def test_a_lock_holds_until_its_end_and_then_has_lapsed(now, locked_out_until, holds, lapsed):
    assert (bool(lockout_holds(now, locked_out_until)), bool(lockout_lapsed(now, locked_out_until))) == (holds, lapsed)
    as_array = np.array([np.nan if locked_out_until is None else locked_out_until])
    assert lockout_holds(np.array([now]), as_array).tolist() == [holds]
    assert lockout_lapsed(np.array([now]), as_array).tolist() == [lapsed]


@pytest.mark.parametrize("failures, locked_out_until, now, standing", [
    (3, None, T, (3, None)),
    (5, T + 10, T, (5, T + 10)),
    (5, T + 10, T + 10, (0, None)),   # a lapsed lock wipes the count with it
])
def test_the_standing_of_a_lock(failures, locked_out_until, now, standing):
    assert lockout_standing(failures, locked_out_until, now) == standing


@pytest.mark.parametrize("counted, limit, locks", [(4, 5, False), (5, 5, True), (6, 5, True), (1, 1, True)])
def test_the_failure_that_reaches_the_limit_locks(counted, limit, locks):
    assert reaches_limit(counted, limit) is locks
    assert reaches_limit(np.array([counted]), limit).tolist() == [locks]
    assert lockout_end(T, 900) == T + 900


@pytest.mark.parametrize("step, last_used, protection, replay", [
    (10, None, True, False), (10, 9, True, False), (10, 10, True, True), (9, 10, True, True), (9, 10, False, False)])
def test_a_step_not_later_than_the_last_accepted_one_is_a_replay(step, last_used, protection, replay):
    assert bool(is_replay(step, last_used, protection)) is replay
    used = np.array([NO_STEP if last_used is None else last_used], dtype=np.int64)
    assert (np.array([True]) & is_replay(np.array([step]), used, protection)).tolist() == [replay]


@pytest.mark.parametrize("present, window, steps", [(100, 1, [99, 100, 101]), (0, 2, [0, 1, 2]), (5, 0, [5])])
def test_the_window_and_its_steps(present, window, steps):
    assert list(window_steps(present, window)) == steps
    assert all(in_window(s, present, window) for s in steps)
    assert not in_window(present + window + 1, present, window)
    assert in_window(np.array(steps), present, window).all()


def test_an_open_prompt_times_out_at_its_deadline():
    assert (prompt_timed_out(T, None), prompt_timed_out(T, T + 1), prompt_timed_out(T, T)) == (False, False, True)


@pytest.mark.parametrize("secret", ["JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"])
@pytest.mark.parametrize("t", [0.0, T, T + 29.9])
def test_a_code_outside_the_window_is_none_of_the_windows_codes(secret, t):
    window = 2
    code = a_code_outside_window(secret, t, window=window)
    present = step_of(t)
    around = {code_at(secret, s * 30) for s in range(max(0, present - window - 1), present + window + 2)}
    assert len(code) == 6 and code not in around
