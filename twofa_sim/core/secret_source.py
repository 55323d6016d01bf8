"""Where shared secrets and recovery codes come from.

Outside demos every secret comes from :mod:`secrets`. Notebooks, tests and scenarios need the
same QR on every run, and ``pyotp.random_base32()`` cannot be seeded, so a seeded source exists
too; it is for demonstrations only and says so in its name.
"""

from __future__ import annotations

import base64
import random
import secrets
import struct


class SystemSecretSource:
    """Cryptographically strong randomness from :mod:`secrets` (the default)."""

    def token_bytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)

    def snapshot(self) -> dict:
        """Only the kind: the operating system's randomness has no state to keep."""
        return {"kind": "system"}

    @classmethod
    def restore(cls, data: dict) -> "SystemSecretSource":
        return cls()

    def __repr__(self) -> str:
        return "SystemSecretSource()"


class SeededSecretSource:
    """Reproducible randomness for demos and tests. Never use it for real accounts."""

    def __init__(self, seed: int, *, state: tuple | None = None) -> None:
        """``state`` (from :meth:`random.Random.getstate`) continues a generator where it stood."""
        self.seed = seed
        self._random = random.Random(seed)
        if state is not None:
            self._random.setstate(state)

    def token_bytes(self, n: int) -> bytes:
        return self._random.randbytes(n)

    def snapshot(self) -> dict:
        """The seed and the generator's whole state (625 numbers of 32 bits, as base64), so a
        restored demo goes on drawing the same secrets."""
        version, internal, gauss = self._random.getstate()
        return {"kind": "seeded", "seed": self.seed,
                "state": {"version": version, "internal": base64.b64encode(struct.pack(">625I", *internal)).decode(),
                          "gauss_next": gauss}}

    @classmethod
    def restore(cls, data: dict) -> "SeededSecretSource":
        """The source a :meth:`snapshot` describes; ValueError if the state is not one of Python's generator."""
        state = data["state"]
        internal = struct.unpack(">625I", base64.b64decode(state["internal"], validate=True))
        return cls(data["seed"], state=(state["version"], internal, state["gauss_next"]))

    def __repr__(self) -> str:
        return f"SeededSecretSource(seed={self.seed})"


SecretSource = SystemSecretSource | SeededSecretSource


def restore_secret_source(data: dict) -> SecretSource:
    """The source a ``snapshot()`` of either kind describes."""
    return (SystemSecretSource if data["kind"] == "system" else SeededSecretSource).restore(data)


def new_base32_secret(source: SecretSource, bits: int = 160) -> str:
    """A base32 secret of ``bits`` bits without padding (Key URI format)."""
    return base64.b32encode(source.token_bytes(bits // 8)).decode("ascii").rstrip("=")


def new_recovery_code(source: SecretSource) -> str:
    """A 64-bit recovery code as four groups of four hex digits, e.g. ``3f2a-9c01-7be4-0d55``."""
    digits = source.token_bytes(8).hex()
    return "-".join(digits[i:i + 4] for i in range(0, 16, 4))
