"""The one source of time.

Every rule asks a :class:`Clock` for "now" once, at the start of an action, and passes that
value down; nothing in the middle of a rule reads the wall clock. A clock is either *pinned*
(notebooks, tests, scenarios: a fixed instant that callers set and advance) or *following* the
wall clock through :func:`time.time`, which freezegun patches, so ``freeze_time`` controls it.
"""

from __future__ import annotations

import datetime as dt
import math
import time

from .errors import ClockError, shown

TimeLike = float | int | str | dt.datetime

# The last instant the simulation accepts: every table, message and code generator can still show
# it (Python's datetime and pyotp stop at the year 10000; a year is left for windows and locks).
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc).timestamp()


def to_epoch(value: TimeLike, *, field: str = "time") -> float:
    """Seconds since the Unix epoch from a number, an ISO 8601 string or a datetime (UTC if naive)."""
    if isinstance(value, bool):
        raise ClockError(field, f"expected seconds or an ISO 8601 time, got {shown(value)}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        seconds = moment.timestamp()
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            # Repeat the text only when it is made of what times are written with: a password typed
            # into a time field (in a widget, say) is not shown back.
            timelike = len(text) <= 40 and all(ch in "0123456789-:+.,TZtz " for ch in text)
            raise ClockError(field, f"not an ISO 8601 time: {text!r}" if timelike
                             else f"not an ISO 8601 time (text of {len(text)} characters)") from None
        return to_epoch(moment, field=field)
    else:
        raise ClockError(field, f"expected seconds or an ISO 8601 time, got {type(value).__name__}")
    if not math.isfinite(seconds) or seconds < 0 or seconds >= LATEST:
        raise ClockError(field, f"must be a finite number of seconds at or after 1970 and before 9999, got {seconds!r}")
    return seconds


def _finite_seconds(value: float | int, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ClockError(field, f"must be a finite number of seconds, got {shown(value)}")
    return float(value)


def iso(seconds: float) -> str:
    """UTC ISO 8601 text for an epoch instant, to the second (for tables and messages)."""
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class Clock:
    """A settable clock: pinned at an instant, or following :func:`time.time` plus an offset."""

    def __init__(self, start: TimeLike | None = None) -> None:
        self._pinned: float | None = None if start is None else to_epoch(start, field="start")
        self._offset = 0.0

    @classmethod
    def at(cls, start: TimeLike) -> "Clock":
        """A clock pinned at ``start`` (deterministic: notebooks, tests, scenarios)."""
        if start is None:
            raise ClockError("start", "a pinned clock needs a time (Clock() follows the wall clock)")
        return cls(start)

    @classmethod
    def real_time(cls) -> "Clock":
        """A clock on real time (UTC, no offset): what class mode runs on, so that the code a real
        app shows on a correctly set phone is the code the back office expects."""
        return cls()

    @property
    def is_pinned(self) -> bool:
        return self._pinned is not None

    @property
    def is_real_time(self) -> bool:
        """Following the wall clock with no offset (not pinned, never moved)."""
        return self._pinned is None and self._offset == 0.0

    def now(self) -> float:
        base = self._pinned if self._pinned is not None else time.time()
        return base + self._offset

    def set(self, when: TimeLike) -> None:
        """Pin the clock at ``when``."""
        self._pinned = to_epoch(when, field="when")
        self._offset = 0.0

    def advance(self, seconds: float) -> None:
        """Move time forward (or back, with a negative number) by ``seconds``."""
        seconds = _finite_seconds(seconds, "seconds")
        if self.now() + seconds < 0:
            raise ClockError("seconds", "would move the clock before 1970")
        if self.now() + seconds >= LATEST:
            raise ClockError("seconds", "would move the clock past the start of 9999")
        if self._pinned is not None:
            self._pinned += seconds
        else:
            self._offset += seconds

    def follow_wall_clock(self) -> None:
        """Let time run: from now on the clock follows :func:`time.time` from the current instant."""
        if self._pinned is not None:
            self._offset = self._pinned - time.time()
            self._pinned = None

    def follow_real_time(self) -> None:
        """Back to real time: unpinned, no offset (a trainer leaves the demo's story time)."""
        self._pinned, self._offset = None, 0.0

    def pin(self) -> None:
        """Stop time at the current instant."""
        self._pinned, self._offset = self.now(), 0.0

    def snapshot(self) -> dict:
        """The clock as plain data: the instant it is pinned at, or (following the wall clock) its
        offset from :func:`time.time`, which is what makes it this clock. Reading changes nothing."""
        if self._pinned is not None:
            return {"mode": "pinned", "at": self.now()}
        return {"mode": "following", "offset": self._offset}

    @classmethod
    def restore(cls, data: dict) -> "Clock":
        """The clock a :meth:`snapshot` describes (a ClockError for an instant outside 1970 to 9999)."""
        if data["mode"] == "pinned":
            return cls.at(data["at"])
        clock = cls()
        if data["offset"]:
            clock.advance(data["offset"])
        return clock

    def __repr__(self) -> str:
        mode = ("pinned" if self.is_pinned else "real time" if self.is_real_time
                else f"following the wall clock {self._offset:+.0f} s")
        return f"Clock({iso(self.now())} UTC, {mode})"


class OffsetClock:
    """A device's clock: a reference clock plus its own offset in seconds (either sign)."""

    def __init__(self, reference: Clock, offset: float = 0.0) -> None:
        self.reference = reference
        self.offset = _finite_seconds(offset, "offset")

    def now(self) -> float:
        return self.reference.now() + self.offset

    def __repr__(self) -> str:
        return f"OffsetClock(offset={self.offset:+g} s)"
