"""A contracting company: its backend users and its company-wide 2FA setting."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Company:
    """``force_2fa_for_all`` is the security setting that turns 2FA on for every backend user."""

    name: str
    force_2fa_for_all: bool = False
    usernames: list[str] = field(default_factory=list)

    def snapshot(self) -> dict:
        return {"name": self.name, "force_2fa_for_all": self.force_2fa_for_all, "usernames": list(self.usernames)}

    @classmethod
    def restore(cls, data: dict) -> "Company":
        return cls(data["name"], data["force_2fa_for_all"], list(data["usernames"]))
