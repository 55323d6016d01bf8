"""Every knob of the login policy in one frozen object, each default with its reason.

A product owner changes a knob with :meth:`Policy.replace` and sees the consequence; the engine
reads nothing from anywhere else. Defaults are chosen to work with the article's own app (the
"Authenticator" browser add-on, which forces SHA1 and 30 s on scan) and follow the reference
systems in the product brief (Keycloak, django-otp, Authelia, GitLab).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any


from .errors import PolicyError, shown

KDF_LOG2_N_MAX = 17
"""The highest scrypt cost a policy may ask for (OWASP's 2**17); stored hashes may be dearer, up to
:data:`twofa_sim.core.passwords.MAX_STORED_LOG2_N`."""

ALGORITHMS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def _knob(default: Any, reason: str) -> Any:
    return field(default=default, metadata={"reason": reason})


@dataclass(frozen=True)
class Policy:
    """The policy decisions the article leaves open, as explicit settings."""

    issuer: str = _knob("plenigo", "the name apps show above the code; equals the label prefix of the QR's URI")
    algorithm: str = _knob("SHA1", "the article's add-on and Google Authenticator ignore the algorithm and use SHA1")
    digits: int = _knob(6, "what every app shows by default; the add-on keeps digits, some Android apps do not")
    period: int = _knob(30, "RFC 6238 recommends 30 s; the add-on, Google Authenticator and most apps force it")
    window: int = _knob(1, "RFC 6238 allows one step of look-back; Keycloak, django-otp, Authelia and GitLab accept one step either side")
    replay_protection: bool = _knob(True, "RFC 6238 section 5.2: a verifier must not accept the same code twice")
    failed_code_limit: int = _knob(5, "five wrong codes in a row lock the account (GitLab locks after 10; Keycloak's detection, when on, after 30; django-otp only slows guesses down); counts across logins (RFC 4226 section 7.3)")
    lockout_seconds: int = _knob(900, "a 15 min lockout keeps an attacker with the password under 500 guesses a day; an admin can unlock sooner")
    code_prompt_timeout: int = _knob(300, "the QR or code prompt stays open 5 min, long enough to install an app and scan")
    renew_unconfirmed_secret: bool = _knob(False, "a started but unconfirmed enrolment keeps its secret, so an entry already scanned into an app stays valid")
    keep_2fa_when_unforced: bool = _knob(True, "unticking the force flag does not drop 2FA from a user who already enrolled (no silent downgrade)")
    recovery_code_count: int = _knob(10, "GitLab and django-two-factor issue 10 single-use codes")
    drift_tracking: bool = _knob(False, "the window stays centred on server time, as the tables read; turn on to follow devices whose clocks drift (django-otp)")
    secret_bits: int = _knob(160, "RFC 4226 recommends 160 bits (minimum 128)")
    kdf_log2_n: int = _knob(14, "scrypt cost N = 2**14 (16 MiB, tens of ms); production wants 2**17 (OWASP), also the highest accepted: 128 MiB and about a second a check, so a burst of logins cannot exhaust a server's memory; large simulations lower it")

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, problem: str) -> None:
            if not ok:
                raise PolicyError(f"policy.{name}", problem)

        def whole(name: str, low: int, high: int) -> None:
            value = getattr(self, name)
            need(isinstance(value, int) and not isinstance(value, bool), name, f"must be a whole number, got {shown(value)}")
            need(low <= value <= high, name, f"must be between {low} and {high}, got {shown(value)}")

        need(isinstance(self.issuer, str) and 0 < len(self.issuer.strip()) <= 64, "issuer", "must be 1 to 64 characters")
        need(":" not in str(self.issuer), "issuer", "must not contain ':' (Key URI format)")
        need(str(self.issuer) == str(self.issuer).strip(), "issuer",
             "must not start or end with white space (apps would see two different issuers)")
        need(str(self.issuer).isprintable(), "issuer",
             "must be printable (no line breaks, zero-width or direction-changing characters): apps show it")
        need(isinstance(self.algorithm, str) and self.algorithm in ALGORITHMS, "algorithm",
             f"must be one of {', '.join(ALGORITHMS)}, got {shown(self.algorithm)}")
        need(type(self.digits) is int and self.digits in (6, 8), "digits", f"must be 6 or 8, got {shown(self.digits)}")
        whole("period", 1, 120)  # pyotp computes codes for periods up to 120 s
        whole("window", 0, 10)
        whole("failed_code_limit", 1, 1000)
        whole("lockout_seconds", 1, 30 * 86400)
        whole("code_prompt_timeout", 10, 86400)
        whole("recovery_code_count", 0, 100)
        whole("secret_bits", 128, 512)
        need(self.secret_bits % 8 == 0, "secret_bits", f"must be a multiple of 8, got {self.secret_bits}")
        whole("kdf_log2_n", 1, KDF_LOG2_N_MAX)
        for flag in ("replay_protection", "renew_unconfirmed_secret", "keep_2fa_when_unforced", "drift_tracking"):
            need(isinstance(getattr(self, flag), bool), flag, f"must be true or false, got {shown(getattr(self, flag))}")

    @property
    def digest(self):
        """The hashlib constructor for :attr:`algorithm` (what pyotp takes)."""
        return ALGORITHMS[self.algorithm]

    def replace(self, **changes: Any) -> "Policy":
        """A copy with some knobs changed; unknown names are an error, not ignored."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise PolicyError(f"policy.{unknown[0]}", f"no such setting (known: {', '.join(sorted(known))})")
        return dataclasses.replace(self, **changes)

    def snapshot(self) -> dict:
        """Every knob by name (plain values)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def restore(cls, data: dict) -> "Policy":
        """The policy of a :meth:`snapshot`: every knob checked as when it is set (a PolicyError names it)."""
        return cls(**data)

    def rows(self) -> list[dict]:
        """Every knob, its value, its default and why (:func:`twofa_sim.render.tables.policy_table`)."""
        rows = []
        for f in dataclasses.fields(self):
            rows.append({"setting": f.name, "value": getattr(self, f.name), "default": f.default,
                         "reason": f.metadata["reason"]})
        return rows
