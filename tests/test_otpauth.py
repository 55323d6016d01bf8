"""The Key URI format: every valid form reads as the format says, every invalid one is a UriError
naming its field, secrets never reach a message, and pyotp agrees wherever the format leaves it
room to (the table at the end says where it does not)."""

from __future__ import annotations

import base64
import hashlib

import pyotp
import pytest

from twofa_sim import Policy, UriError
from twofa_sim.apps.otpauth import KeyUri, build_key_uri, normalise_secret, parse_key_uri
from twofa_sim.apps.qr import provisioning_uri

S = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"          # 160 bits
PADDED = base64.b32encode(b"eleven byte").decode()  # 88 bits: 18 characters and 6 '='
T = "otpauth://totp/"

# (uri, type, label issuer, account, issuer parameter, issuer, algorithm, digits, period)
VALID = [
    (f"{T}Example:alice@google.com?secret={S}&issuer=Example", "totp", "Example", "alice@google.com", "Example",
     "Example", None, None, None),
    (f"{T}ACME%20Co:john.doe@email.com?secret={S}&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30", "totp",
     "ACME Co", "john.doe@email.com", "ACME Co", "ACME Co", "SHA1", 6, 30),
    (f"{T}Big%20Corporation%3A%20alice%40bigco.com?secret={S}", "totp", "Big Corporation", "alice@bigco.com", None,
     "Big Corporation", None, None, None),
    (f"{T}Provider1:Alice%20Smith?secret={S}", "totp", "Provider1", "Alice Smith", None, "Provider1", None, None, None),
    (f"{T}alice?secret={S}&issuer=ACME", "totp", None, "alice", "ACME", "ACME", None, None, None),
    (f"{T}alice?secret={S}", "totp", None, "alice", None, "", None, None, None),
    (f"{T}ACME%20Co:alice?secret={S}&issuer=ACME+Co", "totp", "ACME Co", "alice", "ACME Co", "ACME Co", None, None,
     None),
    (f"{T}Old:alice?secret={S}&issuer=New", "totp", "Old", "alice", "New", "New", None, None, None),
    (f"{T}A:b?secret={S}&algorithm=sha256&digits=8&period=60", "totp", "A", "b", None, "A", "SHA256", 8, 60),
    (f"{T}A:b?secret={S}&algorithm=SHA512&digits=10&period=1", "totp", "A", "b", None, "A", "SHA512", 10, 1),
    (f"{T}A:b?secret={S}&digits=&period=&algorithm=", "totp", "A", "b", None, "A", None, None, None),
    (f"OTPAUTH://TOTP/A:b?secret={S}", "totp", "A", "b", None, "A", None, None, None),
    (f"otpauth://hotp/A:b?secret={S}&counter=7", "hotp", "A", "b", None, "A", None, None, None),
    (f"{T}A:b?secret={S}&image=https%3A%2F%2Fexample.com%2Fa.png&color=ff0000", "totp", "A", "b", None, "A",
     None, None, None),
]


@pytest.mark.parametrize("uri, kind, label_issuer, account, issuer_param, issuer, algorithm, digits, period", VALID)
def test_valid_key_uris(uri, kind, label_issuer, account, issuer_param, issuer, algorithm, digits, period):
    parsed = parse_key_uri(uri)
    assert (parsed.type, parsed.label_issuer, parsed.account, parsed.issuer_param, parsed.issuer) == (
        kind, label_issuer, account, issuer_param, issuer)
    assert (parsed.algorithm, parsed.digits, parsed.period) == (algorithm, digits, period)
    assert parsed.secret == S
    assert parsed.issuer_mismatch is (label_issuer == "Old")


@pytest.mark.parametrize("given, expected", [
    (S, S), (S.lower(), S), ("jBsWy3dP", "JBSWY3DP"), (PADDED, PADDED.rstrip("=")),
    (PADDED.rstrip("="), PADDED.rstrip("=")), ("GEZDGNBV", "GEZDGNBV"),
])
def test_secrets_are_normalised_to_upper_case_without_padding(given, expected):
    assert normalise_secret(given) == expected
    assert parse_key_uri(f"{T}A:b?secret={given}").secret == expected


