"""The trainer's dashboard in class mode: create the class, follow every trainee live (refreshed
once a second from the shared back office), and help the one who is stuck.

The live table shows names, stages, counts and times only. Passwords are generated when the class
is created and held by this page alone, in a closed section meant for the trainer's own screen
(the dashboard is usually on the projector); recovery codes appear once, for the chosen trainee.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from urllib.parse import parse_qs

import ipywidgets as widgets
import pandas as pd

from ..classroom.course import Classroom, open_class, trainer_key_accepted
from ..classroom.progress import COLUMNS, Progress
from ..core.errors import TwofaSimError
from ..login.backoffice import BackOffice
from .common import (UI_LOCK, SafeCallbacks, Ticker, html_text, message_html, one_step, problem_page, style_sheet,
                     table_html)
from .i18n import LANGUAGES, Texts

TRAINEE_URL_ENV = "TWOFA_SIM_TRAINEE_URL"


class ClassDashboard(widgets.VBox):
    """One class on one shared back office; each button is one classroom action."""

    def __init__(self, office: BackOffice, *, classroom: Classroom | None = None, live: bool = True,
                 language: str = "en", trainee_url: str = "") -> None:
        self.office = office
        self.texts = t = Texts(language)
        self.classroom = classroom
        self.progress_texts = {
            Progress.NOT_STARTED: t("not logged in yet"), Progress.LOGGED_IN: t("password accepted"),
            Progress.SEES_QR: t("sees the QR code"), Progress.TYPING_CODE: t("asked for the code"),
            Progress.ENROLLED: t("enrolled"), Progress.SIGNED_IN: t("signed in"), Progress.LOCKED: t("locked"),
        }
        self.message = widgets.HTML()
        self.message.add_class("tfs-class-message")
        self.safe = SafeCallbacks(self.show, t)

        # creating the class
        today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
        self.company = widgets.Text(value=t("Class {date}", date=today), description=t("Class"),
                                    layout=widgets.Layout(width="auto"))
        self.company.add_class("tfs-class-company")
        self.count = widgets.BoundedIntText(value=20, min=1, max=200, description=t("Trainees"),
                                            layout=widgets.Layout(width="170px"))
        self.count.add_class("tfs-class-count")
        self.names = widgets.Textarea(placeholder=t("or one username per line"), layout=widgets.Layout(width="260px"))
        self.names.add_class("tfs-class-names")
        self.two_factor_by = widgets.RadioButtons(
            options=[(t("Force 2 factor auth."), "user flag"),
                     (t("2-factor authentication for all backend users"), "company setting")],
            value="user flag", layout=widgets.Layout(width="auto"))
        self.create_button = widgets.Button(description=t("Create class"), button_style="primary", icon="users",
                                            layout=widgets.Layout(width="auto"))
        self.create_button.add_class("tfs-class-create")
        self.create_button.on_click(self.safe(lambda _: self.create_class()))
        self.form = widgets.VBox([widgets.HTML(html_text("tfs-header", t("New class"))), self.company,
                                  widgets.HBox([self.count, self.names]), self.two_factor_by, self.create_button])
        self.form.add_class("tfs-card")
        self.form.add_class("tfs-class-form")

        # the class, live
        address = trainee_url or os.environ.get(TRAINEE_URL_ENV, "")
        self.address = widgets.HTML(html_text("tfs-hint", t("Trainees open: {address}", address=address))
                                    if address else "")
        self.address.add_class("tfs-class-address")
        self.summary = widgets.HTML()
        self.summary.add_class("tfs-class-summary")
        self.table = widgets.HTML()
        self.table.add_class("tfs-table")
        self.table.add_class("tfs-class-table")
        self.passwords = widgets.HTML()
        self.passwords.add_class("tfs-class-passwords")
        self.password_section = widgets.Accordion([self.passwords], selected_index=None)
        self.password_section.set_title(0, t("Passwords for the trainees (your screen only: do not project)"))
        self.password_section.add_class("tfs-class-password-section")
        self.password_section.layout.display = "none"

        # helping a trainee
        self.selected = widgets.Dropdown(description=t("User"), layout=widgets.Layout(width="auto"))
        self.selected.add_class("tfs-class-selected")
        self.reset = widgets.Button(description=t("Reset 2FA (lost phone)"), icon="undo", button_style="warning",
                                    layout=widgets.Layout(width="auto"))
        self.reset.add_class("tfs-class-reset")
        self.unlock = widgets.Button(description=t("Unlock"), icon="unlock", layout=widgets.Layout(width="auto"))
        self.unlock.add_class("tfs-class-unlock")
        self.recovery = widgets.Button(description=t("Issue recovery codes"), icon="key",
                                       layout=widgets.Layout(width="auto"))
        self.recovery.add_class("tfs-class-recovery")
        self.recovery_codes = widgets.HTML()
        self.recovery_codes.add_class("tfs-class-recovery-codes")
        self.reset.on_click(self.safe(lambda _: self.act("reset")))
        self.unlock.on_click(self.safe(lambda _: self.act("unlock")))
        self.recovery.on_click(self.safe(lambda _: self.act("recovery codes")))
        self.actions = widgets.VBox([self.selected, widgets.HBox([self.reset, self.unlock, self.recovery]),
                                     self.recovery_codes])
        live_card = widgets.VBox([widgets.HTML(html_text("tfs-header", t("Trainees"))), self.address, self.summary,
                                  self.table, self.actions, self.password_section])
        live_card.add_class("tfs-card")
        live_card.add_class("tfs-class-live")
        self.live_card = live_card

        title = widgets.HTML(html_text("tfs-header tfs-title", t("Two-factor login · class dashboard")))
        super().__init__([style_sheet(), title, self.message, self.form, live_card, self.safe.errors])
        self.add_class("tfs-class-dashboard")
        self.add_class("tfs-root")
        self.ticker = Ticker()
        self.ticker.add(self.refresh)
        self.refresh()
        if live:
            self.ticker.start()

    @classmethod
    def for_page(cls, query: str | None = None, *, db_url: str | None = None, **options) -> "ClassDashboard | widgets.HTML":
        """The dashboard as Voila serves it: the class's back office (:func:`open_class`), the
        class found there if the trainer created one before (without its passwords), the
        language the address asks for (``?lang=de``). Without the trainer's key (``?key=``, which
        ``make class`` prints) the page says so and offers nothing."""
        query = os.environ.get("QUERY_STRING", "") if query is None else query
        asked = parse_qs(query)
        language = asked.get("lang", ["en"])[-1]
        language = language if language in LANGUAGES else "en"
        if not trainer_key_accepted(asked.get("key", [""])[-1]):
            refusal = widgets.HTML(message_html(Texts(language)(
                "This page is for the trainer: open the address the class server printed."), "error"))
            refusal.add_class("tfs-class-refused")
            return refusal
        try:
            office = open_class(db_url, until_created=True)  # created by the first Create class
            classroom = Classroom.find(office)
        except TwofaSimError as error:  # the database named in words, never a traceback on the page
            return problem_page(Texts(language), error)
        return cls(office, classroom=classroom, language=language, **options)

    def show(self, text: str, kind: str = "info") -> None:
        self.message.value = message_html(text, kind)

    # -- actions --------------------------------------------------------------------------------------

    def create_class(self) -> Classroom:
        names = [line for line in self.names.value.splitlines() if line.strip()]
        classroom = Classroom.create(self.office, self.company.value, names=names or None,
                                     count=None if names else self.count.value, two_factor_by=self.two_factor_by.value)
        self.classroom = classroom
        self.names.value = ""
        slips = "".join(f"<tr><td>{html.escape(name)}</td><td class='tfs-secret'>{html.escape(password)}</td></tr>"
                        for name, password in classroom.roster.hand_out())
        heads = "".join(f"<th>{html.escape(self.texts(h))}</th>" for h in ("username", "Password"))
        self.passwords.value = f"<table><thead><tr>{heads}</tr></thead><tbody>{slips}</tbody></table>"
        self.password_section.layout.display = None
        self.show(self.texts("{company} created: {count} trainees.", company=classroom.company,
                             count=len(classroom.roster)), "ok")
        self.refresh()
        return classroom

    def act(self, action: str) -> None:
        t, name = self.texts, self.selected.value
        if self.classroom is None or not name:
            self.show(t("Choose a user first."), "error")
            return
        self.recovery_codes.value = ""
        if action == "reset":
            self.classroom.reset_2fa(name)
            self.show(t("2FA of {name} reset: the next login shows a new QR code.", name=name), "ok")
        elif action == "unlock":
            self.classroom.unlock(name)
            self.show(t("{name} unlocked.", name=name), "ok")
        elif action == "recovery codes":
            codes = self.classroom.issue_recovery_codes(name)
            listed = "".join(f"<li class='tfs-secret'>{html.escape(c)}</li>" for c in codes)
            intro = t("Recovery codes for {name} (shown once, each works once):", name=name)
            self.recovery_codes.value = f"<div class='tfs-hint'>{html.escape(intro)}</div><ol>{listed}</ol>"
            self.show(t("{count} recovery codes issued for {name}.", count=len(codes), name=name), "ok")
        self.refresh()

    # -- rendering -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Once a second, from the shared back office: the table, the summary and the choices. A
        database that cannot be read shows as a message, and the next second tries again."""
        t = self.texts
        with UI_LOCK, one_step():
            try:
                self._render()
            except TwofaSimError as error:
                self.show(t.message(str(error)), "error")
                self.refresh_problem = self.message.value
            else:  # the database is back: its error goes, a message an action showed since stays
                if getattr(self, "refresh_problem", None) == self.message.value:
                    self.message.value = ""
                self.refresh_problem = None

    def _render(self) -> None:
        t = self.texts
        self.form.layout.display = "none" if self.classroom is not None else None
        self.live_card.layout.display = None if self.classroom is not None else "none"
        if self.classroom is None:
            return
        rows = self.classroom.status_rows()
        frame = pd.DataFrame(rows, columns=COLUMNS).set_index("trainee")
        frame["progress"] = [self.progress_texts[Progress(value)] for value in frame["progress"]]
        self.table.value = table_html(frame, t("No users yet."), t)
        counts = self.classroom.counts()
        self.summary.value = html_text("tfs-message tfs-info", t(
            "{company}: {enrolled} of {trainees} enrolled · {qr} see the QR code · {locked} locked",
            company=self.classroom.company, enrolled=counts["enrolled"], trainees=counts["trainees"],
            qr=counts["sees QR"], locked=counts["locked"]))
        names = list(frame.index)
        if list(self.selected.options) != names:
            current = self.selected.value
            self.selected.options = names
            self.selected.value = current if current in names else (names[0] if names else None)

    def close(self) -> None:
        self.ticker.stop()
        super().close()

    def __repr__(self) -> str:
        return f"ClassDashboard({self.classroom.company if self.classroom else 'no class yet'})"
