"""The trainer's dashboard in class mode: create or choose the class, follow every trainee live
(refreshed once a second from the shared back office), help the one who is stuck, end the class
and take its results away.

The dashboard is often projected, so what is on it by default is safe to show: names, stages,
counts and times. Secrets appear only in closed sections meant for the trainer's own screen, and
those close again by themselves: the passwords this page made (for the printable slips) close
after :data:`SECRET_SECONDS`; recovery codes are cleared as well. An action that cannot be undone
(Reset 2FA, End class) asks first, naming whom it acts on. No trainee is preselected.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import time
from urllib.parse import parse_qs

import ipywidgets as widgets

from ..classroom.course import Classroom, open_class, trainer_key_accepted
from ..classroom.progress import Progress, TraineeStatus
from ..core.clock import iso
from ..core.errors import TwofaSimError
from ..core.events import COLUMNS as EVENT_COLUMNS
from ..login.backoffice import BackOffice
from .class_slips import csv_text, download_link, file_stem, recovery_codes_page, slips_page
from .common import DOMAIN_LOCK, SafeCallbacks, Ticker, html_text, message_html, one_step, problem_page, style_sheet
from .i18n import LANGUAGES, Texts

TRAINEE_URL_ENV = "TWOFA_SIM_TRAINEE_URL"
BANNER_SECONDS = 20.0  # the banner says what the last action did; after this it would be stale
SECRET_SECONDS = 90.0  # an opened secret section closes (recovery codes also clear) after this long
STUCK_ON_QR = 180.0  # seconds on the QR prompt after which a row is marked
MANY_FAILED = 3  # failed codes (or wrong passwords) from which a row is marked

DASHBOARD_STYLE = """
<style>
.tfs-class-table table { font-size: 14px; border-collapse: collapse; font-family: system-ui, sans-serif; width: auto; }
.tfs-class-table th { font-size: 13px; color: #334155; white-space: normal; max-width: 90px; vertical-align: bottom; }
.tfs-class-table th, .tfs-class-table td { padding: 0 6px; line-height: 1.2; border-bottom: 1px solid #e4e7eb;
                                           text-align: left; }
.tfs-class-table td { white-space: nowrap; }
.tfs-class-table tr.tfs-row-locked td { background: #fde2e2; color: #7f1d1d; font-weight: 600; }
.tfs-class-table tr.tfs-row-struggling td { background: #fdf0c4; }
.tfs-class-table tr.tfs-row-stuck td { background: #fdf0c4; }
.tfs-class-table tr.tfs-row-in td:nth-child(2) { color: #14532d; font-weight: 600; }
.tfs-class-legend span { display: inline-block; padding: 0 6px; margin-right: 6px; border-radius: 4px; font-size: 13px; }
.tfs-class-address { font-size: 15px; }
.tfs-class-address code { font-size: 17px; font-weight: 600; color: #1e3a8a; }
.tfs-class-main { align-items: flex-start; gap: 10px; flex-wrap: wrap; }
.tfs-class-main > .tfs-card { flex: 1 1 640px; min-width: 0; padding: 8px 12px; }
.tfs-class-side { flex: 0 1 340px; min-width: 0; }
.tfs-class-side .tfs-card { padding: 8px 12px; }
.tfs-class-top { align-items: center; gap: 4px 16px; flex-wrap: wrap; }
.tfs-class-dashboard a { color: #1d4ed8; text-decoration: underline; }
.tfs-class-side .tfs-card { margin-bottom: 8px; }
.tfs-class-confirm { background: #fff7ed; border: 1px solid #f59e0b; border-radius: 6px; padding: 6px 8px; }
.tfs-class-exports a, .tfs-class-slips a { margin-right: 12px; font-size: 14px; }
</style>
"""


COLUMNS = ["trainee", "progress", "enrolled", "signed in", "failed codes", "wrong passwords", "phone clock",
           "locked out until", "last seen"]
"""The live table's columns, in the order the dashboard shows them (each the catalogue's id of its
translation); one for each field of a :class:`~twofa_sim.classroom.progress.TraineeStatus` it shows."""


def utc_time(instant: float | None) -> str:
    """An instant as UTC ISO 8601 text to the second; empty for none."""
    return "" if instant is None else iso(instant)


def clock_time(instant: float | None) -> str:
    """The time of day of an instant (the class happens today), short enough for the table; empty for none."""
    return utc_time(instant)[11:19]


def progress_rows(statuses: list[TraineeStatus], period: int) -> list[dict]:
    """The live table as plain rows keyed by its labels (:data:`COLUMNS`), in English with times in
    UTC, for the CSV export: names, stages, counts and times, never a secret."""
    return [{"trainee": s.username, "progress": s.progress.value, "enrolled": s.enrolled, "signed in": s.signed_in,
             "failed codes": s.failed_codes, "wrong passwords": s.wrong_passwords, "phone clock": s.phone_clock(period),
             "locked out until": utc_time(s.locked_out_until), "last seen": utc_time(s.last_seen)} for s in statuses]


class ClassDashboard(widgets.VBox):
    """One class on one shared back office; each button is one classroom action."""

    def __init__(self, office: BackOffice, *, classroom: Classroom | None = None, live: bool = True,
                 language: str = "en", trainee_url: str = "") -> None:
        self.office = office
        self.language = language
        self.texts = t = Texts(language)
        self.classroom = classroom
        self.progress_texts = {
            Progress.NOT_STARTED: t("not logged in yet"), Progress.STARTED: t("logged in, not enrolled"),
            Progress.SEES_QR: t("sees the QR code"), Progress.TYPING_CODE: t("asked for the code"),
            Progress.LAPSED: t("QR code timed out"), Progress.RESET: t("2FA reset: log in again"),
            Progress.ENROLLED: t("enrolled"), Progress.SIGNED_IN: t("signed in"), Progress.LOCKED_OUT: t("locked out"),
        }
        self.message = widgets.HTML()
        self.message.add_class("tfs-class-message")
        self.message_shown_at: float | None = None
        self.safe = SafeCallbacks(self.show, t)
        self.trainee_url = trainee_url or os.environ.get(TRAINEE_URL_ENV, "")

        # creating a class
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
        self.create_button = self._button(t("Create class"), "users", "tfs-class-create", "primary")
        self.create_button.on_click(self.safe(lambda _: self.create_class()))
        self.cancel_new = self._button(t("Cancel"), "times", "tfs-class-cancel-new")
        self.cancel_new.on_click(self.safe(lambda _: self.show_form(False)))
        self.form = widgets.VBox([widgets.HTML(html_text("tfs-header", t("New class"))), self.company,
                                  widgets.HBox([self.count, self.names]), self.two_factor_by,
                                  widgets.HBox([self.create_button, self.cancel_new])])
        self.form.add_class("tfs-card")
        self.form.add_class("tfs-class-form")
        self.form_wanted = False
        self._syncing_choice = False

        # choosing among the classes of the database
        self.class_choice = widgets.Dropdown(description=t("Class"), layout=widgets.Layout(width="auto"))
        self.class_choice.add_class("tfs-class-choice")
        self.class_choice.observe(self.safe(lambda change: self.choose_class(change["new"])), names="value")
        self.new_class = self._button(t("New class"), "plus", "tfs-class-new")
        self.new_class.on_click(self.safe(lambda _: self.show_form(True)))

        # the class, live
        self.address = widgets.HTML()
        self.address.add_class("tfs-class-address")
        self.summary = widgets.HTML()
        self.summary.add_class("tfs-class-summary")
        self.table = widgets.HTML()
        self.table.add_class("tfs-table")
        self.table.add_class("tfs-class-table")
        locked = t("locked out")
        marked = t("3 or more failed codes or wrong passwords, or on the QR code for over 3 minutes")
        legend = widgets.HTML(f"<div class='tfs-class-legend'><span style='background:#fde2e2'>{html.escape(locked)}"
                              f"</span><span style='background:#fdf0c4'>{html.escape(marked)}</span></div>")

        # helping one trainee
        self.selected = widgets.Dropdown(description=t("User"), layout=widgets.Layout(width="auto"))
        self.selected.add_class("tfs-class-selected")
        self.reset = self._button(t("Reset 2FA (lost phone)"), "undo", "tfs-class-reset", "warning")
        self.unlock = self._button(t("Unlock"), "unlock", "tfs-class-unlock")
        self.recovery = self._button(t("Issue recovery codes"), "key", "tfs-class-recovery")
        self.new_password_button = self._button(t("New password"), "refresh", "tfs-class-new-password")
        self.reset.on_click(self.safe(lambda _: self.ask_reset()))
        self.unlock.on_click(self.safe(lambda _: self.act("unlock")))
        self.recovery.on_click(self.safe(lambda _: self.act("recovery codes")))
        self.new_password_button.on_click(self.safe(lambda _: self.act("new password")))
        self.confirm = widgets.VBox([])
        self.confirm.add_class("tfs-class-confirm")
        self.confirm.layout.display = "none"
        self.recovery_codes = widgets.HTML()
        self.recovery_codes.add_class("tfs-class-recovery-codes")
        self.recovery_section = self._secret_section(self.recovery_codes, t(
            "Recovery codes (your screen only: do not project)"), "tfs-class-recovery-section")
        help_card = widgets.VBox([widgets.HTML(html_text("tfs-header", t("Help one trainee"))), self.selected,
                                  widgets.HBox([self.reset, self.unlock, self.recovery, self.new_password_button]),
                                  self.confirm, self.recovery_section])
        help_card.add_class("tfs-card")

        # the whole class
        self.new_passwords = self._button(t("New passwords for everyone not logged in yet"), "refresh",
                                          "tfs-class-new-passwords")
        self.new_passwords.on_click(self.safe(lambda _: self.act("new passwords")))
        self.added = widgets.Text(placeholder=t("username"), layout=widgets.Layout(width="150px"))
        self.added.add_class("tfs-class-added")
        self.add = self._button(t("Add a trainee"), "user-plus", "tfs-class-add")
        self.add.on_click(self.safe(lambda _: self.act("add")))
        self.export = self._button(t("Export CSV"), "download", "tfs-class-export")
        self.export.on_click(self.safe(lambda _: self.export_csv()))
        self.exports = widgets.HTML()
        self.exports.add_class("tfs-class-exports")
        self.end = self._button(t("End class"), "stop", "tfs-class-end", "danger")
        self.end.on_click(self.safe(lambda _: self.ask_end()))
        self.passwords = widgets.HTML()
        self.passwords.add_class("tfs-class-passwords")
        self.password_section = self._secret_section(self.passwords, t(
            "Passwords for the trainees (your screen only: do not project)"), "tfs-class-password-section")
        class_card = widgets.VBox([widgets.HTML(html_text("tfs-header", t("The whole class"))), self.new_passwords,
                                   widgets.HBox([self.added, self.add]), widgets.HBox([self.export, self.end]),
                                   self.exports, self.password_section])
        class_card.add_class("tfs-card")

        # the banner sits above the buttons (and under the form while there is no class yet), so the
        # table of a class of 30 keeps the height of a projector's screen
        side = widgets.VBox([self.message, help_card, class_card])
        side.add_class("tfs-class-side")
        table_card = widgets.VBox([self.address, self.summary, self.table, legend])
        table_card.add_class("tfs-card")
        self.actions = side
        self.live_card = widgets.HBox([table_card, side])
        self.live_card.add_class("tfs-class-main")
        self.live_card.add_class("tfs-class-live")

        title = widgets.HTML(html_text("tfs-header tfs-title", t("Two-factor login · class dashboard")))
        self.choice_row = widgets.HBox([self.class_choice, self.new_class])
        top = widgets.HBox([title, self.choice_row])
        top.add_class("tfs-class-top")
        self.form.children = [*self.form.children, self.message]
        super().__init__([style_sheet(), widgets.HTML(DASHBOARD_STYLE), top, self.form, self.live_card,
                          self.safe.errors])
        self.add_class("tfs-class-dashboard")
        self.add_class("tfs-root")
        self.ticker = Ticker()
        self.ticker.add(self.refresh)
        self.refresh()
        if live:
            self.ticker.start()

    @staticmethod
    def _button(label: str, icon: str, css_class: str, style: str = "") -> widgets.Button:
        button = widgets.Button(description=label, icon=icon, button_style=style, layout=widgets.Layout(width="auto"))
        button.add_class(css_class)
        return button

    def _secret_section(self, content: widgets.HTML, title: str, css_class: str) -> widgets.Accordion:
        """A closed section that notes when it was opened (see :meth:`close_secrets`)."""
        section = widgets.Accordion([content], selected_index=None)
        section.set_title(0, title)
        section.add_class(css_class)
        section.opened_at = None
        section.observe(lambda change: setattr(section, "opened_at", time.monotonic() if change["new"] is not None
                                               else None), names="selected_index")
        return section

    @classmethod
    def for_page(cls, query: str | None = None, *, db_url: str | None = None, **options) -> "ClassDashboard | widgets.HTML":
        """The dashboard as Voila serves it: the class's back office (:func:`open_class`), the
        newest class found there (without its passwords), the language the address asks for
        (``?lang=de``). Without the trainer's key (``?key=``, which ``make class`` prints) the page
        says so and offers nothing."""
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
        self.message_shown_at = time.monotonic() if text else None

    # -- actions --------------------------------------------------------------------------------------

    def show_form(self, wanted: bool) -> None:
        self.form_wanted = wanted
        self.refresh()

    def choose_class(self, company: str | None) -> None:
        if self._syncing_choice:
            return
        if company and (self.classroom is None or company != self.classroom.company):
            self.close_secrets(everything=True)
            self.classroom = Classroom(self.office, company)
            self.refresh()

    def create_class(self) -> Classroom:
        names = [line for line in self.names.value.splitlines() if line.strip()]
        self.close_secrets(everything=True)
        classroom = Classroom.create(self.office, self.company.value, names=names or None,
                                     count=None if names else self.count.value, two_factor_by=self.two_factor_by.value)
        self.classroom = classroom
        self.names.value = ""
        self.form_wanted = False
        self.show_passwords()
        self.show(self.texts("{company} created: {count} trainees. Their passwords are in the closed section "
                             "\"Passwords for the trainees\", with printable slips.", company=classroom.company,
                             count=len(classroom.roster)), "ok")
        self.refresh()
        return classroom

    def ask(self, question: str, label: str, action) -> None:
        """An action that cannot be undone waits for a second click that names its target."""
        yes = self._button(label, "check", "tfs-class-confirm-yes", "danger")
        no = self._button(self.texts("Cancel"), "times", "tfs-class-confirm-no")
        yes.on_click(self.safe(lambda _: (self.dismiss(), action())))
        no.on_click(self.safe(lambda _: self.dismiss()))
        self.confirm.children = [widgets.HTML(html_text("tfs-hint", question)), widgets.HBox([yes, no])]
        self.confirm.layout.display = None

    def dismiss(self) -> None:
        self.confirm.children = []
        self.confirm.layout.display = "none"

    def ask_reset(self) -> None:
        name = self.chosen()
        if name:
            self.ask(self.texts("Reset 2FA of {name}? The entry in their app stops working; their next login shows "
                                "a new QR code.", name=name), self.texts("Yes, reset {name}", name=name),
                     lambda: self.act("reset", name))

    def ask_end(self) -> None:
        if self.classroom is not None:
            company = self.classroom.company
            self.ask(self.texts("End {company}? No trainee can log in any more; the results stay here.",
                                company=company), self.texts("Yes, end {company}", company=company),
                     lambda: self.act("end"))

    def chosen(self) -> str | None:
        name = self.selected.value
        if self.classroom is None or not name:
            self.show(self.texts("Choose a user first."), "error")
            return None
        return name

    def act(self, action: str, name: str | None = None) -> None:
        t = self.texts
        self.close_secrets()
        if action in ("new passwords", "add", "end"):
            self._act_on_class(action)
            self.refresh()
            return
        name = name or self.chosen()
        if name is None:
            return
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
            printable = download_link(recovery_codes_page(name, codes, t), f"recovery-codes-{file_stem(name)}.html",
                                      "text/html", t("Printable page"), "tfs-class-recovery-page")
            self.recovery_codes.value = f"<div class='tfs-hint'>{html.escape(intro)}</div><ol>{listed}</ol>{printable}"
            self.show(t("{count} recovery codes issued for {name}: in the closed section \"Recovery codes\".",
                        count=len(codes), name=name), "ok")
        elif action == "new password":
            self.classroom.new_password(name)
            self.show_passwords()
            self.show(t("New password for {name}: in the closed section \"Passwords for the trainees\".", name=name),
                      "ok")
        self.refresh()

    def _act_on_class(self, action: str) -> None:
        t, classroom = self.texts, self.classroom
        if classroom is None:
            self.show(t("Create a class first."), "error")
        elif action == "new passwords":
            made = classroom.new_passwords_for_those_not_logged_in()
            self.show_passwords()
            self.show(t("{count} new passwords (for everyone not logged in yet): in the closed section "
                        "\"Passwords for the trainees\".", count=len(made)), "ok")
        elif action == "add":
            name = self.added.value.strip()
            classroom.add_trainee(name)
            self.added.value = ""
            self.show_passwords()
            self.show(t("{name} added: the password is in the closed section \"Passwords for the trainees\".",
                        name=name), "ok")
        elif action == "end":
            classroom.end()
            self.passwords.value = ""
            self.show(t("{company} has ended: no one can log in any more. The results stay here.",
                        company=classroom.company), "ok")

    def show_passwords(self) -> None:
        """The passwords this page holds, with the printable slips and a CSV of them, in the closed
        section (nothing is opened for the trainer)."""
        t, classroom = self.texts, self.classroom
        hand_out = classroom.roster.hand_out() if classroom is not None and classroom.roster is not None else []
        if not hand_out:
            self.passwords.value = ""
            return
        rows = "".join(f"<tr><td>{html.escape(name)}</td><td class='tfs-secret'>{html.escape(password)}</td></tr>"
                       for name, password in hand_out)
        heads = "".join(f"<th>{html.escape(t(h))}</th>" for h in ("username", "Password"))
        stem = file_stem(classroom.company)
        slips = download_link(slips_page(classroom.company, hand_out, self.trainee_url, t), f"{stem}-slips.html",
                              "text/html", t("Printable slips (one per trainee)"), "tfs-class-slips-link")
        listed = download_link(csv_text([{"username": n, "password": p, "address": self.trainee_url}
                                          for n, p in hand_out], ["username", "password", "address"]),
                               f"{stem}-passwords.csv", "text/csv", t("Passwords as CSV"), "tfs-class-passwords-csv")
        self.passwords.value = (f"<div class='tfs-class-slips'>{slips}{listed}</div>"
                                f"<table><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>")

    def close_secrets(self, everything: bool = False) -> None:
        """Secret sections close (on every action, and after :data:`SECRET_SECONDS` open); recovery
        codes are cleared too, the passwords only when the class changes (``everything``)."""
        self.password_section.selected_index = None
        self.recovery_section.selected_index = None
        self.recovery_codes.value = ""
        if everything:
            self.passwords.value = ""
            self.exports.value = ""

    def export_csv(self) -> None:
        """The progress table and the class's event log as two CSV files to save."""
        t, classroom = self.texts, self.classroom
        if classroom is None:
            self.show(t("Create a class first."), "error")
            return
        stem = file_stem(classroom.company)
        rows = progress_rows(classroom.statuses(), self.office.policy.period)
        progress = download_link(csv_text(rows, COLUMNS), f"{stem}-progress.csv", "text/csv",
                                 t("Progress (CSV)"), "tfs-class-progress-csv")
        events = download_link(csv_text(classroom.event_rows(t.language), EVENT_COLUMNS), f"{stem}-events.csv", "text/csv",
                               t("Event log (CSV)"), "tfs-class-events-csv")
        self.exports.value = progress + events

    # -- rendering -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Once a second, from the shared back office: the table, the summary and the choices. A
        database that cannot be read shows as a message, and the next second tries again."""
        t = self.texts
        with DOMAIN_LOCK, one_step():
            now = time.monotonic()
            if self.message_shown_at is not None and now - self.message_shown_at > BANNER_SECONDS:
                self.show("")
            for section in (self.password_section, self.recovery_section):
                if section.opened_at is not None and now - section.opened_at > SECRET_SECONDS:
                    self.close_secrets()
            try:
                self._render()
            except TwofaSimError as error:
                self.show(t.error(error), "error")
                self.refresh_problem = self.message.value
            else:  # the database is back: its error goes, a message an action showed since stays
                if getattr(self, "refresh_problem", None) == self.message.value:
                    self.message.value = ""
                self.refresh_problem = None

    def _render(self) -> None:
        t = self.texts
        form = self.classroom is None or self.form_wanted
        self.form.layout.display = None if form else "none"
        self.cancel_new.layout.display = None if self.classroom is not None else "none"
        self.live_card.layout.display = None if self.classroom is not None else "none"
        self.choice_row.layout.display = None if self.classroom is not None else "none"
        if self.classroom is None:
            return
        classes = Classroom.names(self.office)
        self._syncing_choice = True  # the page follows the class; only the trainer's choice changes it
        try:
            if list(self.class_choice.options) != classes:
                self.class_choice.options = classes
            if self.class_choice.value != self.classroom.company:
                self.class_choice.value = self.classroom.company
        finally:
            self._syncing_choice = False
        self.address.value = self._address_html()
        statuses = self.classroom.statuses()
        self.table.value = self._table_html(statuses)
        counts = self.classroom.counts(statuses)
        summary = t("{company}: {enrolled} of {trainees} enrolled · {signed} signed in · {qr} see the QR code · "
                    "{locked} locked out", company=self.classroom.company, enrolled=counts["enrolled"],
                    trainees=counts["trainees"], signed=counts["signed in"], qr=counts["sees QR"],
                    locked=counts["locked"])
        wrong, pages = self.classroom.progress.unclaimed_wrong_passwords(read=False)
        if wrong:
            summary += " · " + t("{wrong} wrong passwords on {pages} pages not logged in yet", wrong=wrong, pages=pages)
        ended = self.classroom.progress.has_ended(self.classroom.company, read=False)
        if ended:
            summary += " · " + t("the class has ended")
        self.summary.value = html_text("tfs-message tfs-info", summary)
        names = [s.username for s in statuses]
        options = [(t("choose a trainee"), "")] + [(name, name) for name in names]
        if list(self.selected.options) != options:
            current = self.selected.value
            self.selected.options = options
            self.selected.value = current if current in names else ""
        for button in (self.new_passwords, self.add, self.end):
            button.disabled = ended

    def _address_html(self) -> str:
        t = self.texts
        if not self.trainee_url:
            return ""
        projector = "projector.ipynb" + ("?lang=de" if self.language == "de" else "")
        label, view = t("Trainees open:"), t("Projector view (no secrets)")
        return (f"{html.escape(label)} <code>{html.escape(self.trainee_url)}</code> · "
                f"<a href='{projector}' target='_blank' class='tfs-class-projector-link'>{html.escape(view)}</a>")

    def _row_class(self, status: TraineeStatus, now: float) -> str:
        if status.progress is Progress.LOCKED_OUT:
            return "tfs-row-locked"
        if status.failed_codes >= MANY_FAILED or status.wrong_passwords >= MANY_FAILED:
            return "tfs-row-struggling"
        if status.stuck_since is not None and now - status.stuck_since > STUCK_ON_QR:
            return "tfs-row-stuck"
        if status.progress in (Progress.ENROLLED, Progress.SIGNED_IN):
            return "tfs-row-in"
        return ""

    def phone_clock(self, offset: int | None) -> str:
        """The phone's clock as the server saw the trainee's last accepted code, in words."""
        t, period = self.texts, self.office.policy.period
        if offset is None:
            return ""
        if offset == 0:
            return t("on time")
        if offset < 0:
            return t("about {seconds} s behind", seconds=-offset * period)
        return t("about {seconds} s ahead", seconds=offset * period)

    def _table_html(self, statuses: list[TraineeStatus]) -> str:
        t = self.texts
        if not statuses:
            return html_text("tfs-hint", t("No users yet."), "span")
        now = self.office.clock.now()
        heads = "".join(f"<th>{html.escape(t(column))}</th>" for column in COLUMNS)
        rows = []
        for s in statuses:
            cells = [s.username, self.progress_texts[s.progress], t.yes_no(s.enrolled), t.yes_no(s.signed_in),
                     str(s.failed_codes), str(s.wrong_passwords), self.phone_clock(s.step_offset),
                     clock_time(s.locked_out_until), clock_time(s.last_seen)]
            css = self._row_class(s, now)
            row_class = f' class="{css}"' if css else ""
            rows.append(f"<tr{row_class}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        return f"<table><thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

    def close(self) -> None:
        self.ticker.stop()
        super().close()

    def __repr__(self) -> str:
        return f"ClassDashboard({self.classroom.company if self.classroom else 'no class yet'})"
