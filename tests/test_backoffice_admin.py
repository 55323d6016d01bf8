"""Admin actions: clear errors that say what and where, and no state change on bad input."""

from __future__ import annotations

import pytest

from twofa_sim import (AlreadyExistsError, BackOffice, NotFoundError, Policy, PolicyError, ValidationError)

from conftest import PASSWORD
from twofa_sim.render.tables import policy_table, users_table


@pytest.mark.parametrize("username, password, error, words", [
    ("al", PASSWORD, ValidationError, "username"),
    ("al:ice", PASSWORD, ValidationError, "username"),
    ("-alice", PASSWORD, ValidationError, "username"),
    ("a" * 65, PASSWORD, ValidationError, "username"),
    (42, PASSWORD, ValidationError, "must be text"),
    ("alice", "short", ValidationError, "at least 10"),
    ("alice", "x" * 129, ValidationError, "at most 128"),
    ("alice", "my alice password", ValidationError, "username"),
    ("alice", "Password123", ValidationError, "common"),
    ("alice", " padded password ", ValidationError, "white space"),
    ("CAROL", PASSWORD, AlreadyExistsError, "ignore case"),
])
def test_create_user_refuses_bad_input_and_changes_nothing(office, username, password, error, words):
    office.create_user("carol", PASSWORD)
    before = (len(office.users), len(office.events))
    with pytest.raises(error, match=words) as caught:
        office.create_user(username, password)
    assert (len(office.users), len(office.events)) == before
    assert str(password) not in str(caught.value)


def test_passwords_are_stored_only_as_scrypt_hashes(office):
    user = office.create_user("alice", PASSWORD)
    assert PASSWORD.encode() not in user.password_hash.digest
    assert repr(user.password_hash) == "PasswordHash(scrypt, N=2**4)"
    assert user.password_hash.matches(PASSWORD) and not user.password_hash.matches(PASSWORD + "x")


@pytest.mark.parametrize("action", [
    lambda o: o.set_force_2fa("nobody", True),
    lambda o: o.reset_2fa("nobody"),
    lambda o: o.unlock("nobody"),
    lambda o: o.issue_recovery_codes("nobody"),
    lambda o: o.set_company_force_2fa("Nowhere", True),
    lambda o: o.create_user("zed", PASSWORD, company="Nowhere"),
])
def test_unknown_names_are_clear_errors(office, action):
    events = len(office.events)
    with pytest.raises(NotFoundError, match="no (user|company) named"):
        action(office)
    assert len(office.events) == events


def test_flags_must_be_booleans(office):
    office.create_user("alice", PASSWORD)
    with pytest.raises(ValidationError, match="true or false"):
        office.set_force_2fa("alice", "yes")
    assert office.user("alice").force_2fa is False


def test_company_required_when_several_exist(office):
    office.create_company("Other")
    with pytest.raises(ValidationError, match="name the company"):
        office.create_user("alice", PASSWORD)
    with pytest.raises(NotFoundError, match="create a company first"):
        BackOffice().create_user("alice", PASSWORD)


@pytest.mark.parametrize("changes, field", [
    ({"algorithm": "MD5"}, "policy.algorithm"),
    ({"digits": 7}, "policy.digits"),
    ({"period": 0}, "policy.period"),
    ({"window": -1}, "policy.window"),
    ({"issuer": "a:b"}, "policy.issuer"),
    ({"secret_bits": 80}, "policy.secret_bits"),
    ({"replay_protection": "yes"}, "policy.replay_protection"),
    ({"windw": 2}, "policy.windw"),
])
def test_policy_refuses_values_it_cannot_honour(changes, field):
    with pytest.raises(PolicyError, match=field):
        Policy().replace(**changes)


def test_every_policy_knob_has_a_reason():
    table = policy_table(Policy())
    assert table["reason"].str.len().min() > 20
    assert (table["value"] == table["default"]).all()


def test_policy_change_is_logged(office):
    office.set_policy(office.policy.replace(window=2))
    assert "window=2" in office.events[-1].detail


def test_users_table_shows_status_without_secrets(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    frame = users_table(office)
    assert frame.loc["alice", "needs 2FA"] and not frame.loc["alice", "enrolled"]
    assert PASSWORD not in frame.to_string()


def test_period_beyond_what_pyotp_computes_is_refused_up_front():
    with pytest.raises(PolicyError, match="policy.period"):
        Policy(period=121)


@pytest.mark.parametrize("typed", ["\u212aIM", "kim\u200b", "ki m", 42])
def test_look_alike_usernames_find_no_user(office, typed):
    office.create_user("kim", PASSWORD)
    assert office.find_user(typed) is None


def test_issuer_with_surrounding_space_is_refused():
    with pytest.raises(PolicyError, match="white space"):
        Policy(issuer=" ACME ")


def test_a_lock_lasts_at_least_a_second():
    with pytest.raises(PolicyError, match="policy.lockout_seconds"):
        Policy(lockout_seconds=0)
