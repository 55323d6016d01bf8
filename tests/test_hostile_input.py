"""Hostile input at every entry point: the API, the widgets, the command, scenario files, Key URIs
and QR images (session files: tests/test_persistence.py).

Each input gets a clear error of the project's own type (a subclass of TwofaSimError) and leaves
the state as it was, or it is accepted under a documented rule (the tables below say which and
why). No error message repeats a secret or runs to megabytes.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import math
import os
import secrets
import stat
import struct
import unicodedata
import warnings
import zlib

import pyotp.utils
import pytest
import yaml
from PIL import Image

from twofa_sim import (BackOffice, Clock, ClockError, EventKind, NotFoundError, Outcome, Policy, PolicyError, Reason,
                       ScanError, State, TransitionNotAllowed, TwofaSimError, UriError, ValidationError)
from twofa_sim.io.cli import main as cli_main
from twofa_sim.apps.device import Device
from twofa_sim.apps.otpauth import parse_key_uri
from twofa_sim.io.persistence import dumps
from twofa_sim.apps.qr import qr_image
from twofa_sim.spec.scenario import ScenarioError, load_scenario, parse_scenario, run_scenario
from twofa_sim.ui.admin_panel import AdminPanel
from twofa_sim.ui.authenticator_view import AuthenticatorView
from twofa_sim.ui.clock_control import ClockControl
from twofa_sim.ui.event_log_view import EventLogView
from twofa_sim.ui.login_mask import LoginMask

from conftest import PASSWORD, make_office
from helpers import at_code_prompt, current_code, enrol, refused_code

MB = 1_000_000
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

# The input classes, as text at least ten characters long (so that a password rule is not what refuses them).
TEXT = {
    "empty": "",
    "white space only": " \t\u3000 ",
    "1 MB": "7" * MB,
    "full-width characters": "ａｌｉｃｅ１２３４５６",
    "zero-width space": "alice\u200bsmith",
    "right-to-left mark": "\u200falicesmith",
    "right-to-left override": "alice\u202ehtims",
    "combining characters": "alice\u0301smith",
    "lone surrogate": "alicesmith\ud800",
    "control characters": "alice\x00smi\x07th",
    "markup": "<img src=x onerror=alert(1)>",
}
WRONG_TYPES = {"None": None, "number": 42, "NaN": math.nan, "bytes": b"alice", "list": ["alice"]}
BAD_TIMES = {"NaN": math.nan, "+inf": math.inf, "-inf": -math.inf, "negative": -1, "1e300": 1e300,
             "year 9999": "9999-06-01T00:00:00Z", "true": True, "None": None, "text": "yesterday", "1 MB": "2" * MB,
             "full-width date": "２０２６-０１-０５T09:00:00Z", "list": [0]}


def state(office: BackOffice, devices=()) -> bytes:
    """Everything a session holds, as bytes: equal bytes, equal state."""
    return dumps(office, devices)


def refused(office: BackOffice, call, error: type = TwofaSimError, devices=(), secrets=()) -> TwofaSimError:
    """``call`` raises ``error`` (a TwofaSimError), says so briefly, and changes nothing."""
    before = state(office, devices)
    with pytest.raises(error) as caught:
        call()
    assert isinstance(caught.value, TwofaSimError)
    message = str(caught.value)
    assert len(message) < 600, "an error message does not repeat megabytes of input"
    for secret in (SECRET, PASSWORD, *secrets):
        if isinstance(secret, str) and len(secret) >= 8:
            assert secret not in message
    assert state(office, devices) == before, "a refused call changes nothing"
    return caught.value


@pytest.fixture
def office() -> BackOffice:
    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    return office


# -- the admin's API -------------------------------------------------------------------------------------------

ADMIN = {
    "create_company(name)": lambda o, v: o.create_company(v),
    "create_user(username)": lambda o, v: o.create_user(v, PASSWORD),
    "create_user(password)": lambda o, v: o.create_user("dora", v),
    "create_user(company)": lambda o, v: o.create_user("dora", PASSWORD, company=v),
    "create_user(force_2fa)": lambda o, v: o.create_user("dora", PASSWORD, force_2fa=v),
    "set_force_2fa(user)": lambda o, v: o.set_force_2fa(v, True),
    "set_force_2fa(on)": lambda o, v: o.set_force_2fa("alice", v),
    "set_company_force_2fa(company)": lambda o, v: o.set_company_force_2fa(v, True),
    "reset_2fa(user)": lambda o, v: o.reset_2fa(v),
    "unlock(user)": lambda o, v: o.unlock(v),
    "issue_recovery_codes(user)": lambda o, v: o.issue_recovery_codes(v),
    "set_policy(policy)": lambda o, v: o.set_policy(v),
}
# What is accepted, and the rule that says so. Everything else is refused.
ADMIN_ACCEPTS = {
    ("create_company(name)", "full-width characters"): "a company name is any printable text, kept as typed",
    ("create_company(name)", "combining characters"): "a company name is any printable text, kept as typed",
    ("create_company(name)", "markup"): "kept as typed; every widget and table escapes it",
    ("create_user(company)", "None"): "no company named: the only company (an error when there are several)",
    **{("create_user(password)", cls): "a password is any text of 10 to 128 characters, compared exactly as typed"
       for cls in ("full-width characters", "zero-width space", "right-to-left mark", "right-to-left override",
                   "combining characters", "control characters", "markup")},
}


@pytest.mark.parametrize("entry", list(ADMIN))
@pytest.mark.parametrize("input_class", list(TEXT) + list(WRONG_TYPES))
def test_admin_api(office, entry, input_class):
    value = TEXT.get(input_class, WRONG_TYPES.get(input_class))
    if (entry, input_class) not in ADMIN_ACCEPTS:
        refused(office, lambda: ADMIN[entry](office, value), secrets=[value] if entry.endswith("(password)") else [])
        return
    events = len(office.events)
    ADMIN[entry](office, value)
    assert len(office.events) == events + 1, "an accepted change has its event"
    if entry == "create_company(name)":
        assert office.company(value).name == value, "kept exactly as typed"
    elif entry == "create_user(company)":
        assert office.user("dora").company == "ACME"
        office.create_company("Beta")
        refused(office, lambda: office.create_user("erin", PASSWORD, company=None), ValidationError)
    else:
        login = office.start_login()
        assert login.submit_password("dora", value).state is State.AUTHENTICATED
        folded = unicodedata.normalize("NFKC", value)
        if folded != value:
            assert office.start_login().submit_password("dora", folded).outcome is Outcome.BAD_CREDENTIALS, \
                "passwords are not normalised (SECURITY.md)"


POLICY_KNOBS = {
    "issuer": ["", " ", "a:b", "x" * 65, "plen\u202eigo", "plen\nigo", "plen\u200bigo", 42, None],
    "algorithm": ["MD5", "sha1", "", ["SHA1"], None, 1],
    "digits": [7, 6.0, "6", True, None, 10 ** 100],
    "period": [0, -30, 301, 30.5, math.nan, "30", None],
    "window": [-1, 11, 1.0, math.inf, True, None],
    "replay_protection": ["yes", 1, None],
    "failed_code_limit": [0, 1001, 2.5, None],
    "lockout_seconds": [-1, 30 * 86400 + 1, math.nan],
    "code_prompt_timeout": [9, 86401, None],
    "recovery_code_count": [-1, 101, None],
    "secret_bits": [80, 127, 130, 513, None],
    "kdf_log2_n": [0, 21, None],
}


# Fields that take a flag, a number, a time or a setting: what is typed there is never repeated in full.
WRONG_FIELD = {
    "create_user(force_2fa)": ADMIN["create_user(force_2fa)"], "set_force_2fa(on)": ADMIN["set_force_2fa(on)"],
    "set_company_force_2fa(on)": lambda o, v: o.set_company_force_2fa("ACME", v),
    "Clock.at": lambda o, v: Clock.at(v), "clock.set": lambda o, v: o.clock.set(v),
    "clock.advance": lambda o, v: o.clock.advance(v),
    "Device(offset)": lambda o, v: Device("p", "x", o.clock, offset=v),
    **{f"Policy({knob})": (lambda knob: lambda o, v: Policy(**{knob: v}))(knob) for knob in POLICY_KNOBS},
}
SECRETS = {"password": PASSWORD, "shared secret": SECRET, "recovery code": "3f2a-9c01-7be4-0d55"}


@pytest.mark.parametrize("entry", list(WRONG_FIELD))
@pytest.mark.parametrize("secret", list(SECRETS))
def test_a_secret_typed_into_the_wrong_field_is_not_repeated(office, entry, secret):
    value = SECRETS[secret]
    if entry == "Policy(issuer)":
        value += ":"                       # an issuer may be any printable text without ':'
    refused(office, lambda: WRONG_FIELD[entry](office, value), secrets=[SECRETS[secret]])


@pytest.mark.parametrize("entry", ["set_force_2fa(user)", "reset_2fa(user)", "unlock(user)",
                                   "issue_recovery_codes(user)", "set_company_force_2fa(company)",
                                   "create_user(company)"])
def test_a_lookup_repeats_the_name_asked_for_and_no_more_than_64_characters(office, entry):
    """Documented: "no user named 'alcie'" helps whoever typed the name; the name is cut at 64 characters."""
    error = refused(office, lambda: ADMIN[entry](office, "alcie"), NotFoundError)
    assert "'alcie'" in str(error)
    error = refused(office, lambda: ADMIN[entry](office, "x" * 1000), NotFoundError)
    assert "x" * 64 in str(error) and "x" * 65 not in str(error)


# -- the login mask's API ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["username", "password"])
@pytest.mark.parametrize("input_class", list(TEXT) + list(WRONG_TYPES))
def test_login_credentials(office, field, input_class):
    value = TEXT.get(input_class, WRONG_TYPES.get(input_class))
    login = office.start_login()
    args = (value, PASSWORD) if field == "username" else ("alice", value)
    if input_class in WRONG_TYPES or input_class == "1 MB":
        refused(office, lambda: login.submit_password(*args), ValidationError)
        assert login.state is State.CREDENTIALS
        return
    before = office.user("alice").enrolment.failures
    result = login.submit_password(*args)
    plain_wrong = office.start_login().submit_password("alice", "not the password")
    assert result == plain_wrong, "one identical answer for any wrong username or password"
    assert office.events[-1].kind is EventKind.PASSWORD_REJECTED
    assert office.user("alice").enrolment.failures == before


def code_variants(code: str) -> dict[str, tuple[str, Outcome, Reason]]:
    """Input classes for the code field, built from the right code, and what the flow answers."""
    wide = "".join(chr(0xFF10 + int(d)) for d in code)
    return {
        "right code": (code, Outcome.ACCEPTED, Reason.NONE),
        "full-width digits (folded, NFKC)": (wide, Outcome.ACCEPTED, Reason.NONE),
        "mathematical digits (folded, NFKC)": ("".join(chr(0x1D7CE + int(d)) for d in code), Outcome.ACCEPTED,
                                               Reason.NONE),
        "spaces, tabs, no-break spaces (dropped)": (f" {code[:3]}\u00a0{code[3:]}\t", Outcome.ACCEPTED, Reason.NONE),
        "empty": ("", Outcome.REJECTED, Reason.MALFORMED),
        "white space only": (" \t ", Outcome.REJECTED, Reason.MALFORMED),
        "zero-width space": (code[:3] + "\u200b" + code[3:], Outcome.REJECTED, Reason.MALFORMED),
        "right-to-left mark": ("\u200f" + code, Outcome.REJECTED, Reason.MALFORMED),
        "right-to-left override": ("\u202e" + code[::-1], Outcome.REJECTED, Reason.MALFORMED),
        "combining characters": (code[0] + "\u0301" + code[1:], Outcome.REJECTED, Reason.MALFORMED),
        "Arabic-Indic digits": ("".join(chr(0x0660 + int(d)) for d in code), Outcome.REJECTED, Reason.MALFORMED),
        "lone surrogate": (code + "\ud800", Outcome.REJECTED, Reason.MALFORMED),
        "control characters": (code[:3] + "\x00" + code[3:], Outcome.REJECTED, Reason.MALFORMED),
        "markup": ("<b>" + code + "</b>", Outcome.REJECTED, Reason.MALFORMED),
        "1 kB of digits": ("1" * 1000, Outcome.REJECTED, Reason.MALFORMED),
    }


CODE_CLASSES = list(code_variants("123456"))


@pytest.mark.parametrize("input_class", CODE_CLASSES)
def test_code_field(office, input_class):
    enrol(office, "alice")
    office.clock.advance(30)
    login = at_code_prompt(office, "alice")
    typed, outcome, reason = code_variants(current_code(office, office.user("alice").enrolment.secret))[input_class]
    result = login.submit_code(typed)
    assert (result.outcome, result.reason) == (outcome, reason)
    if reason is Reason.MALFORMED:
        assert office.user("alice").enrolment.failures == 0, "a malformed code is not a guess"
        assert "6 digits" in result.message


@pytest.mark.parametrize("input_class", ["1 MB", *WRONG_TYPES])
def test_code_field_refuses_wrong_types_and_megabytes(office, input_class):
    enrol(office, "alice")
    login = at_code_prompt(office, "alice")
    value = TEXT.get(input_class, WRONG_TYPES.get(input_class))
    refused(office, lambda: login.submit_code(value), ValidationError)
    refused(office, lambda: login.submit_recovery_code(value), ValidationError)
    assert login.state is State.CODE_REQUIRED


@pytest.mark.parametrize("styling, accepted", [
    ("as issued", True), ("upper case", True), ("spaces for dashes", True), ("no dashes", True),
    ("full width", True), ("no-break spaces", True),
    ("zero-width space", False), ("right-to-left mark", False), ("combining character", False),
    ("65 characters", False), ("markup", False),
])
def test_recovery_code_field(office, styling, accepted):
    enrol(office, "alice")
    code = office.issue_recovery_codes("alice")[0]
    typed = {"as issued": code, "upper case": code.upper(), "spaces for dashes": code.replace("-", " "),
             "no dashes": code.replace("-", ""), "full width": "".join(chr(ord(c) + 0xFEE0) for c in code),
             "no-break spaces": code.replace("-", "\u00a0"), "zero-width space": code + "\u200b",
             "right-to-left mark": "\u200f" + code, "combining character": code + "\u0301",
             "65 characters": code + "0" * (65 - len(code)), "markup": f"<b>{code}</b>"}[styling]
    result = at_code_prompt(office, "alice").submit_recovery_code(typed)
    assert (result.outcome is Outcome.ACCEPTED) is accepted
    if styling == "65 characters":
        assert result.reason is Reason.MALFORMED and office.user("alice").enrolment.failures == 0


def test_events_in_a_closed_state_are_refused(office):
    login = office.start_login()
    refused(office, lambda: login.submit_code("123456"), TransitionNotAllowed)
    refused(office, lambda: login.log_out(), TransitionNotAllowed)


# -- the clock and the policy ------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["Clock.at", "set", "advance", "device offset"])
@pytest.mark.parametrize("input_class", list(BAD_TIMES))
def test_bad_times(office, how, input_class):
    value = BAD_TIMES[input_class]
    if how == "advance" and input_class == "negative":
        value = -1e12                      # one second back is a fine move; before 1970 is not
    device = Device("phone", "alice", office.clock, events=office.events)
    call = {"Clock.at": lambda: Clock.at(value), "set": lambda: office.clock.set(value),
            "advance": lambda: office.clock.advance(value), "device offset": lambda: device.set_offset(value)}[how]
    if how == "device offset" and input_class == "negative":
        device.set_offset(value)           # a device may well be a second behind: taken as it is
        assert device.offset == -1
        return
    if how == "device offset" and input_class == "1e300":
        device.enter_key("alice", SECRET)
        device.set_offset(value)           # any finite offset is taken; a code then says the clock is out of range
        refused(office, lambda: device.code(), ClockError, devices=[device])
        return
    refused(office, call, ClockError, devices=[device])


@pytest.mark.parametrize("knob, value", [(k, v) for k, vs in POLICY_KNOBS.items() for v in vs])
def test_policy_refuses_what_it_cannot_honour(office, knob, value):
    error = refused(office, lambda: office.set_policy(office.policy.replace(**{knob: value})), PolicyError)
    assert error.field == f"policy.{knob}"


# -- the device and its app ------------------------------------------------------------------------------------

def test_device_and_app_api(office):
    device = Device.for_user(office, "alice", app="aegis")
    devices = [device]
    key = "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"
    cases = [
        (lambda: Device("x" * MB, "alice", office.clock), ValidationError),
        (lambda: Device("", "alice", office.clock), ValidationError),
        (lambda: Device("phone\u202e", "alice", office.clock), ValidationError),
        (lambda: Device("phone", None, office.clock), ValidationError),
        (lambda: Device("phone", "alice", None), ValidationError),
        (lambda: Device("phone", "alice", office.clock, app=["aegis"]), NotFoundError),
        (lambda: Device("phone", "alice", office.clock, offset=math.inf), ClockError),
        (lambda: Device.for_user(office, "nobody"), NotFoundError),
        (lambda: device.enter_key("", key), ValidationError),
        (lambda: device.enter_key("al:ice", key), ValidationError),
        (lambda: device.enter_key("alice\u202e", key), ValidationError),
        (lambda: device.enter_key(None, key), ValidationError),
        (lambda: device.enter_key("alice", None), ValidationError),
        (lambda: device.enter_key("alice", ""), ValidationError),
        (lambda: device.enter_key("alice", "A" * MB), ValidationError),
        (lambda: device.enter_key("alice", "ＪＢＳＷ" * 8), ValidationError),
        (lambda: device.enter_key("alice", key.replace(" ", "\u200b")), ValidationError),
        (lambda: device.enter_key("alice", "JBSWY3DPEHPK3PX"), ValidationError),   # 75 bits
        (lambda: device.enter_key("alice", key, digits="6"), ValidationError),
        (lambda: device.enter_key("alice", key, period=math.nan), ValidationError),
        (lambda: device.enter_key("alice", key, algorithm=["SHA1"]), ValidationError),
        (lambda: device.set_offset("5"), ClockError),
        (lambda: device.confirm(999, "replace"), NotFoundError),
        (lambda: device.confirm(None, None), NotFoundError),
        (lambda: device.remove(None), NotFoundError),
        (lambda: device.entry(account=["x"]), NotFoundError),
        (lambda: device.import_text(b"otpauth://"), ValidationError),
        (lambda: device.app.code(1, math.nan), NotFoundError),
        (lambda: device.app.app_seconds(math.nan), ClockError),
        (lambda: device.app.app_seconds(-5), ClockError),
        (lambda: device.app.app_seconds(1e300), ClockError),
    ]
    for call, error in cases:
        refused(office, call, error, devices=devices, secrets=[SECRET])
    report = device.import_text("otpauth://" * 100_000 + "\n\u202e\nnot a uri\n")
    assert report.added == 0 and len(report.failures) == 3
    assert device.app.entries == []


# -- QR images --------------------------------------------------------------------------------------------------

def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def damaged_idat(png: bytes) -> bytes:
    """The image data scrambled, its checksum recomputed: the file's structure is intact, its pixels are not."""
    data = bytearray(png)
    at = data.find(b"IDAT")
    length = struct.unpack(">I", data[at - 4:at])[0]
    for k in range(at + 4 + 20, at + 4 + length - 8, 37):
        data[k] ^= 0x5A
    data[at + 4 + length:at + 8 + length] = struct.pack(">I", zlib.crc32(bytes(data[at:at + 4 + length])))
    return bytes(data)


