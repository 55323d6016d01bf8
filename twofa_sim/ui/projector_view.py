"""The page a trainer projects: the trainees' address, large and as a QR code, and the class's
progress as counts and bars, refreshed every two seconds.

It holds nothing that needs hiding: no username, no password, no recovery code, no button. So it
needs no trainer's key either, and its address on the projected screen gives nothing away (the
dashboard's address, with its key, stays on the trainer's own screen).
"""

from __future__ import annotations

import html
import io
import os
from urllib.parse import parse_qs

import ipywidgets as widgets

from ..apps.qr import qr_image
from ..classroom.course import Classroom, open_class
from ..classroom.progress import Progress
from ..core.errors import TwofaSimError
from ..login.backoffice import BackOffice
from .class_dashboard import TRAINEE_URL_ENV
from .common import DOMAIN_LOCK, Ticker, html_text, message_html, one_step, problem_page, style_sheet
from .i18n import LANGUAGES, Texts

REFRESH_SECONDS = 2.0

# The bars in the order a class goes through them, and their colours.
BARS = [(Progress.NOT_STARTED, "#94a3b8"), (Progress.STARTED, "#60a5fa"), (Progress.SEES_QR, "#3b82f6"),
        (Progress.TYPING_CODE, "#6366f1"), (Progress.LAPSED, "#f59e0b"), (Progress.RESET, "#f59e0b"),
        (Progress.ENROLLED, "#22c55e"), (Progress.SIGNED_IN, "#15803d"), (Progress.LOCKED_OUT, "#dc2626")]

PROJECTOR_STYLE = """
<style>
.tfs-projector { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; }
.tfs-projector-top { align-items: center; gap: 24px; flex-wrap: wrap; }
.tfs-projector-address { font-size: 22px; }
.tfs-projector-address code { display: block; font-size: 34px; font-weight: 700; color: #1e3a8a;
                              overflow-wrap: anywhere; margin: 6px 0; }
.tfs-projector-bars table { border-collapse: collapse; font-size: 20px; width: 100%; }
.tfs-projector-bars td { padding: 3px 8px; white-space: nowrap; }
.tfs-projector-bars td.tfs-bar-cell { width: 60%; }
.tfs-projector-bars .tfs-bar { height: 22px; border-radius: 4px; min-width: 2px; }
.tfs-projector-summary { font-size: 26px; font-weight: 600; margin: 8px 0; }
.tfs-projector-tip { font-size: 18px; color: #334155; }
</style>
"""


class ProjectorView(widgets.VBox):
    """Address, QR code of it, and how many trainees are at each stage; nothing secret."""

    def __init__(self, office: BackOffice, *, live: bool = True, language: str = "en", trainee_url: str = "") -> None:
        self.office = office
        self.texts = t = Texts(language)
        self.trainee_url = trainee_url or os.environ.get(TRAINEE_URL_ENV, "")
        self.stage_texts = {
            Progress.NOT_STARTED: t("not logged in yet"), Progress.STARTED: t("logged in, not enrolled"),
            Progress.SEES_QR: t("sees the QR code"), Progress.TYPING_CODE: t("asked for the code"),
            Progress.LAPSED: t("QR code timed out"), Progress.RESET: t("2FA reset: log in again"),
            Progress.ENROLLED: t("enrolled"), Progress.SIGNED_IN: t("signed in"), Progress.LOCKED_OUT: t("locked out"),
        }
        self.classroom: Classroom | None = None
        self.title = widgets.HTML()
        address = widgets.HTML(f"<div>{html.escape(t('Open on your laptop or phone:'))}"
                               f"<code>{html.escape(self.trainee_url)}</code></div>" if self.trainee_url else "")
        address.add_class("tfs-projector-address")
        self.qr = widgets.Image(format="png", layout=widgets.Layout(width="240px", height="240px"))
        self.qr.add_class("tfs-projector-qr")
        if self.trainee_url:
            buffer = io.BytesIO()
            qr_image(self.trainee_url, box_size=8).save(buffer, format="PNG")
            self.qr.value = buffer.getvalue()
        else:
            self.qr.layout.display = "none"
        top = widgets.HBox([self.qr, address])
        top.add_class("tfs-projector-top")
        self.summary = widgets.HTML()
        self.summary.add_class("tfs-projector-summary")
        self.bars = widgets.HTML()
        self.bars.add_class("tfs-projector-bars")
        tip = widgets.HTML(html_text("tfs-projector-tip", t(
            "Logging out and in again? Wait for the next code in your app: each code works only once.")))
        super().__init__([style_sheet(), widgets.HTML(PROJECTOR_STYLE), self.title, top, self.summary, self.bars, tip])
        self.add_class("tfs-projector")
        self.add_class("tfs-root")
        self.ticker = Ticker(REFRESH_SECONDS)
        self.ticker.add(self.refresh)
        self.refresh()
        if live:
            self.ticker.start()

    @classmethod
    def for_page(cls, query: str | None = None, *, db_url: str | None = None, **options) -> "ProjectorView | widgets.HTML":
        """The view as Voila serves it (``?lang=de`` for German); no key: it holds nothing secret."""
        query = os.environ.get("QUERY_STRING", "") if query is None else query
        asked = parse_qs(query).get("lang", ["en"])[-1]
        language = asked if asked in LANGUAGES else "en"
        try:
            office = open_class(db_url)
        except TwofaSimError as error:
            return problem_page(Texts(language), error)
        return cls(office, language=language, **options)

    def refresh(self) -> None:
        """The newest class and its stages; a database that cannot be read is said in words."""
        t = self.texts
        with DOMAIN_LOCK, one_step():
            try:
                self._render()
            except TwofaSimError as error:
                self.summary.value = message_html(t.error(error), "error")

    def _render(self) -> None:
        t = self.texts
        companies = self.office.companies
        if companies and (self.classroom is None or self.classroom.company != companies[-1].name):
            self.classroom = Classroom(self.office, companies[-1].name)
        name = self.classroom.company if self.classroom else ""
        self.title.value = html_text("tfs-header tfs-title", t("Two-factor login · {company}", company=name)
                                     if name else t("Two-factor login · class"))
        if self.classroom is None:
            self.summary.value = html_text("tfs-hint", t("The class has not started yet."))
            self.bars.value = ""
            return
        self.classroom.refresh()
        counts = self.classroom.stages()
        total = sum(counts.values())
        done = counts[Progress.ENROLLED] + counts[Progress.SIGNED_IN]
        summary = t("{done} of {total} have set up two-factor login", done=done, total=total)
        if self.classroom.progress.has_ended(self.classroom.company, read=False):
            summary += " · " + t("the class has ended")
        self.summary.value = html.escape(summary)
        rows = []
        for stage, colour in BARS:
            count = counts[stage]
            width = 0 if not total else round(100 * count / total)
            rows.append(f"<tr><td>{html.escape(self.stage_texts[stage])}</td><td>{count}</td>"
                        f"<td class='tfs-bar-cell'><div class='tfs-bar' style='width:{width}%;"
                        f"background:{colour if count else 'transparent'}'></div></td></tr>")
        self.bars.value = f"<table>{''.join(rows)}</table>"

    def close(self) -> None:
        self.ticker.stop()
        super().close()

    def __repr__(self) -> str:
        return f"ProjectorView({self.classroom.company if self.classroom else 'no class yet'})"
