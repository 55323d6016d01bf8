"""What an app's actions give back: a reading of an entry, the result of adding one (scan, key
typed by hand, link, import line), an import's report, a clock correction. None holds a secret
in its text."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..core.messages import Said, as_written, say
from .entry import Entry, Question
from .profiles import Adjustment, Choice


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
    shown: bool = True

    @property
    def fraction_left(self) -> float:
        """For a countdown bar: 1.0 just after the code changed, 0.0 when it is about to."""
        return max(0.0, min(1.0, self.seconds_left / self.period))


class ImportOutcome(enum.Enum):
    ADDED = "added"
    REPLACED = "replaced the existing entry"
    KEPT_BOTH = "added next to the existing entry"
    NEEDS_CONFIRMATION = "the app asks first: waiting for the user's choice"
    CANCELLED = "cancelled: nothing changed"
    UNCHANGED = "the app holds this entry already: nothing changed"
    UNTICKED = "unticked (the same issuer and secret as an entry the app holds): not imported"
    SKIPPED = "the app keeps the entry it holds with this secret: not imported"


@dataclass(frozen=True)
class ImportResult:
    """What one scan, manual entry or backup line did. Never holds the secret in its text."""

    outcome: ImportOutcome
    entry: Entry | None = None
    existing: Entry | None = None
    adjustments: tuple[Adjustment, ...] = ()
    warnings: tuple[str, ...] = ()
    pending: int | None = None
    question: Question | None = None
    choices: tuple[Choice, ...] = ()

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
        if self.question is not None:
            parts.append(f"{self.question.value} ({' / '.join(c.value for c in self.choices)})")
        if shown is not None:
            parts.append(f"{shown.label} ({shown.settings_text()})")
        parts += [str(a) for a in self.adjustments] + list(self.warnings)
        return "; ".join(parts)

    def said(self) -> Said:
        """:meth:`describe` as a message id with fields, for an event: an entry added, replaced or
        kept beside another as it came (no question, nothing the app changed or warned about) has
        words in the catalogue; anything else keeps the app's English words as written."""
        key = _ADDED_KEYS.get(self.outcome)
        shown = self.entry
        if key is None or shown is None or shown.counter_based or self.question or self.adjustments or self.warnings:
            return as_written(self.describe())
        return say(key, label=shown.label, algorithm=shown.algorithm, digits=shown.digits, period=shown.period)


_ADDED_KEYS = {ImportOutcome.ADDED: "entry_added", ImportOutcome.REPLACED: "entry_replaced",
               ImportOutcome.KEPT_BOTH: "entry_kept_both"}


@dataclass(frozen=True)
class ImportReport:
    """The result of importing a text backup: one result per good line, the bad lines by number."""

    results: tuple[ImportResult, ...]
    failures: tuple[tuple[int, str], ...]
    warnings: tuple[str, ...] = ()
    left_out: int = 0

    @property
    def added(self) -> int:
        return sum(r.added for r in self.results)

    def count(self, outcome: ImportOutcome) -> int:
        return sum(r.outcome is outcome for r in self.results)


@dataclass(frozen=True)
class Correction:
    """The outcome of a clock correction: the offset in force afterwards, and why."""

    applied: bool
    measured: float
    offset: float
    said: Said

    @property
    def reason(self) -> str:
        """Why, in English (:attr:`said` in any language)."""
        return str(self.said)


__all__ = ["Reading", "ImportOutcome", "ImportResult", "ImportReport", "Correction"]
