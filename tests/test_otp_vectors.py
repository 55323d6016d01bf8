"""Ground truth from the RFCs, through the same code path the backend uses to check a code."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twofa_sim import Policy
from twofa_sim.login.enrolment import Enrolment
from twofa_sim.login.flow import Outcome
from twofa_sim.core.otp import code_at

from conftest import examples

SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}

# RFC 6238 appendix B: (time, algorithm, TOTP)
RFC6238 = [
    (59, "SHA1", "94287082"), (59, "SHA256", "46119246"), (59, "SHA512", "90693936"),
    (1111111109, "SHA1", "07081804"), (1111111109, "SHA256", "68084774"), (1111111109, "SHA512", "25091201"),
    (1111111111, "SHA1", "14050471"), (1111111111, "SHA256", "67062674"), (1111111111, "SHA512", "99943326"),
    (1234567890, "SHA1", "89005924"), (1234567890, "SHA256", "91819424"), (1234567890, "SHA512", "93441116"),
    (2000000000, "SHA1", "69279037"), (2000000000, "SHA256", "90698825"), (2000000000, "SHA512", "38618901"),
    (20000000000, "SHA1", "65353130"), (20000000000, "SHA256", "77737706"), (20000000000, "SHA512", "47863826"),
]

# RFC 4226 appendix D: HOTP values for counters 0..9 (TOTP at t = counter * 30 is HOTP(counter))
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


def b32(seed: bytes) -> str:
    return base64.b32encode(seed).decode().rstrip("=")


def backend_accepts(secret: str, code: str, t: float, policy: Policy) -> bool:
    return Enrolment(secret=secret).check_code(code, t, policy).outcome is Outcome.ACCEPTED


def test_rfc6238_table_has_18_rows():
    assert len(RFC6238) == 18


@pytest.mark.parametrize("t, algorithm, expected", RFC6238)
def test_rfc6238_appendix_b(t, algorithm, expected):
    secret = b32(SEEDS[algorithm])
    policy = Policy(algorithm=algorithm, digits=8, window=0)
    assert code_at(secret, t, algorithm=algorithm, digits=8) == expected
    assert backend_accepts(secret, expected, t, policy)


@pytest.mark.parametrize("counter, expected", list(enumerate(RFC4226)))
def test_rfc4226_appendix_d(counter, expected):
    secret = b32(SEEDS["SHA1"])
    t = counter * 30
    assert code_at(secret, t) == expected
    assert backend_accepts(secret, expected, t, Policy(window=0))


def test_a_vector_is_refused_one_step_outside_a_zero_window():
    secret = b32(SEEDS["SHA1"])
    assert not backend_accepts(secret, RFC4226[1], 0, Policy(window=0))


@pytest.mark.parametrize("algorithm, key_bytes", [("SHA1", 16), ("SHA1", 64), ("SHA1", 65), ("SHA1", 100),
                                                  ("SHA256", 65), ("SHA512", 128), ("SHA512", 129)])
def test_the_backend_agrees_with_pyotp_on_keys_longer_than_the_hash_block(algorithm, key_bytes):
    """The backend computes HMAC from the key's hashed pads (RFC 2104): a key longer than the hash's
    block is hashed first. pyotp's own code at each instant is accepted, its neighbour's is not."""
    import pyotp
    from twofa_sim.core.policy import ALGORITHMS
    secret = b32(bytes((7 * i + 3) % 256 for i in range(key_bytes)))
    reference = pyotp.TOTP(secret, digits=8, digest=ALGORITHMS[algorithm])
    policy = Policy(algorithm=algorithm, digits=8, window=0)
    for t in (59, 1111111109, 2000000000):
        assert backend_accepts(secret, reference.at(t), t, policy)
        assert reference.at(t + 30) == reference.at(t) or not backend_accepts(secret, reference.at(t + 30), t, policy)


# -- code_at is pyotp's TOTP.at --------------------------------------------------------------------------

@settings(max_examples=examples(300), deadline=None)
@given(key=st.binary(min_size=14, max_size=140), algorithm=st.sampled_from(["SHA1", "SHA256", "SHA512"]),
       digits=st.integers(6, 10), period=st.integers(1, 120),
       t=st.one_of(st.floats(0, 253402300799.99), st.integers(0, 253402300799),
                   st.integers(0, 4_000_000).map(lambda step: step * 30 + 29.999)))
def test_code_at_is_pyotps_code_at_every_instant_it_accepts(key, algorithm, digits, period, t):
    """code_at computes from a cached key, not through pyotp's TOTP.at: every code equals pyotp's
    (the first call, which builds the key, and a later one that reuses it)."""
    import pyotp
    from twofa_sim.core.policy import ALGORITHMS
    secret = b32(key)
    expected = pyotp.TOTP(secret, digits=digits, digest=ALGORITHMS[algorithm], interval=period).at(int(t))
    assert code_at(secret, t, algorithm=algorithm, digits=digits, period=period) == expected
    assert code_at(secret, t, algorithm=algorithm, digits=digits, period=period) == expected


@pytest.mark.parametrize("t, expected", [(-0.9, RFC4226[0]), (0, RFC4226[0]), (29.99, RFC4226[0]), (30, RFC4226[1]),
                                         (253402300799, "099568"), (253402300799.5, "099568")])
def test_code_at_at_the_ends_of_the_instants_pyotp_accepts(t, expected):
    import pyotp
    secret = b32(SEEDS["SHA1"])
    assert code_at(secret, t) == expected == pyotp.TOTP(secret).at(int(t))


@pytest.mark.parametrize("t", [-1, -30, 253402300800, 253402300800.5, 10 ** 12])
def test_code_at_refuses_the_instants_pyotp_refuses_with_pyotps_reason(t):
    with pytest.raises(ValueError, match="for_time must be at or after the Unix epoch and before year 10000 UTC"):
        code_at(b32(SEEDS["SHA1"]), t)
