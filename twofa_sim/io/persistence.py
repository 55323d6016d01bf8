"""Save a whole simulation to one file and load it back, without loss and without changing it.

A trainer prepares a session (companies, users, enrolments, a lock or two, the clock at the right
moment, the phones with their apps) and reloads it in front of the class. The file is JSON:

``{"format": "twofa-sim session", "schema_version": 4, "sha256": ..., "session": {...}}``

``session`` is the back office's ``snapshot()`` (policy, clock, secret source with the state of
its generator, companies, users with password hashes and enrolments, the event log, the next
login number) and ``devices``, each device's ``snapshot()`` (owner, clock offset, app profile,
the app's clock correction, its entries with their secrets, TOTP or HOTP with its counter, the
questions still waiting for the user's answer, and the app's password lock: its hash, never the
password). Each class says what it is as plain data and is restored from it; this module only
orchestrates: it writes and reads the file format, checks every value of a file against the
range the domain can use (:mod:`twofa_sim.io.session_fields`) and writes atomically. Saving reads
snapshots only: it changes nothing, not even a counter. Version 1 files (before HOTP entries,
FreeOTP's question and the app's password lock were kept) load with those at their defaults;
version 1 and 2 files (before an event's detail was a message id with fields) keep each detail's
text as written; version 1 to 3 files (before the domain's words were renamed) are read with the
new names (:mod:`twofa_sim.core.old_names`).

Bytes are base64; shared secrets are base32 text, as in the QR. ``sha256`` is the hash of the
canonical text of ``session``: a file damaged in any byte fails to load with a clear error. After
editing a file by hand, delete the ``sha256`` line (it is optional; when present it must match).

The file holds shared secrets and password hashes: it is the trainer's own session file, written
readable by its owner only, never a place for real accounts (see SECURITY.md).

:func:`save` writes atomically: the data goes to a temporary file in the same folder, is flushed
to disk, and only then renamed over the target. A save interrupted at any byte leaves the old
file (or, once the rename happened, the new one), never a mix. Logins in progress are not part of
a session: after loading, the login mask starts afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import stat
import tempfile
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..apps.device import Device
from ..apps.profiles import PROFILES
from ..core.clock import Clock
from ..core.events import EventKind
from ..core.errors import TwofaSimError, ValidationError
from ..core.files import file_kind
from ..core.messages import AS_WRITTEN
from ..core.old_names import DETAIL_KEYS, ENUM_NAMES, FACTOR_FIELDS, POLICY_KNOBS, renamed
from ..core.secret_source import SeededSecretSource, SystemSecretSource
from ..login.backoffice import BackOffice
from ..login.flow import State
from .session_fields import SessionFileError, check_document, check_session, refuse_constant

FORMAT = "twofa-sim session"
SCHEMA_VERSION = 4
MAX_FILE_BYTES = 64 * 1024 * 1024
#: What version 2 added, and its value for a version 1 file (which could not hold anything else).
_NEW_IN_2 = {"device": {"password_hash": None, "locked": False}, "entry": {"type": "totp", "counter": None},
             "question": {"question": "duplicate"}}


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

    def snapshot(self) -> dict:
        """The session as plain data: what a session file holds under ``session``."""
        return {**self.office.snapshot(), "devices": [d.snapshot() for d in self.devices]}

    def __repr__(self) -> str:
        return f"Session({self.office!r}, {len(self.devices)} devices)"


# -- public functions --------------------------------------------------------------------------------

def dumps(office: BackOffice, devices: Iterable = ()) -> bytes:
    """The session file's bytes for ``office`` (and ``devices``); reads snapshots, changes nothing."""
    if not isinstance(office, BackOffice):
        raise SessionFileError("office", f"must be a BackOffice, got {type(office).__name__}")
    _check_savable(office)
    devices = tuple(devices)
    for index, device in enumerate(devices):
        _check_device(device, office, f"devices[{index}]")
    session = Session(office, devices).snapshot()
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
        document = json.loads(bytes(data).decode("utf-8"), parse_constant=refuse_constant)
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
            raise SessionFileError("path", f"{target.name[:120]!r} is {file_kind(info.st_mode)}, not a session file")
        if info.st_size > MAX_FILE_BYTES:
            raise SessionFileError("file", f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise SessionFileError("file", f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        return data
    finally:
        os.close(handle)


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
        raise SessionFileError("path", f"{target.name[:120]!r} is {file_kind(mode)}: a session is saved "
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


# -- what can be saved ------------------------------------------------------------------------------

def _canonical(session: dict) -> bytes:
    return json.dumps(session, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def _check_savable(office: BackOffice) -> None:
    if not isinstance(office.clock, Clock):
        raise SessionFileError("clock", f"cannot save a clock of type {type(office.clock).__name__}")
    source = office.secret_source
    if not isinstance(source, (SystemSecretSource, SeededSecretSource)):
        raise SessionFileError("secret_source", f"cannot save a secret source of type {type(source).__name__}")
    if isinstance(source, SeededSecretSource) and (isinstance(source.seed, bool)
                                                   or not isinstance(source.seed, (int, str))):
        raise SessionFileError("secret_source.seed", "only a whole-number or text seed can be saved")


def _check_device(device: object, office: BackOffice, where: str) -> None:
    if not isinstance(device, Device):
        raise SessionFileError(where, f"must be a Device, got {type(device).__name__}")
    if device.reference is not office.clock:
        raise SessionFileError(where, "must run on the back office's clock (Device.for_user gives one that does)")
    if device.events is not None and device.events is not office.events:
        raise SessionFileError(where, "must record into the back office's event log, or into none")
    if PROFILES.get(device.app.profile.key) != device.app.profile:
        raise SessionFileError(where, f"uses an app profile of its own ({device.app.profile.key!r}): "
                               "only the built-in profiles can be saved")


# -- reading, every value checked before anything is restored ------------------------------------------

def _document_to_session(document: Any) -> Session:
    version, session, expected = check_document(document, FORMAT, SCHEMA_VERSION)
    if expected is not None and hashlib.sha256(_canonical(session)).hexdigest() != expected:
        raise SessionFileError("sha256", "does not match the content: the file was damaged or edited "
                               "(after a deliberate edit, delete the sha256 line)")
    if version == 1:
        _upgrade_from_1(session)
    if version <= 2:
        _upgrade_from_2(session)
    if version <= 3:
        _upgrade_from_3(session)
    check_session(session)
    office = BackOffice.restore(session)
    devices = []
    for index, item in enumerate(session["devices"]):
        try:
            devices.append(Device.restore(item, office.clock, office.events))
        except ValidationError as problem:
            raise SessionFileError(f"session.devices[{index}].{problem.field}", problem.problem) from None
    return Session(office, tuple(devices), version)


def _upgrade_from_1(session: dict) -> None:
    """A version 1 file as version 2: what it could not hold gets its default (only where the
    structure is as version 1 wrote it; anything else is left for the checks to name)."""
    def fill(item: Any, kind: str) -> dict:
        if not isinstance(item, dict):
            return {}
        for key, value in _NEW_IN_2[kind].items():
            item.setdefault(key, value)
        return item

    def items(value: Any) -> list:
        return value if isinstance(value, list) else []

    for device in items(session["devices"]):
        device = fill(device, "device")
        for entry in items(device.get("entries")):
            fill(entry, "entry")
        for question in items(device.get("waiting_for_choice")):
            question = fill(question, "question")
            fill(question.get("candidate"), "entry")
            fill(question.get("existing"), "entry")


def _upgrade_from_2(session: dict) -> None:
    """A version 2 file as version 3: each event's ``detail`` text becomes a detail kept as written
    (its words are all a version 2 file holds; nothing reads them back into fields)."""
    for event in session["events"] if isinstance(session["events"], list) else []:
        if isinstance(event, dict) and "detail" in event:
            detail = event.pop("detail")
            event["detail_key"], event["detail_fields"] = (AS_WRITTEN, {"text": detail}) if detail else ("", {})


def _upgrade_from_3(session: dict) -> None:
    """A version 3 file as version 4: the policy's knobs, each second factor's fields, and the kinds,
    states and detail ids its events recorded, by their names since the domain's words were renamed (only
    where the structure is as version 3 wrote it; anything else is left for the checks to name)."""
    def rename(data: Any, old_names: dict, where: str) -> Any:
        if not isinstance(data, dict):
            return data
        try:
            return renamed(data, old_names, where)
        except ValueError as problem:
            raise SessionFileError(where, str(problem).removeprefix(where + " ")) from None

    session["policy"] = rename(session["policy"], POLICY_KNOBS, "session.policy")
    for index, user in enumerate(session["users"] if isinstance(session["users"], list) else []):
        if isinstance(user, dict) and "enrolment" in user:
            user["enrolment"] = rename(user["enrolment"], FACTOR_FIELDS, f"session.users[{index}].enrolment")
    states = {old: new for old, new in ENUM_NAMES.items() if new in State.__members__}
    kinds = {old: new for old, new in ENUM_NAMES.items() if new in EventKind.__members__}
    for event in session["events"] if isinstance(session["events"], list) else []:
        if isinstance(event, dict):
            for key, old_names in (("kind", kinds), ("state_from", states), ("state_to", states),
                                   ("detail_key", DETAIL_KEYS)):
                if isinstance(event.get(key), str):
                    event[key] = old_names.get(event[key], event[key])


__all__ = ["Session", "SessionFileError", "save", "load", "dumps", "loads", "FORMAT", "SCHEMA_VERSION"]
