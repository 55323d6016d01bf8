"""What every widget shares: the look (one style sheet), safe callbacks and the one-second ticker.

Callbacks never lose an error: an expected misuse (:class:`~twofa_sim.core.errors.TwofaSimError`)
becomes a message in the widget; anything else is printed into an Output widget as a traceback.
Live rotation runs in a daemon thread with a stop Event that calls the widgets' ``refresh`` once a
second: it works in JupyterLab, Voila and under nbclient, and does not block the kernel.
"""

from __future__ import annotations

import contextlib
import functools
import html
import threading
import traceback
from typing import Callable

import ipywidgets as widgets

from ..core.errors import TwofaSimError
from .i18n import Texts

# The ticker thread and button callbacks both drive the same domain objects (the login, the back
# office, the event log): this lock guards them, so a poll at the deadline and a typed code do not interleave.
DOMAIN_LOCK = threading.RLock()

STYLE = """
<style>
.tfs-card { background: #ffffff; border: 1px solid #d5d9e0; border-radius: 10px; padding: 14px 18px;
            box-shadow: 0 2px 8px rgba(15, 23, 42, .08); font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
            box-sizing: border-box; }
.tfs-header { font-size: 17px; font-weight: 600; color: #1f2933; margin: 0 0 6px 0; }
.tfs-title { font-size: 20px; }
.tfs-brand { background: #1d4ed8; color: #fff; border-radius: 8px 8px 0 0; padding: 8px 14px; font-weight: 600;
             margin: -14px -18px 10px -18px; font-family: system-ui, sans-serif; }
.tfs-app-brand { background: #0f766e; color: #fff; border-radius: 8px 8px 0 0; padding: 8px 14px; font-weight: 600;
                 margin: -14px -18px 10px -18px; font-family: system-ui, sans-serif; }
.tfs-hint { color: #52606d; font-size: 13px; }
.tfs-message { font-size: 14px; padding: 6px 10px; border-radius: 6px; }
.tfs-ok { background: #e3f9e5; color: #14532d; }
.tfs-error { background: #fde8e8; color: #7f1d1d; }
.tfs-info { background: #e8f0fe; color: #1e3a8a; }
.tfs-secret { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 15px; letter-spacing: 1px;
              overflow-wrap: anywhere; }
.tfs-code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 30px; font-weight: 600;
            color: #0f766e; letter-spacing: 3px; }
.tfs-entry { border-top: 1px solid #e4e7eb; padding: 8px 0 4px 0; }
.tfs-issuer { font-size: 12px; color: #52606d; text-transform: uppercase; letter-spacing: .5px; }
.tfs-account { font-size: 14px; color: #1f2933; }
.tfs-table { max-width: 100%; }
.tfs-table table { border-collapse: collapse; font-size: 12px; font-family: system-ui, sans-serif; }
.tfs-table th, .tfs-table td { border-bottom: 1px solid #e4e7eb; padding: 3px 5px; text-align: left; }
.tfs-table th { vertical-align: bottom; }
.tfs-clock { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 15px; }
/* Reflow instead of cutting: rows wrap, buttons and labels take the width their words need. */
.tfs-root .widget-hbox, .tfs-card .widget-hbox { flex-wrap: wrap; gap: 4px 6px; }
.tfs-root .widget-button, .tfs-root .widget-toggle-button,
.tfs-card .widget-button, .tfs-card .widget-toggle-button { width: auto; min-width: max-content; flex: 0 0 auto;
                                                              overflow: visible; }
.tfs-root .widget-label, .tfs-card .widget-label, .tfs-card .widget-label-basic,
.tfs-card .widget-checkbox label { overflow: visible; text-overflow: clip; }
.tfs-card .widget-label { min-width: max-content; }
.tfs-card .widget-checkbox { width: auto; min-width: 0; max-width: 100%; height: auto; }
.tfs-card .widget-checkbox label span { white-space: normal; }
.tfs-card .widget-text, .tfs-card .widget-password, .tfs-card .widget-dropdown,
.tfs-card .widget-inline-hbox { max-width: 100%; }
/* A drop-down of long names (the app chooser) keeps its whole text: beside its label where the card
   has room, below it where it has not (a phone, a narrow card, a longer German label), never past the card. */
.tfs-card .widget-dropdown { flex-wrap: wrap; height: auto; row-gap: 2px; }
.tfs-card .widget-dropdown select { flex: 1 1 auto; min-width: 0; max-width: 100%;
                                    height: var(--jp-widgets-inline-height, 28px); }
.tfs-card .widget-html, .tfs-card .widget-html-content { max-width: 100%; }
.tfs-card .widget-html-content { white-space: normal; line-height: 1.35; }
/* The trainer's screen: three cards side by side that stack when the window is narrow. */
.tfs-cards { flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.tfs-cards > .tfs-card { flex: 1 1 340px; min-width: 0; max-width: 520px; }
.tfs-cards > .tfs-admin { flex: 1.25 1 380px; max-width: 600px; }
/* The second window: a dialog over the login mask, as the article's back office opens one. */
.tfs-login.tfs-dialog-open > .tfs-credentials { opacity: .35; pointer-events: none; }
/* in the flow, pulled up over the username and password, so the card grows with the window */
.tfs-second-window { position: relative; margin-top: -104px; margin-left: 6px; margin-right: 6px; z-index: 10;
                     background: #fff; border: 1px solid #94a3b8; border-radius: 8px; padding: 0 14px 12px 14px;
                     box-shadow: 0 12px 32px rgba(15, 23, 42, .35); }
.tfs-window-bar { background: #334155; color: #fff; font-size: 13px; padding: 5px 10px; margin: 0 -14px 8px -14px;
                  border-radius: 7px 7px 0 0; font-family: system-ui, sans-serif; }
.tfs-whatif .tfs-table { overflow-x: visible; }
.tfs-whatif-tables > .widget-vbox { flex: 0 1 auto; min-width: max-content; }
</style>
"""


