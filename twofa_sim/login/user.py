"""A backend user of a contracting company, as the admin creates them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .enrolment import Enrolment
from ..core.errors import ValidationError
from ..core.fields import read_flag, read_object, read_text, read_time
from ..core.messages import say
from ..core.passwords import PasswordHash

SNAPSHOT_FIELDS = ("username", "company", "force_2fa", "created_at", "password_hash", "enrolment")
"""What a user's snapshot holds, in its order: one entry per field of :class:`BackendUser`."""
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{2,63}")


def check_username(name: object) -> str:
    """A username: 3 to 64 of letters, digits and ``. _ @ + -`` (no ':' so it fits an otpauth label)."""
    if not isinstance(name, str):
        raise ValidationError("username", f"must be text, got {type(name).__name__}")
    if not USERNAME.fullmatch(name):
        # The text itself is not echoed: a password pasted into the wrong field must not reach a message.
        bad = next((i for i, ch in enumerate(name) if not (ch.isascii() and (ch.isalnum() or ch in "._@+-"))), None)
        where = f"character {bad + 1} is not allowed" if bad is not None else f"got {len(name)} characters"
        raise ValidationError("username", "must be 3 to 64 characters of letters, digits and . _ @ + -, "
                              f"starting with a letter or digit ({where})", said=say("username_invalid"))
    return name


@dataclass(repr=False)
class BackendUser:
    """Who can log in to the back office. The password is held only as a salted hash."""

    username: str
    company: str
    password_hash: PasswordHash
    force_2fa: bool = False
    created_at: float = 0.0
    enrolment: Enrolment = field(default_factory=Enrolment)

    @property
    def key(self) -> str:
        """Usernames are unique case-insensitively."""
        return self.username.casefold()

    def snapshot(self) -> dict:
        """The user as plain data: the password only as its hash, the second factor whole."""
        return {"username": self.username, "company": self.company, "force_2fa": self.force_2fa,
                "created_at": self.created_at, "password_hash": self.password_hash.snapshot(),
                "enrolment": self.enrolment.snapshot()}

    def keep(self) -> tuple:
        """What :meth:`put_back` needs to put this very object back as it is now (an in-memory
        store's rollback; plain copies, made once per transaction and user)."""
        enrolment = self.enrolment
        recovery = enrolment.recovery
        codes = None if recovery is None else {**vars(recovery), "unused": list(recovery.unused)}
        return vars(self).copy(), enrolment, vars(enrolment).copy(), recovery, codes

    def put_back(self, kept: tuple) -> None:
        """This user as it was when :meth:`keep` made ``kept``."""
        mine, enrolment, theirs, recovery, codes = kept
        vars(self).update(mine)
        vars(enrolment).update(theirs)
        if recovery is not None:
            vars(recovery).update(codes)

    @classmethod
    def restore(cls, data: dict, where: str = "user", period: int = 1) -> "BackendUser":
        """The user of a :meth:`snapshot`, every value checked first (a :class:`ValidationError`
        names the place, never a value); ``period`` as for :meth:`Enrolment.restore`."""
        data = read_object(data, where, SNAPSHOT_FIELDS)
        username = read_text(data["username"], f"{where}.username", limit=64)
        try:
            check_username(username)
        except ValidationError as problem:
            raise ValidationError(f"{where}.username", problem.problem) from None
        company = read_text(data["company"], f"{where}.company", limit=64)
        password_hash = PasswordHash.restore(data["password_hash"], f"{where}.password_hash")
        return cls(username, company, password_hash, force_2fa=read_flag(data["force_2fa"], f"{where}.force_2fa"),
                   created_at=read_time(data["created_at"], f"{where}.created_at"),
                   enrolment=Enrolment.restore(data["enrolment"], f"{where}.enrolment", period))

    def __repr__(self) -> str:
        return (f"BackendUser({self.username!r}, company={self.company!r}, force_2fa={self.force_2fa}, "
                f"{self.enrolment!r})")


@dataclass(frozen=True)
class UserView:
    """What the admin sees of one user, typed: no hash, no secret. The back office hands these out
    (:meth:`~twofa_sim.login.backoffice.BackOffice.user_views`); the words a table shows for each
    field belong to the renderings (:func:`twofa_sim.render.tables.users_table`)."""

    username: str
    company: str
    force_2fa: bool
    company_2fa: bool
    needs_2fa: bool
    enrolled: bool
    enrolment_pending: bool
    failed_codes: int
    locked_out_until: float | None
    """When the lock ends, or None when the user is not locked (a lock that ran out is none)."""
    recovery_codes_left: int
