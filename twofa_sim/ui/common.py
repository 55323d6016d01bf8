"""What every widget shares: the look (one style sheet), safe callbacks and the one-second ticker.

Callbacks never lose an error: an expected misuse (:class:`~twofa_sim.errors.TwofaSimError`)
becomes a message in the widget; anything else is printed into an Output widget as a traceback.
Live rotation runs in a daemon thread with a stop Event that calls the widgets' ``refresh`` once a
second: it works in JupyterLab, Voila and under nbclient, and does not block the kernel.
"""

from __future__ import annotations

import functools
import html
import threading
import traceback
from typing import Callable

import ipywidgets as widgets

from ..errors import TwofaSimError

# The ticker thread and button callbacks both drive the same login and event log: one lock keeps
# a poll at the deadline and a typed code from interleaving.
UI_LOCK = threading.RLock()

STYLE = """
<style>
.tfs-card { background: #ffffff; border: 1px solid #d5d9e0; border-radius: 10px; padding: 14px 18px;
            box-shadow: 0 2px 8px rgba(15, 23, 42, .08); font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
.tfs-header { font-size: 17px; font-weight: 600; color: #1f2933; margin: 0 0 6px 0; }
.tfs-brand { background: #1d4ed8; color: #fff; border-radius: 8px 8px 0 0; padding: 8px 14px; font-weight: 600;
             margin: -14px -18px 10px -18px; font-family: system-ui, sans-serif; }
.tfs-app-brand { background: #0f766e; color: #fff; border-radius: 8px 8px 0 0; padding: 8px 14px; font-weight: 600;
                 margin: -14px -18px 10px -18px; font-family: system-ui, sans-serif; }
.tfs-hint { color: #52606d; font-size: 13px; }
.tfs-message { font-size: 14px; padding: 6px 10px; border-radius: 6px; }
.tfs-ok { background: #e3f9e5; color: #14532d; }
.tfs-error { background: #fde8e8; color: #7f1d1d; }
.tfs-info { background: #e8f0fe; color: #1e3a8a; }
.tfs-secret { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 15px; letter-spacing: 1px; }
.tfs-code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 30px; font-weight: 600;
            color: #0f766e; letter-spacing: 3px; }
.tfs-entry { border-top: 1px solid #e4e7eb; padding: 8px 0 4px 0; }
.tfs-issuer { font-size: 12px; color: #52606d; text-transform: uppercase; letter-spacing: .5px; }
.tfs-account { font-size: 14px; color: #1f2933; }
.tfs-table table { border-collapse: collapse; font-size: 12px; font-family: system-ui, sans-serif; }
.tfs-table th, .tfs-table td { border-bottom: 1px solid #e4e7eb; padding: 3px 8px; text-align: left; }
.tfs-clock { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 15px; }
</style>
"""


def style_sheet() -> widgets.HTML:
    """The style sheet as a widget; every top-level view includes it once."""
    return widgets.HTML(STYLE)


def message_html(text: str, kind: str = "info") -> str:
    if not text:
        return ""
    return f'<div class="tfs-message tfs-{kind}">{html.escape(text)}</div>'


class SafeCallbacks:
    """Wraps handlers: domain errors become a message, other errors a traceback in ``errors``."""

    def __init__(self, show_message: Callable[[str, str], None]) -> None:
        self.show_message = show_message
        self.errors = widgets.Output(layout=widgets.Layout(max_height="160px", overflow="auto"))
        self.errors.add_class("tfs-errors")

    def __call__(self, handler: Callable) -> Callable:
        @functools.wraps(handler)
        def guarded(*args, **kwargs):
            try:
                with UI_LOCK:
                    return handler(*args, **kwargs)
            except TwofaSimError as error:
                self.show_message(str(error), "error")
            except Exception:  # noqa: BLE001 - shown, never lost, never crashes the demo
                self.show_message("Something went wrong; details below.", "error")
                self.errors.append_stdout(traceback.format_exc())
        return guarded


class Ticker:
    """Calls its listeners about once a second from a daemon thread until stopped."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._listeners: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0

    def add(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="twofa-sim-ticker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * self.interval)
        self._thread = None

    def tick(self) -> None:
        """One round of refreshes (the thread calls this; tests and notebooks may too)."""
        for listener in list(self._listeners):
            try:
                with UI_LOCK:
                    listener()
            except Exception:  # noqa: BLE001 - a failing refresh must not stop the others
                self.failures += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()