def test_defaults_apply_when_parameters_are_absent():
    parsed = parse_key_uri(f"{T}A:b?secret={S}")
    assert [parsed.setting(n) for n in ("algorithm", "digits", "period")] == ["SHA1", 6, 30]
    assert parsed.secret_bits == 160
    assert parse_key_uri(f"otpauth://hotp/A:b?secret={S}&counter=7").counter == 7


# (uri, field, words in the message)
INVALID = [
    (f"https://example.com/A:b?secret={S}", "scheme", "must be otpauth://, got https://"),
    (f"A:b?secret={S}", "scheme", "no scheme"),
    (f"otpauth://xotp/A:b?secret={S}", "type", "must be totp or hotp, got 'xotp'"),
    (f"otpauth:///A:b?secret={S}", "type", "got nothing"),
    (f"{T}?secret={S}", "label", "missing"),
    (f"otpauth://totp?secret={S}", "label", "missing"),
    (f"{T}a:b:c?secret={S}", "label", "2 colons"),
    (f"{T}A%3Ab:c?secret={S}", "label", "2 colons"),
    (f"{T}:alice?secret={S}", "label", "issuer before ':' is empty"),
    (f"{T}ACME:%20%20?secret={S}", "label", "account name is empty"),
    (f"{T}%FF%FE?secret={S}", "label", "UTF-8"),
    (f"{T}A%0Ab?secret={S}", "label", "control characters"),
    (f"{T}A:b?issuer=A", "secret", "missing"),
    (f"{T}A:b?secret=&issuer=A", "secret", "missing"),
    (f"{T}A:b?secret====", "secret", "only padding"),
    (f"{T}A:b?secret=JBSW1Y3D", "secret", "character 5 of 8 is not base32"),
    (f"{T}A:b?secret=JBSWY3DP0HPK", "secret", "character 9 of 12"),
    (f"{T}A:b?secret=JBSWY3DPE", "secret", "has 9 characters"),
    (f"{T}A:b?secret=JBSWY3DPEHPK3PXP=", "secret", "padding"),
    (f"{T}A:b?secret={PADDED}=", "secret", "padding"),
    (f"{T}A:b?secret={S}&secret={S}", "secret", "appears twice"),
    (f"{T}A:b?secret={S}&issuer=A:B", "issuer", "must not contain ':'"),
    (f"{T}A:b?secret={S}&algorithm=MD4", "algorithm", "MD5, SHA1, SHA224, SHA256, SHA384, SHA512, got 'MD4'"),
    (f"{T}A:b?secret={S}&algorithm=SHA-256", "algorithm", "got 'SHA-256'"),
    (f"{T}A:b?secret={S}&digits=abc", "digits", "whole number of digits from 1 to 99, got 'abc'"),
    (f"{T}A:b?secret={S}&digits=0", "digits", "got '0'"),
    (f"{T}A:b?secret={S}&digits=-6", "digits", "got '-6'"),
    (f"{T}A:b?secret={S}&digits=6.5", "digits", "got '6.5'"),
    (f"{T}A:b?secret={S}&digits=100", "digits", "got '100'"),
    (f"{T}A:b?secret={S}&period=0", "period", "whole number of seconds from 1 to 2147483, got '0'"),
    (f"{T}A:b?secret={S}&period=-30", "period", "got '-30'"),
    (f"{T}A:b?secret={S}&period=30s", "period", "got '30s'"),
    (f"{T}A:b?secret={S}&period=2147484", "period", "got '2147484'"),
    (f"{T}A:b?secret={S}&period=30&period=60", "period", "appears twice"),
    (f"otpauth://hotp/A:b?secret={S}", "counter", "needs the initial counter"),
    (f"otpauth://hotp/A:b?secret={S}&counter=x", "counter", "whole number"),
    (f"{T}A:b?secret={S}&issuer=%FF", "parameters", "UTF-8"),
    ("", "uri", "empty"),
    (f"{T}A:b?secret={S}\n", "uri", "control characters"),
    (f"{T}A:b?secret={S}&x={'a' * 5000}", "uri", "at most 4096"),
]


@pytest.mark.parametrize("uri, field, words", INVALID)
def test_invalid_key_uris_name_the_field(uri, field, words):
    with pytest.raises(UriError) as caught:
        parse_key_uri(uri)
    assert caught.value.field == field
    assert words in caught.value.problem
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize("value", [None, 42, b"otpauth://totp/A:b?secret=JBSWY3DP"])
def test_a_uri_must_be_text(value):
    with pytest.raises(UriError, match="uri: must be text"):
        parse_key_uri(value)


