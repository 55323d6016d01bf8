"""The fields of a session file, each checked: a file that loads also works.

A session file is JSON that anyone can edit, so before anything is restored every value is
checked for its kind and for the range the domain can use (:func:`check_session`). Each check
takes the value and its place in the file (``session.users[3].enrolment.drift``) and raises
:class:`SessionFileError` naming that place; no message repeats a value from the file, which
holds secrets. The shape checked is the one the classes' ``snapshot()`` methods write; a user, its
password hash and its second factor are checked by their own ``restore()`` (the same checks the
SQL store's rows pass), the file's own rules (names unique, users in their companies) here.
"""

from __future__ import annotations

import math
import struct
from dataclasses import fields
from typing import Any

from ..apps.entry import APP_DIGITS, APP_PERIODS, MIN_SECRET_BITS
from ..apps.otpauth import MAX_URI, URI_ALGORITHMS, normalise_secret, secret_bytes
from ..apps.profiles import PROFILES
from ..core.clock import LATEST, Clock
from ..core.errors import ValidationError, check_display_name
from ..core.fields import (kind_of, read_between, read_bytes, read_flag, read_list, read_number, read_object,
                           read_optional, read_text, read_time, read_whole)
from ..core.events import Event, EventKind
from ..core.messages import keyed_messages
from ..core.passwords import PasswordHash
from ..core.policy import Policy
from ..core.secret_source import SeededSecretSource
from ..login.user import BackendUser

# The ranges the domain can use, so that a file that loads also works (a lock until the year
# 11476 loaded once and then crashed the time formatting of the next login).
DAY = 86400
#: How far a device's clock may be off, or its app's correction (as in scenario files: 10 years).
MAX_DEVICE_SECONDS = 10 * 365 * DAY
#: The highest HOTP counter an entry may hold (it goes up by one at each code; 8 bytes in RFC 4226).
MAX_COUNTER = 2 ** 62
_SESSION_FIELDS = ["policy", "clock", "secret_source", "companies", "users", "events", "next_login_id", "devices"]
_ENTRY_FIELDS = ["id", "issuer", "account", "secret", "algorithm", "digits", "period", "added_at", "origin",
                 "warnings", "type", "counter"]
_EVENT_FIELDS = [f.name for f in fields(Event)]


class SessionFileError(ValidationError):
    """A session file cannot be written or read; ``field`` says where (a path inside the file).

    Messages name the place and the problem, never a value from the file: the file holds secrets.
    """


def refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a session file may hold")


def _plain(value: Any, where: str) -> str | int:
    if isinstance(value, str):
        return read_text(value, where, limit=64)
    return read_whole(value, where, -(2 ** 62), 2 ** 62)


def _texts(value: Any, where: str) -> tuple[str, ...]:
    return tuple(read_text(t, f"{where}[{i}]") for i, t in enumerate(read_list(value, where, limit=100)))


def _as_file_error(check):
    """``check`` with every :class:`ValidationError` of the readers (which name a place in the
    file) raised as a :class:`SessionFileError` naming the same place."""
    def checked(*args: Any) -> Any:
        try:
            return check(*args)
        except SessionFileError:
            raise
        except ValidationError as problem:
            raise SessionFileError(problem.field, problem.problem) from None
    checked.__name__, checked.__doc__ = check.__name__, check.__doc__
    return checked


