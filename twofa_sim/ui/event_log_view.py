"""The event log, re-rendered on every new event (newest first)."""

from __future__ import annotations

import ipywidgets as widgets

from ..events import EventLog

SHOWN_COLUMNS = ["time", "actor", "kind", "user", "reason", "state_from", "state_to", "detail"]


class EventLogView(widgets.VBox):
    """A table of the last ``rows`` events; subscribes to the log, so it updates as things happen."""

    def __init__(self, events: EventLog, rows: int = 12) -> None:
        self.events = events
        self.rows = rows
        self.title = widgets.HTML('<div class="tfs-header">Event log</div>')
        self.table = widgets.HTML()
        self.table.add_class("tfs-table")
        super().__init__([self.title, self.table])
        self.add_class("tfs-card")
        self.add_class("tfs-event-log")
        self._unsubscribe = events.subscribe(lambda event: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        if not len(self.events):
            self.table.value = '<span class="tfs-hint">Nothing has happened yet.</span>'
            return
        shown = self.events.to_frame(last=self.rows).iloc[::-1][SHOWN_COLUMNS].copy()
        shown["time"] = shown["time"].dt.strftime("%H:%M:%S")
        self.table.value = shown.to_html(border=0, na_rep="")

    def close(self) -> None:
        self._unsubscribe()
        super().close()

    def __repr__(self) -> str:
        return f"EventLogView({len(self.events)} events)"