_step = threading.local()


@contextlib.contextmanager
def one_step():
    """Views redraw once per step.

    The event log tells its listeners about a step only after the step's transaction commits,
    so a view never sees half a step; but a step records several events, and a view that redrew
    on each would draw the same state several times. Inside ``one_step`` (every button callback
    and every tick runs in one), refreshes asked for with :func:`refresh_after_step` wait until
    the step is over and then run once each.
    """
    if getattr(_step, "pending", None) is not None:  # already inside a step: the outer one flushes
        yield
        return
    _step.pending = {}
    try:
        yield
    finally:
        pending, _step.pending = _step.pending, None
        for refresh in pending.values():
            refresh()


def refresh_after_step(refresh: Callable[[], None]) -> None:
    """Run ``refresh`` at the end of the current step, once; outside any step, now."""
    pending = getattr(_step, "pending", None)
    if pending is None:
        refresh()
    else:
        pending.setdefault(refresh, refresh)


def style_sheet() -> widgets.HTML:
    """The style sheet as a widget; every top-level view includes it once."""
    return widgets.HTML(STYLE)


def html_text(css_class: str, text: str, tag: str = "div") -> str:
    """Text (escaped) in an element of the style sheet's ``css_class``."""
    return f'<{tag} class="{css_class}">{html.escape(text)}</{tag}>'


def message_html(text: str, kind: str = "info") -> str:
    if not text:
        return ""
    return f'<div class="tfs-message tfs-{kind}">{html.escape(text)}</div>'


class ProblemPage(widgets.HTML):
    """What a page shows instead of its widgets when it cannot start (its database cannot be
    used, say): the problem in words, naming what failed, and no traceback. Its repr is the
    problem too, so a served page's text says what went wrong, not the style sheet's start."""

    def __init__(self, problem: str) -> None:
        super().__init__(style_sheet().value + message_html(problem, "error"))
        self.problem = problem
        self.add_class("tfs-problem")

    def __repr__(self) -> str:
        return f"ProblemPage({self.problem!r})"


def problem_page(texts: Texts, error: TwofaSimError) -> ProblemPage:
    """The page for ``error``, in the reader's language."""
    return ProblemPage(texts.error(error))


class SafeCallbacks:
    """Wraps handlers: domain errors become a message, other errors a traceback in ``errors``."""

    def __init__(self, show_message: Callable[[str, str], None], texts: Texts | None = None) -> None:
        self.show_message = show_message
        self.texts = texts or Texts()
        self.errors = widgets.Output(layout=widgets.Layout(max_height="160px", overflow="auto"))
        self.errors.add_class("tfs-errors")

    def __call__(self, handler: Callable) -> Callable:
        @functools.wraps(handler)
        def guarded(*args, **kwargs):
            try:
                with DOMAIN_LOCK, one_step():
                    return handler(*args, **kwargs)
            except TwofaSimError as error:
                self.show_message(self.texts.error(error), "error")
            except Exception:  # noqa: BLE001 - shown, never lost, never crashes the demo
                self.show_message(self.texts("Something went wrong; details below."), "error")
                self.errors.append_stdout(traceback.format_exc())
        return guarded


class Ticker:
    """Calls its listeners about once a second from a daemon thread until stopped.

    Each thread gets its own stop Event: a thread whose stop timed out (a listener was still
    waiting for the UI lock) ends after that listener, and a new start never revives it, so there
    is only ever one thread ticking.
    """

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
        if self.running and not self._stop.is_set():
            return
        self._stop = stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(stop,), name="twofa-sim-ticker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2 * self.interval)
        self._thread = None

    def tick(self, stop: threading.Event | None = None) -> None:
        """One round of refreshes (the thread calls this; tests and notebooks may too)."""
        for listener in list(self._listeners):
            if stop is not None and stop.is_set():
                return
            try:
                with DOMAIN_LOCK, one_step():
                    listener()
            except Exception:  # noqa: BLE001 - a failing refresh must not stop the others
                self.failures += 1

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            self.tick(stop)


def table_html(frame, empty: str, texts: Texts | None = None) -> str:
    """A frame as one plain table: the index is the first column under its own name (no extra
    header row for the index name), column groups (a two-level header) span their columns, and an
    empty frame is a sentence, not a header with no rows."""
    if frame.empty:
        return f'<span class="tfs-hint">{html.escape(empty)}</span>'
    texts = texts or Texts()
    flat = frame.reset_index() if any(name is not None for name in frame.index.names) else frame
    labels = [column if isinstance(column, tuple) else (column,) for column in flat.columns]
    head = ""
    for level in range(len(labels[0])):
        cells, start = [], 0
        while start < len(labels):
            end = start + 1
            while (level < len(labels[0]) - 1 and end < len(labels)
                   and labels[end][:level + 1] == labels[start][:level + 1]):
                end += 1
            span = f' colspan="{end - start}"' if end - start > 1 else ""
            cells.append(f"<th{span}>{html.escape(texts(str(labels[start][level])))}</th>")
            start = end
        head += "<tr>" + "".join(cells) + "</tr>"
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(value, texts))}</td>" for value in row) + "</tr>"
                   for row in flat.itertuples(index=False))
    return f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"


def _cell(value, texts: Texts) -> str:
    import numpy as np  # here, not at the top: the login mask alone never draws a table
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return texts.yes_no(bool(value))
    return str(value)