def test_matching_issuer_can_be_required_as_pyotp_does():
    uri = f"{T}Old:alice?secret={S}&issuer=New"
    assert parse_key_uri(uri).issuer_mismatch
    with pytest.raises(UriError, match="issuer: the parameter 'New' differs from the label prefix 'Old'"):
        parse_key_uri(uri, require_matching_issuer=True)
    assert parse_key_uri(f"{T}A:alice?secret={S}&issuer=A", require_matching_issuer=True).issuer == "A"


def test_ignored_parameters_are_not_checked_but_remembered():
    uri = f"{T}A:b?secret={S}&algorithm=MD5&period=sixty&digits=8"
    parsed = parse_key_uri(uri, ignore={"algorithm", "period"})
    assert (parsed.algorithm, parsed.period, parsed.digits) == (None, None, 8)
    assert parsed.ignored_value("algorithm") == "MD5" and parsed.ignored_value("period") == "sixty"
    assert parsed.ignored_value("digits") is None
    with pytest.raises(ValueError, match="only algorithm, digits and period"):
        parse_key_uri(uri, ignore={"secret"})


SECRET_LIKE = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"


@pytest.mark.parametrize("uri", [
    f"{T}A:b?secret={SECRET_LIKE}1", f"{T}A:b?secret={SECRET_LIKE}X=", f"{T}A:b?secret={SECRET_LIKE.lower()}0",
    f"{T}A:b?secret={SECRET_LIKE}&secret={SECRET_LIKE}", f"{T}A:b?secret={SECRET_LIKE}&digits={SECRET_LIKE}",
    f"{T}A:b?secret={SECRET_LIKE}&algorithm={SECRET_LIKE}", f"{T}A:b?secret={SECRET_LIKE}&period={SECRET_LIKE}",
    f"{T}A:b:c?secret={SECRET_LIKE}", f"{SECRET_LIKE}://totp/A:b?secret={SECRET_LIKE}",
    f"otpauth://{SECRET_LIKE}/A:b?secret={SECRET_LIKE}", f"{T}A:b?secret={SECRET_LIKE}&issuer=A:{SECRET_LIKE}",
])
def test_no_secret_in_error_messages(uri):
    with pytest.raises(UriError) as caught:
        parse_key_uri(uri)
    message = str(caught.value)
    assert SECRET_LIKE not in message and SECRET_LIKE.lower() not in message
    assert SECRET_LIKE[:8] not in message


def test_no_secret_in_a_key_uris_repr():
    parsed = parse_key_uri(f"{T}ACME:alice?secret={SECRET_LIKE}&digits=8")
    assert repr(parsed) == "KeyUri(totp, issuer='ACME', account='alice', digits=8)"
    assert SECRET_LIKE not in repr(parsed) and SECRET_LIKE not in str(parsed)


# -- building -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("issuer, account, algorithm, digits, period", [
    ("plenigo", "alice", "SHA1", 6, 30),
    ("plenigo", "alice", "SHA256", 8, 60),
    ("ACME Co", "john.doe@email.com", "SHA512", 6, 30),
    ("Ünïcode GmbH", "bob+test@example.com", "SHA1", 8, 30),
    ("plenigo", "a b&c=d?e", "SHA256", 6, 45),
])
def test_build_key_uri_writes_what_pyotp_writes(issuer, account, algorithm, digits, period):
    ours = build_key_uri(S, account, issuer, algorithm=algorithm, digits=digits, period=period)
    theirs = pyotp.TOTP(S, digits=digits, digest=getattr(hashlib, algorithm.lower()), interval=period) \
        .provisioning_uri(name=account, issuer_name=issuer)
    assert ours == theirs
    parsed = parse_key_uri(ours)
    assert (parsed.issuer, parsed.account, parsed.setting("algorithm"), parsed.setting("digits"),
            parsed.setting("period")) == (issuer, account, algorithm, digits, period)


def test_the_backends_qr_uri_is_what_build_key_uri_writes():
    policy = Policy(algorithm="SHA512", digits=8, period=60)
    assert provisioning_uri(S, "alice", policy) == build_key_uri(S, "alice", policy.issuer, algorithm="SHA512",
                                                                  digits=8, period=60)


