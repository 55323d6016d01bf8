"""Properties over many random cases: the app's codes agree with an independent RFC 6238
computation, URIs read back what was written, and the rotation is consistent."""

from __future__ import annotations

import hmac
import math

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from twofa_sim.apps.authenticator import AppStopped, AuthenticatorApp
from twofa_sim.apps.otpauth import build_key_uri, parse_key_uri, secret_bytes
from twofa_sim.core.secret_source import SeededSecretSource, new_base32_secret

from helpers import independent_totp
from conftest import examples

PROFILE = settings(max_examples=examples(1000), deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow])

secrets_ = st.binary(min_size=14, max_size=64).map(lambda b: new_base32_secret(_Fixed(b), len(b) * 8))
times = st.floats(min_value=0, max_value=2 ** 34, allow_nan=False, allow_infinity=False)
later_times = st.floats(min_value=1000, max_value=2 ** 34, allow_nan=False, allow_infinity=False)
algorithms = st.sampled_from(["SHA1", "SHA256", "SHA512"])
names = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters=":"),
                min_size=1, max_size=20).filter(lambda s: s == s.strip() and s.isprintable())


class _Fixed:
    """A secret source that hands out the bytes hypothesis chose."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def token_bytes(self, n: int) -> bytes:
        return self.data[:n]


@PROFILE
@given(secret=secrets_, t=times, algorithm=algorithms, digits=st.integers(6, 10), period=st.integers(1, 120))
def test_reference_app_codes_agree_with_an_independent_totp(secret, t, algorithm, digits, period):
    app = AuthenticatorApp("reference")
    uri = build_key_uri(secret, "alice", "plenigo", algorithm=algorithm, digits=digits, period=period)
    entry = app.scan_uri(uri, t).entry
    reading = app.reading(entry, t)
    assert reading.code == independent_totp(secret, math.floor(t), algorithm, digits, period)
    assert 0 < reading.seconds_left <= period
    assert reading.step == math.floor(t) // period


@PROFILE
@given(secret=secrets_, t=times, digits=st.sampled_from([6, 8]))
def test_addon_codes_agree_with_an_independent_totp_at_the_nearest_second(secret, t, digits):
    app = AuthenticatorApp("authenticator-addon")
    uri = build_key_uri(secret, "alice", "plenigo", algorithm="SHA256", digits=digits, period=60)
    entry = app.scan_uri(uri, t).entry
    assert app.code(entry, t) == independent_totp(secret, math.floor(t + 0.5), "SHA1", digits, 30)


@settings(max_examples=examples(300), deadline=None, database=None)
@given(secret=secrets_, issuer=names, account=names, algorithm=algorithms, digits=st.integers(1, 10),
       period=st.integers(1, 86_400))
def test_a_built_uri_reads_back_what_was_written(secret, issuer, account, algorithm, digits, period):
    parsed = parse_key_uri(build_key_uri(secret, account, issuer, algorithm=algorithm, digits=digits, period=period))
    assert (parsed.issuer, parsed.label_issuer, parsed.account) == (issuer, issuer, account)
    assert parsed.secret == secret and secret_bytes(parsed.secret) == secret_bytes(secret)
    assert (parsed.setting("algorithm"), parsed.setting("digits"), parsed.setting("period")) == (
        algorithm, digits, period)


@settings(max_examples=examples(200), deadline=None, database=None)
@given(secret=secrets_, start=later_times, period=st.sampled_from([15, 30, 60]), correction=st.integers(-300, 300),
       key=st.sampled_from(["reference", "authenticator-addon", "aegis"]))
def test_the_code_changes_exactly_at_the_announced_instants(secret, start, period, correction, key):
    app = AuthenticatorApp(key)
    entry = app.enter_key("alice", secret, start, period=period if key != "authenticator-addon" else 30).entry
    app.correction = correction
    readings = list(app.changes(entry, start, start + 3 * entry.period))
    for before, after in zip(readings, readings[1:]):
        assert after.step == before.step + 1
        assert after.at - before.at <= entry.period
        assert app.reading(entry, after.at - 1e-3).step == before.step
        assert after.seconds_left == entry.period


def test_the_seeded_source_gives_reproducible_secrets():
    assert new_base32_secret(SeededSecretSource(1)) == new_base32_secret(SeededSecretSource(1))


@settings(max_examples=examples(300), deadline=None, database=None)
@given(secret=secrets_, counter=st.integers(0, 2 ** 40),
       algorithm=st.sampled_from(["SHA1", "SHA224", "SHA256", "SHA384", "SHA512"]), digits=st.integers(6, 10))
def test_the_apps_own_rfc_4226_agrees_with_pyotp_wherever_both_compute(secret, counter, algorithm, digits):
    import hashlib

    import pyotp

    from twofa_sim.apps.authenticator import hotp_code
    expected = pyotp.HOTP(secret, digits=digits, digest=getattr(hashlib, algorithm.lower())).at(counter)
    assert hotp_code(secret, counter, algorithm=algorithm, digits=digits) == expected


@settings(max_examples=examples(300), deadline=None, database=None)
@given(secret=secrets_, t=times, algorithm=st.sampled_from(["MD5", "SHA224", "SHA384"]), digits=st.integers(1, 10),
       period=st.integers(1, 2_147_483))
def test_aegis_and_2fas_codes_beyond_pyotp_agree_with_an_independent_totp(secret, t, algorithm, digits, period):
    app = AuthenticatorApp("aegis" if algorithm == "MD5" else "reference")
    if algorithm != "MD5":                  # SHA224/384: 2FAS, which takes 5 to 8 digits and 10/30/60/90 s
        app = AuthenticatorApp("2fas")
        digits, period = min(max(digits, 5), 8), (10, 30, 60, 90)[period % 4]
    app.scan_uri(build_key_uri(secret, "alice", "A", algorithm=algorithm, digits=digits, period=period), 0)
    mac = hmac.new(secret_bytes(secret), int(t // period).to_bytes(8, "big"), algorithm.lower()).digest()
    if (mac[-1] & 0x0F) + 4 > len(mac):     # MD5: the offset reads past the 16 bytes, as in Aegis
        with pytest.raises(AppStopped, match="most likely stops here .* reads past them"):
            app.code(app.entries[0], t)
        return
    assert app.code(app.entries[0], t) == independent_totp(secret, t, algorithm, digits, period)
