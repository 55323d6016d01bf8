"""Passwords: the rule a new password must meet, and salted scrypt hashes.

Only the hash is stored. The scrypt cost is the policy's ``kdf_log2_n`` (r=8, p=1, 32-byte key,
16-byte salt): a documented setting so that simulations of many users can lower it. A stored hash
keeps the cost it was made with (up to :data:`MAX_STORED_LOG2_N`), so hashes made under an earlier
policy still check; the back office upgrades them at the next correct password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from .errors import ValidationError
from .frozen import FrozenValue
from .fields import encode_bytes, read_bytes, read_object, read_whole
from .messages import say
from .secret_source import SecretSource

R, P = 8, 1
MAX_STORED_LOG2_N = 20
"""The highest cost a stored hash may have: scrypt then needs 1 GiB, and OpenSSL refuses any memory
bound of 2 GiB or more, so 2**21 could never be checked."""

SNAPSHOT_FIELDS = ("scheme", "salt", "digest", "log2_n", "r", "p")
"""What a hash's snapshot holds: its scheme and every cost parameter beside its own fields."""

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
        raise ValidationError("password", f"must have at least {MIN_LENGTH} characters, got {len(password)}",
                              said=say("password_too_short", minimum=MIN_LENGTH, got=len(password)))
    if len(password) > MAX_LENGTH:
        raise ValidationError("password", f"must have at most {MAX_LENGTH} characters, got {len(password)}",
                              said=say("password_too_long", maximum=MAX_LENGTH, got=len(password)))
    if password.strip() != password:
        raise ValidationError("password", "must not start or end with white space", said=say("password_spaces"))
    if username.casefold() in password.casefold():
        raise ValidationError("password", "must not contain the username", said=say("password_has_username"))
    if password.casefold() in COMMON_PASSWORDS:
        raise ValidationError("password", "is on the list of common passwords", said=say("password_common"))
    return password


@dataclass(frozen=True, repr=False)
class PasswordHash(FrozenValue):
    """A salted scrypt hash and its cost; compares in constant time."""

    salt: bytes
    digest: bytes
    log2_n: int

    @classmethod
    def create(cls, password: str, source: SecretSource, log2_n: int) -> "PasswordHash":
        salt = source.token_bytes(16)
        return cls(salt, _scrypt(password, salt, log2_n), log2_n)

    def __post_init__(self) -> None:
        if not (type(self.log2_n) is int and 1 <= self.log2_n <= MAX_STORED_LOG2_N):
            raise ValidationError("password hash", f"scrypt cost log2_n must be a whole number from 1 to "
                                  f"{MAX_STORED_LOG2_N}, got {self.log2_n!r}")

    def matches(self, password: str) -> bool:
        return hmac.compare_digest(_scrypt(password, self.salt, self.log2_n), self.digest)

    def snapshot(self) -> dict:
        """Scheme, salt and digest (base64) and every cost parameter: a reader knows how to check it."""
        return {"scheme": "scrypt", "salt": encode_bytes(self.salt), "digest": encode_bytes(self.digest),
                "log2_n": self.log2_n, "r": R, "p": P}

    @classmethod
    def restore(cls, data: dict, where: str = "password_hash") -> "PasswordHash":
        """The hash of a :meth:`snapshot`, every value checked first (a :class:`ValidationError`
        names the place, e.g. ``password_hash.salt``, never a value)."""
        data = read_object(data, where, SNAPSHOT_FIELDS)
        if data["scheme"] != "scrypt":
            raise ValidationError(f"{where}.scheme", "must be 'scrypt'")
        read_whole(data["r"], f"{where}.r", R, R)
        read_whole(data["p"], f"{where}.p", P, P)
        salt = read_bytes(data["salt"], f"{where}.salt", 8, 64)
        digest = read_bytes(data["digest"], f"{where}.digest", 32, 32)
        return cls(salt, digest, read_whole(data["log2_n"], f"{where}.log2_n", 1, MAX_STORED_LOG2_N))

    def __repr__(self) -> str:
        return f"PasswordHash(scrypt, N=2**{self.log2_n})"


class Decoys:
    """The hashes an unknown username's password is checked against, one per cost stored hashes have.

    An unknown name must cost what a known user's wrong password costs, also while stored hashes
    have other costs than the policy (after a policy change, or from a session file). The cost for
    a name is that of a stored hash picked by a keyed hash (HMAC) of the name: one name always costs
    the same, as a user does, and over many names the costs are spread as the users' costs are.

    A decoy is a random salt and a random digest: checking a password against it runs scrypt at its
    cost, as against a user's hash, and no password matches it. Making one hashes nothing, so a
    back office (each warm kernel of a class server) and a cost change cost no scrypt.
    """

    def __init__(self, policy_cost: int, costs: tuple[int, ...] = (), key: bytes | None = None,
                 hashes: dict[int, PasswordHash] | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self._costs = costs or (policy_cost,)
        hashes = hashes or {}
        self._hashes = {cost: hashes.get(cost) or PasswordHash(secrets.token_bytes(16), secrets.token_bytes(32), cost)
                        for cost in sorted(set(self._costs))}

    def for_costs(self, stored: tuple[int, ...], policy_cost: int) -> "Decoys":
        """Decoys for these stored costs (sorted), or the policy's cost when nothing is stored; self
        when nothing changed."""
        costs = stored or (policy_cost,)
        if costs is self._costs or costs == self._costs:
            return self
        return Decoys(policy_cost, costs, self._key, self._hashes)

    def cost_for(self, username: str) -> int:
        mac = hmac.new(self._key, username.casefold().encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        return self._costs[int.from_bytes(mac[:8], "big") % len(self._costs)]

    def check(self, username: str, password: str) -> None:
        """One scrypt at the cost picked for ``username``, like a wrong password of a real user."""
        self._hashes[self.cost_for(username)].matches(password)

    def __repr__(self) -> str:
        return f"Decoys(scrypt, N=2**{', 2**'.join(map(str, self._hashes))})"


def scrypt_memory(log2_n: int) -> int:
    """The bytes OpenSSL's scrypt allocates for N = 2**log2_n (its V array and B buffer), and so the
    smallest ``maxmem`` it accepts: 128 * r * (N + p + 2)."""
    return 128 * R * (2 ** log2_n + P + 2)


def _scrypt(text: str, salt: bytes, log2_n: int) -> bytes:
    # surrogatepass: text that is not valid Unicode (a lone surrogate) hashes as a wrong password, not a crash
    return hashlib.scrypt(text.encode("utf-8", "surrogatepass"), salt=salt, n=2 ** log2_n, r=R, p=P,
                          maxmem=scrypt_memory(log2_n), dklen=32)
