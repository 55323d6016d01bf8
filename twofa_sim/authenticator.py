"""The authenticator app: its entries, their codes, and how the codes rotate.

An :class:`AuthenticatorApp` follows one :class:`~twofa_sim.app_profile.AppProfile` and nothing
else: the profile decides what a scanned URI becomes, what a second scan does, how the clock is
turned into a time step and whether the clock can be corrected. The app learns a secret only
from the text of a scanned QR code (:meth:`AuthenticatorApp.scan_uri`, fed by
:mod:`twofa_sim.scan` from pixels), from a key typed by hand (:meth:`AuthenticatorApp.enter_key`)
or from its own text backup (:meth:`AuthenticatorApp.import_text`).

Time is always passed in: every method that needs "now" takes the device's local clock reading
(seconds since the epoch, fractions allowed), so a device, a widget thread, a notebook or
freezegun can drive it. Codes come from :func:`twofa_sim.otp.code_at`, the path the backend
checks them with; pyotp's own limits (6 to 10 digits, periods up to 120 s, secrets of at least
112 bits) are therefore limits of this simulation too, and values outside them are refused with
a message that says so.
"""

from __future__ import annotations

import enum
import itertools
import math
from dataclasses import dataclass
from typing import Iterator

import pandas as pd

from .app_profile import (REFERENCE, Adjustment, AppProfile, DuplicateMatch, DuplicatePolicy, TimeRounding,
                          profile as find_profile)
from .errors import ClockError, NotFoundError, UriError, ValidationError
from .otp import code_at
from .otpauth import MAX_URI, build_key_uri, normalise_secret, parse_key_uri, secret_bytes

COMPUTABLE_DIGITS = range(6, 11)
COMPUTABLE_PERIODS = range(1, 121)
MIN_SECRET_BITS = 112
LAST_SECOND = 253_402_300_800          # 10000-01-01 UTC: pyotp computes codes before it
_EARLY = {TimeRounding.TRUNCATE: 0.0, TimeRounding.NEAREST: 0.5}


def _check_computable(digits: int, period: int, secret: str, error: type[ValidationError]) -> None:
    """Refuse what pyotp cannot compute, saying it is a limit of the simulation, not of the app."""
    if digits not in COMPUTABLE_DIGITS:
        raise error("digits", f"{digits} digits: this simulation computes codes with pyotp, which makes 6 to 10 digits")
    if period not in COMPUTABLE_PERIODS:
        raise error("period", f"{period} s: this simulation computes codes with pyotp, which allows periods of 1 to 120 s")
    bits = len(secret_bytes(secret)) * 8
    if bits < MIN_SECRET_BITS:
        raise error("secret", f"has {bits} bits: this simulation computes codes with pyotp, which needs at least "
                              f"{MIN_SECRET_BITS} bits (23 base32 characters)")


def _check_name(field_name: str, value: object, *, required: bool) -> str:
    if not isinstance(value, str):
        raise ValidationError(field_name, f"must be text, got {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise ValidationError(field_name, "is required")
    if len(value) > 64 or not value.isprintable():
        raise ValidationError(field_name, "must be at most 64 printable characters")
    if ":" in value:
        raise ValidationError(field_name, "must not contain ':' (it would not fit an otpauth label)")
    return value


@dataclass(frozen=True, repr=False)
class Entry:
    """One account in the app. The repr never shows the secret."""

    id: int
    issuer: str
    account: str
    secret: str
    algorithm: str = "SHA1"
    digits: int = 6
    period: int = 30
    added_at: float = 0.0
    origin: str = "scan"
    warnings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.issuer}: {self.account}" if self.issuer else self.account

    def step_at(self, whole_second: int) -> int:
        return whole_second // self.period

    def code_at(self, whole_second: int) -> str:
        """The code for a whole second of app time (the app's rounding is already applied)."""
        return code_at(self.secret, whole_second, algorithm=self.algorithm, digits=self.digits, period=self.period)

    def to_uri(self) -> str:
        """The entry as an ``otpauth://`` line of the text backup (all parameters spelled out)."""
        return build_key_uri(self.secret, self.account, self.issuer, algorithm=self.algorithm, digits=self.digits,
                             period=self.period, explicit=True)

    def same_as(self, other: "Entry", match: DuplicateMatch) -> bool:
        if match is DuplicateMatch.SECRET:
            return self.secret == other.secret
        return (self.issuer, self.account) == (other.issuer, other.account)

    def __repr__(self) -> str:
        return f"Entry(#{self.id} {self.label!r}, {self.algorithm}, {self.digits} digits, {self.period} s)"


