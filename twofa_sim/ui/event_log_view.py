"""The event log, re-rendered once per step that added events (newest first), in the reader's
language: kinds, reasons, the actors that are words, and each event's detail (by its message id)."""

from __future__ import annotations


import ipywidgets as widgets

from ..core.events import EventLog
from ..login.flow import Reason
from .common import html_text, refresh_after_step, style_sheet, table_html
from .i18n import Texts
from ..render.tables import events_table

SHOWN_COLUMNS = ["time", "actor", "kind", "user", "reason", "state_from", "state_to", "detail"]

ACTOR_WORDS = ("anonymous", "system", "trainer", "scenario")
"""The actors that are a word, not a name (``admin:...``, ``user:...`` and ``device:...`` name someone)."""

REASON_WORDS = frozenset(reason.value for reason in Reason if reason.value)
"""The flow's reasons, said in the reader's language."""


class EventLogView(widgets.VBox):
    """A table of the last ``rows`` events; subscribes to the log, so it updates as things happen."""

    def __init__(self, events: EventLog, rows: int = 12, *, language: str = "en") -> None:
        self.events = events
        self.rows = rows
        self.texts = Texts(language)
        self.title = widgets.HTML(html_text("tfs-header", self.texts("Event log")))
        self.table = widgets.HTML()
        self.table.add_class("tfs-table")
        super().__init__([style_sheet(), self.title, self.table])
        self.add_class("tfs-card")
        self.add_class("tfs-event-log")
        self._unsubscribe = events.subscribe(lambda event: refresh_after_step(self.refresh))
        self.refresh()

    def refresh(self) -> None:
        t = self.texts
        if not len(self.events):
            self.table.value = html_text("tfs-hint", t("Nothing has happened yet."), "span")
            return
        shown = events_table(self.events, last=self.rows, language=t.language).iloc[::-1][SHOWN_COLUMNS].copy()
        shown["time"] = shown["time"].dt.strftime("%H:%M:%S")
        shown["kind"] = shown["kind"].map(t)
        shown["actor"] = shown["actor"].map(lambda actor: t(actor) if actor in ACTOR_WORDS else actor)
        shown["reason"] = shown["reason"].map(lambda reason: t(reason) if reason in REASON_WORDS else reason)
        shown = shown.rename(columns={"state_from": "from", "state_to": "to"})
        self.table.value = table_html(shown.reset_index(drop=True), "", t)

    def close(self) -> None:
        self._unsubscribe()
        super().close()

    def __repr__(self) -> str:
        return f"EventLogView({len(self.events)} events)"
