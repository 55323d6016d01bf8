"""The admin's view of the back office: company setting, create-user form, users and actions."""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..backoffice import BackOffice
from .common import SafeCallbacks, message_html


class AdminPanel(widgets.VBox):
    """Each button calls one BackOffice method, then everything re-renders from the back office."""

    COMPACT_COLUMNS = ["force 2FA", "needs 2FA", "enrolled", "failed codes", "locked until"]

    def __init__(self, office: BackOffice, *, compact: bool = False) -> None:
        self.office = office
        self.compact = compact
        self.message = widgets.HTML()
        self.safe = SafeCallbacks(self.show)

        self.company = widgets.Dropdown(description="Company", layout=widgets.Layout(width="260px"))
        self.company.add_class("tfs-admin-company")
        self.company_2fa = widgets.Checkbox(description="2-factor authentication for all backend users", indent=False,
                                            layout=widgets.Layout(width="auto"))
        self.company_2fa.add_class("tfs-admin-company-2fa")

        self.username = widgets.Text(description="Username", placeholder="e.g. alice")
        self.username.add_class("tfs-admin-username")
        self.password = widgets.Password(description="Password", placeholder="at least 10 characters")
        self.password.add_class("tfs-admin-password")
        self.force = widgets.Checkbox(description="Force 2 factor auth.", indent=False, layout=widgets.Layout(width="auto"))
        self.force.add_class("tfs-admin-force")
        self.create = widgets.Button(description="Create user", button_style="primary", icon="user-plus")
        self.create.add_class("tfs-admin-create")

        self.users_table = widgets.HTML()
        self.users_table.add_class("tfs-table")
        self.selected = widgets.Dropdown(description="User", layout=widgets.Layout(width="260px"))
        self.selected.add_class("tfs-admin-selected")
        self.toggle_force = widgets.Button(description="Tick / untick force", icon="check-square", layout=widgets.Layout(width="auto"))
        self.toggle_force.add_class("tfs-admin-toggle-force")
        self.reset = widgets.Button(description="Reset 2FA (lost phone)", icon="undo", button_style="warning", layout=widgets.Layout(width="auto"))
        self.reset.add_class("tfs-admin-reset")
        self.unlock = widgets.Button(description="Unlock", icon="unlock", layout=widgets.Layout(width="auto"))
        self.unlock.add_class("tfs-admin-unlock")
        self.recovery = widgets.Button(description="Issue recovery codes", icon="key", layout=widgets.Layout(width="auto"))
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

        header = widgets.HTML('<div class="tfs-brand">Back office · Contracting company</div>')
        form = widgets.VBox([widgets.HTML('<div class="tfs-header">New backend user</div>'),
                             self.username, self.password, self.force, self.create])
        actions = widgets.VBox([widgets.HTML('<div class="tfs-header">Users</div>'), self.users_table,
                                self.selected,
                                widgets.HBox([self.toggle_force, self.reset]) if compact else
                                widgets.HBox([self.toggle_force, self.reset, self.unlock, self.recovery]),
                                widgets.HBox([self.unlock, self.recovery]) if compact else widgets.HTML(),
                                self.recovery_codes])
        company_row = (widgets.VBox if compact else widgets.HBox)([self.company, self.company_2fa])
        super().__init__([header, company_row, form, actions,
                          self.message, self.safe.errors])
        self.add_class("tfs-card")
        self.add_class("tfs-admin")
        self._syncing = False
        self._unsubscribe = office.events.subscribe(lambda event: self.refresh())
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
        self.show(f"2-factor authentication for all users of {self.company.value}: {'on' if change['new'] else 'off'}.", "ok")

    def create_user(self) -> None:
        user = self.office.create_user(self.username.value.strip(), self.password.value,
                                       company=self.company.value or None, force_2fa=self.force.value)
        self.username.value = self.password.value = ""
        self.force.value = False
        self.selected.value = user.username
        self.show(f"User {user.username} created" + (" with 2FA forced." if user.force_2fa else "."), "ok")

    def act(self, action: str) -> None:
        name = self.selected.value
        if not name:
            self.show("Choose a user first.", "error")
            return
        self.recovery_codes.value = ""
        if action == "toggle force":
            on = not self.office.user(name).force_2fa
            self.office.set_force_2fa(name, on)
            self.show(f"Force 2 factor auth. {'ticked' if on else 'unticked'} for {name}.", "ok")
        elif action == "reset":
            self.office.reset_2fa(name)
            self.show(f"2FA of {name} reset: the next login shows a new QR code.", "ok")
        elif action == "unlock":
            self.office.unlock(name)
            self.show(f"{name} unlocked.", "ok")
        elif action == "recovery codes":
            codes = self.office.issue_recovery_codes(name)
            listed = "".join(f"<li class='tfs-secret'>{html.escape(c)}</li>" for c in codes)
            self.recovery_codes.value = (f"<div class='tfs-hint'>Recovery codes for {html.escape(name)} "
                                         f"(shown once, each works once):</div><ol>{listed}</ol>")
            self.show(f"{len(codes)} recovery codes issued for {name}.", "ok")

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
        frame = self.office.users_frame()
        if self.compact:
            frame = frame[self.COMPACT_COLUMNS]
        self.users_table.value = (frame.to_html(border=0) if not frame.empty
                                  else '<span class="tfs-hint">No users yet.</span>')

    def __repr__(self) -> str:
        return f"AdminPanel({len(self.office.companies)} companies, {len(self.office.users)} users)"