@dataclass(frozen=True)
class Reading:
    """What the app shows for one entry at one instant of the device's clock."""

    entry_id: int
    issuer: str
    account: str
    code: str
    step: int
    at: float
    seconds_left: float
    next_change: float
    period: int

    @property
    def fraction_left(self) -> float:
        """For a countdown bar: 1.0 just after the code changed, 0.0 when it is about to."""
        return max(0.0, min(1.0, self.seconds_left / self.period))


class ImportOutcome(enum.Enum):
    ADDED = "added"
    REPLACED = "replaced the existing entry"
    KEPT_BOTH = "added next to the existing entry"
    NEEDS_CONFIRMATION = "the app holds this entry already: waiting for the user's choice"
    CANCELLED = "cancelled: nothing changed"


class Choice(enum.Enum):
    """The user's answer when an app asks about a duplicate."""

    REPLACE = "replace"
    KEEP_BOTH = "keep both"
    CANCEL = "cancel"


@dataclass(frozen=True)
class ImportResult:
    """What one scan, manual entry or backup line did. Never holds the secret in its text."""

    outcome: ImportOutcome
    entry: Entry | None = None
    existing: Entry | None = None
    adjustments: tuple[Adjustment, ...] = ()
    warnings: tuple[str, ...] = ()
    pending: int | None = None

    @property
    def needs_confirmation(self) -> bool:
        return self.outcome is ImportOutcome.NEEDS_CONFIRMATION

    @property
    def added(self) -> bool:
        return self.outcome in (ImportOutcome.ADDED, ImportOutcome.REPLACED, ImportOutcome.KEPT_BOTH)

    def describe(self) -> str:
        """One line for a message or an event: outcome, entry, and every value the app changed."""
        shown = self.entry or self.existing
        parts = [self.outcome.value]
        if shown is not None:
            parts.append(f"{shown.label} ({shown.algorithm}, {shown.digits} digits, {shown.period} s)")
        parts += [str(a) for a in self.adjustments] + list(self.warnings)
        return "; ".join(parts)


@dataclass(frozen=True)
class ImportReport:
    """The result of importing a text backup: one result per good line, the bad lines by number."""

    results: tuple[ImportResult, ...]
    failures: tuple[tuple[int, str], ...]

    @property
    def added(self) -> int:
        return sum(r.added for r in self.results)


@dataclass(frozen=True)
class Correction:
    """The outcome of a clock correction: the offset in force afterwards, and why."""

    applied: bool
    measured: float
    offset: float
    reason: str


@dataclass
class _Pending:
    candidate: Entry
    existing: Entry
    adjustments: tuple[Adjustment, ...]
    warnings: tuple[str, ...]


