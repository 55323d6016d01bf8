"""An entry of an authenticator app, its codes, and a question the app asks before adding one.

An :class:`Entry` is one account in an app: issuer, name, secret and the settings the app made of
the scanned URI (time-based, or counter-based where the app keeps HOTP). Its code comes from
:func:`twofa_sim.core.otp.code_at`, the path the backend checks codes with, wherever pyotp can
compute it, else from :func:`hotp_code` (RFC 4226 for what apps accept beyond pyotp: MD5, SHA224,
SHA384, 1 to 5 digits, long periods). A :class:`PendingQuestion` is an entry the app holds back
until the user answers (a duplicate, or FreeOTP's "Token is unsafe!").
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass

from .profiles import Adjustment, DuplicateMatch
from ..core.errors import ValidationError
from ..core.frozen import FrozenValue
from ..core.otp import code_at
from .otpauth import PERIOD_RANGE, URI_ALGORITHMS, build_key_uri, secret_bytes
from ..core.policy import ALGORITHMS as PYOTP_ALGORITHMS

COMPUTABLE_DIGITS = range(6, 11)       # what pyotp computes (the back office's path)
COMPUTABLE_PERIODS = range(1, 121)
MIN_SECRET_BITS = 112                  # pyotp's limit, kept for every entry: the back office issues 128 bits or more
APP_DIGITS = range(1, 11)              # RFC 4226 truncation keeps 31 bits: at most 10 digits
APP_PERIODS = range(PERIOD_RANGE.start, PERIOD_RANGE.stop)
LAST_SECOND = 253_402_300_800          # 10000-01-01 UTC: pyotp computes codes before it
_PYOTP_DIGITS, _PYOTP_PERIODS, _PYOTP_MIN_BITS = range(6, 11), range(1, 121), 112


def hotp_code(secret: str, counter: int, *, algorithm: str = "SHA1", digits: int = 6) -> str:
    """RFC 4226 for any algorithm an app accepts: HMAC of the 8-byte counter, dynamic truncation,
    the last ``digits`` decimal digits. Used where pyotp cannot compute (MD5, SHA224 and SHA384
    through the policy's names, 1 to 5 digits, long periods); the tests check it against pyotp
    wherever both compute."""
    if algorithm not in URI_ALGORITHMS:
        raise ValidationError("algorithm", f"must be one of {', '.join(URI_ALGORITHMS)}, got {algorithm!r}")
    mac = hmac.new(secret_bytes(secret), counter.to_bytes(8, "big"), getattr(hashlib, algorithm.lower())).digest()
    start = mac[-1] & 0x0F
    if start + 4 > len(mac):        # MD5's 16 bytes: offsets 13 to 15 read past the end (Aegis then has no code)
        raise ValidationError("algorithm", f"{algorithm} gives {len(mac)} bytes; RFC 4226 truncation at offset "
                                           f"{start} reads past them: no code for this time step")
    value = int.from_bytes(mac[start:start + 4], "big") & 0x7FFF_FFFF
    return str(value % 10 ** digits).zfill(digits)


def _pyotp_computes(secret: str, algorithm: str, digits: int, period: int) -> bool:
    # a normalised base32 secret of n characters holds floor(5n / 8) bytes: no need to decode it
    return (algorithm in PYOTP_ALGORITHMS and digits in _PYOTP_DIGITS and period in _PYOTP_PERIODS
            and len(secret) * 5 // 8 * 8 >= _PYOTP_MIN_BITS)


@dataclass(frozen=True, repr=False)
class Entry(FrozenValue):
    """One account in the app. The repr never shows the secret."""

    id: int
    issuer: str
    account: str
    secret: str
    algorithm: str = "SHA1"
    digits: int = 6
    period: int = 30
    added_at: float = 0.0
    origin: str = "scan"
    warnings: tuple[str, ...] = ()
    type: str = "totp"
    counter: int | None = None

    @property
    def label(self) -> str:
        return f"{self.issuer}: {self.account}" if self.issuer else self.account

    @property
    def counter_based(self) -> bool:
        """An HOTP entry: its code changes when the user asks for the next one, never with time."""
        return self.type == "hotp"

    def step_at(self, whole_second: int) -> int:
        """The time step (for an HOTP entry: its counter, whatever the time)."""
        return self.counter if self.counter_based else whole_second // self.period

    def code_at(self, whole_second: int) -> str:
        """The code for a whole second of app time (the app's rounding is already applied)."""
        if not self.counter_based and _pyotp_computes(self.secret, self.algorithm, self.digits, self.period):
            return code_at(self.secret, whole_second, algorithm=self.algorithm, digits=self.digits, period=self.period)
        return hotp_code(self.secret, self.step_at(whole_second), algorithm=self.algorithm, digits=self.digits)

    def to_uri(self, *, omit_defaults: bool = False) -> str:
        """The entry as an ``otpauth://`` line of a text backup: every parameter spelled out, or
        (``omit_defaults``, as the add-on exports) only those that differ from SHA1, 6 and 30."""
        return build_key_uri(self.secret, self.account, self.issuer, algorithm=self.algorithm, digits=self.digits,
                             period=self.period, explicit=not omit_defaults, counter=self.counter)

    def same_as(self, other: "Entry", match: DuplicateMatch) -> bool:
        if match is DuplicateMatch.SECRET:
            return self.secret == other.secret
        return (self.issuer, self.account) == (other.issuer, other.account)

    def __repr__(self) -> str:
        if self.counter_based:
            return f"Entry(#{self.id} {self.label!r}, HOTP, {self.algorithm}, {self.digits} digits)"
        return f"Entry(#{self.id} {self.label!r}, {self.algorithm}, {self.digits} digits, {self.period} s)"

    def snapshot(self) -> dict:
        """The entry as plain data (it holds the secret)."""
        return {"id": self.id, "issuer": self.issuer, "account": self.account, "secret": self.secret,
                "algorithm": self.algorithm, "digits": self.digits, "period": self.period, "added_at": self.added_at,
                "origin": self.origin, "warnings": list(self.warnings), "type": self.type, "counter": self.counter}

    @classmethod
    def restore(cls, data: dict) -> "Entry":
        return cls(**{**data, "warnings": tuple(data["warnings"])})

    def settings_text(self) -> str:
        kind = "HOTP, " if self.counter_based else ""
        tail = "" if self.counter_based else f", {self.period} s"
        return f"{kind}{self.algorithm}, {self.digits} digits{tail}"


class Question(enum.Enum):
    """What an app asks before it adds an entry."""

    DUPLICATE = "the app holds this entry already"
    UNSAFE = "Token is unsafe!"
    EDITOR = "the new entry is shown pre-filled and editable: Save or Cancel"
    LINK = "Save key for this account?"


@dataclass(frozen=True)
class PendingQuestion:
    """An entry the app holds back until the user answers its question (the entry it would
    replace, for a duplicate), with what the app changed and warned about on the way."""

    candidate: Entry
    existing: Entry | None
    adjustments: tuple[Adjustment, ...]
    warnings: tuple[str, ...]
    question: Question = Question.DUPLICATE

    def snapshot(self) -> dict:
        return {"question": self.question.name.lower(), "candidate": self.candidate.snapshot(),
                "existing": None if self.existing is None else self.existing.snapshot(),
                "adjustments": [{"field": a.field, "given": a.given, "used": a.used, "why": a.why}
                                for a in self.adjustments],
                "warnings": list(self.warnings)}

    @classmethod
    def restore(cls, data: dict) -> "PendingQuestion":
        existing = data["existing"]
        return cls(Entry.restore(data["candidate"]), None if existing is None else Entry.restore(existing),
                   tuple(Adjustment(**a) for a in data["adjustments"]), tuple(data["warnings"]),
                   Question[data["question"].upper()])


__all__ = ["Entry", "PendingQuestion", "Question", "hotp_code", "COMPUTABLE_DIGITS", "COMPUTABLE_PERIODS",
           "MIN_SECRET_BITS", "APP_DIGITS", "APP_PERIODS", "LAST_SECOND"]
