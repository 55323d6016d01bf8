"""The authenticator app: its entries, their codes, and how the codes rotate.

An :class:`AuthenticatorApp` follows one :class:`~twofa_sim.apps.profiles.AppProfile` and nothing
else: the profile decides what a scanned URI becomes, what a second scan does, how the clock is
turned into a time step and whether the clock can be corrected. The app learns a secret only
from the text of a scanned QR code (:meth:`AuthenticatorApp.scan_uri`, fed by
:mod:`twofa_sim.apps.scan` from pixels), from a key typed by hand (:meth:`AuthenticatorApp.enter_key`)
or from its own text backup (:meth:`AuthenticatorApp.import_text`).

Time is always passed in: every method that needs "now" takes the device's local clock reading
(seconds since the epoch, fractions allowed), so a device, a widget thread, a notebook or
freezegun can drive it. The entries and their codes are :mod:`twofa_sim.apps.entry`'s: every entry
an app accepts shows the code that app would show. Secrets under 112 bits (pyotp's limit) stay
refused as a limit of the simulation: the back office issues at least 128 bits.

An app the user protected with a password (the add-on's "Security" page) can be locked: a locked
app refuses to scan or import (:class:`AppLocked`), as the add-on does until its password is
typed again.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterator


from .entry import (APP_DIGITS, APP_PERIODS, COMPUTABLE_DIGITS, COMPUTABLE_PERIODS, LAST_SECOND, MIN_SECRET_BITS,
                    Entry, PendingQuestion, Question, hotp_code)
from .results import Correction, ImportOutcome, ImportReport, ImportResult, Reading
from .profiles import (REFERENCE, SAVE_CHOICES, UNSAFE_CHOICES, Adjustment, AppProfile, Choice, DuplicateMatch,
                       DuplicatePolicy, TimeRounding, describe_values, profile as find_profile)
from .backup import Backup, Decision, ExportRefused, backup_of, check_readable, decide, import_lines, import_rule
from .behaviour import ExportFormat, LinkHandling
from ..core.errors import ClockError, NotFoundError, TwofaSimError, UriError, ValidationError
from .otpauth import MAX_URI, URI_ALGORITHMS, normalise_secret, parse_key_uri, secret_bytes
from ..core.messages import say
from ..core.passwords import PasswordHash
from ..core.secret_source import SystemSecretSource

APP_PASSWORD_LOG2_N = 12               # the app password's scrypt cost: enough for a simulation, quick in tests
_EARLY = {TimeRounding.TRUNCATE: 0.0, TimeRounding.NEAREST: 0.5}


class AppLocked(TwofaSimError):
    """The app is protected by a password and locked: it cannot scan or import until unlocked."""


class AppStopped(TwofaSimError):
    """What the app's source shows would stop the app (read in the source, not run on a device)."""


def _check_computable(digits: int, period: int, secret: str, error: type[ValidationError]) -> None:
    """Refuse what no code can be computed for, saying it is a limit of the arithmetic, not of the app."""
    if digits not in APP_DIGITS:
        raise error("digits", f"{digits} digits: RFC 4226 truncation gives 1 to 10 digits")
    if period not in APP_PERIODS:
        raise error("period", f"{period} s: this simulation computes periods of 1 to {APP_PERIODS.stop - 1} s")
    bits = len(secret_bytes(secret)) * 8
    if bits < MIN_SECRET_BITS:
        raise error("secret", f"has {bits} bits: this simulation computes codes for secrets of at least "
                              f"{MIN_SECRET_BITS} bits (23 base32 characters), pyotp's limit")


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


