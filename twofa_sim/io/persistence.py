"""Save a whole simulation to one file and load it back, without loss.

A trainer prepares a session (companies, users, enrolments, a lock or two, the clock at the right
moment) and reloads it in front of the class. The file is JSON:

``{"format": "twofa-sim session", "schema_version": 1, "sha256": ..., "session": {...}}``

``session`` holds the policy, the clock (pinned at an instant, or following the wall clock with
its offset), the secret source (a seeded source with the state of its generator, so a restored
demo goes on drawing the same secrets), the companies, the users with their password hashes and
their enrolments (secret, pending secret, last used time step, drift, failed codes, lock,
recovery-code hashes), the event log and the next login number, and the devices of the demo
(owner, clock offset, app profile, the app's clock correction, its entries with their secrets, a
duplicate scan still waiting for the user's choice). Bytes are base64; shared secrets are base32
text, as in the QR. ``sha256`` is the hash of the canonical text of ``session``: a
file damaged in any byte fails to load with a clear error. After editing a file by hand, delete
the ``sha256`` line (it is optional; when present it must match).

The file holds shared secrets and password hashes: it is the trainer's own session file, written
readable by its owner only, never a place for real accounts (see SECURITY.md).

:func:`save` writes atomically: the data goes to a temporary file in the same folder, is flushed
to disk, and only then renamed over the target. A save interrupted at any byte leaves the old
file (or, once the rename happened, the new one), never a mix. Logins in progress are not part of
a session: after loading, the login mask starts afresh.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import itertools
import json
import math
import os
import pathlib
import re
import stat
import struct
import tempfile
from dataclasses import dataclass, field, fields
from typing import Any, Iterable

from ..apps.profiles import PROFILES, Adjustment
from ..apps.authenticator import COMPUTABLE_DIGITS, COMPUTABLE_PERIODS, MIN_SECRET_BITS, Entry, _Pending
from ..login.backoffice import BackOffice
from ..core.clock import LATEST, Clock, to_epoch
from ..login.company import Company
from ..apps.device import Device
from ..login.enrolment import Enrolment
from ..core.errors import TwofaSimError, ValidationError, check_display_name
from ..core.events import Event, EventKind, EventLog
from ..apps.otpauth import ALGORITHM_NAMES, MAX_URI, normalise_secret, secret_bytes
from ..core.passwords import PasswordHash
from ..core.policy import Policy
from ..login.recovery_codes import RecoveryCodes
from ..core.secret_source import SeededSecretSource, SystemSecretSource
from ..login.user import BackendUser, check_username

FORMAT = "twofa-sim session"
SCHEMA_VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TEXT = 65536
_BASE32 = re.compile(r"[A-Z2-7]+")

# The ranges the domain can use, so that a file that loads also works (a lock until the year
# 11476 loaded once and then crashed the time formatting of the next login).
DAY = 86400
#: How far past the clock's last instant (the start of 9999) a lock may end: a lock set at the
#: clock's very end; the time formatting stops at the end of 9999.
LOCK_MARGIN = 180 * DAY
#: How far the tracked drift may centre the window off the server's time (the accepted window
#: then stays inside the years the code arithmetic can compute).
MAX_DRIFT_SECONDS = 180 * DAY
#: How far a device's clock may be off, or its app's correction (as in scenario files: 10 years).
MAX_DEVICE_SECONDS = 10 * 365 * DAY


class SessionFileError(ValidationError):
    """A session file cannot be written or read; ``field`` says where (a path inside the file).

    Messages name the place and the problem, never a value from the file: the file holds secrets.
    """


@dataclass
class Session:
    """What a session file holds: the back office and the devices of the demo.

    Restored devices run on the restored back office's clock and, if they did before, record into
    its event log; restoring adds no event.
    """

    office: BackOffice
    devices: tuple[Device, ...] = ()
    schema_version: int = field(default=SCHEMA_VERSION)

    def save(self, path: str | os.PathLike) -> pathlib.Path:
        return save(path, self.office, self.devices)

    def __repr__(self) -> str:
        return f"Session({self.office!r}, {len(self.devices)} devices)"


# -- public functions --------------------------------------------------------------------------------

def dumps(office: BackOffice, devices: Iterable = ()) -> bytes:
    """The session file's bytes for ``office`` (and ``devices``)."""
    if not isinstance(office, BackOffice):
        raise SessionFileError("office", f"must be a BackOffice, got {type(office).__name__}")
    devices = tuple(devices)
    session = _office_to_dict(office)
    session["devices"] = [_device_to_dict(d, office, i) for i, d in enumerate(devices)]
    try:
        canonical = _canonical(session)
    except ValueError:
        raise SessionFileError("session", "holds a value JSON cannot store (not a finite number?)") from None
    document = {"format": FORMAT, "schema_version": SCHEMA_VERSION,
                "sha256": hashlib.sha256(canonical).hexdigest(), "session": session}
    return (json.dumps(document, indent=1, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")


def loads(data: bytes | bytearray | str) -> Session:
    """A :class:`Session` from a session file's bytes; :class:`SessionFileError` if they are not one."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if not isinstance(data, (bytes, bytearray)):
        raise SessionFileError("file", f"must be bytes or text, got {type(data).__name__}")
    if len(data) > MAX_FILE_BYTES:
        raise SessionFileError("file", f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    if not data.strip():
        raise SessionFileError("file", "is empty")
    try:
        document = json.loads(bytes(data).decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise SessionFileError("file", "is not UTF-8 text: not a session file, or damaged") from None
    except json.JSONDecodeError as problem:
        raise SessionFileError("file", f"is not complete JSON (truncated or damaged?): {problem.msg} "
                               f"at line {problem.lineno} column {problem.colno}") from None
    except RecursionError:
        raise SessionFileError("file", "nests too deeply to be a session file") from None
    except ValueError as problem:  # e.g. an integer too long to convert, NaN or Infinity
        raise SessionFileError("file", f"holds a value that is not allowed: {str(problem)[:120]}") from None
    try:
        return _document_to_session(document)
    except SessionFileError:
        raise
    except (TwofaSimError, ValueError, TypeError, OverflowError, RecursionError) as problem:
        # the checks below are meant to catch everything first; this is the net under them
        raise SessionFileError("session", f"cannot be restored ({type(problem).__name__})") from None


def save(path: str | os.PathLike, office: BackOffice, devices: Iterable = ()) -> pathlib.Path:
    """Write the session to ``path`` atomically (write a temporary file, then rename it)."""
    target = _check_path(path)
    data = dumps(office, devices)
    _atomic_write(target, data)
    return target


def load(path: str | os.PathLike) -> Session:
    """Read a session file written by :func:`save`; a damaged file is a :class:`SessionFileError`."""
    target = _check_path(path)
    try:
        data = _read_regular_file(target)
    except FileNotFoundError:
        raise SessionFileError("path", f"no session file named {target.name[:120]!r}") from None
    except IsADirectoryError:
        raise SessionFileError("path", f"{target.name[:120]!r} is a folder, not a session file") from None
    except OSError as problem:
        raise SessionFileError("path", f"cannot read {target.name[:120]!r}: {problem.strerror}") from None
    return loads(data)


def _read_regular_file(target: pathlib.Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_FILE_BYTES`. Opened without blocking (a
    named pipe cannot hang the reader) and checked on the open file: a device such as /dev/zero, a
    pipe or a folder is refused before a byte is read, and no more than the limit is ever read."""
    handle = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(handle)
        if stat.S_ISDIR(info.st_mode):
            raise SessionFileError("path", f"{target.name[:120]!r} is a folder, not a session file")
        if not stat.S_ISREG(info.st_mode):
            raise SessionFileError("path", f"{target.name[:120]!r} is {_special_kind(info.st_mode)}, not a session file")
        if info.st_size > MAX_FILE_BYTES:
            raise SessionFileError("file", f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise SessionFileError("file", f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        return data
    finally:
        os.close(handle)


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


# -- writing ---------------------------------------------------------------------------------------

_os_write = os.write  # the one place bytes go to disk (tests replace it to crash mid-write)


def _check_path(path: object) -> pathlib.Path:
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise SessionFileError("path", f"must be a file name, got {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip() or "\x00" in text or len(text) > 4096:
        raise SessionFileError("path", "must be a non-empty file name of at most 4096 characters")
    return pathlib.Path(text)


def _atomic_write(target: pathlib.Path, data: bytes) -> None:
    folder = target.parent
    _check_replaceable(target)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name[:100]}.", suffix=".tmp", dir=folder)
    except OSError as problem:
        raise SessionFileError("path", f"cannot write in the folder of {target.name[:120]!r}: "
                               f"{problem.strerror}") from None
    try:
        try:
            _write_all(handle, data)
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temporary, target)
    except BaseException as problem:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(problem, OSError):
            raise SessionFileError("path", f"cannot write {target.name[:120]!r}: {problem.strerror}; "
                                   "the previous file is unchanged") from None
        raise
    _sync_folder(folder)


def _check_replaceable(target: pathlib.Path) -> None:
    """A save writes a new file or replaces a regular file (or a link to one), nothing else: the
    rename would otherwise put a session file in place of a device node, a named pipe or a socket."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as problem:
        raise SessionFileError("path", f"cannot write {target.name[:120]!r}: {problem.strerror}") from None
    if stat.S_ISDIR(mode):
        raise SessionFileError("path", f"{target.name[:120]!r} is a folder, not a session file")
    if not stat.S_ISREG(mode):
        raise SessionFileError("path", f"{target.name[:120]!r} is {_special_kind(mode)}: a session is saved "
                               "only as a new file or over a regular file")


def _write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = _os_write(handle, view)
        view = view[written:]


def _sync_folder(folder: pathlib.Path) -> None:
    """Make the rename itself durable (POSIX); where a folder cannot be opened, skip it."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


# -- the office as plain data --------------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _canonical(session: dict) -> bytes:
    return json.dumps(session, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def _office_to_dict(office: BackOffice) -> dict:
    return {
        "policy": {f.name: getattr(office.policy, f.name) for f in fields(Policy)},
        "clock": _clock_to_dict(office.clock),
        "secret_source": _source_to_dict(office.secret_source),
        "companies": [{"name": c.name, "force_2fa_for_all": c.force_2fa_for_all, "usernames": list(c.usernames)}
                      for c in office.companies],
        "users": [_user_to_dict(u) for u in office.users],
        "events": [_event_to_dict(e) for e in office.events],
        "next_login_id": _peek_login_id(office),
    }


def _clock_to_dict(clock: Clock) -> dict:
    if not isinstance(clock, Clock):
        raise SessionFileError("clock", f"cannot save a clock of type {type(clock).__name__}")
    if clock.is_pinned:
        return {"mode": "pinned", "at": clock.now()}
    # A following clock reads time.time() plus its offset; the offset is what makes it this clock.
    return {"mode": "following", "offset": clock._offset}


def _source_to_dict(source: object) -> dict:
    if isinstance(source, SystemSecretSource):
        return {"kind": "system"}
    if isinstance(source, SeededSecretSource):
        seed = source.seed
        if isinstance(seed, bool) or not isinstance(seed, (int, str)):
            raise SessionFileError("secret_source.seed", "only a whole-number or text seed can be saved")
        version, internal, gauss = source._random.getstate()
        # The generator's whole state (625 numbers of 32 bits), so a restored demo draws the same secrets.
        return {"kind": "seeded", "seed": seed,
                "state": {"version": version, "internal": _b64(struct.pack(">625I", *internal)),
                          "gauss_next": gauss}}
    raise SessionFileError("secret_source", f"cannot save a secret source of type {type(source).__name__}")


def _peek_login_id(office: BackOffice) -> int:
    return office.store.peek_login_id()


def _user_to_dict(user: BackendUser) -> dict:
    e = user.enrolment
    h = user.password_hash
    return {
        "username": user.username, "company": user.company, "force_2fa": user.force_2fa,
        "created_at": user.created_at,
        "password_hash": {"scheme": "scrypt", "salt": _b64(h.salt), "digest": _b64(h.digest), "log2_n": h.log2_n,
                          "r": 8, "p": 1},
        "enrolment": {
            "secret": e.secret, "pending_secret": e.pending_secret, "enrolled_at": e.enrolled_at,
            "last_used_step": e.last_used_step, "drift": e.drift, "failures": e.failures,
            "locked_until": e.locked_until,
            "recovery": None if e.recovery is None else {
                "salt": _b64(e.recovery.salt), "unused": [_b64(h) for h in e.recovery.unused],
                "used": e.recovery.used},
        },
    }


def _event_to_dict(event: Event) -> dict:
    return {f.name: (event.kind.name if f.name == "kind" else getattr(event, f.name)) for f in fields(Event)}


def _device_to_dict(device: object, office: BackOffice, index: int) -> dict:
    where = f"devices[{index}]"
    if not isinstance(device, Device):
        raise SessionFileError(where, f"must be a Device, got {type(device).__name__}")
    if device.reference is not office.clock:
        raise SessionFileError(where, "must run on the back office's clock (Device.for_user gives one that does)")
    if device.events is not None and device.events is not office.events:
        raise SessionFileError(where, "must record into the back office's event log, or into none")
    app = device.app
    if PROFILES.get(app.profile.key) != app.profile:
        raise SessionFileError(where, f"uses an app profile of its own ({app.profile.key!r}): "
                               "only the built-in profiles can be saved")
    upcoming = next(app._ids)
    app._ids = itertools.count(upcoming)
    return {
        "name": device.name, "owner": device.owner, "company": device.company, "offset": device.offset,
        "logs_events": device.events is not None, "app": app.profile.key, "correction": app.correction,
        "entries": [_entry_to_dict(e) for e in app.entries],
        "waiting_for_choice": [{"token": token, "candidate": _entry_to_dict(item.candidate),
                                "existing": _entry_to_dict(item.existing),
                                "adjustments": [{"field": a.field, "given": a.given, "used": a.used, "why": a.why}
                                                for a in item.adjustments],
                                "warnings": list(item.warnings)}
                               for token, item in app._pending.items()],
        "next_id": upcoming,
    }


def _entry_to_dict(entry: Entry) -> dict:
    return {"id": entry.id, "issuer": entry.issuer, "account": entry.account, "secret": entry.secret,
            "algorithm": entry.algorithm, "digits": entry.digits, "period": entry.period,
            "added_at": entry.added_at, "origin": entry.origin, "warnings": list(entry.warnings)}


# -- reading, every value checked --------------------------------------------------------------------

def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a session file may hold")


def _fail(where: str, problem: str) -> SessionFileError:
    return SessionFileError(where, problem)


def _object(value: Any, where: str, required: Iterable[str]) -> dict:
    if not isinstance(value, dict):
        raise _fail(where, f"must be an object, got {_kind(value)}")
    required = list(required)
    missing = [k for k in required if k not in value]
    if missing:
        raise _fail(f"{where}.{missing[0]}" if where else missing[0], "is missing")
    extra = sorted(set(value) - set(required))
    if extra:
        raise _fail(where or "file", f"has an unknown entry {extra[0][:40]!r}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null",
            int: "a whole number", float: "a number"}.get(type(value), type(value).__name__)


def _list(value: Any, where: str, limit: int = 10_000_000) -> list:
    if not isinstance(value, list):
        raise _fail(where, f"must be a list, got {_kind(value)}")
    if len(value) > limit:
        raise _fail(where, f"has more than {limit} items")
    return value


def _text(value: Any, where: str, limit: int = MAX_TEXT, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise _fail(where, f"must be text, got {_kind(value)}")
    if len(value) > limit:
        raise _fail(where, f"must be at most {limit} characters")
    if not allow_empty and not value:
        raise _fail(where, "must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(where, "is not valid Unicode text") from None
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"must be true or false, got {_kind(value)}")
    return value


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, f"must be a whole number, got {_kind(value)}")
    if not low <= value <= high:
        raise _fail(where, f"must be between {low} and {high}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(where, f"must be a finite number, got {_kind(value)}")
    return value


def _time(value: Any, where: str) -> float:
    number = _number(value, where)
    try:
        to_epoch(number, field=where)
    except ValidationError as problem:
        raise _fail(where, problem.problem) from None
    return number


def _not_negative(value: Any, where: str) -> float:
    number = _number(value, where)
    if number < 0:
        raise _fail(where, "must not be negative")
    return number


def _between(value: Any, where: str, low: float, high: float, unit: str = "seconds") -> float:
    number = _number(value, where)
    if not low <= number <= high:
        raise _fail(where, f"must be between {low:g} and {high:g} {unit}")
    return number


def _lock_end(value: Any, where: str) -> float:
    number = _number(value, where)
    if not 0 <= number <= LATEST + LOCK_MARGIN:
        raise _fail(where, "must be a time from 1970 to the end of 9998 (and a lock at most 180 days after)")
    return number


def _optional(value: Any, read, *args) -> Any:
    return None if value is None else read(value, *args)


def _bytes(value: Any, where: str, low: int, high: int) -> bytes:
    text = _text(value, where, limit=4 * high)
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise _fail(where, "must be base64") from None
    if not low <= len(raw) <= high:
        raise _fail(where, f"must hold {low} to {high} bytes, holds {len(raw)}")
    return raw


def _base32_secret(value: Any, where: str) -> str:
    text = _text(value, where, limit=200)
    if not _BASE32.fullmatch(text):
        raise _fail(where, "must be base32 (A-Z, 2-7, no padding)")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise _fail(where, "must be base32 (A-Z, 2-7, no padding)") from None
    if not 14 <= len(raw) <= 64:
        raise _fail(where, f"must hold 112 to 512 bits, holds {len(raw) * 8}")
    return text


def _document_to_session(document: Any) -> Session:
    if not isinstance(document, dict):
        raise _fail("file", f"must hold a JSON object, holds {_kind(document)}: not a session file")
    top = _object(document, "", ["format", "schema_version", "session"] + (["sha256"] if "sha256" in document else []))
    if top["format"] != FORMAT:
        raise _fail("format", f"must be {FORMAT!r}: this is not a twofa-sim session file")
    version = top["schema_version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise _fail("schema_version", f"must be a whole number, got {_kind(version)}")
    if version > SCHEMA_VERSION:
        raise _fail("schema_version", f"is {version}: the file was written by a newer twofa-sim "
                    f"(this one reads version {SCHEMA_VERSION})")
    if version < 1:
        raise _fail("schema_version", f"is {version}: no such version")
    session = _object(top["session"], "session", ["policy", "clock", "secret_source", "companies", "users",
                                                  "events", "next_login_id", "devices"])
    if "sha256" in top:
        expected = _text(top["sha256"], "sha256", limit=64)
        if hashlib.sha256(_canonical(session)).hexdigest() != expected:
            raise _fail("sha256", "does not match the content: the file was damaged or edited "
                        "(after a deliberate edit, delete the sha256 line)")
    policy = _read_policy(session["policy"])
    clock = _read_clock(session["clock"])
    source = _read_source(session["secret_source"])
    companies = _read_companies(session["companies"])
    users = _read_users(session["users"], companies, policy)
    events = _read_events(session["events"])
    last_login = max((e.login for e in events if e.login is not None), default=0)
    next_login = _whole(session["next_login_id"], "session.next_login_id", 1, 2 ** 62)
    if next_login <= last_login:
        raise _fail("session.next_login_id", "must be after every login number in the event log")

    office = BackOffice(policy=policy, clock=clock, secret_source=source, events=events)
    # The back office's public methods create companies and users and log that; the restored ones
    # go straight into its store, which keeps what it is given.
    with office.transaction():
        for company in companies:
            office.store.add_company(company)
        for user in users:
            office.store.add_user(user)
        office.store.set_next_login_id(next_login)
    devices = tuple(_read_device(item, f"session.devices[{i}]", office)
                    for i, item in enumerate(_list(session["devices"], "session.devices", limit=10_000)))
    names = [d.name for d in devices]
    if len(set(names)) != len(names):
        raise _fail("session.devices", "holds two devices of the same name")
    return Session(office, devices, version)


def _read_policy(value: Any) -> Policy:
    names = [f.name for f in fields(Policy)]
    data = _object(value, "session.policy", names)
    try:
        return Policy(**data)
    except TypeError:
        raise _fail("session.policy", "has a value of the wrong kind") from None
    except ValidationError as problem:
        raise _fail(f"session.{problem.field}", problem.problem) from None


def _read_clock(value: Any) -> Clock:
    if isinstance(value, dict) and value.get("mode") == "following":
        data = _object(value, "session.clock", ["mode", "offset"])
        offset = _number(data["offset"], "session.clock.offset")
        clock = Clock()
        if offset:
            try:
                clock.advance(offset)
            except ValidationError as problem:
                raise _fail("session.clock.offset", problem.problem) from None
        return clock
    data = _object(value, "session.clock", ["mode", "at"])
    if data["mode"] != "pinned":
        raise _fail("session.clock.mode", "must be 'pinned' or 'following'")
    return Clock.at(_time(data["at"], "session.clock.at"))


def _read_source(value: Any) -> SystemSecretSource | SeededSecretSource:
    if isinstance(value, dict) and value.get("kind") == "system":
        _object(value, "session.secret_source", ["kind"])
        return SystemSecretSource()
    data = _object(value, "session.secret_source", ["kind", "seed", "state"])
    if data["kind"] != "seeded":
        raise _fail("session.secret_source.kind", "must be 'system' or 'seeded'")
    seed = data["seed"]
    if isinstance(seed, str):
        _text(seed, "session.secret_source.seed")
    else:
        _whole(seed, "session.secret_source.seed", -(2 ** 256), 2 ** 256)
    state = _object(data["state"], "session.secret_source.state", ["version", "internal", "gauss_next"])
    where = "session.secret_source.state"
    version = _whole(state["version"], f"{where}.version", 3, 3)
    internal = struct.unpack(">625I", _bytes(state["internal"], f"{where}.internal", 2500, 2500))
    if internal[624] > 624:
        raise _fail(f"{where}.internal", "is not a state of Python's random generator")
    gauss = _optional(state["gauss_next"], _number, f"{where}.gauss_next")
    source = SeededSecretSource(seed)
    try:
        source._random.setstate((version, internal, gauss))
    except (ValueError, TypeError):
        raise _fail(where, "is not a state of Python's random generator") from None
    return source


def _read_companies(value: Any) -> list[Company]:
    companies: list[Company] = []
    seen: set[str] = set()
    for index, item in enumerate(_list(value, "session.companies", limit=100_000)):
        where = f"session.companies[{index}]"
        data = _object(item, where, ["name", "force_2fa_for_all", "usernames"])
        name = _text(data["name"], f"{where}.name", limit=64)
        try:
            if check_display_name("company", name) != name:
                raise ValidationError("company", "must not start or end with white space")
        except ValidationError as problem:
            raise _fail(f"{where}.name", problem.problem) from None
        if name.casefold() in seen:
            raise _fail(f"{where}.name", "names a company that is already in the file")
        seen.add(name.casefold())
        usernames = [_text(u, f"{where}.usernames[{i}]", limit=64)
                     for i, u in enumerate(_list(data["usernames"], f"{where}.usernames", limit=1_000_000))]
        companies.append(Company(name, _flag(data["force_2fa_for_all"], f"{where}.force_2fa_for_all"), usernames))
    return companies


def _read_users(value: Any, companies: list[Company], policy: Policy) -> list[BackendUser]:
    by_name = {c.name: c for c in companies}
    users: list[BackendUser] = []
    seen: set[str] = set()
    for index, item in enumerate(_list(value, "session.users", limit=1_000_000)):
        where = f"session.users[{index}]"
        data = _object(item, where, ["username", "company", "force_2fa", "created_at", "password_hash", "enrolment"])
        username = _text(data["username"], f"{where}.username", limit=64)
        try:
            check_username(username)
        except ValidationError as problem:
            raise _fail(f"{where}.username", problem.problem) from None
        if username.casefold() in seen:
            raise _fail(f"{where}.username", "names a user who is already in the file")
        seen.add(username.casefold())
        company = _text(data["company"], f"{where}.company", limit=64)
        if company not in by_name:
            raise _fail(f"{where}.company", "names no company in the file")
        user = BackendUser(username, company, _read_hash(data["password_hash"], f"{where}.password_hash"),
                           force_2fa=_flag(data["force_2fa"], f"{where}.force_2fa"),
                           created_at=_time(data["created_at"], f"{where}.created_at"),
                           enrolment=_read_enrolment(data["enrolment"], f"{where}.enrolment", policy))
        users.append(user)
    for company in companies:
        listed = company.usernames
        belonging = [u.username for u in users if u.company == company.name]
        if sorted(listed) != sorted(belonging):
            raise _fail(f"session.companies[{companies.index(company)}].usernames",
                        "must list exactly the users of that company")
    return users


def _read_hash(value: Any, where: str) -> PasswordHash:
    data = _object(value, where, ["scheme", "salt", "digest", "log2_n", "r", "p"])
    if data["scheme"] != "scrypt":
        raise _fail(f"{where}.scheme", "must be 'scrypt'")
    _whole(data["r"], f"{where}.r", 8, 8)
    _whole(data["p"], f"{where}.p", 1, 1)
    return PasswordHash(_bytes(data["salt"], f"{where}.salt", 8, 64), _bytes(data["digest"], f"{where}.digest", 32, 32),
                        _whole(data["log2_n"], f"{where}.log2_n", 1, 20))


def _read_enrolment(value: Any, where: str, policy: Policy) -> Enrolment:
    data = _object(value, where, ["secret", "pending_secret", "enrolled_at", "last_used_step", "drift", "failures",
                                  "locked_until", "recovery"])
    recovery = None
    if data["recovery"] is not None:
        r = _object(data["recovery"], f"{where}.recovery", ["salt", "unused", "used"])
        unused = [_bytes(h, f"{where}.recovery.unused[{i}]", 32, 32)
                  for i, h in enumerate(_list(r["unused"], f"{where}.recovery.unused", limit=1000))]
        recovery = RecoveryCodes(_bytes(r["salt"], f"{where}.recovery.salt", 8, 64), unused,
                                 _whole(r["used"], f"{where}.recovery.used", 0, 10 ** 9))
    return Enrolment(
        secret=_optional(data["secret"], _base32_secret, f"{where}.secret"),
        pending_secret=_optional(data["pending_secret"], _base32_secret, f"{where}.pending_secret"),
        enrolled_at=_optional(data["enrolled_at"], _time, f"{where}.enrolled_at"),
        # a time step of the policy's period, so the step's time is a time the clock can show
        last_used_step=_optional(data["last_used_step"], _whole, f"{where}.last_used_step", 0,
                                 int(LATEST // policy.period)),
        drift=_whole(data["drift"], f"{where}.drift", -(MAX_DRIFT_SECONDS // policy.period),
                     MAX_DRIFT_SECONDS // policy.period),
        failures=_whole(data["failures"], f"{where}.failures", 0, 10 ** 9),
        locked_until=_optional(data["locked_until"], _lock_end, f"{where}.locked_until"),
        recovery=recovery,
    )


_EVENT_FIELDS = [f.name for f in fields(Event)]


def _read_events(value: Any) -> EventLog:
    log = EventLog()
    for index, item in enumerate(_list(value, "session.events")):
        where = f"session.events[{index}]"
        data = _object(item, where, _EVENT_FIELDS)
        if _whole(data["seq"], f"{where}.seq", 1, 2 ** 62) != index + 1:
            raise _fail(f"{where}.seq", "must number the events 1, 2, 3 ... in order")
        kind = _text(data["kind"], f"{where}.kind", limit=64)
        if kind not in EventKind.__members__:
            raise _fail(f"{where}.kind", "is not a kind of event")
        texts = {name: _text(data[name], f"{where}.{name}")
                 for name in ("actor", "user", "company", "outcome", "reason", "state_from", "state_to", "detail")}
        log.record(_time(data["time"], f"{where}.time"), EventKind[kind],
                   login=_optional(data["login"], _whole, f"{where}.login", 1, 2 ** 62), **texts)
    return log


def _read_device(value: Any, where: str, office: BackOffice) -> Device:
    data = _object(value, where, ["name", "owner", "company", "offset", "logs_events", "app", "correction",
                                  "entries", "waiting_for_choice", "next_id"])
    key = _text(data["app"], f"{where}.app", limit=64)
    if key not in PROFILES:
        raise _fail(f"{where}.app", f"is not one of the app profiles ({', '.join(PROFILES)})")
    name, owner = _text(data["name"], f"{where}.name", limit=64), _text(data["owner"], f"{where}.owner", limit=64)
    offset = _between(data["offset"], f"{where}.offset", -MAX_DEVICE_SECONDS, MAX_DEVICE_SECONDS)
    company = _text(data["company"], f"{where}.company", limit=64)
    try:
        device = Device(name, owner, office.clock, offset=offset, app=key, events=None, company=company)
    except ValidationError as problem:
        raise _fail(f"{where}.{problem.field}", problem.problem) from None
    if _flag(data["logs_events"], f"{where}.logs_events"):
        device.events = office.events          # set after construction: restoring adds no "device added" event
    app = device.app
    app.correction = _whole(data["correction"], f"{where}.correction", -MAX_DEVICE_SECONDS, MAX_DEVICE_SECONDS)
    entries = [_read_entry(e, f"{where}.entries[{i}]", id_required=True)
               for i, e in enumerate(_list(data["entries"], f"{where}.entries", limit=100_000))]
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise _fail(f"{where}.entries", "holds two entries with the same id")
    app._entries = entries
    pending: dict[int, _Pending] = {}
    for i, item in enumerate(_list(data["waiting_for_choice"], f"{where}.waiting_for_choice", limit=1000)):
        at = f"{where}.waiting_for_choice[{i}]"
        q = _object(item, at, ["token", "candidate", "existing", "adjustments", "warnings"])
        token = _whole(q["token"], f"{at}.token", 1, 2 ** 62)
        if token in pending or token in ids:
            raise _fail(f"{at}.token", "is already in use by another entry or question")
        adjustments = []
        for j, a in enumerate(_list(q["adjustments"], f"{at}.adjustments", limit=10)):
            a = _object(a, f"{at}.adjustments[{j}]", ["field", "given", "used", "why"])
            given, used = (_plain(a[k], f"{at}.adjustments[{j}].{k}") for k in ("given", "used"))
            adjustments.append(Adjustment(_text(a["field"], f"{at}.adjustments[{j}].field", limit=64), given, used,
                                          _text(a["why"], f"{at}.adjustments[{j}].why")))
        pending[token] = _Pending(_read_entry(q["candidate"], f"{at}.candidate", id_required=False),
                                  _read_entry(q["existing"], f"{at}.existing", id_required=True), tuple(adjustments),
                                  _texts(q["warnings"], f"{at}.warnings"))
    app._pending = pending
    next_id = _whole(data["next_id"], f"{where}.next_id", 1, 2 ** 62)
    if next_id <= max(ids + list(pending), default=0):
        raise _fail(f"{where}.next_id", "must be after every entry id and question number")
    app._ids = itertools.count(next_id)
    return device


def _plain(value: Any, where: str) -> str | int:
    if isinstance(value, str):
        return _text(value, where, limit=64)
    return _whole(value, where, -(2 ** 62), 2 ** 62)


def _texts(value: Any, where: str) -> tuple[str, ...]:
    return tuple(_text(t, f"{where}[{i}]") for i, t in enumerate(_list(value, where, limit=100)))


def _read_entry(value: Any, where: str, *, id_required: bool) -> Entry:
    data = _object(value, where, ["id", "issuer", "account", "secret", "algorithm", "digits", "period", "added_at",
                                  "origin", "warnings"])
    entry_id = _whole(data["id"], f"{where}.id", 1 if id_required else 0, 2 ** 62)
    names = {}
    for name in ("issuer", "account"):           # a scanned label can be as long as the URI it came in
        text = _text(data[name], f"{where}.{name}", limit=MAX_URI)
        if ":" in text or (text and not text.isprintable()) or (name == "account" and not text.strip()):
            raise _fail(f"{where}.{name}", "must be printable text without ':'"
                        + (", not empty" if name == "account" else ""))
        names[name] = text
    secret_text = _text(data["secret"], f"{where}.secret", limit=MAX_URI)
    try:
        secret = normalise_secret(secret_text)
    except ValidationError as problem:
        raise _fail(f"{where}.secret", problem.problem) from None
    if secret != secret_text or len(secret_bytes(secret)) * 8 < MIN_SECRET_BITS:
        raise _fail(f"{where}.secret", f"must be upper-case base32 of at least {MIN_SECRET_BITS} bits, unpadded")
    algorithm = _text(data["algorithm"], f"{where}.algorithm", limit=16)
    if algorithm not in ALGORITHM_NAMES:
        raise _fail(f"{where}.algorithm", f"must be one of {', '.join(ALGORITHM_NAMES)}")
    digits = _whole(data["digits"], f"{where}.digits", COMPUTABLE_DIGITS.start, COMPUTABLE_DIGITS.stop - 1)
    period = _whole(data["period"], f"{where}.period", COMPUTABLE_PERIODS.start, COMPUTABLE_PERIODS.stop - 1)
    return Entry(entry_id, names["issuer"], names["account"], secret, algorithm, digits, period,
                 added_at=_between(data["added_at"], f"{where}.added_at", -MAX_DEVICE_SECONDS,
                                   LATEST + MAX_DEVICE_SECONDS),
                 origin=_text(data["origin"], f"{where}.origin", limit=64),
                 warnings=_texts(data["warnings"], f"{where}.warnings"))


__all__ = ["Session", "SessionFileError", "save", "load", "dumps", "loads", "FORMAT", "SCHEMA_VERSION"]
