"""The words files may still use from before a word of the domain was renamed, and each one's name now.

One word per concept (README, "Words"): the login's code step is the code prompt, the account's lock
is the lockout, and so on. Session files, scenario files and policy mappings written with the old
words still load: their loaders, and only they, read the old names through these tables and
:func:`renamed`. The package's own API has the new names alone; files are written with them.
"""

from __future__ import annotations

from typing import Any, Mapping

POLICY_KNOBS: dict[str, str] = {
    "code_step_timeout": "code_prompt_timeout",
    "lock_seconds": "lockout_seconds",
}
"""Policy knobs by their old name (a session's ``policy``, a scenario's ``policy`` section or step)."""

FACTOR_FIELDS: dict[str, str] = {
    "locked_until": "locked_out_until",
}
"""A second factor's snapshot fields by their old name (a session's users, the SQL store's factor column)."""

EXPECTATION_KEYS: dict[str, str] = {
    "locked": "locked_out",
    "locked_for": "locked_out_for",
    "locked_until": "locked_out_until",
}
"""The keys of a scenario step's ``expect`` by their old name."""

ENUM_NAMES: dict[str, str] = {
    "LOCKED": "LOCKED_OUT",       # State, Reason, EventKind
    "LOCKS": "LOCKS_OUT",         # Outcome
    "IS_LOCKED": "IS_LOCKED_OUT",  # Outcome
    "LOGIN_REFUSED_LOCKED": "LOGIN_REFUSED_LOCKED_OUT",  # EventKind
}
"""Names of the flow's states, outcomes and reasons and of the event kinds, by their old name: a
scenario's ``state``, ``outcome`` and ``reason`` expectations, and what a session file's event log
recorded by name (``kind``, ``state_from``, ``state_to``). The values, the words an event stores
and a database's ``kind`` column holds, did not change."""

DETAIL_KEYS: dict[str, str] = {
    "locked_until": "locked_out_until",
}
"""The message ids of events' details by their old name (a session's events, the SQL store's rows)."""


def renamed(data: Mapping[str, Any], old_names: Mapping[str, str], where: str) -> dict[str, Any]:
    """``data`` with each key of ``old_names`` under its new name. A mapping that holds a name and
    its old name at once is refused (a ``ValueError`` naming ``where`` and both), never guessed at."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        new = old_names.get(key, key) if isinstance(key, str) else key
        if new != key and new in data:
            raise ValueError(f"{where} has both {new!r} and its old name {key!r}: keep one")
        out[new] = value
    return out


__all__ = ["POLICY_KNOBS", "FACTOR_FIELDS", "EXPECTATION_KEYS", "ENUM_NAMES", "DETAIL_KEYS", "renamed"]
