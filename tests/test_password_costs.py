"""Password hash costs: every cost the policy accepts works, a refused policy change changes
nothing, and timing does not tell unknown usernames from known ones, whatever the stored costs.

Timing is checked by counting: each password check's scrypt calls and their N, recorded from
``hashlib.scrypt``. Equal calls at equal N are equal work; the benchmark-free way to show it.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter

import pytest

from twofa_sim import BackOffice, Clock, EventKind, Policy, PolicyError, SeededSecretSource, State
from twofa_sim.core.passwords import MAX_STORED_LOG2_N, PasswordHash, scrypt_memory
from twofa_sim.core.policy import KDF_LOG2_N_MAX

from conftest import PASSWORD, START, make_office

OPENSSL_MAXMEM_LIMIT = 2 ** 31 - 1       # hashlib.scrypt refuses a maxmem of this or more


def scrypt_calls(monkeypatch) -> list[int]:
    """Record N of every scrypt the code under test runs."""
    calls: list[int] = []
    real = hashlib.scrypt

    def counted(*args, **kwargs):
        calls.append(kwargs["n"])
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    return calls


def cost_of(office: BackOffice, monkeypatch, username: str, password: str) -> list[int]:
    """The scrypt work one login's password step does."""
    calls = scrypt_calls(monkeypatch)
    office.start_login().submit_password(username, password)
    monkeypatch.undo()
    return calls


# -- every cost works ----------------------------------------------------------------------------------

@pytest.mark.parametrize("log2_n", [1, 10, 14])
def test_the_memory_bound_is_exactly_what_scrypt_needs(log2_n):
    n = 2 ** log2_n
    hashlib.scrypt(b"x", salt=b"s" * 16, n=n, r=8, p=1, maxmem=scrypt_memory(log2_n), dklen=32)
    with pytest.raises(ValueError, match="memory limit exceeded"):
        hashlib.scrypt(b"x", salt=b"s" * 16, n=n, r=8, p=1, maxmem=scrypt_memory(log2_n) - 1, dklen=32)


def test_the_highest_stored_cost_is_the_highest_scrypt_can_run():
    assert scrypt_memory(MAX_STORED_LOG2_N) < OPENSSL_MAXMEM_LIMIT <= scrypt_memory(MAX_STORED_LOG2_N + 1)
    assert KDF_LOG2_N_MAX <= MAX_STORED_LOG2_N


def test_the_highest_cost_the_policy_accepts_works_from_creation_to_login(monkeypatch):
    office = BackOffice(policy=Policy(kdf_log2_n=KDF_LOG2_N_MAX), clock=Clock.at(START),
                        secret_source=SeededSecretSource(1))
    office.create_company("ACME")
    office.create_user("alice", PASSWORD)
    assert office.start_login().submit_password("alice", PASSWORD).state is State.AUTHENTICATED
    assert cost_of(office, monkeypatch, "nobody", PASSWORD) == [2 ** KDF_LOG2_N_MAX]


@pytest.mark.parametrize("log2_n", [0, KDF_LOG2_N_MAX + 1, 20, 21])
def test_the_policy_refuses_costs_outside_its_range(log2_n):
    with pytest.raises(PolicyError, match=f"policy.kdf_log2_n.*between 1 and {KDF_LOG2_N_MAX}"):
        Policy(kdf_log2_n=log2_n)


# The hash of PASSWORD at N = 2**20 with the salt bytes 0..15, computed once with
# twofa_sim.core.passwords._scrypt (about 5 s and 1 GiB); checking it here runs one such scrypt.
SALT_0_TO_15 = bytes(range(16))
DIGEST_AT_2_20 = base64.b64decode("5wRTfSo0Zyc/G6ezWOB4vjcy41fYbhzGXNcPrD1K9RI=")


def test_a_stored_hash_at_the_highest_stored_cost_logs_in_and_is_upgraded(office):
    """A session file may hold a hash dearer than any policy allows: it checks, and the correct
    password rehashes it at the policy's cost."""
    office.create_user("alice", PASSWORD)
    office.user("alice").password_hash = PasswordHash(SALT_0_TO_15, DIGEST_AT_2_20, MAX_STORED_LOG2_N)
    assert office.start_login().submit_password("alice", PASSWORD).state is State.AUTHENTICATED
    assert office.user("alice").password_hash.log2_n == office.policy.kdf_log2_n
    assert office.start_login().submit_password("alice", PASSWORD).state is State.AUTHENTICATED


@pytest.mark.parametrize("log2_n", [0, MAX_STORED_LOG2_N + 1, "14", 14.0, True])
def test_a_stored_hash_refuses_a_cost_scrypt_cannot_run(log2_n):
    with pytest.raises(ValueError, match="log2_n must be a whole number from 1 to 20"):
        PasswordHash(SALT_0_TO_15, DIGEST_AT_2_20, log2_n)


