"""Recovery codes: single use, stored only as hashes, able to stand in for a one-time code.

Recovery codes carry 64 random bits, so a single SHA-256 with a per-set salt is enough to keep
them out of storage (a slow KDF protects low-entropy passwords, not these).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass, field

from ..core.fields import encode_bytes, read_bytes, read_list, read_object, read_whole
from ..core.secret_source import SecretSource, new_recovery_code

MAX_CODES = 1000


def normalise_recovery_code(text: str) -> str:
    """Lower case, without spaces or dashes: ``3F2A 9C01-7BE4 0D55`` and ``3f2a-9c01-7be4-0d55`` agree.

    Unicode compatibility forms are folded first (NFKC), as for one-time codes: a code typed with
    full-width characters (an East Asian input method left on) is the same code.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if ch != "-" and not ch.isspace())


@dataclass(repr=False)
class RecoveryCodes:
    """The hashes of a user's unused recovery codes."""

    salt: bytes
    unused: list[bytes] = field(default_factory=list)
    used: int = 0

    @classmethod
    def issue(cls, count: int, source: SecretSource) -> tuple["RecoveryCodes", list[str]]:
        """A fresh set; the plain codes are returned once, for the user to write down."""
        salt = source.token_bytes(16)
        codes = [new_recovery_code(source) for _ in range(count)]
        return cls(salt, [cls._hash(salt, c) for c in codes]), codes

    @staticmethod
    def _hash(salt: bytes, code: str) -> bytes:
        return hashlib.sha256(salt + normalise_recovery_code(code).encode("ascii", "replace")).digest()

    def find(self, code: str) -> int | None:
        """Index of the unused code that matches, compared in constant time; None if none."""
        candidate = self._hash(self.salt, code)
        found = None
        for index, stored in enumerate(self.unused):
            if hmac.compare_digest(stored, candidate):
                found = index
        return found

    def consume(self, index: int) -> None:
        del self.unused[index]
        self.used += 1

    @property
    def remaining(self) -> int:
        return len(self.unused)

    def snapshot(self) -> dict:
        """The salt and the hashes of the unused codes (base64), and how many were used: never a code.
        The one plain form, in a session file and in the SQL store's factor column alike."""
        return {"salt": encode_bytes(self.salt), "unused": [encode_bytes(h) for h in self.unused], "used": self.used}

    @classmethod
    def restore(cls, data: dict, where: str = "recovery") -> "RecoveryCodes":
        """The codes of a :meth:`snapshot`, every value checked first (a :class:`ValidationError`
        names the place, never a value)."""
        data = read_object(data, where, ["salt", "unused", "used"])
        unused = [read_bytes(digest, f"{where}.unused[{i}]", 32, 32)
                  for i, digest in enumerate(read_list(data["unused"], f"{where}.unused", limit=MAX_CODES))]
        salt = read_bytes(data["salt"], f"{where}.salt", 8, 64)
        return cls(salt, unused, read_whole(data["used"], f"{where}.used", 0, 10 ** 9))

    def __repr__(self) -> str:
        return f"RecoveryCodes(remaining={self.remaining}, used={self.used})"