def two_codes() -> Image.Image:
    page = Image.new("RGB", (900, 450), "white")
    page.paste(qr_image(f"otpauth://totp/a:alice?secret={SECRET}&issuer=a"), (10, 10))
    page.paste(qr_image(f"otpauth://totp/b:bob?secret={SECRET}&issuer=b"), (460, 10))
    return page


GOOD_QR = qr_image(f"otpauth://totp/plenigo:alice?secret={SECRET}&issuer=plenigo")
GOOD_PNG = png_bytes(GOOD_QR)
IMAGES = {
    "not an image (None)": (lambda: None, ScanError),
    "PNG bytes, not opened": (lambda: GOOD_PNG, ScanError),
    "a file name": (lambda: "qr.png", ScanError),
    "1x1 pixel": (lambda: Image.new("RGB", (1, 1)), ScanError),
    "0x0 pixels": (lambda: Image.new("RGB", (0, 0)), ScanError),
    "blank page": (lambda: Image.new("RGB", (640, 480), "white"), ScanError),
    "noise": (lambda: Image.effect_noise((400, 400), 120).convert("RGB"), ScanError),
    "PNG cut in its header": (lambda: Image.open(io.BytesIO(GOOD_PNG[:60])), ScanError),
    "PNG cut in half": (lambda: Image.open(io.BytesIO(GOOD_PNG[:len(GOOD_PNG) // 2])), ScanError),
    "PNG with damaged image data": (lambda: Image.open(io.BytesIO(damaged_idat(GOOD_PNG))), ScanError),
    "QR of plain text": (lambda: qr_image("hello " * 20), ScanError),
    "QR of a web link": (lambda: qr_image("https://example.com/?secret=" + SECRET), ScanError),
    "two different QR codes": (two_codes, ScanError),
    "QR with a bad secret": (lambda: qr_image("otpauth://totp/x:alice?secret=NOT-BASE32!"), UriError),
    "QR with a short secret": (lambda: qr_image("otpauth://totp/x:alice?secret=JBSWY3DP"), UriError),
    "QR with an hotp URI": (lambda: qr_image(f"otpauth://hotp/x:alice?secret={SECRET}&counter=1"), UriError),
    "QR with a right-to-left label": (lambda: qr_image(f"otpauth://totp/x:ali%E2%80%AEce?secret={SECRET}"), UriError),
    "QR with the secret twice": (lambda: qr_image(f"otpauth://totp/x:alice?secret={SECRET}&secret=AAAA"), UriError),
}


@pytest.mark.parametrize("input_class", list(IMAGES))
def test_qr_images_that_hold_no_usable_code(office, input_class):
    make, error = IMAGES[input_class]
    device = Device.for_user(office, "alice", app="reference")
    events = len(office.events)
    with pytest.raises(error) as caught:
        device.scan(make())
    assert SECRET not in str(caught.value) and len(str(caught.value)) < 300
    assert device.app.entries == [], "nothing is added"
    assert [e.kind for e in office.events[events:]] == [EventKind.SCAN_FAILED]
    assert SECRET not in office.events[-1].detail


@pytest.mark.parametrize("mode", ["1", "L", "P", "LA", "RGBA", "CMYK", "I", "I;16", "F"])
def test_any_image_mode_is_converted_and_read(office, mode):
    device = Device.for_user(office, "alice", app="reference")
    assert device.scan(GOOD_QR.convert(mode)).added


def test_a_marked_rectangle_must_be_four_whole_numbers_inside_the_image(office):
    device = Device.for_user(office, "alice", app="reference")
    for rect in [(0, 0, 10 ** 9, 5), (5, 5, 5, 5), (0.5, 0, 100, 100), (math.nan, 0, 1, 1), (0, 0, 1), "0,0,9,9",
                 (True, 0, 10, 10), (-1, 0, 50, 50)]:
        with pytest.raises(ScanError, match="rectangle"):
            device.scan(GOOD_QR, rect)
    assert device.app.entries == []


# -- Key URIs (the fuzzing in tests/test_fuzz.py goes wider) ------------------------------------------------------

URIS = {
    "empty": ("", "uri"),
    "1 MB": ("otpauth://totp/x?secret=" + "A" * MB, "uri"),
    "wrong type": (b"otpauth://totp/x?secret=" + SECRET.encode(), "uri"),
    "control character": (f"otpauth://totp/x:alice\n?secret={SECRET}", "uri"),
    "zero-width space in the label": (f"otpauth://totp/x:ali\u200bce?secret={SECRET}", "uri"),
    "percent-encoded zero-width space": (f"otpauth://totp/x:ali%E2%80%8Bce?secret={SECRET}", "label"),
    "percent-encoded right-to-left override": (f"otpauth://totp/x%E2%80%AE:alice?secret={SECRET}", "label"),
    "invalid percent-encoded UTF-8": (f"otpauth://totp/x:ali%FFce?secret={SECRET}", "label"),
    "encoded lone surrogate": (f"otpauth://totp/x:ali%ED%A0%80ce?secret={SECRET}", "label"),
    "unbalanced bracket": (f"otpauth://to[tp/x:alice?secret={SECRET}", "uri"),
    "other scheme": (f"https://totp/x:alice?secret={SECRET}", "scheme"),
    "full-width scheme": (f"ｏｔｐａｕｔｈ://totp/x:alice?secret={SECRET}", "scheme"),
    "two colons in the label": (f"otpauth://totp/x:al:ice?secret={SECRET}", "label"),
    "full-width secret": (f"otpauth://totp/x:alice?secret={'ＪＢＳＷ' * 8}", "secret"),
    "secret twice": (f"otpauth://totp/x:alice?secret={SECRET}&secret={SECRET}", "secret"),
    "no secret": ("otpauth://totp/x:alice?issuer=x", "secret"),
    "full-width digits": (f"otpauth://totp/x:alice?secret={SECRET}&digits=６", "digits"),
    "negative period": (f"otpauth://totp/x:alice?secret={SECRET}&period=-30", "period"),
    "huge period": (f"otpauth://totp/x:alice?secret={SECRET}&period={'9' * 40}", "period"),
    "issuer with a colon": (f"otpauth://totp/alice?secret={SECRET}&issuer=a:b", "issuer"),
}


@pytest.mark.parametrize("input_class", list(URIS))
def test_key_uris(input_class):
    text, field = URIS[input_class]
    with pytest.raises(UriError) as caught:
        parse_key_uri(text)
    assert caught.value.field == field
    assert SECRET not in str(caught.value) and len(str(caught.value)) < 300


@pytest.mark.parametrize("text, expected", [
    (f"otpauth://totp/x:alice?secret={SECRET.lower()}", "lower-case secret: upper-cased"),
    (f"otpauth://totp/x%3Aalice?secret={SECRET}", "percent-encoded ':' separates issuer and account"),
    (f"otpauth://totp/x:%20%20alice?secret={SECRET}", "spaces before the account are dropped"),
    (f"otpauth://totp/x:alice?secret={SECRET}&algorithm=sha256", "algorithm in any case"),
    (f"OTPAUTH://TOTP/x:alice?secret={SECRET}", "scheme and type in any case"),
])
def test_key_uri_normalisations(text, expected):
    uri = parse_key_uri(text)
    assert (uri.secret, uri.account) == (SECRET, "alice")


# -- widgets: no traceback in front of a class -------------------------------------------------------------------

def no_traceback(*views) -> None:
    for view in views:
        assert view.safe.errors.outputs == (), "a widget showed a traceback"


@pytest.mark.parametrize("input_class", list(TEXT))
def test_widgets_take_hostile_text_without_a_traceback(office, input_class):
    value = TEXT[input_class]
    device = Device.for_user(office, "alice", app="aegis")
    panel, mask, clock = AdminPanel(office), LoginMask(office), ClockControl(office.clock, events=office.events)
    app = AuthenticatorView(device, capture=mask.screen_image)
    events, now = len(office.events), office.clock.now()

    panel.username.value, panel.password.value = value, PASSWORD
    panel.create.click()
    assert "tfs-error" in panel.message.value
    mask.username.value, mask.password.value = value, value
    mask.login_button.click()
    assert mask.attempt.state is State.CREDENTIALS
    clock.when.value = value
    clock.set_button.click()
    assert "tfs-error" in clock.message.value
    app.manual_account.value, app.manual_key.value = value, value
    app.manual_button.click()
    assert "tfs-error" in app.message.value
    app.replace.click()                       # no question open: a double click, say
    no_traceback(panel, mask, clock, app)
    new_events = {e.kind for e in office.events[events:]}
    assert new_events <= {EventKind.PASSWORD_REJECTED}, "only the refused login is in the log"
    assert [u.username for u in office.users] == ["alice"] and office.clock.now() == now
    assert device.app.entries == [] and office.user("alice").enrolment.failures == 0


def test_widgets_at_the_code_prompt_with_hostile_codes(office):
    mask = LoginMask(office)
    mask.username.value, mask.password.value = "alice", PASSWORD
    mask.login_button.click()
    for value in list(TEXT.values()):
        mask.code.value = value
        mask.code_button.click()
        assert mask.attempt.state is State.ENROLMENT
    no_traceback(mask)
    assert office.user("alice").enrolment.failures == 0, "none of them is a guess"


def test_markup_is_shown_escaped_everywhere(office):
    name = TEXT["markup"]
    office.create_company(name)
    office.create_user("mallory", PASSWORD, company=name)
    panel, log = AdminPanel(office), EventLogView(office.events)
    panel.company.value = name
    panel.company_2fa.value = True
    texts = [panel.users_table.value, panel.message.value, log.table.value]
    assert all("<img" not in t for t in texts) and any("&lt;img" in t for t in texts)
    no_traceback(panel)


def test_the_app_widget_offset_is_bounded_and_the_app_can_be_swapped(office):
    device = Device.for_user(office, "alice")
    app = AuthenticatorView(device, capture=LoginMask(office).screen_image)
    app.offset.value = 10 ** 9
    assert app.device.offset == 3600
    app.profile.value = "google-authenticator"
    app.scan_button.click()                   # the login mask shows no QR: a message, not a traceback
    assert "no QR code" in app.message.value
    no_traceback(app)


# -- the command -------------------------------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path):
    (tmp_path / "binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    (tmp_path / "deep.yaml").write_text("[" * 5000 + "]" * 5000)
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\nsteps: [{wait: 1s}]\n".encode("latin-1"))
    (tmp_path / "big.yaml").write_text("name: " + "x" * MB + "\nsteps: [{wait: 1s}]\n")
    (tmp_path / "empty").mkdir()
    return tmp_path


@pytest.mark.parametrize("argv, words", [
    ([], "required"), (["run"], "required"), (["bogus"], "invalid choice"),
    (["run", "{d}/nope.yaml"], "cannot read"), (["run", "{d}/binary.yaml"], "not UTF-8"),
    (["run", "{d}/deep.yaml"], "nest too deeply"), (["run", "{d}/latin1.yaml"], "not UTF-8"),
    (["run", "{d}/big.yaml"], "at most 200 characters"), (["run", "{d}/empty"], "no scenario files"),
    (["run", "x" * 5000], "cannot read"), (["run", "a\x00b"], "cannot read"), (["run", "\ud800"], "cannot read"),
    (["demo", "--seed", "x"], "invalid int"), (["demo", "--seed", "1", "--out", "{d}/binary.yaml/out"], "cannot write"),
])
def test_the_command_refuses_with_exit_2_and_no_traceback(files, capsys, argv, words):
    out, err = io.StringIO(), io.StringIO()
    code = cli_main([a.replace("{d}", str(files)) for a in argv], out=out, err=err)
    captured = capsys.readouterr()
    text = out.getvalue() + err.getvalue() + captured.err + captured.out
    assert code == 2
    assert words in text and "Traceback" not in text


def test_unwritable_artifacts_folder_is_exit_2(files, capsys):
    (files / "ok.yaml").write_text("name: ok\nsteps: [{wait: 1s}]\n")
    err = io.StringIO()
    not_a_folder = str(files / "binary.yaml" / "out")        # inside a file: no folder can be made there
    assert cli_main(["run", str(files / "ok.yaml"), "--artifacts", not_a_folder], out=io.StringIO(), err=err) == 2
    assert "cannot write" in err.getvalue()


# -- scenario files (the fuzzing in tests/test_fuzz.py goes wider) ----------------------------------------------

SCENARIO_TEXTS = {
    "empty": "",
    "1 MB name": "name: " + "x" * MB + "\nsteps: [{wait: 1s}]",
    "nested 5000 deep": "[" * 5000 + "]" * 5000,
    "5000-digit number": "name: x\nseed: " + "9" * 5000 + "\nsteps: [{wait: 1s}]",
    "NaN start": "name: x\nstart: .nan\nsteps: [{wait: 1s}]",
    "negative start": "name: x\nstart: -5\nsteps: [{wait: 1s}]",
    "start after 9999": "name: x\nstart: 9999-06-01T00:00:00Z\nsteps: [{wait: 1s}]",
    "full-width duration": "name: x\nsteps: [{wait: ３０ｓ}]",
    "zero-width space in a duration": "name: x\nsteps: [{wait: \"30\u200bs\"}]",
    "right-to-left override in a username": "name: x\nusers: {\"al\u202eice\": {}}\nsteps: [{wait: 1s}]",
    "NUL character": "name: x\x00\nsteps: [{wait: 1s}]",
    "lone surrogate": "name: \ud800\nsteps: [{wait: 1s}]",
    "python tag": "name: !!python/object/apply:os.system [echo hi]\nsteps: [{wait: 1s}]",
    "alias loop": "name: x\nsteps: &s [*s]",
    "wrong type for a policy knob": "name: x\npolicy: {digits: 6.0}\nsteps: [{wait: 1s}]",
    "issuer with a right-to-left override": "name: x\npolicy: {issuer: \"a\u202eb\"}\nsteps: [{wait: 1s}]",
    "wait of 10^16 days": "name: x\nsteps: [{wait: 10000000000000000d}]",
    "merge key given a list of lists": "name: x\npolicy: {<<: [&a [1, 2], *a]}\nsteps: [{wait: 1s}]",
    "merge key given text": "name: x\npolicy: {<<: text}\nsteps: [{wait: 1s}]",
    "NUL in a company name": 'name: x\ncompanies: {"ACME\\x00": {}}\nsteps: [{wait: 1s}]',
    "right-to-left override in a device name": 'name: x\nusers: {alice: {}}\ndevices: {"ph\\u202eone": '
                                               '{owner: alice, app: aegis}}\nsteps: [{wait: 1s}]',
    "lone surrogate escape": 'name: "\\udc80"\nsteps: [{wait: 1s}]',
    "0x with 4,000 f's as the seed": "name: x\nseed: 0x" + "f" * 4000 + "\nsteps: [{wait: 1s}]",
}


@pytest.mark.parametrize("input_class", list(SCENARIO_TEXTS))
def test_scenario_files(input_class):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(SCENARIO_TEXTS[input_class], "hostile.yaml")
    assert str(caught.value).startswith("hostile.yaml:") and len(str(caught.value)) < 600


SCENARIO_WITH_IMAGE = """name: scan a file
users:
  alice: {force_2fa: true}
devices:
  phone: {owner: alice, app: aegis}
steps:
  - login: alice
  - scan: {device: phone, image: IMAGE}
"""


def bomb_header() -> bytes:
    """A PNG header claiming 100,000 x 100,000 pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))


@pytest.mark.parametrize("input_class, data", [
    ("empty file", b""), ("text file", b"hello"), ("PNG cut in its header", GOOD_PNG[:40]),
    ("PNG cut in half", GOOD_PNG[:len(GOOD_PNG) // 2]), ("PNG with damaged image data", damaged_idat(GOOD_PNG)),
    ("decompression bomb", bomb_header()),
])
def test_scenario_scan_images(tmp_path, input_class, data):
    (tmp_path / "shot.png").write_bytes(data)
    (tmp_path / "s.yaml").write_text(SCENARIO_WITH_IMAGE.replace("IMAGE", "shot.png"))
    with pytest.raises(ScenarioError, match=r"s\.yaml:8: 'shot\.png' is not an image file"):
        load_scenario(tmp_path / "s.yaml")


# -- secret hygiene ----------------------------------------------------------------------------------------------

def counting(function, calls: list):
    def counted(*args):
        calls.append(args)
        return function(*args)
    return counted


def counting_kw(function, calls: list):
    def counted(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)
    return counted


def test_every_check_of_a_secret_compares_in_constant_time(office, monkeypatch):
    macs: list = []
    otps: list = []
    monkeypatch.setattr(hmac, "compare_digest", counting(hmac.compare_digest, macs))
    monkeypatch.setattr(pyotp.utils, "compare_digest", counting(pyotp.utils.compare_digest, otps))
    secret = enrol(office, "alice")
    codes = office.issue_recovery_codes("alice")
    office.clock.advance(30)

    macs.clear()
    kdf: list = []
    monkeypatch.setattr(hashlib, "scrypt", counting_kw(hashlib.scrypt, kdf))
    office.start_login().submit_password("alice", "not the password")
    office.start_login().submit_password("nobody", PASSWORD)
    office.start_login().submit_password("nobody2", PASSWORD)
    assert len(macs) == 3, "a wrong password and an unknown user both cost one comparison"
    assert len(kdf) == 3, "and one scrypt each, the first unknown user too"

    login = at_code_prompt(office, "alice")
    otps.clear()
    macs.clear()
    login.submit_code(refused_code(office, secret))
    assert len(otps) + len(macs) == 2 * office.policy.window + 1, "every step of the window is compared, none skipped"

    macs.clear()
    at_code_prompt(office, "alice").submit_recovery_code(codes[0])
    assert len(macs) == 1 + len(codes), "the password, then every stored code: no early exit on a match"


def test_secrets_come_from_the_secrets_module_outside_seeded_demos(monkeypatch):
    drawn: list = []
    monkeypatch.setattr(secrets, "token_bytes", counting(secrets.token_bytes, drawn))
    office = BackOffice(policy=Policy(kdf_log2_n=1))
    office.create_company("ACME")
    office.create_user("alice", PASSWORD, force_2fa=True)
    login = office.start_login()
    secret = login.submit_password("alice", PASSWORD).screen.secret
    assert login.submit_code(current_code(office, secret)).state is State.AUTHENTICATED
    office.issue_recovery_codes("alice")
    sizes = sorted(args[0] for args in drawn)
    assert sizes.count(16) >= 2 and 20 in sizes and sizes.count(8) == office.policy.recovery_code_count, \
        "password salt, recovery salt, the 160-bit secret and each recovery code come from secrets"
    assert repr(office.secret_source) == "SystemSecretSource()"


# -- files a scenario names stay in its folder -------------------------------------------------------------------

PRIVATE = "-----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"


@pytest.fixture
def machine(tmp_path):
    """A scenario folder inside a machine's folder that holds a private key, an image and a back office."""
    (tmp_path / "private.key").write_text(PRIVATE + "\n")
    (tmp_path / "secret.env").write_text(f"users: {PRIVATE}\n")
    (tmp_path / "outside.png").write_bytes(GOOD_PNG)
    folder = tmp_path / "scenarios"
    (folder / "shots").mkdir(parents=True)
    (folder / "shots" / "qr.png").write_bytes(GOOD_PNG)
    (folder / "bo.yaml").write_text("users: {zoe: {}}\n")
    (folder / "bad-bo.yaml").write_text(f"users: {PRIVATE}\n")
    (folder / "key-link.yaml").symlink_to(tmp_path / "secret.env")
    (folder / "image-link.png").symlink_to(tmp_path / "outside.png")
    (folder / "up").symlink_to(tmp_path)
    return folder


def scenario_naming(folder, key: str, ref: str) -> str:
    text = (f"name: names a file\nbackoffice: {ref}\nsteps: [{{wait: 1s}}]\n" if key == "backoffice" else
            SCENARIO_WITH_IMAGE.replace("IMAGE", ref))
    (folder / "s.yaml").write_text(text)
    try:
        load_scenario(folder / "s.yaml")
    except ScenarioError as error:
        return str(error)
    return "loaded"


OUTSIDE = ["../secret.env", "../private.key", "/etc/passwd", "/etc/no-such-file", "../no-such-file",
           "key-link.yaml", "up/secret.env", "up/no-such-file", "shots/../../secret.env", "image-link.png",
           "../outside.png", "/dev/zero", "..", "."]


@pytest.mark.parametrize("key", ["backoffice", "image"])
@pytest.mark.parametrize("ref", OUTSIDE)
def test_a_file_outside_the_scenarios_folder_is_refused_whether_or_not_it_exists(machine, key, ref):
    message = scenario_naming(machine, key, ref)
    assert "must name a file in the scenario's folder" in message
    assert PRIVATE[:20] not in message and "root:" not in message


@pytest.mark.parametrize("key", ["backoffice", "image"])
def test_outside_the_folder_every_name_gets_the_same_answer(machine, key):
    """Nothing tells a file that exists from one that does not: no probing the machine."""
    refs = ["../private.key", "../nothing-here", "up/private.key", "up/nothing-here", "/etc/passwd", "/etc/nothing"]
    assert len({scenario_naming(machine, key, ref).replace(repr(ref), "NAME") for ref in refs}) == 1


@pytest.mark.parametrize("key, ref", [("backoffice", "bo.yaml"), ("image", "shots/qr.png")])
def test_a_file_inside_the_folder_is_read(machine, key, ref):
    assert scenario_naming(machine, key, ref) == "loaded"


def test_an_error_in_a_named_back_office_file_does_not_repeat_its_contents(machine):
    message = scenario_naming(machine, "backoffice", "bad-bo.yaml")
    assert "users must be a mapping" in message and PRIVATE[:12] not in message


# -- size, kind and count limits of scenario files -----------------------------------------------------------------

@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", ["named pipe", "device like /dev/zero", "folder"])
def test_a_scenario_file_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    path = tmp_path / "s.yaml"
    if kind == "named pipe":
        os.mkfifo(path)
    elif kind == "folder":
        (tmp_path / "sub").mkdir()
        path = tmp_path / "sub"
    else:
        try:
            os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
        except PermissionError:  # pragma: no cover - CI runs as root
            pytest.skip("making a device node needs root")
    with pytest.raises(ScenarioError, match="named pipe|device|folder"):
        load_scenario(path)
    err = io.StringIO()
    assert cli_main(["run", str(path)] if kind != "folder" else ["run", str(path / "none.yaml")],
                    out=io.StringIO(), err=err) == 2


@pytest.mark.timeout(20)
def test_a_named_pipe_or_device_as_an_image_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "s.yaml").write_text(SCENARIO_WITH_IMAGE.replace("IMAGE", "pipe.png"))
    with pytest.raises(ScenarioError, match="s.yaml:8"):
        load_scenario(tmp_path / "s.yaml")


def test_a_scenario_file_over_the_size_limit_is_refused_without_reading_it_all(tmp_path, monkeypatch):
    import twofa_sim.spec.files as files_module
    monkeypatch.setattr(files_module, "MAX_FILE_BYTES", 1000)
    (tmp_path / "s.yaml").write_text("name: x\nsteps: [{wait: 1s}]\n" + "#" * 1000)
    with pytest.raises(ScenarioError, match="larger than"):
        load_scenario(tmp_path / "s.yaml")


def merge_key_bomb(levels: int = 40) -> str:
    """A scenario of under 1,300 bytes whose merge keys stand for 2**40 values."""
    items = ["&a0 {k: v}"] + [f"&a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}" for i in range(1, levels)]
    return "name: bomb\npolicy: {<<: [" + ", ".join(items) + "]}\nsteps: [{wait: 1s}]\n"


def alias_bomb(levels: int = 12) -> str:
    """A "billion laughs": lists of ten aliases of lists of ten aliases."""
    lines = ["name: bomb", "description: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\nsteps: [{wait: 1s}]\n"


def flatten_mapping_before_6_0_4(self, node):
    """PyYAML 6.0.2's merge-key flattening (MIT licence), which copies a merged mapping once per use."""
    merge = []
    index = 0
    while index < len(node.value):
        key_node, value_node = node.value[index]
        if key_node.tag == "tag:yaml.org,2002:merge":
            del node.value[index]
            if isinstance(value_node, yaml.MappingNode):
                self.flatten_mapping(value_node)
                merge.extend(value_node.value)
            elif isinstance(value_node, yaml.SequenceNode):
                submerge = []
                for subnode in value_node.value:
                    self.flatten_mapping(subnode)
                    submerge.append(subnode.value)
                submerge.reverse()
                for value in submerge:
                    merge.extend(value)
        elif key_node.tag == "tag:yaml.org,2002:value":
            key_node.tag = "tag:yaml.org,2002:str"
            index += 1
        else:
            index += 1
    if merge:
        node.value = merge + node.value


@pytest.mark.timeout(30)
@pytest.mark.parametrize("pyyaml", ["installed", "6.0.2's merge keys"])
@pytest.mark.parametrize("bomb", [merge_key_bomb, alias_bomb])
def test_alias_and_merge_key_bombs_are_refused_by_count_whatever_the_pyyaml(monkeypatch, pyyaml, bomb):
    if pyyaml != "installed":
        monkeypatch.setattr(yaml.constructor.SafeConstructor, "flatten_mapping", flatten_mapping_before_6_0_4)
    text = bomb()
    assert len(text) < 1300
    with pytest.raises(ScenarioError, match="more than 2,000,000 values once its aliases"):
        parse_scenario(text, "bomb.yaml")


def test_aliases_and_merge_keys_within_the_count_still_work():
    text = ("name: shared settings\nusers:\n  alice: &flagged {force_2fa: true}\n  bob: {<<: *flagged}\n"
            "steps:\n  - login: bob\n    expect: {state: ENROLMENT}\n")
    assert run_scenario(parse_scenario(text, "ok.yaml")).passed


# -- numbers too large to print, lone surrogates, secrets in the wrong field ---------------------------------------

HUGE = {"0x with 4,000 f's": "0x" + "f" * 4000, "sexagesimal": ":".join(["59"] * 3000),
        "5,000 digits": "9" * 5000, "negative 0x": "-0x" + "f" * 4000, "2**64": str(2 ** 64)}
NUMBER_FIELDS = {
    "seed": "name: x\nseed: N\nsteps: [{wait: 1s}]",
    "expect failures": "name: x\nusers: {alice: {}}\nsteps: [{login: alice, expect: {failures: N}}]",
    "expect an event count": "name: x\nusers: {alice: {}}\nsteps: [{login: alice, expect: {events: {authenticated: N}}}]",
    "recovery": "name: x\nusers: {alice: {force_2fa: true}}\nsteps: [{login: alice}, {type: {recovery: N}}]",
    "rect": "name: x\nusers: {alice: {force_2fa: true}}\ndevices: {p: {owner: alice, app: aegis}}\n"
            "steps: [{login: alice}, {scan: {device: p, rect: [0, 0, 10, N]}}]",
    "policy knob": "name: x\npolicy: {window: N}\nsteps: [{wait: 1s}]",
    "start": "name: x\nstart: N\nsteps: [{wait: 1s}]",
    "locked_out_until": "name: x\nusers: {alice: {}}\nsteps: [{login: alice, expect: {locked_out_until: N}}]",
    "digits": "name: x\nusers: {alice: {force_2fa: true}}\ndevices: {p: {owner: alice, app: aegis}}\n"
              "steps: [{login: alice}, {enter_key: {device: p, digits: N}}]",
}


@pytest.mark.parametrize("field", list(NUMBER_FIELDS))
@pytest.mark.parametrize("number", list(HUGE))
def test_numbers_too_large_to_print_are_refused_with_exit_2(tmp_path, capsys, field, number):
    (tmp_path / "s.yaml").write_text(NUMBER_FIELDS[field].replace("N", HUGE[number]))
    out, err = io.StringIO(), io.StringIO()
    assert cli_main(["run", str(tmp_path / "s.yaml")], out=out, err=err) == 2
    assert "s.yaml:" in err.getvalue() and len(err.getvalue()) < 1000
    assert "Traceback" not in out.getvalue() + err.getvalue() + capsys.readouterr().err


@pytest.mark.parametrize("where, line, words", [
    ('name: "\\udc80"', 1, "lone surrogate"),
    ('name: x\ndescription: "a\\ud800b"', 2, "lone surrogate"),
    ('name: x\nusers: {"al\\udfffice": {}}', 2, "lone surrogate"),
    ('name: x\npolicy: {issuer: "\\ud83d"}', 2, "lone surrogate"),
    ('name: x\nusers: {alice: {password: "correct horse\\udc80"}}', 2, "lone surrogate"),
    ('name: x\ndescription: "\\U00110000"', 2, "past \\U0010FFFF"),
])
def test_an_escape_that_is_no_unicode_character_is_refused_with_its_line(tmp_path, capsys, where, line, words):
    (tmp_path / "s.yaml").write_text(where + "\nsteps: [{wait: 1s}]\n")
    out, err = io.StringIO(), io.StringIO()
    assert cli_main(["run", str(tmp_path / "s.yaml")], out=out, err=err) == 2
    assert f"s.yaml:{line}: " in err.getvalue() and words in err.getvalue()
    assert "Traceback" not in capsys.readouterr().err
    err.getvalue().encode("utf-8")       # the message itself prints under UTF-8


@pytest.mark.parametrize("text, line, column", [("\ud800", 1, 1), ("name: x\ndescription: ab\udc80", 2, 16)])
def test_text_holding_a_lone_surrogate_is_refused_at_its_place(text, line, column):
    """Text read from bytes that are not UTF-8 (surrogateescape) holds lone surrogates: no YAML."""
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(text, "s.yaml")
    assert (refused.value.line, refused.value.column) == (line, column)
    assert "lone surrogate" in refused.value.problem


def test_a_file_name_that_is_not_utf8_prints_under_utf8(tmp_path):
    name = os.fsdecode(b"caf\xe9.yaml")
    (tmp_path / name).write_text("name: x\nsteps: [{wait: 1s}]\n")
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert cli_main(["run", str(tmp_path / name)], out=out, err=io.StringIO()) == 0
    out.flush()


TYPED = {"password": PASSWORD, "recovery code": "k7d3-9fq2-x8vm-a4pe", "shared secret": SECRET}
WRONG_SCENARIO_FIELD = {
    "flag": "name: x\nusers: {alice: {force_2fa: V}}\nsteps: [{wait: 1s}]",
    "duration": "name: x\nsteps: [{wait: V}]",
    "device clock offset": "name: x\nusers: {alice: {}}\ndevices: {p: {owner: alice, app: aegis, clock_offset: V}}\n"
                           "steps: [{wait: 1s}]",
    "number": "name: x\nseed: V\nsteps: [{wait: 1s}]",
    "entry number": "name: x\nusers: {alice: {}}\ndevices: {p: {owner: alice, app: aegis}}\n"
                    "steps: [{login: alice}, {type: {from: p, entry: V}}]",
    "mapping": "name: x\nusers: V\nsteps: [{wait: 1s}]",
    "step": "name: x\nsteps: [V]",
    "poll flag": "name: x\nsteps: [{wait: {for: 1s, poll: V}}]",
    "time": "name: x\nstart: V\nsteps: [{wait: 1s}]",
    "choice": "name: x\nusers: {alice: {}}\nsteps: [{login: alice, expect: {outcome: V}}]",
    "expect count": "name: x\nusers: {alice: {}}\nsteps: [{login: alice, expect: {failures: V}}]",
}


@pytest.mark.parametrize("field", list(WRONG_SCENARIO_FIELD))
@pytest.mark.parametrize("typed", list(TYPED))
def test_a_secret_typed_into_a_scenario_field_is_not_repeated(field, typed):
    value = TYPED[typed]
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(WRONG_SCENARIO_FIELD[field].replace("V", f'"{value}"'), "s.yaml")
    assert value not in str(caught.value) and value[:8] not in str(caught.value)


# -- pixels: no more than a screen shows ---------------------------------------------------------------------------

def png_of_size(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` white pixels, a few kilobytes for millions of pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height", [(13_000, 13_000), (14_000, 14_000), (20_000, 100), (7681, 4321)])
def test_an_image_larger_than_a_screen_is_refused_before_decoding(tmp_path, office, monkeypatch, width, height):
    """169 megapixels is below Pillow's own limit (178), 196 above it: both are refused by size, and
    the scanner refuses them even with Pillow's limit turned off."""
    data = png_of_size(width, height)
    assert len(data) < 60_000
    (tmp_path / "big.png").write_bytes(data)
    (tmp_path / "s.yaml").write_text(SCENARIO_WITH_IMAGE.replace("IMAGE", "big.png"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)     # refused before Pillow warns
        with pytest.raises(ScenarioError, match=r"s\.yaml:8: 'big\.png' .*larger than a screen shows"):
            load_scenario(tmp_path / "s.yaml")
    device = Device("phone", "alice", office.clock)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    opened = Image.open(tmp_path / "big.png")
    with opened, pytest.raises(ScanError, match="larger than a screen"):
        device.scan(opened)


def test_an_image_the_size_of_a_screen_is_read(tmp_path):
    (tmp_path / "screen.png").write_bytes(png_of_size(7680, 4320))
    (tmp_path / "s.yaml").write_text(SCENARIO_WITH_IMAGE.replace("IMAGE", "screen.png"))
    assert load_scenario(tmp_path / "s.yaml").steps[1].image == "screen.png"
