"""Each rule of the flow, a test each (tables where the rule has cases)."""

from __future__ import annotations

import pytest

from twofa_sim import EventKind, Outcome, Reason, State, ValidationError
from twofa_sim.core.otp import code_at, matching_step, matching_steps

from conftest import PASSWORD, make_office
from helpers import at_code_prompt, current_code, enrol, independent_totp, refused_code
from twofa_sim.render.tables import users_table


# -- wrong username and wrong password look the same --------------------------------------------

def test_wrong_username_and_wrong_password_give_one_identical_answer(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    unknown = office.start_login().submit_password("mallory", PASSWORD)
    wrong = office.start_login().submit_password("alice", "not the password")
    assert unknown == wrong
    assert unknown.state is State.CREDENTIALS and not unknown.qr_shown
    assert "2" not in unknown.message and "code" not in unknown.message.lower()


# -- the window, as a whole vector ---------------------------------------------------------------

@pytest.mark.parametrize("window, accepted", [
    (0, [False, False, False, True, False, False, False]),
    (1, [False, False, True, True, True, False, False]),
    (2, [False, True, True, True, True, True, False]),
])
def test_window_accepts_exactly_its_steps(window, accepted):
    office = make_office(window=window)
    results = []
    for offset in range(-3, 4):
        name = f"user{offset + 3}"
        office.create_user(name, PASSWORD, force_2fa=True)
        login = office.start_login()
        secret = login.submit_password(name, PASSWORD).screen.secret
        results.append(login.submit_code(current_code(office, secret, offset)).outcome is Outcome.ACCEPTED)
    assert results == accepted


def test_default_window_is_one_step_either_side():
    assert make_office().policy.window == 1


# -- code format -----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, outcome, reason", [
    ("{code}", Outcome.ACCEPTED, Reason.NONE),
    ("{c3} {c3b}", Outcome.ACCEPTED, Reason.NONE),
    (" {code} ", Outcome.ACCEPTED, Reason.NONE),
    ("{c5}", Outcome.REJECTED, Reason.MALFORMED),
    ("{code}0", Outcome.REJECTED, Reason.MALFORMED),
    ("12345a", Outcome.REJECTED, Reason.MALFORMED),
    ("", Outcome.REJECTED, Reason.MALFORMED),
    ("{c3}\u200b{c3b}", Outcome.REJECTED, Reason.MALFORMED),
])
def test_code_format(office, typed, outcome, reason):
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(30)
    code = current_code(office, secret)
    login = at_code_prompt(office, "alice")
    text = typed.format(code=code, c3=code[:3], c3b=code[3:], c5=code[:5])
    result = login.submit_code(text)
    assert (result.outcome, result.reason) == (outcome, reason)
    if reason is Reason.MALFORMED:
        assert office.user("alice").enrolment.failures == 0, "a malformed code is not a guess"
        assert "6 digits" in result.message


