"""An app's backup: what its export holds, who can read it, and what an import does with an entry
the app holds already.

The rules come from the profile's :class:`~twofa_sim.apps.behaviour.Behaviour`: Google
Authenticator 5.00 has no export; FreeOTP writes only a password-encrypted backup that FreeOTP
alone restores; the add-on and Aegis write ``otpauth://`` lines (the add-on leaves out SHA1, 6 and
30); a locked add-on still exports but leaves out what it could not decrypt. On import, Aegis
unticks entries with the same issuer and secret, 2FAS replaces an entry with the same secret
from another app's export and keeps its own from its own backup, the add-on adds everything.
These functions decide; :class:`~twofa_sim.apps.authenticator.AuthenticatorApp` carries out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ..core.errors import UriError, ValidationError
from .behaviour import LOCKED_EXPORT_WARNING, ExportFormat, ImportDuplicates, LockedExport
from .entry import Entry
from .migration import SCHEME, read_migration


class ExportRefused(ValidationError):
    """The app has no export another app can read (or none at all)."""


@dataclass(frozen=True, repr=False)
class Backup:
    """What one app's export holds. ``text`` holds the secrets: the repr shows only the counts."""

    app: str
    title: str
    format: ExportFormat
    text: str = field(repr=False)
    count: int
    left_out: int = 0
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        left = f", {self.left_out} left out" if self.left_out else ""
        return f"Backup({self.title}, {self.format.name}, {self.count} entries{left})"


def backup_of(app_key: str, title: str, behaviour, entries: list[Entry], *, locked: bool,
              omit_defaults: bool) -> Backup:
    """The backup an app writes: refused without an export; a locked app leaves out every entry it
    cannot decrypt (all of them) where its profile says so, else refuses."""
    if behaviour.export is ExportFormat.NONE:
        raise ExportRefused("export", f"{title} has no export: its entries can only be scanned again elsewhere")
    warnings: tuple[str, ...] = ()
    kept = entries
    if locked:
        if behaviour.locked_export is LockedExport.REFUSED:
            raise ExportRefused("export", f"{title} is locked: it cannot export until its password is typed")
        kept, warnings = [], (LOCKED_EXPORT_WARNING,)
    text = "".join(e.to_uri(omit_defaults=omit_defaults) + "\n" for e in kept)
    return Backup(app_key, title, behaviour.export, text, len(kept), len(entries) - len(kept), warnings)


def import_rule(behaviour, backup_app: str | None, own_app: str, title: str) -> ImportDuplicates:
    """Which duplicate rule an import follows: the app's own backup or another app's export; refused
    where the app cannot read it."""
    own = backup_app == own_app
    rule = behaviour.own_backup_duplicates if own else behaviour.import_duplicates
    if rule is ImportDuplicates.NO_IMPORT:
        raise ExportRefused("import", f"{title} imports no other app's export" if not own
                            else f"{title} has no import")
    return rule


def check_readable(backup: Backup, own_app: str, title: str) -> None:
    """An encrypted backup only its own app restores."""
    if backup.format is ExportFormat.OWN_ENCRYPTED and backup.app != own_app:
        raise ExportRefused("import", f"the backup of {backup.title} is encrypted for {backup.title} alone: "
                                      f"{title} cannot read it")


def import_lines(text: str, title: str, reads_migration: bool) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The ``otpauth://`` lines of an import by their line number (blank lines skipped), and the
    lines refused: an ``otpauth-migration://`` line is unpacked where the app's record says it reads
    it, refused elsewhere."""
    lines, failures = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line.startswith(f"{SCHEME}:"):
            lines += [(number, line)] if line else []
        elif not reads_migration:
            failures.append((number, f"scheme: this simulation reads {SCHEME}:// exports only where the app's "
                                     f"source was read for it, not in {title}"))
        else:
            try:
                lines += [(number, uri) for uri in read_migration(line)]
            except UriError as error:
                failures.append((number, str(error)))
    return lines, failures


class Decision(enum.Enum):
    ADD = "add"
    REPLACE = "replace"
    SKIP = "skip"
    UNTICK = "untick"


def decide(rule: ImportDuplicates, candidate: Entry, entries: list[Entry], *, tick: bool) -> tuple[Decision, Entry | None]:
    """What an import does with one entry, and the entry it concerns."""
    if rule is ImportDuplicates.UNTICK:
        twin = next((e for e in entries if (e.issuer, e.secret) == (candidate.issuer, candidate.secret)), None)
        return (Decision.ADD if twin is None or tick else Decision.UNTICK), twin
    if rule in (ImportDuplicates.REPLACE_SAME_SECRET, ImportDuplicates.SKIP_SAME_SECRET):
        twin = next((e for e in entries if e.secret.casefold() == candidate.secret.casefold()), None)
        if twin is None:
            return Decision.ADD, None
        return (Decision.REPLACE if rule is ImportDuplicates.REPLACE_SAME_SECRET else Decision.SKIP), twin
    return Decision.ADD, None


__all__ = ["Backup", "ExportRefused", "Decision", "backup_of", "import_rule", "check_readable", "decide",
           "import_lines"]
