"""Ground truth from the RFCs, through the same code path the backend uses to check a code."""

from __future__ import annotations

import base64

import pytest

from twofa_sim import Policy
from twofa_sim.login.enrolment import Enrolment
from twofa_sim.login.flow import Outcome
from twofa_sim.core.otp import code_at

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
