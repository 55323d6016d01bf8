"""The class list: trainees' usernames and the passwords generated for them.

Passwords come from :mod:`secrets` and are handed to the trainer only (the trainer gives each
trainee their own). They never appear in a repr, a table of the dashboard, an error message or the
event log; the back office keeps only their hashes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from ..core.errors import ValidationError, shown
from ..core.passwords import check_password_rule
from ..login.user import check_username

# No 0/O, 1/l/I: a trainee types the password from a slip of paper or a chat message.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS, GROUP_LENGTH = 3, 4
MAX_TRAINEES = 200


def generate_password(username: str = "") -> str:
    """A fresh password of three groups of four characters (about 59 bits), e.g. ``k7mq-2xha-9wpe``.

    It meets the back office's password rule (checked, so a rule made stricter fails here first).
    """
    password = "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
    return check_password_rule(password, username)


@dataclass(frozen=True)
class Trainee:
    """One trainee's login; the password is left out of the repr and of comparisons."""

    username: str
    password: str = field(repr=False, compare=False)


class Roster:
    """The trainees of one class in the order the trainer gave them."""

    def __init__(self, trainees: list[Trainee]) -> None:
        names = [t.username.casefold() for t in trainees]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValidationError("trainees", f"names must differ (ignoring case): {', '.join(duplicates[:5])}")
        self.trainees = list(trainees)

    @classmethod
    def generate(cls, names: list[str] | None = None, *, count: int | None = None, prefix: str = "trainee") -> "Roster":
        """Usernames as given (one per trainee) or ``count`` of them numbered after ``prefix``
        (``trainee01`` ...), each with a generated password. Every name is checked before any
        password is made, so a bad name refuses the whole roster."""
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise ValidationError("names", "must be a list of usernames")
        chosen = [n.strip() for n in names or [] if n.strip()]
        if not chosen:  # no names given (or only blank lines): numbered names
            if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_TRAINEES:
                raise ValidationError("count", f"must be a whole number from 1 to {MAX_TRAINEES}, got {shown(count)}")
            width = max(2, len(str(count)))
            chosen = [f"{prefix}{i:0{width}d}" for i in range(1, count + 1)]
        if not 1 <= len(chosen) <= MAX_TRAINEES:
            raise ValidationError("names", f"a class has 1 to {MAX_TRAINEES} trainees, got {len(chosen)}")
        for position, name in enumerate(chosen, 1):
            try:
                check_username(name)
            except ValidationError as error:
                raise ValidationError(f"names[{position}]", str(error)) from None
        return cls([Trainee(name, generate_password(name)) for name in chosen])

    @property
    def usernames(self) -> list[str]:
        return [t.username for t in self.trainees]

    def password_of(self, username: str) -> str:
        """The generated password of one trainee (for the trainer's hand-out)."""
        for trainee in self.trainees:
            if trainee.username.casefold() == str(username).casefold():
                return trainee.password
        raise ValidationError("username", f"{str(username)[:64]!r} is not on the roster")

    def hand_out(self) -> list[tuple[str, str]]:
        """(username, password) per trainee: the trainer's slips, to hand out one by one. Kept a
        plain list on purpose: a table displayed by accident would put every password on screen."""
        return [(t.username, t.password) for t in self.trainees]

    def __len__(self) -> int:
        return len(self.trainees)

    def __iter__(self):
        return iter(self.trainees)

    def __repr__(self) -> str:
        return f"Roster({len(self)} trainees: {', '.join(self.usernames[:3])}{', ...' if len(self) > 3 else ''})"