@_as_file_error
def check_document(document: Any, format_name: str, newest: int) -> tuple[int, dict, str | None]:
    """The schema version, the ``session`` object and the ``sha256`` text (None if left out) of a
    parsed session file, each checked for its kind."""
    if not isinstance(document, dict):
        raise SessionFileError("file", f"must hold a JSON object, holds {kind_of(document)}: not a session file")
    top = read_object(document, "", ["format", "schema_version", "session"] + (["sha256"] if "sha256" in document else []))
    if top["format"] != format_name:
        raise SessionFileError("format", f"must be {format_name!r}: this is not a twofa-sim session file")
    version = top["schema_version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise SessionFileError("schema_version", f"must be a whole number, got {kind_of(version)}")
    if version > newest:
        raise SessionFileError("schema_version", f"is {version}: the file was written by a newer twofa-sim "
                               f"(this one reads version {newest})")
    if version < 1:
        raise SessionFileError("schema_version", f"is {version}: no such version")
    session = read_object(top["session"], "session", _SESSION_FIELDS)
    return version, session, read_text(top["sha256"], "sha256", limit=64) if "sha256" in top else None


@_as_file_error
def check_session(session: dict) -> None:
    """Check every value of a session (in the current version's shape) against the range the domain
    can use; a :class:`SessionFileError` names the first place that is not."""
    policy = _check_policy(session["policy"])
    _check_clock(session["clock"])
    _check_source(session["secret_source"])
    companies = _check_companies(session["companies"])
    _check_users(session["users"], companies, policy)
    last_login = _check_events(session["events"])
    next_login = read_whole(session["next_login_id"], "session.next_login_id", 1, 2 ** 62)
    if next_login <= last_login:
        raise SessionFileError("session.next_login_id", "must be after every login number in the event log")
    items = read_list(session["devices"], "session.devices", limit=10_000)
    for index, item in enumerate(items):
        _check_device(item, f"session.devices[{index}]")
    names = [item["name"] for item in items]
    if len(set(names)) != len(names):
        raise SessionFileError("session.devices", "holds two devices of the same name")


def _check_policy(value: Any) -> Policy:
    data = read_object(value, "session.policy", [f.name for f in fields(Policy)])
    try:
        return Policy.restore(data)
    except TypeError:
        raise SessionFileError("session.policy", "has a value of the wrong kind") from None
    except ValidationError as problem:
        raise SessionFileError(f"session.{problem.field}", problem.problem) from None


def _check_clock(value: Any) -> None:
    if isinstance(value, dict) and value.get("mode") == "following":
        data = read_object(value, "session.clock", ["mode", "offset"])
        read_number(data["offset"], "session.clock.offset")
        try:
            Clock.restore(data)
        except ValidationError as problem:
            raise SessionFileError("session.clock.offset", problem.problem) from None
        return
    data = read_object(value, "session.clock", ["mode", "at"])
    if data["mode"] != "pinned":
        raise SessionFileError("session.clock.mode", "must be 'pinned' or 'following'")
    read_time(data["at"], "session.clock.at")


def _check_source(value: Any) -> None:
    if isinstance(value, dict) and value.get("kind") == "system":
        read_object(value, "session.secret_source", ["kind"])
        return
    data = read_object(value, "session.secret_source", ["kind", "seed", "state"])
    if data["kind"] != "seeded":
        raise SessionFileError("session.secret_source.kind", "must be 'system' or 'seeded'")
    if isinstance(data["seed"], str):
        read_text(data["seed"], "session.secret_source.seed")
    else:
        read_whole(data["seed"], "session.secret_source.seed", -(2 ** 256), 2 ** 256)
    where = "session.secret_source.state"
    state = read_object(data["state"], where, ["version", "internal", "gauss_next"])
    read_whole(state["version"], f"{where}.version", 3, 3)
    internal = struct.unpack(">625I", read_bytes(state["internal"], f"{where}.internal", 2500, 2500))
    if internal[624] > 624:
        raise SessionFileError(f"{where}.internal", "is not a state of Python's random generator")
    read_optional(state["gauss_next"], read_number, f"{where}.gauss_next")
    try:
        SeededSecretSource.restore(data)
    except (ValueError, TypeError):
        raise SessionFileError(where, "is not a state of Python's random generator") from None


def _check_companies(value: Any) -> list[dict]:
    companies: list[dict] = []
    seen: set[str] = set()
    for index, item in enumerate(read_list(value, "session.companies", limit=100_000)):
        where = f"session.companies[{index}]"
        data = read_object(item, where, ["name", "force_2fa_for_all", "usernames"])
        name = read_text(data["name"], f"{where}.name", limit=64)
        try:
            if check_display_name("company", name) != name:
                raise ValidationError("company", "must not start or end with white space")
        except ValidationError as problem:
            raise SessionFileError(f"{where}.name", problem.problem) from None
        if name.casefold() in seen:
            raise SessionFileError(f"{where}.name", "names a company that is already in the file")
        seen.add(name.casefold())
        for i, username in enumerate(read_list(data["usernames"], f"{where}.usernames", limit=1_000_000)):
            read_text(username, f"{where}.usernames[{i}]", limit=64)
        read_flag(data["force_2fa_for_all"], f"{where}.force_2fa_for_all")
        companies.append(data)
    return companies


def _check_users(value: Any, companies: list[dict], policy: Policy) -> None:
    belonging: dict[str, list[str]] = {c["name"]: [] for c in companies}
    seen: set[str] = set()
    for index, item in enumerate(read_list(value, "session.users", limit=1_000_000)):
        where = f"session.users[{index}]"
        user = BackendUser.restore(item, where, policy.period)  # each value checked beside restore()
        if user.key in seen:
            raise SessionFileError(f"{where}.username", "names a user who is already in the file")
        seen.add(user.key)
        if user.company not in belonging:
            raise SessionFileError(f"{where}.company", "names no company in the file")
        belonging[user.company].append(user.username)
    for index, company in enumerate(companies):
        if sorted(company["usernames"]) != sorted(belonging[company["name"]]):
            raise SessionFileError(f"session.companies[{index}].usernames", "must list exactly the users of that company")


def _check_events(value: Any) -> int:
    """Check the event log; the highest login number in it (0 if none)."""
    last_login = 0
    for index, item in enumerate(read_list(value, "session.events")):
        where = f"session.events[{index}]"
        data = read_object(item, where, _EVENT_FIELDS)
        if read_whole(data["seq"], f"{where}.seq", 1, 2 ** 62) != index + 1:
            raise SessionFileError(f"{where}.seq", "must number the events 1, 2, 3 ... in order")
        kind = read_text(data["kind"], f"{where}.kind", limit=64)
        if kind not in EventKind.__members__:
            raise SessionFileError(f"{where}.kind", "is not a kind of event")
        for name in ("actor", "user", "company", "outcome", "reason", "state_from", "state_to"):
            read_text(data[name], f"{where}.{name}")
        _check_detail(data["detail_key"], data["detail_fields"], where)
        read_time(data["time"], f"{where}.time")
        last_login = max(last_login, read_optional(data["login"], read_whole, f"{where}.login", 1, 2 ** 62) or 0)
    return last_login


def _check_detail(key: Any, values: Any, where: str) -> None:
    """An event's detail: a message id of the catalogue (or none) and the fields its words name."""
    key = read_text(key, f"{where}.detail_key", limit=64)
    values = read_object(values, f"{where}.detail_fields", values.keys() if isinstance(values, dict) else ())
    if len(values) > 10:
        raise SessionFileError(f"{where}.detail_fields", "must hold at most 10 fields")
    for name, value in values.items():
        if isinstance(value, str):
            read_text(value, f"{where}.detail_fields.{name[:40]}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SessionFileError(f"{where}.detail_fields.{name[:40]}", f"must be text or a number, got {kind_of(value)}")
    if not key:
        if values:
            raise SessionFileError(f"{where}.detail_fields", "must be empty for an event without a detail")
        return
    messages = keyed_messages()
    if key not in messages.english:
        raise SessionFileError(f"{where}.detail_key", "is not a message id of the catalogue")
    try:
        messages.text(key).format(**values)
    except (KeyError, IndexError, ValueError) as problem:
        raise SessionFileError(f"{where}.detail_fields", f"do not fill the message {key!r} ({type(problem).__name__})") from None


def _check_device(value: Any, where: str) -> None:
    data = read_object(value, where, ["name", "owner", "company", "offset", "logs_events", "app", "correction",
                                      "entries", "waiting_for_choice", "next_id", "password_hash", "locked"])
    if read_text(data["app"], f"{where}.app", limit=64) not in PROFILES:
        raise SessionFileError(f"{where}.app", f"is not one of the app profiles ({', '.join(PROFILES)})")
    for name in ("name", "owner", "company"):
        read_text(data[name], f"{where}.{name}", limit=64)
    read_between(data["offset"], f"{where}.offset", -MAX_DEVICE_SECONDS, MAX_DEVICE_SECONDS)
    read_flag(data["logs_events"], f"{where}.logs_events")
    read_between(data["correction"], f"{where}.correction", -MAX_DEVICE_SECONDS, MAX_DEVICE_SECONDS)
    if data["password_hash"] is not None:
        PasswordHash.restore(data["password_hash"], f"{where}.password_hash")
    if read_flag(data["locked"], f"{where}.locked") and data["password_hash"] is None:
        raise SessionFileError(f"{where}.locked", "an app without a password cannot be locked")
    entries = read_list(data["entries"], f"{where}.entries", limit=100_000)
    ids = [_check_entry(e, f"{where}.entries[{i}]", id_required=True) for i, e in enumerate(entries)]
    if len(set(ids)) != len(ids):
        raise SessionFileError(f"{where}.entries", "holds two entries with the same id")
    tokens: list[int] = []
    for i, item in enumerate(read_list(data["waiting_for_choice"], f"{where}.waiting_for_choice", limit=1000)):
        at = f"{where}.waiting_for_choice[{i}]"
        q = read_object(item, at, ["token", "question", "candidate", "existing", "adjustments", "warnings"])
        token = read_whole(q["token"], f"{at}.token", 1, 2 ** 62)
        if token in tokens or token in ids:
            raise SessionFileError(f"{at}.token", "is already in use by another entry or question")
        tokens.append(token)
        if q["question"] not in ("duplicate", "unsafe", "editor", "link"):
            raise SessionFileError(f"{at}.question", "must be 'editor', 'link', 'duplicate' or 'unsafe'")
        for j, a in enumerate(read_list(q["adjustments"], f"{at}.adjustments", limit=10)):
            a = read_object(a, f"{at}.adjustments[{j}]", ["field", "given", "used", "why"])
            for k in ("given", "used"):
                _plain(a[k], f"{at}.adjustments[{j}].{k}")
            read_text(a["field"], f"{at}.adjustments[{j}].field", limit=64)
            read_text(a["why"], f"{at}.adjustments[{j}].why")
        _check_entry(q["candidate"], f"{at}.candidate", id_required=False)
        if q["existing"] is not None or q["question"] == "duplicate":
            _check_entry(q["existing"], f"{at}.existing", id_required=True)
        _texts(q["warnings"], f"{at}.warnings")
    if read_whole(data["next_id"], f"{where}.next_id", 1, 2 ** 62) <= max(ids + tokens, default=0):
        raise SessionFileError(f"{where}.next_id", "must be after every entry id and question number")


def _check_entry(value: Any, where: str, *, id_required: bool) -> int:
    """Check an app's entry (as that app can hold it: MD5 to SHA512, 1 to 10 digits, periods up to
    the longest an app takes, TOTP or HOTP); its id."""
    data = read_object(value, where, _ENTRY_FIELDS)
    entry_id = read_whole(data["id"], f"{where}.id", 1 if id_required else 0, 2 ** 62)
    for name in ("issuer", "account"):           # a scanned label can be as long as the URI it came in
        text = read_text(data[name], f"{where}.{name}", limit=MAX_URI)
        if ":" in text or (text and not text.isprintable()) or (name == "account" and not text.strip()):
            raise SessionFileError(f"{where}.{name}", "must be printable text without ':'"
                                   + (", not empty" if name == "account" else ""))
    secret_text = read_text(data["secret"], f"{where}.secret", limit=MAX_URI)
    try:
        secret = normalise_secret(secret_text)
    except ValidationError as problem:
        raise SessionFileError(f"{where}.secret", problem.problem) from None
    if secret != secret_text or len(secret_bytes(secret)) * 8 < MIN_SECRET_BITS:
        raise SessionFileError(f"{where}.secret", f"must be upper-case base32 of at least {MIN_SECRET_BITS} bits, "
                               "unpadded")
    if read_text(data["algorithm"], f"{where}.algorithm", limit=16) not in URI_ALGORITHMS:
        raise SessionFileError(f"{where}.algorithm", f"must be one of {', '.join(URI_ALGORITHMS)}")
    read_whole(data["digits"], f"{where}.digits", APP_DIGITS.start, APP_DIGITS.stop - 1)
    read_whole(data["period"], f"{where}.period", APP_PERIODS.start, APP_PERIODS.stop - 1)
    read_between(data["added_at"], f"{where}.added_at", -MAX_DEVICE_SECONDS, LATEST + MAX_DEVICE_SECONDS)
    read_text(data["origin"], f"{where}.origin", limit=64)
    _texts(data["warnings"], f"{where}.warnings")
    if data["type"] not in ("totp", "hotp"):
        raise SessionFileError(f"{where}.type", "must be 'totp' or 'hotp'")
    if data["type"] == "hotp" or data["counter"] is not None:
        read_whole(data["counter"], f"{where}.counter", 0, MAX_COUNTER)
    return entry_id


__all__ = ["SessionFileError", "check_document", "check_session", "refuse_constant"]