class AuthenticatorApp:
    """An authenticator app following one profile. ``AuthenticatorApp("aegis")`` works too."""

    def __init__(self, profile: AppProfile | str = REFERENCE, *, correction: float = 0, entries: tuple[Entry, ...] = (),
                 questions: dict[int, PendingQuestion] | None = None, next_id: int = 1,
                 password: PasswordHash | None = None, locked: bool = False) -> None:
        """The keywords give an app that already holds entries, questions and a password hash
        (:meth:`restore`); ``next_id`` numbers the next entry or question."""
        self.profile = find_profile(profile)
        self.correction: float = correction
        self._entries: list[Entry] = list(entries)
        self._pending: dict[int, PendingQuestion] = dict(questions or {})
        self._next_id = next_id
        self._password: PasswordHash | None = password
        self._locked = locked
        self._shown: dict[int, int] = {}    # entry id -> the step whose code a tap showed (FreeOTP)

    def _take_id(self) -> int:
        """The next number for an entry or a question (one sequence for both)."""
        self._next_id += 1
        return self._next_id - 1

    # -- saving and restoring ---------------------------------------------------------------------

    def snapshot(self) -> dict:
        """The app as plain data: profile, correction, entries (with their secrets), the questions
        waiting for an answer, the next number, and the password lock (its hash, never the
        password). Reading changes nothing."""
        return {"app": self.profile.key, "correction": self.correction,
                "entries": [e.snapshot() for e in self._entries],
                "waiting_for_choice": [{"token": token, **item.snapshot()} for token, item in self._pending.items()],
                "next_id": self._next_id,
                "password_hash": None if self._password is None else self._password.snapshot(),
                "locked": self._locked}

    @classmethod
    def restore(cls, data: dict) -> "AuthenticatorApp":
        password = data["password_hash"]
        return cls(data["app"], correction=data["correction"], entries=tuple(Entry.restore(e) for e in data["entries"]),
                   questions={q["token"]: PendingQuestion.restore({k: v for k, v in q.items() if k != "token"})
                              for q in data["waiting_for_choice"]},
                   next_id=data["next_id"], password=None if password is None else PasswordHash.restore(password),
                   locked=data["locked"])

    # -- password protection ---------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        return self._locked

    @property
    def password_protected(self) -> bool:
        return self._password is not None

    def set_password(self, password: str) -> None:
        """Protect the app with a password (the add-on's "Security" page); it stays unlocked for now."""
        if not self.profile.password_lock:
            raise ValidationError("password", f"{self.profile.title} has no password protection in this simulation")
        if not isinstance(password, str) or not password:
            raise ValidationError("password", "must be non-empty text")
        self._password = PasswordHash.create(password, SystemSecretSource(), APP_PASSWORD_LOG2_N)
        self._locked = False

    def lock(self) -> None:
        """Lock the app (the add-on locks when the browser restarts or the user locks it)."""
        if self._password is None:
            raise ValidationError("password", f"{self.profile.title} has no password set: there is nothing to lock")
        self._locked = True

    def unlock(self, password: str) -> None:
        """Unlock with the password; a wrong one raises :class:`AppLocked` and the app stays locked."""
        if self._password is None:
            raise ValidationError("password", f"{self.profile.title} has no password set: there is nothing to unlock")
        if not isinstance(password, str) or not self._password.matches(password):
            raise AppLocked(f"wrong password: {self.profile.title} stays locked")
        self._locked = False

    def check_unlocked(self, action: str) -> None:
        """Raise :class:`AppLocked` if the app is locked, saying what it cannot do."""
        if self._locked:
            raise AppLocked(f"{self.profile.title} is locked: it cannot {action} until its password is typed "
                            "(the add-on says: 'You cannot add a new account until all accounts are decrypted')")

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
        """Correct the clock against a reference.

        The reference is a web server's ``Date`` header (whole seconds) for the add-on and Google
        Authenticator, an NTP server (to the millisecond) for 2FAS. The offset is measured against
        the uncorrected clock and replaces any earlier one, in the profile's steps (1 s for the
        add-on, whole minutes for Google Authenticator, 1 ms for NTP); an offset beyond the
        profile's limit is not applied, as the add-on's "clock too far off".
        """
        p = self.profile
        from_date_header = p.clock_correction_step >= 1
        measured = (math.floor(reference) if from_date_header else reference) - local
        if not p.corrects_clock:
            return Correction(False, measured, self.correction, say("no_clock_correction", app=p.title))
        offset = math.floor(measured / p.clock_correction_step + 0.5) * p.clock_correction_step
        offset = int(offset) if from_date_header else round(offset, 3)
        if abs(offset) > p.clock_correction_limit:
            return Correction(False, measured, self.correction, say(
                "clock_too_far_off", offset=offset, app=p.title, limit=p.clock_correction_limit))
        self.correction = offset
        return Correction(True, measured, offset, say("clock_corrected", offset=offset))

    # -- adding entries ---------------------------------------------------------------------------

    def _candidate(self, text: str, local: float, origin: str):
        """The entry this app would make of an ``otpauth://`` text, and the settings it read."""
        uri = parse_key_uri(text, ignore=self.profile.ignored_parameters, counter_optional=True)
        settings = self.profile.settings_for(uri)
        _check_computable(settings.digits, settings.period, uri.secret, UriError)
        candidate = Entry(0, settings.issuer, settings.account, uri.secret, settings.algorithm, settings.digits,
                          settings.period, added_at=local, origin=origin,
                          warnings=settings.warnings + tuple(f"unsafe: {u}" for u in settings.unsafe),
                          type=settings.type, counter=settings.counter)
        return candidate, settings

    def _ask(self, candidate: Entry, existing: Entry | None, adjustments: tuple, warnings: tuple,
             question: Question, choices: tuple[Choice, ...]) -> ImportResult:
        token = self._take_id()
        self._pending[token] = PendingQuestion(candidate, existing, adjustments, warnings, question)
        return ImportResult(ImportOutcome.NEEDS_CONFIRMATION, None, existing, adjustments, warnings, pending=token,
                            question=question, choices=choices)

    def scan_uri(self, text: str, local: float, *, save: bool = True) -> ImportResult:
        """Import the text of a scanned QR code as the profile says; :class:`UriError` if refused,
        :class:`AppLocked` if the app is locked.

        An app that opens an edit screen after a scan (Aegis) saves nothing until Save: with
        ``save=False`` the scan stops there (a question answered with Save or Cancel); the default
        is the user who taps Save without changing anything."""
        self.check_unlocked("scan")
        candidate, settings = self._candidate(text, local, "scan")
        if settings.unsafe:
            return self._ask(candidate, None, settings.adjustments, candidate.warnings, Question.UNSAFE,
                             UNSAFE_CHOICES)
        if self.profile.behaviour.scan_opens_editor and not save:
            return self._ask(candidate, None, settings.adjustments, settings.warnings, Question.EDITOR, SAVE_CHOICES)
        return self._add(candidate, settings.adjustments, settings.warnings)

    def open_link(self, text: str, local: float) -> ImportResult:
        """An ``otpauth://`` link opened from another app (a mail, a web page): Google Authenticator
        asks "Save key for ...?" first, where its camera saves at once; 2FAS adds it without the
        question its scan asks, replacing an entry with the same secret (a link it refuses, which
        the app drops without a word, is a :class:`UriError` here, so the simulation says why)."""
        self.check_unlocked("open a link")
        links = self.profile.behaviour.links
        if links is LinkHandling.NOT_HANDLED:
            raise ValidationError("link", f"{self.profile.title} does not open otpauth:// links: scan the QR code")
        if links is LinkHandling.LIKE_A_SCAN:
            return self.scan_uri(text, local, save=False)
        candidate, settings = self._candidate(text, local, "link")
        if links is LinkHandling.ADDS_AT_ONCE:
            same = next((e for e in self._entries if e.same_as(candidate, DuplicateMatch.SECRET)), None)
            outcome = ImportOutcome.ADDED if same is None else ImportOutcome.REPLACED
            return ImportResult(outcome, self._store(candidate, replacing=same), same, settings.adjustments,
                                settings.warnings)
        same = next((e for e in self._entries if (e.issuer, e.account) == (candidate.issuer, candidate.account)), None)
        if same is not None and (same.secret, same.type, same.counter) == (candidate.secret, candidate.type,
                                                                            candidate.counter):
            return ImportResult(ImportOutcome.UNCHANGED, None, same, settings.adjustments, settings.warnings)
        return self._ask(candidate, same, settings.adjustments, settings.warnings, Question.LINK, SAVE_CHOICES)

    def enter_key(self, account: str, secret: str, local: float, *, issuer: str = "", algorithm: str | None = None,
                  digits: int = 6, period: int = 30) -> ImportResult:
        """Add an entry from a key typed by hand (spaces allowed, as the page groups it); without an
        algorithm, the one the form starts on (SHA256 in FreeOTP)."""
        self.check_unlocked("add an entry")
        account = _check_name("account", account, required=True)
        issuer = _check_name("issuer", issuer, required=False)
        if isinstance(secret, str) and len(secret) > MAX_URI:
            raise ValidationError("secret", f"is {len(secret)} characters long; the form takes at most {MAX_URI}")
        try:
            secret = normalise_secret(secret, allow_spaces=True)
        except UriError as error:
            raise ValidationError("secret", error.problem) from None
        algorithm = self.profile.manual.default_algorithm if algorithm is None else algorithm
        self.profile.manual_settings(algorithm, digits, period)
        if algorithm not in URI_ALGORITHMS:
            raise ValidationError("algorithm", f"{self.profile.title} offers {algorithm} by hand, but this simulation "
                                               "computes no GOST 34.11 codes")
        _check_computable(digits, period, secret, ValidationError)
        candidate = Entry(0, issuer, account, secret, algorithm, digits, period, added_at=local, origin="manual")
        return self._add(candidate, (), ())

    def _add(self, candidate: Entry, adjustments: tuple, warnings: tuple) -> ImportResult:
        p = self.profile
        if p.duplicates is DuplicatePolicy.BY_ISSUER:
            return self._add_by_issuer(candidate, adjustments, warnings)
        existing = next((e for e in self._entries if e.same_as(candidate, p.duplicate_match)), None)
        if existing is None or p.duplicates is DuplicatePolicy.ADD_DUPLICATE:
            entry = self._store(candidate)
            return ImportResult(ImportOutcome.ADDED, entry, existing, adjustments, warnings)
        if p.duplicates is DuplicatePolicy.OVERWRITE:
            entry = self._store(candidate, replacing=existing)
            return ImportResult(ImportOutcome.REPLACED, entry, existing, adjustments, warnings)
        token = self._take_id()
        self._pending[token] = PendingQuestion(candidate, existing, adjustments, warnings)
        return ImportResult(ImportOutcome.NEEDS_CONFIRMATION, None, existing, adjustments, warnings, pending=token,
                            question=Question.DUPLICATE, choices=p.duplicates.choices)

    def _add_by_issuer(self, candidate: Entry, adjustments: tuple, warnings: tuple) -> ImportResult:
        """With an issuer: overwrite the entry of that issuer and name. Without: a new "name(1)".
        The same secret under the same issuer and name changes nothing."""
        same = next((e for e in self._entries if (e.issuer, e.account) == (candidate.issuer, candidate.account)),
                    None)
        if same is not None and (same.secret, same.type, same.counter) == (candidate.secret, candidate.type,
                                                                            candidate.counter):
            return ImportResult(ImportOutcome.UNCHANGED, None, same, adjustments, warnings)
        if candidate.issuer:
            if same is None:
                return ImportResult(ImportOutcome.ADDED, self._store(candidate), None, adjustments, warnings)
            return ImportResult(ImportOutcome.REPLACED, self._store(candidate, replacing=same), same, adjustments,
                                warnings)
        taken = {e.account for e in self._entries if not e.issuer}
        account, tries = candidate.account, 0
        while account in taken:
            tries += 1
            account = f"{candidate.account}({tries})"
        renamed = dataclasses.replace(candidate, account=account)
        return ImportResult(ImportOutcome.ADDED, self._store(renamed), same, adjustments, warnings)

    def _store(self, candidate: Entry, replacing: Entry | None = None) -> Entry:
        entry = dataclasses.replace(candidate, id=self._take_id())
        if replacing is not None and replacing in self._entries:
            self._entries[self._entries.index(replacing)] = entry
        else:
            self._entries.append(entry)
        return entry

    def _suffixed(self, candidate: Entry) -> Entry:
        """The candidate named "account #2" (or #3...), unique among the entries of its issuer."""
        taken = {e.account for e in self._entries if e.issuer == candidate.issuer}
        number = 2
        while f"{candidate.account} #{number}" in taken:
            number += 1
        return dataclasses.replace(candidate, account=f"{candidate.account} #{number}")

    @property
    def pending(self) -> list[int]:
        """Tokens of questions waiting for the user's choice."""
        return list(self._pending)

    def waiting(self, token: int) -> PendingQuestion:
        """What the app asks under ``token`` (a duplicate, an unsafe token, its edit screen, a link)
        and the entry it holds back meanwhile (its repr never shows the secret)."""
        if token not in self._pending:
            raise NotFoundError(f"no question waiting for a choice under {token!r}")
        return self._pending[token]

    def confirm(self, pending: ImportResult | int, choice: Choice | str, *, edits: dict | None = None) -> ImportResult:
        """Answer the app's question: about a duplicate (replace, keep both, cancel: what the profile
        offers), an unsafe token (add anyway, cancel), an edit screen or a link (save, cancel).
        ``edits`` are what the user changed on the edit screen before Save (issuer, account,
        algorithm, digits, period), checked as the form checks them."""
        token = pending.pending if isinstance(pending, ImportResult) else pending
        if token not in self._pending:
            raise NotFoundError(f"no question waiting for a choice under {token!r}")
        try:
            choice = Choice(choice) if isinstance(choice, str) else choice
        except ValueError:
            raise ValidationError("choice", f"must be one of {', '.join(c.value for c in Choice)}") from None
        if not isinstance(choice, Choice):
            raise ValidationError("choice", f"must be a Choice, got {type(choice).__name__}")
        item = self._pending[token]
        if edits:
            if item.question is not Question.EDITOR or choice is not Choice.SAVE:
                raise ValidationError("edits", "only the edit screen's Save takes changes")
            item = dataclasses.replace(item, candidate=self._edited(item.candidate, edits))
        offered = {Question.UNSAFE: UNSAFE_CHOICES, Question.EDITOR: SAVE_CHOICES,
                   Question.LINK: SAVE_CHOICES}.get(item.question, self.profile.duplicates.choices)
        if choice not in offered:
            raise ValidationError("choice", f"{self.profile.title} offers {' or '.join(c.value for c in offered)} "
                                            f"here, not {choice.value}")
        del self._pending[token]
        if choice is Choice.CANCEL and item.question is Question.DUPLICATE and self.profile.behaviour.scan_opens_editor:
            # "Cancel save" on the duplicate sheet: back to the edit screen, the entry still unsaved
            return self._ask(item.candidate, None, item.adjustments, item.warnings, Question.EDITOR, SAVE_CHOICES)
        if choice is Choice.CANCEL:
            return ImportResult(ImportOutcome.CANCELLED, None, item.existing, item.adjustments, item.warnings)
        if item.question in (Question.UNSAFE, Question.EDITOR):
            return self._add(item.candidate, item.adjustments, item.warnings)
        if item.question is Question.LINK:        # saved as the camera would have saved it
            return self._add(item.candidate, item.adjustments, item.warnings)
        if choice is Choice.REPLACE:
            if self.profile.duplicates is DuplicatePolicy.ASK_SUFFIX:     # removes every entry with that name
                for twin in [e for e in self._entries if e.same_as(item.candidate, DuplicateMatch.LABEL)]:
                    self._entries.remove(twin)
            entry = self._store(item.candidate, replacing=item.existing)
            return ImportResult(ImportOutcome.REPLACED, entry, item.existing, item.adjustments, item.warnings)
        candidate = item.candidate
        if self.profile.duplicates is DuplicatePolicy.ASK_SUFFIX:
            candidate = self._suffixed(candidate)
        entry = self._store(candidate)
        return ImportResult(ImportOutcome.KEPT_BOTH, entry, item.existing, item.adjustments, item.warnings)

    def _edited(self, candidate: Entry, edits: dict) -> Entry:
        """The candidate with the edit screen's changes; the scanned algorithm stays on offer (MD5)."""
        unknown = set(edits) - {"issuer", "account", "algorithm", "digits", "period"}
        if unknown:
            raise ValidationError("edits", f"the edit screen has no field {sorted(unknown)[0]!r}")
        changed = {"issuer": _check_name("issuer", edits.get("issuer", candidate.issuer), required=False),
                   "account": _check_name("account", edits.get("account", candidate.account), required=True)}
        form = self.profile.manual
        for name, offered in (("algorithm", form.algorithms + (candidate.algorithm,)), ("digits", form.digits),
                              ("period", form.periods)):
            value = edits.get(name, getattr(candidate, name))
            if value != getattr(candidate, name) and value not in offered:
                raise ValidationError(name, f"the edit screen of {self.profile.title} offers "
                                            f"{describe_values(offered)} only, got {value!r}")
            changed[name] = value
        _check_computable(changed["digits"], changed["period"], candidate.secret, ValidationError)
        return dataclasses.replace(candidate, **changed)

    def accept(self, result: ImportResult) -> ImportResult:
        """Answer yes to whatever the app asks (replace a duplicate, add an unsafe token anyway) until
        the entry is added: what a user following the enrolment page does."""
        while result.needs_confirmation:
            result = self.confirm(result, self.yes_to(result))
        return result

    @staticmethod
    def yes_to(result: ImportResult) -> Choice:
        """The answer that adds the entry: "add anyway" to an unsafe token, "save" on an edit screen or
        to "Save key for ...?", "replace" to a duplicate."""
        return {Question.UNSAFE: Choice.ADD_ANYWAY, Question.EDITOR: Choice.SAVE,
                Question.LINK: Choice.SAVE}.get(result.question, Choice.REPLACE)

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

    def _code_of(self, entry: Entry, whole: int) -> str:
        try:
            return entry.code_at(whole)
        except ValidationError as error:
            if not self.profile.behaviour.crashes_past_the_digest:
                raise
            raise AppStopped(f"{self.profile.title} most likely stops here (read in its source, not run on a "
                             f"device): at step {entry.step_at(whole)} {error.problem}, and only OtpInfoException "
                             "is caught") from None

    def code(self, ref: Entry | int, local: float) -> str:
        """The code the entry shows at ``local`` (FreeOTP shows it after a tap: :meth:`tap`)."""
        entry = self.entry(ref)
        return self._code_of(entry, self.app_seconds(local))

    def tap(self, ref: Entry | int, local: float) -> Reading:
        """The user taps the entry: an app that shows codes only after a tap (FreeOTP) shows this
        one until it changes."""
        entry = self.entry(ref)
        self._shown[entry.id] = entry.step_at(self.app_seconds(local))
        return self.reading(entry, local)

    def code_shown(self, ref: Entry | int, local: float) -> bool:
        """Whether the app shows the entry's code now (FreeOTP: only after a tap, until it changes)."""
        entry = self.entry(ref)
        if not self.profile.behaviour.code_on_tap:
            return True
        return self._shown.get(entry.id) == entry.step_at(self.app_seconds(local))

    def next_change(self, ref: Entry | int, after: float) -> float:
        """The first instant of the local clock after ``after`` at which the entry shows a new code
        (never, ``math.inf``, for an HOTP entry: its code changes only when the user asks)."""
        entry = self.entry(ref)
        if entry.counter_based:
            self.app_seconds(after)
            return math.inf
        step = entry.step_at(self.app_seconds(after))
        return (step + 1) * entry.period - _EARLY[self.profile.time_rounding] - self.correction

    def reading(self, ref: Entry | int, local: float) -> Reading:
        """Code, step and time left for one entry at ``local``."""
        entry = self.entry(ref)
        whole = self.app_seconds(local)
        change = self.next_change(entry, local)
        return Reading(entry.id, entry.issuer, entry.account, self._code_of(entry, whole), entry.step_at(whole), local,
                       change - local, change, entry.period, self.code_shown(entry, local))

    def next_counter_code(self, ref: Entry | int) -> str:
        """An HOTP entry's next code: the counter goes up by one, as when the user taps the entry."""
        entry = self.entry(ref)
        if not entry.counter_based:
            raise ValidationError("entry", f"#{entry.id} is time-based: its code changes with the clock")
        advanced = dataclasses.replace(entry, counter=entry.counter + 1)
        self._entries[self._entries.index(entry)] = advanced
        return self._code_of(advanced, 0)

    def readings(self, local: float) -> list[Reading]:
        return [self.reading(e, local) for e in self._entries]

    def changes(self, ref: Entry | int, start: float, end: float | None = None) -> Iterator[Reading]:
        """The reading at ``start``, then one at each instant the code changes, up to ``end``
        (endless without it). Pure: a widget zips it with its own clock, a test with a list."""
        entry = self.entry(ref)
        t = start
        while (end is None or t <= end) and math.isfinite(t):
            yield self.reading(entry, t)
            t = self.next_change(entry, t)

    # -- text backup and moving entries -----------------------------------------------------------

    def export_uri(self, ref: Entry | int) -> str:
        """One entry as this app exports it (the add-on's "Show QR" and one-line backup write
        period, digits and algorithm only when they differ from 30, 6 and SHA1). Holds the secret."""
        return self.entry(ref).to_uri(omit_defaults=self.profile.export_omits_defaults)

    def export_backup(self) -> Backup:
        """The app's export as its profile says (:class:`ExportRefused` where it has none): a locked
        add-on leaves out what it cannot decrypt and says so. Holds the secrets."""
        return backup_of(self.profile.app, self.profile.title, self.profile.behaviour, self._entries,
                         locked=self._locked, omit_defaults=self.profile.export_omits_defaults)

    def export_text(self) -> str:
        """Every entry as an ``otpauth://`` line, as :meth:`export_uri` writes it. Holds the secrets.
        An app whose only backup is encrypted for itself (FreeOTP) has no such text."""
        backup = self.export_backup()
        if backup.format is not ExportFormat.OTPAUTH_TEXT:
            raise ExportRefused("export", f"{self.profile.title} writes only {backup.format.value}")
        return backup.text

    def import_text(self, text: str, local: float, *, tick: bool = False) -> ImportReport:
        """Import ``otpauth://`` lines written by another app (blank lines skipped): each line read
        by the same rules as a scan, then the app's import rule for an entry it holds already
        (``tick``: the user ticks what Aegis unticked)."""
        return self._import_lines(text, local, import_rule(self.profile.behaviour, None, self.profile.app,
                                                           self.profile.title), tick)

    def import_backup(self, backup: Backup, local: float, *, tick: bool = False) -> ImportReport:
        """Import a backup: this app's own (2FAS keeps what it holds) or another app's export."""
        if not isinstance(backup, Backup):
            raise ValidationError("backup", f"must be a Backup, got {type(backup).__name__}")
        check_readable(backup, self.profile.app, self.profile.title)
        rule = import_rule(self.profile.behaviour, backup.app, self.profile.app, self.profile.title)
        report = self._import_lines(backup.text, local, rule, tick)
        return dataclasses.replace(report, warnings=backup.warnings, left_out=backup.left_out)

    def _import_lines(self, text: str, local: float, rule, tick: bool) -> ImportReport:
        self.check_unlocked("import")
        if not isinstance(text, str):
            raise ValidationError("text", f"must be text, got {type(text).__name__}")
        results = []
        outcomes = {Decision.ADD: ImportOutcome.ADDED, Decision.REPLACE: ImportOutcome.REPLACED,
                    Decision.SKIP: ImportOutcome.SKIPPED, Decision.UNTICK: ImportOutcome.UNTICKED}
        lines, failures = import_lines(text, self.profile.title, self.profile.behaviour.imports_migration)
        for number, line in lines:
            try:
                candidate, settings = self._candidate(line, local, "import")
            except UriError as error:
                failures.append((number, str(error)))
                continue
            decision, twin = decide(rule, candidate, self._entries, tick=tick)
            entry = None
            if decision in (Decision.ADD, Decision.REPLACE):
                entry = self._store(candidate, replacing=twin if decision is Decision.REPLACE else None)
            results.append(ImportResult(outcomes[decision], entry, twin, settings.adjustments, settings.warnings))
        return ImportReport(tuple(results), tuple(failures))

    def move_to(self, other: "AuthenticatorApp", local: float, *, tick: bool = False) -> ImportReport:
        """Move every entry into another app: this app's export, read by the other app's rules.

        An entry keeps what this app made of it: an entry the add-on scanned has SHA1 and 30 s
        whatever the QR said, and its export leaves both out, so the other app gets SHA1 and 30 s
        too. Google Authenticator 5.00 has no export and FreeOTP's backup only FreeOTP restores
        (:class:`ExportRefused`). Nothing is removed here (the user deletes the old entries when
        the new ones work).
        """
        if not isinstance(other, AuthenticatorApp) or other is self:
            raise ValidationError("other", "must be another AuthenticatorApp")
        return other.import_backup(self.export_backup(), local, tick=tick)

    # -- views ------------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return (f"AuthenticatorApp({self.profile.title}, {len(self._entries)} entries"
                f"{f', correction {self.correction:+g} s' if self.correction else ''}"
                f"{', locked' if self._locked else ''})")



__all__ = ["AuthenticatorApp", "Entry", "PendingQuestion", "Reading", "ImportResult", "ImportOutcome", "ImportReport",
           "Choice", "Question", "Correction", "AppLocked", "AppStopped", "Backup", "ExportRefused", "hotp_code", "COMPUTABLE_DIGITS", "COMPUTABLE_PERIODS",
           "MIN_SECRET_BITS", "APP_DIGITS", "APP_PERIODS", "LAST_SECOND"]
