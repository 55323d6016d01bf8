"""The event log: the single record of what happened.

Domain objects append immutable :class:`Event` records; the log hands them out as plain rows
(:mod:`twofa_sim.render.tables` shows them). Events hold names, states, outcomes and reasons only: never a secret, password,
recovery code or one-time code (their constructors take no such field).

An event's detail is a message id with fields (``detail_key``, ``detail_fields``), worded by the
catalogue (:mod:`twofa_sim.core.messages`): a table shows it in its reader's language, and whoever
needs a value of it (the step an accepted code matched) reads the field, never the words.
"""

from __future__ import annotations

import enum
import logging
import threading
from dataclasses import dataclass, fields
from typing import Callable, Iterator

from .clock import iso
from .messages import NOTHING, Said, as_written, render_fields

LOG = logging.getLogger(__name__)


class EventKind(enum.Enum):
    COMPANY_CREATED = "company created"
    COMPANY_SETTING_CHANGED = "company setting changed"
    USER_CREATED = "user created"
    FORCE_FLAG_CHANGED = "force flag changed"
    LOGIN_STARTED = "login started"
    PASSWORD_REJECTED = "password rejected"
    PASSWORD_ACCEPTED = "password accepted"
    PASSWORD_HASH_UPGRADED = "password hash upgraded"
    QR_SHOWN = "QR shown"
    CODE_ACCEPTED = "code accepted"
    CODE_REJECTED = "code rejected"
    REPLAY_BLOCKED = "replay blocked"
    SERVER_CLOCK_BEHIND = "server clock behind"
    ENROLMENT_COMPLETED = "enrolment completed"
    RECOVERY_CODE_USED = "recovery code used"
    RECOVERY_CODE_REJECTED = "recovery code rejected"
    LOCKED_OUT = "locked"
    LOGIN_REFUSED_LOCKED_OUT = "login refused (locked)"
    UNLOCKED = "unlocked"
    EXPIRED = "expired"
    AUTHENTICATED = "authenticated"
    LOGGED_OUT = "logged out"
    TWOFA_RESET = "2FA reset"
    RECOVERY_CODES_ISSUED = "recovery codes issued"
    DEVICE_ADDED = "device added"
    QR_SCANNED = "QR scanned"
    SCAN_FAILED = "scan failed"
    ENTRY_ADDED = "app entry added"
    ENTRY_REMOVED = "app entry removed"
    CLOCK_CORRECTED = "device clock corrected"
    CLOCK_MOVED = "clock moved"
    POLICY_CHANGED = "policy changed"
    PASSWORD_SET = "password set"
    CLASS_ENDED = "class ended"