def test_full_width_digits_are_folded(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(30)
    wide = "".join(chr(0xFF10 + int(d)) for d in current_code(office, secret))
    assert at_code_prompt(office, "alice").submit_code(wide).outcome is Outcome.ACCEPTED


# -- replay (RFC 6238 section 5.2) ---------------------------------------------------------------

def test_a_used_code_is_refused_as_a_replay(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(30)
    code = current_code(office, secret)
    assert at_code_prompt(office, "alice").submit_code(code).state is State.AUTHENTICATED
    replay = at_code_prompt(office, "alice").submit_code(code)
    assert (replay.state, replay.reason) == (State.CODE_REQUIRED, Reason.REPLAY)
    earlier = at_code_prompt(office, "alice").submit_code(current_code(office, secret, -1))
    assert earlier.reason is Reason.REPLAY, "a step before the last accepted one is a replay too"
    assert office.events.count(EventKind.REPLAY_BLOCKED, "alice") == 2


# Two adjacent steps with one code (about once in a million steps). Found by walking the steps from
# 2026-01-05T09:00:00Z for pyotp's example secret written twice (160 bits) with RFC 6238 written out
# (hmac, SHA1, 6 digits) until a step's code equalled the next one's (about 60,000 steps, under a
# second); the test checks the collision again first.
COLLIDING_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
COLLIDING_STEP = 59_141_676                      # 2026-03-23T07:18:00Z; step + 1 has the same code


def test_the_colliding_steps_do_collide():
    first, second = (independent_totp(COLLIDING_SECRET, (COLLIDING_STEP + i) * 30) for i in (0, 1))
    assert first == second == "212317"
    assert independent_totp(COLLIDING_SECRET, (COLLIDING_STEP - 1) * 30) != first
    assert independent_totp(COLLIDING_SECRET, (COLLIDING_STEP + 2) * 30) != first


def test_matching_steps_finds_every_step_with_the_code():
    t = COLLIDING_STEP * 30 + 40                 # in the second of the two steps
    assert matching_steps(COLLIDING_SECRET, "212317", t, window=1) == [COLLIDING_STEP, COLLIDING_STEP + 1]
    assert matching_step(COLLIDING_SECRET, "212317", t, window=1) == COLLIDING_STEP


def test_a_code_equal_to_the_used_previous_steps_code_is_accepted_for_its_own_step(office):
    """django-otp's rule: skip the steps at or before the last accepted one and keep looking. The
    code of step S was used; step S+1 shows the same code, which is a fresh code, not a replay."""
    office.create_user("alice", PASSWORD, force_2fa=True)
    office.user("alice").enrolment.secret = COLLIDING_SECRET
    office.clock.set(COLLIDING_STEP * 30 + 5)
    first = at_code_prompt(office, "alice").submit_code("212317")
    assert (first.outcome, first.time_step) == (Outcome.ACCEPTED, COLLIDING_STEP)
    office.clock.advance(30)
    second = at_code_prompt(office, "alice").submit_code("212317")
    assert (second.outcome, second.reason, second.time_step) == (Outcome.ACCEPTED, Reason.NONE, COLLIDING_STEP + 1)
    third = at_code_prompt(office, "alice").submit_code("212317")
    assert (third.outcome, third.reason) == (Outcome.REJECTED, Reason.REPLAY), "both steps used now"
    assert office.user("alice").enrolment.failures == 1


# -- the server's clock set back -------------------------------------------------------------------

@pytest.mark.parametrize("back, outcome, reason, counted", [
    (0, Outcome.REJECTED, Reason.REPLAY, 1),                    # the same code again: a replay
    (30, Outcome.REJECTED, Reason.REPLAY, 1),                   # the last step is still in the window
    (60, Outcome.CLOCK_BEHIND, Reason.CLOCK_BEHIND, 0),         # the last step is past the window's end
    (3600, Outcome.CLOCK_BEHIND, Reason.CLOCK_BEHIND, 0),
])
def test_a_right_code_after_the_server_clock_went_back_is_not_counted(office, back, outcome, reason, counted):
    """Rule: a right code refused only because the last accepted step lies beyond the server's
    window is reported as "server clock behind" and not counted, so a clock set back does not lock
    users out; the event log shows it to an admin."""
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(-back)
    login = at_code_prompt(office, "alice")
    result = login.submit_code(current_code(office, secret))
    assert (result.outcome, result.reason, result.state) == (outcome, reason, State.CODE_REQUIRED)
    assert office.user("alice").enrolment.failures == counted
    if outcome is Outcome.CLOCK_BEHIND:
        assert "clock" in result.message and "not count" in result.message
        [event] = office.events.of_kind(EventKind.SERVER_CLOCK_BEHIND, "alice")
        assert event.reason == "server clock behind" and "s beyond the server's window" in event.detail


def test_a_clock_set_back_no_longer_locks_users_out(office):
    """The issue's story: five logins with right codes after the clock went back used to lock alice."""
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(-3600)
    for _ in range(2 * office.policy.failed_code_limit):
        result = at_code_prompt(office, "alice").submit_code(current_code(office, secret))
        assert result.outcome is Outcome.CLOCK_BEHIND
    assert not office.user("alice").enrolment.is_locked_out(office.clock.now())
    wrong = at_code_prompt(office, "alice").submit_code(refused_code(office, secret))
    assert wrong.reason is Reason.WRONG_CODE and office.user("alice").enrolment.failures == 1, "guesses still count"
    office.clock.advance(3600 + 30)
    assert at_code_prompt(office, "alice").submit_code(current_code(office, secret)).state is State.AUTHENTICATED


def test_replay_protection_can_be_turned_off():
    office = make_office(replay_protection=False)
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    code = current_code(office, secret)
    assert at_code_prompt(office, "alice").submit_code(code).outcome is Outcome.ACCEPTED


# -- lockout and unlock --------------------------------------------------------------------------

def test_failed_codes_count_across_logins_and_lock(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    limit = office.policy.failed_code_limit
    outcomes = []
    for attempt in range(limit):
        login = at_code_prompt(office, "alice")  # a new login each time
        outcomes.append(login.submit_code(refused_code(office, secret)).outcome)
    assert outcomes == [Outcome.REJECTED] * (limit - 1) + [Outcome.LOCKS_OUT]
    locked_out_until = office.user("alice").enrolment.locked_out_until
    assert locked_out_until == office.clock.now() + office.policy.lockout_seconds

    office.clock.advance(60)
    refused = office.start_login().submit_password("alice", PASSWORD)
    assert refused.state is State.LOCKED_OUT and refused.locked_out_until == locked_out_until

    office.clock.advance(office.policy.lockout_seconds)
    login = at_code_prompt(office, "alice")
    assert login.submit_code(current_code(office, secret)).state is State.AUTHENTICATED


def test_a_lock_set_elsewhere_refuses_even_a_right_code(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(30)
    waiting = at_code_prompt(office, "alice")
    attacker = at_code_prompt(office, "alice")
    for _ in range(office.policy.failed_code_limit):
        attacker.submit_code("999999" if current_code(office, secret) != "999999" else "888888")
    result = waiting.submit_code(current_code(office, secret))
    assert (result.state, result.outcome) == (State.LOCKED_OUT, Outcome.IS_LOCKED_OUT)


def test_admin_unlock_ends_the_lock_at_once(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(30)
    for _ in range(office.policy.failed_code_limit):
        at_code_prompt(office, "alice").submit_code(refused_code(office, secret))
    assert office.start_login().submit_password("alice", PASSWORD).state is State.LOCKED_OUT
    office.unlock("alice")
    assert at_code_prompt(office, "alice").submit_code(current_code(office, secret)).state is State.AUTHENTICATED
    assert office.events.count(EventKind.UNLOCKED, "alice") == 1


# -- expiry --------------------------------------------------------------------------------------

@pytest.mark.parametrize("wait, state", [(299, State.AUTHENTICATED), (300, State.EXPIRED)])
def test_code_prompt_expires_after_the_policy_time(office, wait, state):
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(30)
    login = at_code_prompt(office, "alice")
    office.clock.advance(wait)
    assert login.submit_code(current_code(office, secret)).state is state


def test_poll_closes_an_open_qr_prompt(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    login = office.start_login()
    login.submit_password("alice", PASSWORD)
    assert login.poll().state is State.ENROLMENT
    office.clock.advance(office.policy.code_prompt_timeout)
    assert login.poll().state is State.EXPIRED and login.screen is None
    assert office.events.count(EventKind.EXPIRED, "alice") == 1
    assert login.start_over().state is State.CREDENTIALS


# -- unconfirmed enrolment ---------------------------------------------------------------------------

@pytest.mark.parametrize("renew, same_secret", [(False, True), (True, False)])
def test_unconfirmed_enrolment_keeps_or_renews_its_secret(renew, same_secret):
    office = make_office(renew_unconfirmed_secret=renew)
    office.create_user("alice", PASSWORD, force_2fa=True)
    first = office.start_login().submit_password("alice", PASSWORD).screen.secret
    second = office.start_login().submit_password("alice", PASSWORD).screen.secret
    assert (first == second) is same_secret


def test_a_wrong_code_leaves_the_user_in_enrolment(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    login = office.start_login()
    secret = login.submit_password("alice", PASSWORD).screen.secret
    wrong = refused_code(office, secret)
    result = login.submit_code(wrong)
    assert result.state is State.ENROLMENT and result.qr_shown
    assert not office.user("alice").enrolment.is_enrolled


# -- recovery codes --------------------------------------------------------------------------------

def test_recovery_codes_are_single_use_and_hashed(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    enrol(office, "alice")
    codes = office.issue_recovery_codes("alice")
    assert len(codes) == office.policy.recovery_code_count == 10
    stored = repr(office.user("alice").enrolment.recovery) + str(office.user("alice").enrolment.recovery.unused)
    assert not any(c in stored or c.replace("-", "") in stored for c in codes)

    assert at_code_prompt(office, "alice").submit_recovery_code(codes[3].upper()).state is State.AUTHENTICATED
    again = at_code_prompt(office, "alice").submit_recovery_code(codes[3])
    assert (again.state, again.reason) == (State.CODE_REQUIRED, Reason.UNKNOWN_RECOVERY_CODE)
    assert office.user("alice").enrolment.recovery.remaining == 9


def test_recovery_codes_need_an_enrolled_user(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    with pytest.raises(ValidationError, match="has not enrolled"):
        office.issue_recovery_codes("alice")


# -- admin reset (lost phone) ------------------------------------------------------------------------

def test_admin_reset_shows_a_fresh_qr_and_old_codes_stop_working(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    old = enrol(office, "alice")
    office.issue_recovery_codes("alice")
    office.reset_2fa("alice")
    office.clock.advance(30)
    login = office.start_login()
    result = login.submit_password("alice", PASSWORD)
    assert result.state is State.ENROLMENT and result.screen.secret != old
    stale = login.submit_code(current_code(office, old))
    assert stale.reason is Reason.WRONG_CODE
    assert login.submit_code(current_code(office, result.screen.secret)).state is State.AUTHENTICATED


# -- force flag and company setting -------------------------------------------------------------------

@pytest.mark.parametrize("keep, state_after_untick", [
    (True, State.CODE_REQUIRED),
    (False, State.AUTHENTICATED),
])
def test_unticking_the_force_flag_after_enrolment(keep, state_after_untick):
    office = make_office(keep_2fa_when_unforced=keep)
    office.create_user("alice", PASSWORD, force_2fa=True)
    enrol(office, "alice")
    office.set_force_2fa("alice", False)
    assert office.start_login().submit_password("alice", PASSWORD).state is state_after_untick


def test_unticking_before_enrolment_means_no_qr(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    office.set_force_2fa("alice", False)
    assert office.start_login().submit_password("alice", PASSWORD).state is State.AUTHENTICATED


@pytest.mark.parametrize("company_setting, user_flag, needs", [
    (False, False, False), (False, True, True), (True, False, True), (True, True, True),
])
def test_a_user_needs_2fa_when_company_or_flag_says_so(office, company_setting, user_flag, needs):
    office.create_user("alice", PASSWORD, force_2fa=user_flag)
    office.set_company_force_2fa("ACME", company_setting)
    state = office.start_login().submit_password("alice", PASSWORD).state
    assert state is (State.ENROLMENT if needs else State.AUTHENTICATED)
    assert office.needs_2fa(office.user("alice")) is needs


def test_company_setting_turns_2fa_on_for_all_its_users_at_once(office):
    office.create_company("Other")
    for name in ("ann", "ben", "cyd"):
        office.create_user(name, PASSWORD, company="ACME")
    office.create_user("dora", PASSWORD, company="Other")
    office.set_company_force_2fa("ACME", True)
    states = {n: office.start_login().submit_password(n, PASSWORD).state for n in ("ann", "ben", "cyd", "dora")}
    assert states == {"ann": State.ENROLMENT, "ben": State.ENROLMENT, "cyd": State.ENROLMENT,
                      "dora": State.AUTHENTICATED}


# -- drift tracking ----------------------------------------------------------------------------------

def test_drift_tracking_recentres_the_window():
    office = make_office(drift_tracking=True)
    office.create_user("alice", PASSWORD, force_2fa=True)
    login = office.start_login()
    secret = login.submit_password("alice", PASSWORD).screen.secret
    assert login.submit_code(current_code(office, secret, +1)).outcome is Outcome.ACCEPTED
    office.clock.advance(60)
    # the device runs a step ahead: +2 is inside the window once it is centred on +1
    assert at_code_prompt(office, "alice").submit_code(current_code(office, secret, +2)).outcome is Outcome.ACCEPTED


def test_a_lapsed_lock_shows_no_failed_codes(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    for _ in range(office.policy.failed_code_limit):
        at_code_prompt(office, "alice").submit_code(refused_code(office, secret))
    assert users_table(office).loc["alice", "failed codes"] == office.policy.failed_code_limit
    office.clock.advance(office.policy.lockout_seconds)
    assert users_table(office).loc["alice", "failed codes"] == 0
