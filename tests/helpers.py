"""Small helpers the tests share: an independent TOTP (RFC 6238 written out, not pyotp) and
shortcuts that walk a user through the flow."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from urllib.parse import parse_qs, unquote, urlsplit

from twofa_sim import BackOffice, State
from twofa_sim.core.otp import a_code_outside_window, code_at

from conftest import PASSWORD


def independent_totp(secret_b32: str, t: float, algorithm: str = "SHA1", digits: int = 6, period: int = 30) -> str:
    """RFC 6238 / RFC 4226 section 5.3 from the text, with hmac and hashlib only."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = struct.pack(">Q", int(t // period))
    mac = hmac.new(key, counter, getattr(hashlib, algorithm.lower())).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def parse_key_uri(uri: str) -> dict:
    """The parts of an otpauth URI, parsed with the standard library only."""
    parts = urlsplit(uri)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return {"scheme": parts.scheme, "type": parts.netloc, "label": unquote(parts.path[1:]), **query}


def enrol(office: BackOffice, username: str, password: str = PASSWORD) -> str:
    """Log ``username`` in for the first time and confirm enrolment; returns the secret."""
    login = office.start_login()
    result = login.submit_password(username, password)
    assert result.state is State.ENROLMENT, result
    secret = result.screen.secret
    assert login.submit_code(code_at(secret, office.clock.now(), **_params(office))).state is State.AUTHENTICATED
    return secret


def _params(office: BackOffice) -> dict:
    p = office.policy
    return {"algorithm": p.algorithm, "digits": p.digits, "period": p.period}


def current_code(office: BackOffice, secret: str, offset_steps: int = 0) -> str:
    return code_at(secret, office.clock.now() + offset_steps * office.policy.period, **_params(office))


def refused_code(office: BackOffice, secret: str) -> str:
    """A code the back office certainly refuses now: none of the window's codes (and a step more)."""
    return a_code_outside_window(secret, office.clock.now(), window=office.policy.window, **_params(office))


def at_code_prompt(office: BackOffice, username: str, password: str = PASSWORD):
    login = office.start_login()
    assert login.submit_password(username, password).state is State.CODE_REQUIRED
    return login
