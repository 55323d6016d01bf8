"""The admin's view of the back office: company setting, create-user form, users and actions."""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..login.backoffice import BackOffice
from .common import SafeCallbacks, html_text, message_html, refresh_after_step, style_sheet, table_html
from .i18n import Texts
from ..render.tables import users_table


class AdminPanel(widgets.VBox):
    """Each button calls one BackOffice method, then everything re-renders from the back office.

    The panel listens to the event log, but redraws only once the whole step is over: a wrong
    code's "code rejected" event comes before the failure is counted.
    """

    COMPACT_COLUMNS = ["force 2FA", "needs 2FA", "enrolled", "failed codes", "locked out until"]

    def __init__(self, office: BackOffice, *, compact: bool = False, language: str = "en") -> None:
        self.office = office
        self.compact = compact
        self.texts = t = Texts(language)
        self.message = widgets.HTML()
        self.message.add_class("tfs-admin-message")
        self.safe = SafeCallbacks(self.show, t)

        self.company = widgets.Dropdown(description=t("Company"), layout=widgets.Layout(width="auto"))
        self.company.add_class("tfs-admin-company")
        self.company_2fa = widgets.Checkbox(description=t("2-factor authentication for all backend users"),
                                            indent=False, layout=widgets.Layout(width="auto"))
        self.company_2fa.add_class("tfs-admin-company-2fa")

        self.username = widgets.Text(description=t("Username"), placeholder=t("e.g. alice"))
        self.username.add_class("tfs-admin-username")
        self.password = widgets.Password(description=t("Password"), placeholder=t("at least 10 characters"))
        self.password.add_class("tfs-admin-password")
        self.force = widgets.Checkbox(description=t("Force 2 factor auth."), indent=False, layout=widgets.Layout(width="auto"))
        self.force.add_class("tfs-admin-force")
        self.create = widgets.Button(description=t("Create user"), button_style="primary", icon="user-plus",
                                     layout=widgets.Layout(width="auto"))
        self.create.add_class("tfs-admin-create")

        self.users_table = widgets.HTML()
        self.users_table.add_class("tfs-table")
        self.users_table.add_class("tfs-admin-users")
        self.selected = widgets.Dropdown(description=t("User"), layout=widgets.Layout(width="auto"))
        self.selected.add_class("tfs-admin-selected")
        self.toggle_force = widgets.Button(description=t("Tick / untick force"), icon="check-square", layout=widgets.Layout(width="auto"))
        self.toggle_force.add_class("tfs-admin-toggle-force")
        self.reset = widgets.Button(description=t("Reset 2FA (lost phone)"), icon="undo", button_style="warning",
                                    layout=widgets.Layout(width="auto"))
        self.reset.add_class("tfs-admin-reset")
        self.unlock = widgets.Button(description=t("Unlock"), icon="unlock", layout=widgets.Layout(width="auto"))
        self.unlock.add_class("tfs-admin-unlock")
        self.recovery = widgets.Button(description=t("Issue recovery codes"), icon="key", layout=widgets.Layout(width="auto"))
        self.recovery.add_class("tfs-admin-recovery")
        self.recovery_codes = widgets.HTML()
        self.recovery_codes.add_class("tfs-admin-recovery-codes")

        self.company.observe(self.safe(lambda change: self.refresh()), "value")
        self.company_2fa.observe(self.safe(self._on_company_2fa), "value")
        self.create.on_click(self.safe(lambda _: self.create_user()))
        self.toggle_force.on_click(self.safe(lambda _: self.act("toggle force")))
        self.reset.on_click(self.safe(lambda _: self.act("reset")))
        self.unlock.on_click(self.safe(lambda _: self.act("unlock")))
        self.recovery.on_click(self.safe(lambda _: self.act("recovery codes")))

        header = widgets.HTML(html_text("tfs-brand", t("Back office · Contracting company")))
        form = widgets.VBox([widgets.HTML(html_text("tfs-header", t("New backend user"))),
                             self.username, self.password, self.force, self.create])
        actions = widgets.VBox([widgets.HTML(html_text("tfs-header", t("Users"))),
                                self.users_table, self.selected,
                                widgets.HBox([self.toggle_force, self.reset, self.unlock, self.recovery]),
                                self.recovery_codes])
        company_row = (widgets.VBox if compact else widgets.HBox)([self.company, self.company_2fa])
        super().__init__([style_sheet(), header, company_row, form, actions, self.message, self.safe.errors])
        self.add_class("tfs-card")
        self.add_class("tfs-admin")
        self._syncing = False
        self._unsubscribe = office.events.subscribe(lambda event: refresh_after_step(self.refresh))
        self.refresh()

    def close(self) -> None:
        self._unsubscribe()
        super().close()

    def show(self, text: str, kind: str = "info") -> None:
        self.message.value = message_html(text, kind)

    def _on_company_2fa(self, change) -> None:
        if self._syncing or not self.company.value:
            return
        self.office.set_company_force_2fa(self.company.value, change["new"])
        t, company = self.texts, self.company.value
        self.show(t("2-factor authentication for all users of {company}: on.", company=company) if change["new"] else
                  t("2-factor authentication for all users of {company}: off.", company=company), "ok")

    def create_user(self) -> None:
        user = self.office.create_user(self.username.value.strip(), self.password.value,
                                       company=self.company.value or None, force_2fa=self.force.value)
        self.username.value = self.password.value = ""
        self.force.value = False
        self.refresh()  # the new user must be among the choices before it is chosen
        self.selected.value = user.username
        t = self.texts
        self.show(t("User {name} created with 2FA forced.", name=user.username) if user.force_2fa else
                  t("User {name} created.", name=user.username), "ok")

    def act(self, action: str) -> None:
        name = self.selected.value
        t = self.texts
        if not name:
            self.show(t("Choose a user first."), "error")
            return
        self.recovery_codes.value = ""
        if action == "toggle force":
            on = not self.office.user(name).force_2fa
            self.office.set_force_2fa(name, on)
            self.show(t("Force 2 factor auth. ticked for {name}.", name=name) if on else
                      t("Force 2 factor auth. unticked for {name}.", name=name), "ok")
        elif action == "reset":
            self.office.reset_2fa(name)
            self.show(t("2FA of {name} reset: the next login shows a new QR code.", name=name), "ok")
        elif action == "unlock":
            self.office.unlock(name)
            self.show(t("{name} unlocked.", name=name), "ok")
        elif action == "recovery codes":
            codes = self.office.issue_recovery_codes(name)
            listed = "".join(f"<li class='tfs-secret'>{html.escape(c)}</li>" for c in codes)
            intro = t("Recovery codes for {name} (shown once, each works once):", name=name)
            self.recovery_codes.value = f"<div class='tfs-hint'>{html.escape(intro)}</div><ol>{listed}</ol>"
            self.show(t("{count} recovery codes issued for {name}.", count=len(codes), name=name), "ok")

    def refresh(self) -> None:
        self._syncing = True
        try:
            names = [c.name for c in self.office.companies]
            if list(self.company.options) != names:
                current = self.company.value
                self.company.options = names
                self.company.value = current if current in names else (names[0] if names else None)
            if self.company.value:
                self.company_2fa.value = self.office.company(self.company.value).force_2fa_for_all
            users = [u.username for u in self.office.users]
            if list(self.selected.options) != users:
                current = self.selected.value
                self.selected.options = users
                self.selected.value = current if current in users else (users[0] if users else None)
        finally:
            self._syncing = False
        frame = users_table(self.office)
        if self.compact:
            frame = frame[self.COMPACT_COLUMNS]
        self.users_table.value = table_html(frame, self.texts("No users yet."), self.texts)

    def __repr__(self) -> str:
        return f"AdminPanel({len(self.office.companies)} companies, {len(self.office.users)} users)"