@dataclass(frozen=True)
class Event:
    """One thing that happened. ``state_from``/``state_to`` are set when a login changed state."""

    seq: int
    time: float
    kind: EventKind
    actor: str
    user: str = ""
    company: str = ""
    outcome: str = ""
    reason: str = ""
    login: int | None = None
    state_from: str = ""
    state_to: str = ""
    detail_key: str = ""
    detail_fields: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, seq: int, time: float, kind: EventKind, actor: str, user: str, company: str, outcome: str,
           reason: str, login: int | None, state_from: str, state_to: str, detail_key: str,
           detail_fields: tuple[tuple[str, object], ...]) -> "Event":
        """The event of these fields, every one given, in their order: what the log records on
        every login step. The generated ``__init__`` of a frozen dataclass sets each of the 13 fields
        through ``object.__setattr__`` one by one; this sets them in one call."""
        event = _new(cls)
        _set(event, "__dict__", {"seq": seq, "time": time, "kind": kind, "actor": actor, "user": user,
                                 "company": company, "outcome": outcome, "reason": reason, "login": login,
                                 "state_from": state_from, "state_to": state_to, "detail_key": detail_key,
                                 "detail_fields": detail_fields})
        return event

    @property
    def said(self) -> Said:
        """The detail as a message id with its fields."""
        return Said(self.detail_key, self.detail_fields)

    @property
    def detail(self) -> str:
        """The detail in English."""
        return render_fields(self.detail_key, self.detail_fields) if self.detail_key else ""

    def detail_in(self, language: str) -> str:
        """The detail in ``language`` (English where the catalogue has no translation)."""
        return render_fields(self.detail_key, self.detail_fields, language) if self.detail_key else ""

    def field(self, name: str, default: object = None) -> object:
        """One field of the detail (``default`` if it has none of that name)."""
        return dict(self.detail_fields).get(name, default)

    def snapshot(self) -> dict:
        """Every field; the kind by its name, the detail's fields as an object."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        return data | {"kind": self.kind.name, "detail_fields": dict(self.detail_fields)}

    @classmethod
    def restore(cls, data: dict) -> "Event":
        """The event of a :meth:`snapshot`; one written before details had ids (a ``detail`` text)
        keeps its text as written."""
        data = dict(data)
        said = as_written(data.pop("detail")) if "detail" in data else Said(
            data.pop("detail_key", ""), tuple(sorted(data.pop("detail_fields", {}).items())))
        return cls(**data | {"kind": EventKind[data["kind"]], "detail_key": said.key, "detail_fields": said.fields})

    def __str__(self) -> str:
        parts = [iso(self.time), self.actor, self.kind.value]
        if self.user:
            parts.append(f"user={self.user}")
        if self.reason:
            parts.append(f"reason={self.reason}")
        if self.state_to:
            parts.append(f"{self.state_from} -> {self.state_to}")
        if self.detail:
            parts.append(self.detail)
        return "  ".join(parts)


_new, _set = object.__new__, object.__setattr__

COLUMNS = ["seq", "time", "kind", "actor", "user", "company", "outcome", "reason", "login",
           "state_from", "state_to", "detail"]
"""The columns of a plain row of the log: the detail as words (its id and fields stay with the event)."""


def event_row(event: Event, language: str = "en") -> dict:
    """One event as a plain row (:data:`COLUMNS`): the kind by its value, the detail in ``language``."""
    return {"seq": event.seq, "time": event.time, "kind": event.kind.value, "actor": event.actor,
            "user": event.user, "company": event.company, "outcome": event.outcome, "reason": event.reason,
            "login": event.login, "state_from": event.state_from, "state_to": event.state_to,
            "detail": event.detail_in(language)}


class _Held(threading.local):
    """Per thread: how deep in held steps, and the events waiting for the outermost to end."""

    depth = 0
    events: "list[Event] | None" = None


class EventLog:
    """Append-only list of events with listeners (the widgets re-render on each append)."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._listeners: list[Callable[[Event], None]] = []
        self._held = _Held()

    def record(self, time: float, kind: EventKind, actor: str, user: str = "", company: str = "", outcome: str = "",
               reason: str = "", login: int | None = None, state_from: str = "", state_to: str = "",
               detail: Said = NOTHING, detail_key: str | None = None,
               detail_fields: tuple[tuple[str, object], ...] = ()) -> Event:
        """Append an event; ``detail`` (a :class:`~twofa_sim.core.messages.Said`) gives its
        ``detail_key`` and ``detail_fields`` (or they are given as they are, from a saved event)."""
        if detail_key is None:
            detail_key, detail_fields = detail.key, detail.fields
        event = self._append(Event.of(len(self._events) + 1, time, kind, actor, user, company, outcome, reason, login,
                                      state_from, state_to, detail_key, detail_fields))
        waiting = self._held.events
        if waiting is not None:
            waiting.append(event)
        else:
            self._announce(event)
        return event

    def hold(self) -> None:
        """Keep this thread's new events from the listeners until :meth:`release` (a step's
        transaction: listeners see the state after the whole step, and nothing of a step that
        failed). Holds nest; the outermost release decides."""
        depth = self._held.depth
        if depth == 0:
            self._held.events = []
        self._held.depth = depth + 1

    def release(self, announce: bool = True) -> None:
        """End a :meth:`hold`: at the outermost, tell the listeners about the held events (or, for a
        step that failed, forget them)."""
        self._held.depth -= 1
        if self._held.depth:
            return
        waiting, self._held.events = self._held.events, None
        if announce and self._listeners:
            for event in waiting:
                self._announce(event)

    def forget_after(self, count: int) -> None:
        """Drop the events recorded after the first ``count`` (an in-memory store's rollback)."""
        del self._events[count:]

    def _announce(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a failing view must not leave a login half done
                LOG.exception("a listener of the event log failed on event #%d (%s)", event.seq, event.kind.value)

    def _append(self, event: Event) -> Event:
        """Keep the event; the kept one (a log in a database numbers it itself)."""
        self._events.append(event)
        return event

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``listener`` on every new event; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, index):
        return self._events[index]

    def of_kind(self, kind: EventKind, user: str | None = None) -> list[Event]:
        return [e for e in self._events if e.kind is kind and (user is None or e.user == user)]

    def count(self, kind: EventKind, user: str | None = None) -> int:
        return len(self.of_kind(kind, user))

    def rows(self, last: int | None = None, language: str = "en") -> list[dict]:
        """The whole log (or its ``last`` events) as plain rows, one dict per event (:data:`COLUMNS`),
        the detail worded in ``language``; :func:`twofa_sim.render.tables.events_table` shows them
        as a table."""
        events = self._events if last is None else self._events[-last:] if last > 0 else []
        return [event_row(e, language) for e in events]

    def snapshot(self) -> list[dict]:
        """Every event in order, as plain data (listeners are the views' business, not the log's)."""
        return [e.snapshot() for e in self._events]

    @classmethod
    def restore(cls, data: list[dict]) -> "EventLog":
        """A log holding the events of a :meth:`snapshot`, numbered 1, 2, 3 ... as recorded."""
        log = cls()
        for item in data:
            event = Event.restore(item)
            log.record(event.time, event.kind, **{f.name: getattr(event, f.name) for f in fields(event)
                                                 if f.name not in ("seq", "time", "kind")})
        return log

    def __repr__(self) -> str:
        return f"EventLog({len(self)} events)"