class AuthenticatorApp:
    """An authenticator app following one profile. ``AuthenticatorApp("aegis")`` works too."""

    def __init__(self, profile: AppProfile | str = REFERENCE) -> None:
        self.profile = find_profile(profile)
        self.correction = 0
        self._entries: list[Entry] = []
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)

    # -- time ------------------------------------------------------------------------------------

    def app_seconds(self, local: float) -> int:
        """The whole second the app computes codes for: clock plus correction, rounded as the profile says."""
        if isinstance(local, bool) or not isinstance(local, (int, float)) or not math.isfinite(local):
            raise ClockError("time", f"must be a finite number of seconds, got {local!r}")
        whole = self.profile.time_rounding.whole_seconds(local + self.correction)
        if not 0 <= whole < LAST_SECOND:
            raise ClockError("time", f"the app's clock reads {whole} s, outside 1970 to 9999: no code can be computed")
        return whole

    def correct_clock(self, local: float, reference: float) -> Correction:
        """Correct the clock against a reference (a web server's ``Date`` header: whole seconds).

        The offset is measured against the uncorrected clock and replaces any earlier one, in the
        profile's steps (1 s for the add-on, whole minutes for Google Authenticator); an offset
        beyond the profile's limit is not applied, as the add-on's "clock too far off".
        """
        p = self.profile
        measured = math.floor(reference) - local
        if not p.corrects_clock:
            return Correction(False, measured, self.correction, f"{p.title} has no clock correction")
        offset = int(math.floor(measured / p.clock_correction_step + 0.5) * p.clock_correction_step)
        if abs(offset) > p.clock_correction_limit:
            return Correction(False, measured, self.correction,
                              f"clock too far off: {offset:+d} s, {p.title} corrects at most "
                              f"±{p.clock_correction_limit:g} s")
        self.correction = offset
        return Correction(True, measured, offset, f"clock corrected by {offset:+d} s")

    # -- adding entries ---------------------------------------------------------------------------

    def scan_uri(self, text: str, local: float) -> ImportResult:
        """Import the text of a scanned QR code as the profile says; :class:`UriError` if refused."""
        uri = parse_key_uri(text, ignore=self.profile.ignored_parameters)
        settings = self.profile.settings_for(uri)
        _check_computable(settings.digits, settings.period, uri.secret, UriError)
        candidate = Entry(0, settings.issuer, settings.account, uri.secret, settings.algorithm, settings.digits,
                          settings.period, added_at=local, origin="scan", warnings=settings.warnings)
        return self._add(candidate, settings.adjustments, settings.warnings)

    def enter_key(self, account: str, secret: str, local: float, *, issuer: str = "", algorithm: str = "SHA1",
                  digits: int = 6, period: int = 30) -> ImportResult:
        """Add an entry from a key typed by hand (spaces allowed, as the page groups it)."""
        account = _check_name("account", account, required=True)
        issuer = _check_name("issuer", issuer, required=False)
        if isinstance(secret, str) and len(secret) > MAX_URI:
            raise ValidationError("secret", f"is {len(secret)} characters long; the form takes at most {MAX_URI}")
        try:
            secret = normalise_secret(secret, allow_spaces=True)
        except UriError as error:
            raise ValidationError("secret", error.problem) from None
        self.profile.manual_settings(algorithm, digits, period)
        _check_computable(digits, period, secret, ValidationError)
        candidate = Entry(0, issuer, account, secret, algorithm, digits, period, added_at=local, origin="manual")
        return self._add(candidate, (), ())

    def _add(self, candidate: Entry, adjustments: tuple, warnings: tuple) -> ImportResult:
        p = self.profile
        existing = next((e for e in self._entries if e.same_as(candidate, p.duplicate_match)), None)
        if existing is None or p.duplicates is DuplicatePolicy.ADD_DUPLICATE:
            entry = self._store(candidate)
            return ImportResult(ImportOutcome.ADDED, entry, existing, adjustments, warnings)
        if p.duplicates is DuplicatePolicy.OVERWRITE:
            entry = self._store(candidate, replacing=existing)
            return ImportResult(ImportOutcome.REPLACED, entry, existing, adjustments, warnings)
        token = next(self._ids)
        self._pending[token] = _Pending(candidate, existing, adjustments, warnings)
        return ImportResult(ImportOutcome.NEEDS_CONFIRMATION, None, existing, adjustments, warnings, pending=token)

    def _store(self, candidate: Entry, replacing: Entry | None = None) -> Entry:
        entry = Entry(next(self._ids), candidate.issuer, candidate.account, candidate.secret, candidate.algorithm,
                      candidate.digits, candidate.period, candidate.added_at, candidate.origin, candidate.warnings)
        if replacing is not None and replacing in self._entries:
            self._entries[self._entries.index(replacing)] = entry
        else:
            self._entries.append(entry)
        return entry

    @property
    def pending(self) -> list[int]:
        """Tokens of duplicates waiting for the user's choice."""
        return list(self._pending)

    def confirm(self, pending: ImportResult | int, choice: Choice | str) -> ImportResult:
        """Answer the app's question about a duplicate: replace, keep both, or cancel."""
        token = pending.pending if isinstance(pending, ImportResult) else pending
        if token not in self._pending:
            raise NotFoundError(f"no duplicate waiting for a choice under {token!r}")
        try:
            choice = Choice(choice) if isinstance(choice, str) else choice
        except ValueError:
            raise ValidationError("choice", f"must be one of {', '.join(c.value for c in Choice)}") from None
        if not isinstance(choice, Choice):
            raise ValidationError("choice", f"must be a Choice, got {type(choice).__name__}")
        item = self._pending.pop(token)
        if choice is Choice.CANCEL:
            return ImportResult(ImportOutcome.CANCELLED, None, item.existing, item.adjustments, item.warnings)
        if choice is Choice.REPLACE:
            entry = self._store(item.candidate, replacing=item.existing)
            return ImportResult(ImportOutcome.REPLACED, entry, item.existing, item.adjustments, item.warnings)
        entry = self._store(item.candidate)
        return ImportResult(ImportOutcome.KEPT_BOTH, entry, item.existing, item.adjustments, item.warnings)

    # -- finding and removing ---------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    def entry(self, ref: Entry | int) -> Entry:
        """An entry by id (or the entry itself, checked to be still in the app)."""
        wanted = ref.id if isinstance(ref, Entry) else ref
        for entry in self._entries:
            if entry.id == wanted:
                return entry
        raise NotFoundError(f"no entry #{wanted} in {self.profile.title}")

    def find(self, account: str | None = None, issuer: str | None = None) -> Entry:
        """The newest entry with that account (and issuer); with no arguments, the only or newest entry."""
        matches = [e for e in self._entries
                   if (account is None or e.account == account) and (issuer is None or e.issuer == issuer)]
        if not matches:
            what = " ".join(f"{k}={v!r}" for k, v in (("issuer", issuer), ("account", account)) if v is not None)
            raise NotFoundError(f"no entry {what or 'at all'} in {self.profile.title}")
        return matches[-1]

    def remove(self, ref: Entry | int) -> Entry:
        entry = self.entry(ref)
        self._entries.remove(entry)
        return entry

    # -- codes and rotation -----------------------------------------------------------------------

    def code(self, ref: Entry | int, local: float) -> str:
        entry = self.entry(ref)
        return entry.code_at(self.app_seconds(local))

    def next_change(self, ref: Entry | int, after: float) -> float:
        """The first instant of the local clock after ``after`` at which the entry shows a new code."""
        entry = self.entry(ref)
        step = entry.step_at(self.app_seconds(after))
        return (step + 1) * entry.period - _EARLY[self.profile.time_rounding] - self.correction

    def reading(self, ref: Entry | int, local: float) -> Reading:
        """Code, step and time left for one entry at ``local``."""
        entry = self.entry(ref)
        whole = self.app_seconds(local)
        change = self.next_change(entry, local)
        return Reading(entry.id, entry.issuer, entry.account, entry.code_at(whole), entry.step_at(whole), local,
                       change - local, change, entry.period)

    def readings(self, local: float) -> list[Reading]:
        return [self.reading(e, local) for e in self._entries]

    def changes(self, ref: Entry | int, start: float, end: float | None = None) -> Iterator[Reading]:
        """The reading at ``start``, then one at each instant the code changes, up to ``end``
        (endless without it). Pure: a widget zips it with its own clock, a test with a list."""
        entry = self.entry(ref)
        t = start
        while end is None or t <= end:
            yield self.reading(entry, t)
            t = self.next_change(entry, t)

    # -- text backup ------------------------------------------------------------------------------

    def export_text(self) -> str:
        """Every entry as an ``otpauth://`` line: the add-on's plain-text backup. Holds the secrets."""
        return "".join(e.to_uri() + "\n" for e in self._entries)

    def import_text(self, text: str, local: float) -> ImportReport:
        """Import ``otpauth://`` lines (blank lines skipped); each line goes through the same rules as a scan."""
        if not isinstance(text, str):
            raise ValidationError("text", f"must be text, got {type(text).__name__}")
        results, failures = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                results.append(self.scan_uri(line.strip(), local))
            except UriError as error:
                failures.append((number, str(error)))
        return ImportReport(tuple(results), tuple(failures))

    # -- views ------------------------------------------------------------------------------------

    def to_frame(self, local: float | None = None) -> pd.DataFrame:
        """The entries as a table; with ``local``, also the code and the seconds left."""
        columns = ["id", "issuer", "account", "algorithm", "digits", "period", "origin"]
        rows = [{c: getattr(e, c) for c in columns} for e in self._entries]
        frame = pd.DataFrame(rows, columns=columns).set_index("id")
        if local is not None:
            readings = {r.entry_id: r for r in self.readings(local)}
            frame["code"] = [readings[i].code for i in frame.index]
            frame["seconds left"] = [round(readings[i].seconds_left, 1) for i in frame.index]
        return frame

    def __repr__(self) -> str:
        return (f"AuthenticatorApp({self.profile.title}, {len(self._entries)} entries"
                f"{f', correction {self.correction:+d} s' if self.correction else ''})")

    def _repr_html_(self) -> str:
        return f"<b>{self.profile.title}</b>" + self.to_frame().to_html()


__all__ = ["AuthenticatorApp", "Entry", "Reading", "ImportResult", "ImportOutcome", "ImportReport", "Choice",
           "Correction", "COMPUTABLE_DIGITS", "COMPUTABLE_PERIODS", "MIN_SECRET_BITS"]
