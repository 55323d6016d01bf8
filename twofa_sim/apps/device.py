"""A user's device: a name, an owner, its own clock, and one authenticator app on it.

The device's clock is an :class:`~twofa_sim.core.clock.OffsetClock`: the reference clock (the back
office's) plus the device's own error in seconds, either sign. The app on it may correct that
error against the reference, as the add-on does from a web server's ``Date`` header, within the
limits its profile states. The device is what a user holds: it scans the pixels of the screen
(:meth:`Device.scan`), takes a key typed by hand, and shows codes. With an event log it records
what happened (device added, QR scanned or failed, entries added or removed, clock corrected);
events carry names, outcomes and what the app changed, never a secret or a code.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

from PIL import Image

from .profiles import REFERENCE, AppProfile
from .authenticator import (AppLocked, AuthenticatorApp, Backup, Choice, Correction, Entry, ImportReport, ImportResult,
                            Reading)
from .behaviour import AUTOMATIC_TIME_WARNING
from ..core.clock import Clock, OffsetClock
from ..core.errors import ScanError, UriError, ValidationError, check_display_name
from ..core.events import EventKind, EventLog
from ..core.messages import as_written, say
from .scan import read_otpauth


class UserDirectory(Protocol):
    """What :meth:`Device.for_user` needs of a back office: its clock, its event log, and a user's
    name and company. Devices sit below the back office and know it only through this."""

    clock: Clock
    events: EventLog

    def user(self, username: str) -> Any: ...



class Device:
    """A phone or browser with an authenticator app, a clock ``offset`` seconds off the reference."""

    def __init__(self, name: str, owner: str, reference: Clock, *, offset: float = 0.0,
                 app: AppProfile | str = REFERENCE, events: EventLog | None = None, company: str = "") -> None:
        self.name = check_display_name("name", name)
        self.owner = check_display_name("owner", owner)
        if not isinstance(reference, Clock):
            raise ValidationError("reference", f"must be a Clock, got {type(reference).__name__}")
        self.clock = OffsetClock(reference, offset)
        self.app = AuthenticatorApp(app)
        self.events = events
        self.company = company
        self.automatic_time = True      # the phone's "set time automatically"; Aegis warns when it is off
        self._note(EventKind.DEVICE_ADDED, detail=say("device_added", app=self.app.profile.title, offset=self.clock.offset))
        self._sync_automatically()

    @classmethod
    def for_user(cls, office: UserDirectory, owner: str, *, app: AppProfile | str = REFERENCE, offset: float = 0.0,
                 name: str | None = None) -> "Device":
        """A device for a user of ``office``, on the office's clock and event log."""
        user = office.user(owner)
        device_name = name or f"{user.username}'s {AuthenticatorApp(app).profile.name}"
        return cls(device_name, user.username, office.clock, offset=offset, app=app, events=office.events,
                   company=user.company)

    # -- the clock --------------------------------------------------------------------------------

    @property
    def reference(self) -> Clock:
        return self.clock.reference

    @property
    def offset(self) -> float:
        """How far the device's own clock is off the reference, in seconds (ahead if positive)."""
        return self.clock.offset

    def set_offset(self, seconds: float) -> None:
        self.clock.offset = OffsetClock(self.reference, seconds).offset
        self._sync_automatically()

    def _sync_automatically(self) -> None:
        """An app that sets its clock by NTP (2FAS) does so by itself whenever it starts."""
        if self.app.profile.corrects_automatically and self.clock.offset:
            self.correct_clock()

    def set_automatic_time(self, on: bool) -> list[str]:
        """Turn the phone's automatic time on or off; the warnings the app then shows."""
        if not isinstance(on, bool):
            raise ValidationError("automatic_time", f"must be true or false, got {type(on).__name__}")
        self.automatic_time = on
        return self.warnings()

    def warnings(self) -> list[str]:
        """What the app warns about when it opens (Aegis: the phone's automatic time is off)."""
        if self.app.profile.behaviour.warns_without_automatic_time and not self.automatic_time:
            return [AUTOMATIC_TIME_WARNING]
        return []

    def now(self) -> float:
        """The device's own clock (without the app's correction)."""
        return self.clock.now()

    def correct_clock(self) -> Correction:
        """Let the app correct its clock against the reference (the add-on's "sync clock")."""
        result = self.app.correct_clock(self.now(), self.reference.now())
        self._note(EventKind.CLOCK_CORRECTED, outcome="corrected" if result.applied else "not corrected",
                   reason="" if result.applied else str(result.said), detail=result.said)
        return result

    # -- adding entries ---------------------------------------------------------------------------

    def scan(self, image: Image.Image, rect: Sequence[int] | None = None, *, save: bool = True) -> ImportResult:
        """Scan the screen: decode the QR code in ``image`` (inside ``rect`` if given) and import it
        (``save=False``: an app with an edit screen after a scan stops there, nothing saved).

        Raises :class:`ScanError` (no usable QR code), :class:`UriError` (the app refuses the URI)
        or :class:`AppLocked` (a password-protected app that is locked cannot scan) after recording
        a "scan failed" event; nothing is added then.
        """
        local = self.now()
        try:
            self.app.check_unlocked("scan")
            text = read_otpauth(image, rect)
            result = self.app.scan_uri(text, local, save=save)
        except (ScanError, UriError, AppLocked) as error:
            reason = (f"invalid {error.field}" if isinstance(error, UriError) else
                      "app locked" if isinstance(error, AppLocked) else "no usable QR code")
            self._note(EventKind.SCAN_FAILED, outcome="refused", reason=reason, detail=as_written(str(error)))
            raise
        self._note(EventKind.QR_SCANNED, outcome=result.outcome.value,
                   detail=as_written(result.describe()) if not result.added else say("uri_read"))
        self._note_added(result)
        return result

    def enter_key(self, account: str, secret: str, *, issuer: str = "", algorithm: str | None = None, digits: int = 6,
                  period: int = 30) -> ImportResult:
        """Type the key shown under the QR code (spaces allowed) into the app's manual form (without
        an algorithm, the one the form starts on)."""
        result = self.app.enter_key(account, secret, self.now(), issuer=issuer, algorithm=algorithm,
                                    digits=digits, period=period)
        self._note_added(result)
        return result

    def open_link(self, text: str) -> ImportResult:
        """Open an ``otpauth://`` link (from a mail or a web page) in the app."""
        try:
            result = self.app.open_link(text, self.now())
        except (UriError, ValidationError, AppLocked) as error:
            self._note(EventKind.SCAN_FAILED, outcome="refused", reason="link refused", detail=as_written(str(error)))
            raise
        self._note_added(result)
        return result

    def tap(self, entry: Entry | int | None = None) -> Reading:
        """Tap the entry (FreeOTP shows its code only then)."""
        return self.app.tap(self.entry() if entry is None else entry, self.now())

    def confirm(self, pending: ImportResult | int, choice: Choice | str, *, edits: dict | None = None) -> ImportResult:
        """Answer the app's question (a duplicate, an unsafe token, the edit screen, a link); ``edits``:
        what the user changed on the edit screen before Save."""
        result = self.app.confirm(pending, choice, edits=edits)
        self._note_added(result)
        return result

    def accept(self, result: ImportResult) -> ImportResult:
        """Answer yes to whatever the app asks (replace the duplicate, add the unsafe token anyway)."""
        while result.needs_confirmation:
            result = self.confirm(result, self.app.yes_to(result))
        return result

    def remove(self, entry: Entry | int) -> Entry:
        removed = self.app.remove(entry)
        self._note(EventKind.ENTRY_REMOVED, detail=say("entry_removed", label=removed.label))
        return removed

    def export_text(self) -> str:
        """The app's text backup (``otpauth://`` lines, as the app writes them). It holds the secrets:
        keep it safe. An app without such an export says so (``ExportRefused``)."""
        return self.app.export_text()

    def export_backup(self) -> Backup:
        """The app's backup as it writes it (a locked add-on leaves out what it cannot decrypt)."""
        return self.app.export_backup()

    def move_entries_to(self, other: "Device", *, tick: bool = False) -> ImportReport:
        """Move every entry of this device's app into ``other``'s app: this app's backup, read by the
        other app's rules (what a user does when changing apps or phones); the other device records
        what it added. ``tick``: the user ticks what Aegis's import list unticked."""
        if not isinstance(other, Device) or other is self:
            raise ValidationError("other", "must be another Device")
        return other.import_backup(self.app.export_backup(), tick=tick)

    def import_backup(self, backup: Backup, *, tick: bool = False) -> ImportReport:
        report = self.app.import_backup(backup, self.now(), tick=tick)
        for result in report.results:
            self._note_added(result)
        return report

    def set_app_password(self, password: str) -> None:
        """Protect the app with a password (never stored in clear, never logged)."""
        self.app.set_password(password)

    def lock_app(self) -> None:
        self.app.lock()

    def unlock_app(self, password: str) -> None:
        self.app.unlock(password)

    def import_text(self, text: str) -> ImportReport:
        report = self.app.import_text(text, self.now())
        for result in report.results:
            self._note_added(result)
        for number, message in report.failures:
            self._note(EventKind.SCAN_FAILED, outcome="refused", reason="invalid backup line",
                       detail=say("backup_line", number=number, message=message))
        return report

    # -- codes ------------------------------------------------------------------------------------

    def entry(self, account: str | None = None, issuer: str | None = None) -> Entry:
        return self.app.find(account, issuer)

    def reading(self, entry: Entry | int | None = None) -> Reading:
        """What the app shows now for ``entry`` (default: the only or newest entry)."""
        return self.app.reading(self.entry() if entry is None else entry, self.now())

    def code(self, account: str | None = None, issuer: str | None = None) -> str:
        """The code the user would type now, for the newest entry of that account (tapping it first
        where the app shows codes only after a tap)."""
        entry = self.app.find(account, issuer)
        if not self.app.code_shown(entry, self.now()):
            self.app.tap(entry, self.now())
        return self.app.code(entry, self.now())



    # -- saving and restoring ---------------------------------------------------------------------

    def snapshot(self) -> dict:
        """The device as plain data: name, owner, clock offset, whether it records events, and its
        app's :meth:`~twofa_sim.apps.authenticator.AuthenticatorApp.snapshot` (entries with secrets)."""
        return {"name": self.name, "owner": self.owner, "company": self.company, "offset": self.offset,
                "logs_events": self.events is not None, **self.app.snapshot()}

    @classmethod
    def restore(cls, data: dict, reference: Clock, events: EventLog | None = None) -> "Device":
        """The device of a :meth:`snapshot` on ``reference``, recording into ``events`` if it did
        before. Restoring adds no event and corrects no clock: the app is restored as it was."""
        device = cls(data["name"], data["owner"], reference, offset=data["offset"], app=data["app"],
                     company=data["company"])
        device.app = AuthenticatorApp.restore(data)
        device.events = events if data["logs_events"] else None
        return device

    # -- events -----------------------------------------------------------------------------------

    def _note_added(self, result: ImportResult) -> None:
        if result.added:
            self._note(EventKind.ENTRY_ADDED, outcome=result.outcome.value, detail=result.said())

    def _note(self, kind: EventKind, **fields) -> None:
        if self.events is not None:
            self.events.record(self.reference.now(), kind, f"device:{self.name}", user=self.owner,
                               company=self.company, **fields)

    def __repr__(self) -> str:
        return (f"Device({self.name!r}, owner={self.owner!r}, {self.app.profile.title}, "
                f"clock {self.offset:+g} s, {len(self.app.entries)} entries)")



__all__ = ["Device"]