def test_a_refused_policy_change_changes_nothing():
    office = make_office()
    before, events = office.policy, len(office.events)
    with pytest.raises(ValueError, match="policy"):
        office.set_policy({"kdf_log2_n": 8, "period": 60})
    assert office.policy is before and len(office.events) == events


def test_a_back_office_and_a_cost_change_hash_nothing_yet_unknown_names_cost_one_scrypt(monkeypatch):
    """The decoys an unknown name is checked against are random salts and digests: making them runs
    no scrypt (a class server's warm kernel opens a back office before its trainee arrives), checking
    against one runs scrypt at its cost, and no password matches one."""
    calls = scrypt_calls(monkeypatch)
    office = make_office()
    office.set_policy(office.policy.replace(kdf_log2_n=8))
    assert calls == []
    assert office.start_login().submit_password("nobody", "decoy password").state is State.CREDENTIALS
    assert calls == [2 ** 8]


# -- timing does not reveal usernames -------------------------------------------------------------------

def test_after_a_cost_change_unknown_and_known_usernames_cost_the_same(office, monkeypatch):
    """The issue's case: the policy lowers the cost; stored hashes keep theirs until their users log in."""
    for name in ("alice", "bob", "carol"):
        office.create_user(name, PASSWORD)
    office.set_policy(office.policy.replace(kdf_log2_n=8))
    known = cost_of(office, monkeypatch, "alice", "not the password")
    assert known == [2 ** 4]
    for name in ("nobody", "mallory", "x" * 64):
        assert cost_of(office, monkeypatch, name, PASSWORD) == known


@pytest.mark.parametrize("stored", [(1, 1, 1), (1, 2, 3), (1, 1, 3, 3), (2, 3, 3, 3)])
def test_unknown_usernames_cost_what_users_cost_whatever_the_mix(stored, monkeypatch):
    """Hashes of several costs (policy changes, session files): each unknown name costs one scrypt
    at a cost some user has, the same on every try, and over many names as often as users have it."""
    office = make_office(kdf_log2_n=2)
    for i, log2_n in enumerate(stored):
        office.set_policy(office.policy.replace(kdf_log2_n=log2_n))
        office.create_user(f"user{i}", PASSWORD)
    office.set_policy(office.policy.replace(kdf_log2_n=2))
    known = sorted(cost_of(office, monkeypatch, f"user{i}", "wrong password")[0] for i in range(len(stored)))
    assert known == sorted(2 ** c for c in stored)
    names = [f"stranger{i}" for i in range(300)]
    costs = [cost_of(office, monkeypatch, name, PASSWORD) for name in names]
    assert all(len(c) == 1 and c[0] in known for c in costs), "one scrypt at a cost a user has"
    assert cost_of(office, monkeypatch, names[0].upper(), PASSWORD) == costs[0], "a name costs the same each try"
    share = Counter(c[0] for c in costs)
    for n, count in Counter(known).items():
        assert abs(share[n] / len(names) - count / len(known)) < 0.15, (share, known)


def test_a_correct_password_upgrades_the_hash_to_the_policy_cost_once(office, monkeypatch):
    office.create_user("alice", PASSWORD)
    office.create_user("bob", PASSWORD)
    office.set_policy(office.policy.replace(kdf_log2_n=6))
    office.start_login().submit_password("alice", "not the password")
    assert office.events.count(EventKind.PASSWORD_HASH_UPGRADED) == 0, "a wrong password upgrades nothing"
    assert office.start_login().submit_password("alice", PASSWORD).state is State.AUTHENTICATED
    [event] = office.events.of_kind(EventKind.PASSWORD_HASH_UPGRADED)
    assert (event.user, event.actor, event.detail) == ("alice", "system", "scrypt N=2**4 -> 2**6")
    assert PASSWORD not in str(event) and office.user("alice").password_hash.log2_n == 6
    office.start_login().submit_password("alice", PASSWORD)
    assert office.events.count(EventKind.PASSWORD_HASH_UPGRADED) == 1, "upgraded once"
    assert cost_of(office, monkeypatch, "alice", "not the password") == [2 ** 6]
    assert cost_of(office, monkeypatch, "bob", "not the password") == [2 ** 4]
    office.start_login().submit_password("bob", PASSWORD)
    assert cost_of(office, monkeypatch, "nobody", PASSWORD) == [2 ** 6], "once all are upgraded, decoys follow"


def test_a_scenario_asking_for_a_cost_above_the_bound_is_an_invalid_file(tmp_path):
    from twofa_sim import ScenarioError, load_scenario

    path = tmp_path / "dear.yaml"
    path.write_text("name: dear\npolicy: {kdf_log2_n: 20}\nusers:\n  alice: {}\nsteps:\n  - login: alice\n",
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match="kdf_log2_n: must be between 1 and 17, got 20"):
        load_scenario(path)
