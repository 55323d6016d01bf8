"""Clock control: live or paused, jump one step, jump to the last second of a step, set a time."""

from __future__ import annotations

from typing import Callable

import ipywidgets as widgets

from ..core.clock import Clock, iso
from ..core.events import EventKind, EventLog
from ..core.messages import Said, say
from .common import SafeCallbacks, message_html, style_sheet
from .i18n import Texts


class ClockControl(widgets.VBox):
    """Buttons that move the one clock; ``on_change`` listeners re-render whatever shows time."""

    def __init__(self, clock: Clock, period: Callable[[], int] = lambda: 30, events: EventLog | None = None,
                 *, language: str = "en") -> None:
        self.clock = clock
        self.texts = t = Texts(language)
        self.events = events
        self.period = period
        self._listeners: list[Callable[[], None]] = []
        self.display = widgets.HTML()
        self.display.add_class("tfs-clock")
        self.live = widgets.ToggleButton(value=not clock.is_pinned, description=t("Live"), icon="play",
                                         tooltip=t("Let time run (codes rotate every second)"), layout=widgets.Layout(width="auto"))
        self.live.add_class("tfs-clock-live")
        self.step_button = widgets.Button(description=t("+1 step"), icon="forward",
                                          tooltip=t("Jump one time step ahead"), layout=widgets.Layout(width="auto"))
        self.step_button.add_class("tfs-clock-step")
        self.last_second = widgets.Button(description=t("Last second"), icon="hourglass-end",
                                          tooltip=t("Jump to the last second of the current step"), layout=widgets.Layout(width="auto"))
        self.last_second.add_class("tfs-clock-last-second")
        self.real_time = widgets.Button(description=t("Real time"), icon="globe",
                                        tooltip=t("Follow the real time (UTC): codes match real authenticator apps"),
                                        layout=widgets.Layout(width="auto"))
        self.real_time.add_class("tfs-clock-real-time")
        self.when = widgets.Text(placeholder="2026-01-05 09:00:00", layout=widgets.Layout(width="170px"))
        self.set_button = widgets.Button(description=t("Set"), tooltip=t("Pin the clock at this UTC time"), layout=widgets.Layout(width="auto"))
        self.set_button.add_class("tfs-clock-set")
        self.message = widgets.HTML()
        self.safe = SafeCallbacks(self._show, t)
        self.live.observe(self.safe(self._on_live), "value")
        self.step_button.on_click(self.safe(lambda _: self.advance(self.period())))
        self.last_second.on_click(self.safe(lambda _: self.to_last_second()))
        self.set_button.on_click(self.safe(lambda _: self.set_time(self.when.value)))
        self.real_time.on_click(self.safe(lambda _: self.to_real_time()))
        row = widgets.HBox([self.display, self.live, self.step_button, self.last_second, self.real_time, self.when,
                            self.set_button])
        super().__init__([style_sheet(), row, self.message, self.safe.errors])
        self.add_class("tfs-clock-control")
        self.refresh()

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        self.refresh()
        for listener in self._listeners:
            listener()

    def _show(self, text: str, kind: str) -> None:
        self.message.value = message_html(text, kind)

    def _on_live(self, change) -> None:
        if change["new"]:
            self.clock.follow_wall_clock()
        else:
            self.clock.pin()
        self.live.icon = "pause" if change["new"] else "play"
        self._changed()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self._note(say("clock_forward", seconds=seconds))
        self._show("", "info")
        self._changed()

    def _note(self, detail: Said) -> None:
        if self.events is not None:
            self.events.record(self.clock.now(), EventKind.CLOCK_MOVED, "trainer", detail=detail)

    def to_last_second(self) -> None:
        period = self.period()
        forward = (period - 1) - (self.clock.now() % period)
        self.advance(forward if forward > 0 else forward + period)  # already there: the next step's last second

    def to_real_time(self) -> None:
        """Leave the story's time for the real time (UTC, no offset), running: a real app's code
        on a correctly set phone then signs in."""
        self.clock.follow_real_time()
        self._note(say("clock_real_time"))
        self.live.value = True
        self._show("", "info")
        self._changed()

    def set_time(self, text: str) -> None:
        self.clock.set(text)
        self._note(say("clock_set_to", at=iso(self.clock.now())))
        self.live.value = False
        self._show("", "info")
        self._changed()

    def refresh(self) -> None:
        now = self.clock.now()
        left = self.period() - int(now) % self.period()
        ends = self.texts("step ends in {seconds} s", seconds=left)
        mode = f" · {self.texts('real time')}" if self.clock.is_real_time else ""
        self.display.value = f"<b>{iso(now)} UTC</b> &nbsp;<span class='tfs-hint'>{ends}{mode}</span>"

    def __repr__(self) -> str:
        mode = "real time" if self.clock.is_real_time else "live" if not self.clock.is_pinned else "paused"
        return f"ClockControl({mode})"
