"""Passwords: the rule a new password must meet, and salted scrypt hashes.

Only the hash is stored. The scrypt cost is the policy's ``kdf_log2_n`` (r=8, p=1, 32-byte key,
16-byte salt): a documented setting so that simulations of many users can lower it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from .errors import ValidationError
from .secret_source import SecretSource

MIN_LENGTH = 10
MAX_LENGTH = 128
COMMON_PASSWORDS = frozenset({
    "password123", "1234567890", "qwertyuiop", "password12", "123456789a", "iloveyou12",
    "passwort123", "letmein123", "welcome123", "admin12345",
})


def check_password_rule(password: object, username: str) -> str:
    """Return the password if it meets the rule, else raise a ValidationError saying why."""
    if not isinstance(password, str):
        raise ValidationError("password", f"must be text, got {type(password).__name__}")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("password", "must be valid Unicode text (it holds a lone surrogate)") from None
    if len(password) < MIN_LENGTH:
        raise ValidationError("password", f"must have at least {MIN_LENGTH} characters, got {len(password)}")
    if len(password) > MAX_LENGTH:
        raise ValidationError("password", f"must have at most {MAX_LENGTH} characters, got {len(password)}")
    if password.strip() != password:
        raise ValidationError("password", "must not start or end with white space")
    if username.casefold() in password.casefold():
        raise ValidationError("password", "must not contain the username")
    if password.casefold() in COMMON_PASSWORDS:
        raise ValidationError("password", "is on the list of common passwords")
    return password


@dataclass(frozen=True, repr=False)
class PasswordHash:
    """A salted scrypt hash and its cost; compares in constant time."""

    salt: bytes
    digest: bytes
    log2_n: int

    @classmethod
    def create(cls, password: str, source: SecretSource, log2_n: int) -> "PasswordHash":
        salt = source.token_bytes(16)
        return cls(salt, _scrypt(password, salt, log2_n), log2_n)

    def matches(self, password: str) -> bool:
        return hmac.compare_digest(_scrypt(password, self.salt, self.log2_n), self.digest)

    def __repr__(self) -> str:
        return f"PasswordHash(scrypt, N=2**{self.log2_n})"


def _scrypt(text: str, salt: bytes, log2_n: int) -> bytes:
    # surrogatepass: text that is not valid Unicode (a lone surrogate) hashes as a wrong password, not a crash
    return hashlib.scrypt(text.encode("utf-8", "surrogatepass"), salt=salt, n=2 ** log2_n, r=8, p=1,
                          maxmem=2 ** log2_n * 8 * 128 * 2 + 1024 * 1024, dklen=32)
