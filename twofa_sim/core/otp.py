"""The OTP arithmetic: pure functions over pyotp, no simulation state.

The backend and every app compute and check codes through these two functions, so the RFC test
vectors exercise the same path the login flow uses.
"""

from __future__ import annotations

import functools
import hmac

import pyotp
from pyotp.utils import strings_equal

from .errors import ValidationError
from .policy import ALGORITHMS
from .rules import window_steps


def totp(secret: str, *, algorithm: str = "SHA1", digits: int = 6, period: int = 30) -> pyotp.TOTP:
    """A pyotp TOTP for a base32 secret and parameters."""
    if algorithm not in ALGORITHMS:
        raise ValidationError("algorithm", f"must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    return _cached_totp(secret, algorithm, digits, period)


_LAST_INSTANT = 253402300800
"""10000-01-01T00:00:00Z: pyotp computes codes for the instants from 0 up to, not including, this one."""


class _Keyed:
    """HMAC (RFC 2104) under one key, keyed once (``hmac.new``): each code then copies the keyed
    state (OpenSSL's, in C) and adds its step, instead of keying the HMAC again on every call as
    pyotp does (about three times slower)."""

    __slots__ = ("_keyed",)

    def __init__(self, key: bytes, digest) -> None:
        self._keyed = hmac.new(key, digestmod=digest)

    def codes(self, steps: range, digits: int) -> list[str]:
        """The HOTP code of each time step, in order: the step's HMAC (the keyed state copied, then
        the step), truncated as RFC 4226 says and pyotp does. A window's codes in one call: the
        window is the hot loop of every code check."""
        keyed, modulus, codes = self._keyed, 10 ** digits, []
        for step in steps:
            mac = keyed.copy()
            mac.update(step.to_bytes(8, "big"))
            code_mac = mac.digest()
            offset = code_mac[-1] & 0x0F
            value = (int.from_bytes(code_mac[offset:offset + 4], "big") & 0x7FFFFFFF) % modulus
            codes.append(str(value).zfill(digits))
        return codes


@functools.lru_cache(maxsize=4096)
def _keyed(secret: str, algorithm: str, digits: int, period: int) -> _Keyed:
    # pyotp's byte_secret() decodes the base32 text on every call: a factor's key is decoded and
    # keyed once per (secret, parameters) and reused, as its generator is. Building it
    # through totp() checks the algorithm and the secret as every other path does.
    generator = totp(secret, algorithm=algorithm, digits=digits, period=period)
    return _Keyed(generator.byte_secret(), generator.digest)


@functools.lru_cache(maxsize=4096)
def _cached_totp(secret: str, algorithm: str, digits: int, period: int) -> pyotp.TOTP:
    # Building a TOTP decodes and checks the base32 secret with the pure-Python base64 module,
    # a fifth of the cost of a whole code check; nothing mutates these objects, so one per
    # (secret, parameters) is reused. Errors (a short secret, a period pyotp refuses) are raised
    # again on every call: lru_cache does not cache exceptions.
    return pyotp.TOTP(secret, digits=digits, digest=ALGORITHMS[algorithm], interval=period)


def step_of(t: float, period: int = 30) -> int:
    """The RFC 6238 time step T = floor(t / period)."""
    return int(t // period)


def code_at(secret: str, t: float, *, algorithm: str = "SHA1", digits: int = 6, period: int = 30) -> str:
    """The code for instant ``t`` (seconds since the epoch): pyotp's ``TOTP.at(int(t))``.

    Computed from the factor's cached key (:class:`_Keyed`, as a code check computes its window),
    not through ``TOTP.at``, which decodes the base32 secret and sets the HMAC key up again for
    every code: apps and simulated users ask for a code at every login. The step is pyotp's
    (``int(t) // period``; its float division gives the same whole number for every instant it
    accepts); an instant pyotp refuses (before 1970, after 9999) goes to pyotp, which says why."""
    whole = int(t)
    if not 0 <= whole < _LAST_INSTANT:
        return totp(secret, algorithm=algorithm, digits=digits, period=period).at(whole)
    step = whole // period
    return _keyed(secret, algorithm, digits, period).codes(range(step, step + 1), digits)[0]


def a_code_outside_window(secret: str, t: float, *, window: int, margin: int = 1, algorithm: str = "SHA1",
                          digits: int = 6, period: int = 30) -> str:
    """A code that is certainly refused at ``t``: the first of 000000, 000001, ... that is none of
    the codes of the window around ``t``, widened by ``margin`` steps either side (time moves on
    between choosing a code and typing it). Notebooks and tests type it to show a refusal: a fixed
    "000000", or any code that only differs from the current one, could be a code of the window."""
    generator = totp(secret, algorithm=algorithm, digits=digits, period=period)
    taken = {generator.at(step * period) for step in window_steps(step_of(t, period), window + margin)}
    return next(code for code in (str(n).zfill(digits) for n in range(10 ** digits)) if code not in taken)


def matching_steps(secret: str, code: str, t: float, *, window: int, centre: int = 0,
                   algorithm: str = "SHA1", digits: int = 6, period: int = 30) -> list[int]:
    """Every time step within ``window`` steps of ``t`` (shifted by ``centre`` steps) whose code is
    ``code``, earliest first; empty when none matches.

    All of them, not the first: two adjacent steps have the same code about once in a million, and
    replay protection must then skip the step already used and take the later one (django-otp).
    Every step of the window is compared, in constant time (``hmac.compare_digest``, or pyotp's
    ``strings_equal`` for a text that is not ASCII), none skipped; near 1970 the window starts at
    step 0.
    """
    keyed = _keyed(secret, algorithm, digits, period)
    instant = int(t) + centre * period
    if instant < 0:
        return []
    present = instant // period
    # pyotp decodes the base32 secret again for every code it generates (most of a code's cost):
    # the window's codes are computed from one decoding, with RFC 4226's truncation as pyotp does
    # it (the RFC vectors run through this function). A code of ASCII characters is compared with
    # hmac.compare_digest as it is (NFKC leaves ASCII unchanged: what strings_equal would compare);
    # any other text goes through pyotp's strings_equal, which folds it first.
    equal = hmac.compare_digest if code.isascii() else strings_equal
    steps, matched = window_steps(present, window), []
    for step, expected in zip(steps, keyed.codes(steps, digits)):
        if equal(code, expected):                               # every step is compared, none skipped
            matched.append(step)
    return matched


def matching_step(secret: str, code: str, t: float, *, window: int, centre: int = 0,
                  algorithm: str = "SHA1", digits: int = 6, period: int = 30) -> int | None:
    """The earliest step :func:`matching_steps` finds, or ``None``."""
    steps = matching_steps(secret, code, t, window=window, centre=centre, algorithm=algorithm, digits=digits,
                           period=period)
    return steps[0] if steps else None


__all__ = ["totp", "step_of", "code_at", "a_code_outside_window", "matching_steps", "matching_step", "strings_equal"]