def test_explicit_uris_spell_out_the_defaults():
    assert build_key_uri(S, "alice", "plenigo", explicit=True).endswith("&algorithm=SHA1&digits=6&period=30")
    assert build_key_uri(S, "alice").startswith("otpauth://totp/alice?secret=")


@pytest.mark.parametrize("args, field", [
    ((S, "a:b", "x"), "label"), ((S, "alice", "x:y"), "label"), ((S, "", "x"), "label"), (("JBSW1", "a", "x"), "secret"),
])
def test_build_key_uri_refuses_what_cannot_be_read_back(args, field):
    with pytest.raises(UriError) as caught:
        build_key_uri(*args)
    assert caught.value.field == field


# -- pyotp: agreement, and the places the format (and the apps) need more -----------------------------

@pytest.mark.parametrize("uri", [u for u, *_ in VALID[:2]] + [
    f"{T}ACME:alice?secret={S}&issuer=ACME&algorithm=SHA256&digits=8&period=60",
    f"{T}plenigo:bob?secret={S.lower()}&issuer=plenigo&algorithm=SHA512",
    build_key_uri(S, "a b@c", "ACME Co", algorithm="SHA256", digits=7, period=45),
])
def test_pyotp_reads_well_formed_uris_the_same_way(uri):
    ours, theirs = parse_key_uri(uri), pyotp.parse_uri(uri)
    assert ours.secret == theirs.secret.upper()
    assert (ours.account, ours.issuer) == (theirs.name, theirs.issuer)
    assert (ours.setting("digits"), ours.setting("period")) == (theirs.digits, theirs.interval)
    assert ours.setting("algorithm") == theirs.digest().name.upper()


# (uri, what pyotp does, what the Key URI format allows and this parser does)
PYOTP_DIFFERS = [
    (f"{T}ACME%3Aalice?secret={S}", "no issuer, name 'ACME:alice'", ("ACME", "alice")),
    (f"{T}Old:alice?secret={S}&issuer=New", "ValueError (issuer should be equal)", ("Old", "alice")),
    (f"{T}A:b?secret={S}&digits=10", "ValueError (digits 6, 7 or 8)", ("A", "b")),
    (f"{T}A:b?secret={S}&algorithm=sha256", "ValueError (algorithm case)", ("A", "b")),
    (f"{T}A:b?secret=JBSWY3DPEHPK3PXP", "ValueError (secret under 112 bits)", ("A", "b")),
    (f"{T}A:b?secret={S}&period=300", "ValueError (period over 120 s)", ("A", "b")),
]


@pytest.mark.parametrize("uri, pyotp_does, ours", PYOTP_DIFFERS)
def test_where_pyotp_differs_from_the_format(uri, pyotp_does, ours):
    parsed = parse_key_uri(uri)
    assert (parsed.label_issuer, parsed.account) == ours
    if pyotp_does.startswith("ValueError"):
        with pytest.raises(ValueError):
            pyotp.parse_uri(uri)
    else:
        theirs = pyotp.parse_uri(uri)
        assert (theirs.issuer, theirs.name) == (None, "ACME:alice")


def test_key_uri_is_frozen():
    parsed = parse_key_uri(f"{T}A:b?secret={S}")
    with pytest.raises(AttributeError):
        parsed.secret = "AAAA"  # type: ignore[misc]
    assert isinstance(parsed, KeyUri)


@pytest.mark.parametrize("kwargs, text", [
    ({"counter": 7}, "otpauth://hotp/plenigo:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=plenigo&counter=7"),
    ({"algorithm": "SHA384", "digits": 5, "period": 10},
     "otpauth://totp/plenigo:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=plenigo&algorithm=SHA384&digits=5"
     "&period=10"),
    ({"algorithm": "MD5", "period": 2_147_483},
     "otpauth://totp/plenigo:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=plenigo&algorithm=MD5"
     "&period=2147483"),
])
def test_uris_apps_export_read_back(kwargs, text):
    uri = build_key_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "alice", "plenigo", **kwargs)
    assert uri == text
    parsed = parse_key_uri(uri)
    assert (parsed.type, parsed.counter) == (("hotp", 7) if "counter" in kwargs else ("totp", None))
    for name in ("algorithm", "digits", "period"):
        if name in kwargs:
            assert getattr(parsed, name) == kwargs[name]
