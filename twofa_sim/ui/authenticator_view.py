"""The authenticator app on a device: entries with a large code and a countdown bar, a scan
button that captures what the login mask shows right now and decodes it from pixels, manual key
entry, the device's clock offset and the app profile.

What the app shows and asks around its entries is shown as the app shows it: Aegis's edit screen
after a scan (nothing saved until Save), FreeOTP's codes only after a tap, Google Authenticator's
"Save key for ...?" on a link, Aegis's warning when the phone's automatic time is off, and moving
the entries into another app through the first app's export (refused where there is none)."""

from __future__ import annotations

import html
import math
from typing import Callable

import ipywidgets as widgets
from PIL import Image

from ..apps.profiles import PROFILES
from ..apps.authenticator import AppStopped, Choice, ImportOutcome, ImportResult, Question
from ..apps.device import Device
from ..core.errors import NotFoundError, ValidationError
from .common import SafeCallbacks, html_text, message_html, style_sheet
from .i18n import Texts


class EntryCard(widgets.VBox):
    """One entry: issuer, account, the current code in large type, and the time left as a bar."""

    def __init__(self, entry_id: int, on_remove: Callable[[int], None], texts: Texts | None = None,
                 on_tap: Callable[[int], None] | None = None) -> None:
        self.entry_id = entry_id
        self.texts = texts or Texts()
        self.label = widgets.HTML()
        self.code = widgets.HTML()
        self.code.add_class("tfs-app-code")
        self.bar = widgets.FloatProgress(min=0.0, max=1.0, layout=widgets.Layout(width="200px", height="10px"))
        self.bar.add_class("tfs-app-countdown")
        self.seconds = widgets.HTML()
        self.remove = widgets.Button(icon="trash", tooltip=self.texts("Remove this entry"), layout=widgets.Layout(width="36px"))
        self.remove.on_click(lambda _: on_remove(self.entry_id))
        self.tap = widgets.Button(description=self.texts("Show code"), icon="hand-pointer-o",
                                  tooltip=self.texts("The app shows the code after a tap"),
                                  layout=widgets.Layout(width="auto", display="none"))
        self.tap.add_class("tfs-app-tap")
        self.tap.on_click(lambda _: on_tap(self.entry_id) if on_tap else None)
        super().__init__([self.label, self.code, widgets.HBox([self.bar, self.seconds, self.tap, self.remove])])
        self.add_class("tfs-entry")

    def show(self, issuer: str, account: str, code: str, seconds_left: float, fraction_left: float,
             shown: bool = True) -> None:
        no_issuer = self.texts("(no issuer)")
        self.label.value = html_text("tfs-issuer", issuer or no_issuer) + html_text("tfs-account", account)
        self.tap.layout.display = None if not shown else "none"
        if not shown:                       # FreeOTP: a tap shows the code
            code = "\u2022" * len(code)
        half = len(code) // 2
        self.code.value = f'<div class="tfs-code">{code[:half]} {code[half:]}</div>'
        if not math.isfinite(seconds_left):  # a counter-based (HOTP) entry: its code waits for a tap, not the clock
            self.bar.layout.visibility = "hidden"
            self.seconds.value = html_text("tfs-hint", self.texts("counter-based: no countdown"))
            return
        self.bar.layout.visibility = "visible"
        self.bar.value = fraction_left
        self.bar.bar_style = "danger" if seconds_left <= 5 else "success"
        self.seconds.value = f'<span class="tfs-hint">&nbsp;{int(seconds_left + 0.999):2d} s</span>'

    def stopped(self, issuer: str, account: str, why: str) -> None:
        """What the source shows would stop the app at this instant (Aegis and MD5)."""
        self.label.value = html_text("tfs-issuer", issuer or self.texts("(no issuer)")) + html_text("tfs-account",
                                                                                                      account)
        self.code.value = html_text("tfs-error", why)
        self.bar.layout.visibility = "hidden"
        self.seconds.value = ""

    def __repr__(self) -> str:
        return f"EntryCard(#{self.entry_id})"


class AuthenticatorView(widgets.VBox):
    """The app as its user sees it. ``capture`` returns the pixels of the screen to scan."""

    def __init__(self, device: Device, capture: Callable[[], Image.Image], *, language: str = "en") -> None:
        self.device = device
        self.texts = t = Texts(language)
        self.capture = capture
        self.cards: dict[int, EntryCard] = {}
        self.message = widgets.HTML()
        self.message.add_class("tfs-app-message")
        self.safe = SafeCallbacks(self.show, t)

        self.brand = widgets.HTML()
        self.info = widgets.HTML()
        self.entries = widgets.VBox([])
        self.entries.add_class("tfs-app-entries")
        self.scan_button = widgets.Button(description=t("Scan QR code"), icon="qrcode", button_style="success",
                                          tooltip=t("Capture the visible login window and read its QR code"),
                                          layout=widgets.Layout(width="auto"))
        self.scan_button.add_class("tfs-app-scan")
        # One button per answer an app can offer; a question shows only the answers its app offers.
        self.answers = {choice: widgets.Button(description=t(label), layout=widgets.Layout(width="auto"),
                                               button_style="warning" if choice is not Choice.CANCEL else "")
                        for choice, label in ((Choice.SAVE, "Save"), (Choice.REPLACE, "Replace"),
                                              (Choice.KEEP_BOTH, "Keep both"), (Choice.ADD_ANYWAY, "Add anyway"),
                                              (Choice.CANCEL, "Cancel"))}
        self.replace, self.keep_both, self.cancel = (self.answers[c] for c in (Choice.REPLACE, Choice.KEEP_BOTH,
                                                                               Choice.CANCEL))
        self.add_anyway = self.answers[Choice.ADD_ANYWAY]
        self.save = self.answers[Choice.SAVE]
        self.question = widgets.HBox(list(self.answers.values()))
        self.question.layout.display = "none"
        self._pending: ImportResult | None = None
        # Aegis's edit screen after a scan: filled in from the QR code, editable, saved on Save
        self.edit_issuer = widgets.Text(description=t("Issuer"), layout=widgets.Layout(width="260px"))
        self.edit_account = widgets.Text(description=t("Name"), layout=widgets.Layout(width="260px"))
        self.edit_algorithm = widgets.Dropdown(description=t("Algorithm"), layout=widgets.Layout(width="260px"))
        self.edit_digits = widgets.IntText(description=t("Digits"), layout=widgets.Layout(width="180px"))
        self.edit_period = widgets.IntText(description=t("Period (s)"), layout=widgets.Layout(width="180px"))
        self.editor = widgets.VBox([widgets.HTML(html_text("tfs-hint", t("Edit entry: nothing is saved until Save"))),
                                    self.edit_issuer, self.edit_account, self.edit_algorithm,
                                    widgets.HBox([self.edit_digits, self.edit_period])])
        self.editor.add_class("tfs-app-editor")
        self.editor.layout.display = "none"
        self.warning = widgets.HTML()
        self.warning.add_class("tfs-app-warning")

        self.manual_account = widgets.Text(placeholder=t("account"), layout=widgets.Layout(width="110px"))
        self.manual_key = widgets.Text(placeholder=t("key typed by hand"), layout=widgets.Layout(width="190px"))
        self.manual_key.add_class("tfs-app-manual-key")
        self.manual_button = widgets.Button(description=t("Add key"), icon="plus", layout=widgets.Layout(width="auto"))
        self.manual_button.add_class("tfs-app-manual-add")
        self.offset = widgets.BoundedIntText(value=int(device.offset), min=-3600, max=3600,
                                             description=t("Clock (s)"), layout=widgets.Layout(width="190px"))
        self.offset.add_class("tfs-app-offset")
        self.sync = widgets.Button(description=t("Sync clock"), icon="clock-o", layout=widgets.Layout(width="auto"))
        self.sync.add_class("tfs-app-sync")
        self.profile = widgets.Dropdown(options=[(p.title, key) for key, p in PROFILES.items()],
                                        value=device.app.profile.key, description=t("App"),
                                        layout=widgets.Layout(width="auto"))
        self.profile.add_class("tfs-app-profile")
        self.automatic_time = widgets.Checkbox(value=device.automatic_time, description=t("Phone sets its time automatically"),
                                               indent=False, layout=widgets.Layout(width="auto"))
        self.automatic_time.add_class("tfs-app-automatic-time")
        self.link = widgets.Text(placeholder=t("otpauth:// or otpauth-migration://"),
                                 layout=widgets.Layout(width="300px"))
        self.link_button = widgets.Button(description=t("Open link"), icon="link", layout=widgets.Layout(width="auto"))
        self.link_button.add_class("tfs-app-open-link")
        self.move_target = widgets.Dropdown(options=[(p.title, key) for key, p in PROFILES.items()],
                                            value=device.app.profile.key, description=t("Move to"),
                                            layout=widgets.Layout(width="auto"))
        self.tick = widgets.Checkbox(value=False, description=t("Tick what the import list unticked"), indent=False,
                                     layout=widgets.Layout(width="auto"))
        self.move_button = widgets.Button(description=t("Move entries"), icon="share",
                                          tooltip=t("This app's export, imported by the other app on a new device"),
                                          layout=widgets.Layout(width="auto"))
        self.move_button.add_class("tfs-app-move")

        self.scan_button.on_click(self.safe(lambda _: self.scan()))
        for choice, button in self.answers.items():
            button.on_click(self.safe(lambda _, choice=choice: self.answer(choice)))
        self.manual_button.on_click(self.safe(lambda _: self.add_key()))
        self.offset.observe(self.safe(lambda change: self.set_offset(change["new"])), "value")
        self.sync.on_click(self.safe(lambda _: self.sync_clock()))
        self.profile.observe(self.safe(lambda change: self.install(change["new"])), "value")
        self.automatic_time.observe(self.safe(lambda change: self.set_automatic_time(change["new"])), "value")
        self.link_button.on_click(self.safe(lambda _: self.open_link()))
        self.move_button.on_click(self.safe(lambda _: self.move()))

        settings = widgets.VBox([widgets.HTML(html_text("tfs-hint", t("Device and app"))),
                                 self.profile, widgets.HBox([self.offset, self.sync]), self.automatic_time,
                                 widgets.HBox([self.manual_account, self.manual_key, self.manual_button]),
                                 widgets.HBox([self.link, self.link_button]),
                                 widgets.HBox([self.move_target, self.tick, self.move_button])])
        super().__init__([style_sheet(), self.brand, self.info, self.warning, self.entries, self.scan_button,
                          self.editor, self.question, self.message, settings, self.safe.errors])
        self.add_class("tfs-card")
        self.add_class("tfs-app")
        self.render()

    # -- actions ---------------------------------------------------------------------------------------

    def scan(self) -> ImportResult:
        """Scan as the app does: Aegis stops on its edit screen until Save."""
        result = self.device.scan(self.capture(), save=False)
        self._after_import(result)
        return result

    def answer(self, choice: Choice) -> ImportResult:
        if self._pending is None:  # a second click on an answer that was already given
            raise NotFoundError("no question about a duplicate is open: scan the QR code again")
        edits = self._edits() if self._pending.question is Question.EDITOR and choice is Choice.SAVE else None
        result = self.device.confirm(self._pending, choice, edits=edits)
        self._pending = None
        self._after_import(result)
        return result

    def _edits(self) -> dict:
        """What the user changed on the edit screen (only the changed fields)."""
        shown = self.device.app.waiting(self._pending.pending).candidate
        fields = {"issuer": self.edit_issuer.value, "account": self.edit_account.value,
                  "algorithm": self.edit_algorithm.value, "digits": self.edit_digits.value,
                  "period": self.edit_period.value}
        return {name: value for name, value in fields.items() if value != getattr(shown, name)}

    def open_link(self) -> ImportResult | None:
        """An otpauth:// link opened on the device (Google Authenticator asks before saving it); an
        otpauth-migration:// export goes to the app's import (the add-on reads it)."""
        text = self.link.value.strip()
        if not text:
            raise ValidationError("link", "is empty: paste an otpauth:// link")
        if text.startswith("otpauth-migration:"):     # Google Authenticator's export, on the app's import page
            report = self.device.import_text(text)
            self.link.value = ""
            failed = [message for _, message in report.failures]
            self.show("; ".join([self.texts("Imported: {added} added.", added=report.added), *failed]),
                      "ok" if report.added else "error")
            self.render()
            return None
        result = self.device.open_link(text)
        self.link.value = ""
        self._after_import(result)
        return result

    def tap(self, entry_id: int) -> None:
        self.device.tap(entry_id)
        self.refresh()

    def set_automatic_time(self, on: bool) -> None:
        self.device.set_automatic_time(on)
        self.render()

    def move(self) -> None:
        """Move every entry into another app on a new device: this app's export, imported by the other."""
        old = self.device
        new = Device(f"{old.name} (new)"[:64], old.owner, old.reference, offset=old.offset, app=self.move_target.value,
                     events=old.events, company=old.company)
        report = old.move_entries_to(new, tick=self.tick.value)
        self.device, self._pending = new, None
        counts = {outcome: report.count(outcome) for outcome in ImportOutcome}
        said = self.texts("Moved into {app}: {added} added, {unticked} unticked, {skipped} kept as they were, "
                          "{replaced} replaced.", app=new.app.profile.title, added=counts[ImportOutcome.ADDED],
                          unticked=counts[ImportOutcome.UNTICKED], skipped=counts[ImportOutcome.SKIPPED],
                          replaced=counts[ImportOutcome.REPLACED])
        self.show(" ".join([said, *report.warnings]), "ok" if report.added else "info")
        self.render()

    def add_key(self) -> ImportResult:
        result = self.device.enter_key(self.manual_account.value.strip() or self.device.owner, self.manual_key.value)
        self.manual_key.value = ""
        self._after_import(result)
        return result

    def set_offset(self, seconds: int) -> None:
        self.device.set_offset(seconds)
        self.show(self.texts("Device clock set {seconds:+d} s off.", seconds=seconds), "info")
        self.render()

    def sync_clock(self) -> None:
        correction = self.device.correct_clock()
        self.show(correction.said.render(self.texts.language), "ok" if correction.applied else "error")
        self.render()

    def install(self, key: str) -> None:
        """Another app on the same device: entries of the old app do not carry over."""
        old = self.device
        if key == old.app.profile.key:
            return
        self.device = Device(old.name, old.owner, old.reference, offset=old.offset, app=key, events=old.events,
                             company=old.company)
        self._pending = None
        self.editor.layout.display = "none"
        self.show(self.texts("{app} installed; scan the QR code again to add entries.", app=self.device.app.profile.title),
                  "info")
        self.render()

    # -- rendering ---------------------------------------------------------------------------------------

    def show(self, text: str, kind: str = "info") -> None:
        self.message.value = message_html(text, kind)

    def _after_import(self, result: ImportResult) -> None:
        self._pending = result if result.needs_confirmation else None
        self.question.layout.display = None if self._pending else "none"
        editing = self._pending is not None and result.question is Question.EDITOR
        self.editor.layout.display = None if editing else "none"
        if editing:
            shown = self.device.app.waiting(result.pending).candidate
            offered = tuple(dict.fromkeys(self.device.app.profile.manual.algorithms + (shown.algorithm,)))
            self.edit_algorithm.options = offered
            self.edit_issuer.value, self.edit_account.value = shown.issuer, shown.account
            self.edit_algorithm.value, self.edit_digits.value, self.edit_period.value = (shown.algorithm, shown.digits,
                                                                                         shown.period)
        for choice, button in self.answers.items():
            button.layout.display = None if choice in result.choices else "none"
        kind = "ok" if result.added else ("info" if result.needs_confirmation else "error")
        self.show(self._import_message(result), kind)
        self.render()

    def _import_message(self, result: ImportResult) -> str:
        """What the app says after a scan or a typed key, in the chosen language: the outcome, the
        entry, then whatever the app changed or warns about (as the app words it)."""
        t = self.texts
        said = {ImportOutcome.ADDED: t("Entry added"), ImportOutcome.REPLACED: t("Entry replaced"),
                ImportOutcome.KEPT_BOTH: t("Entry added next to the existing one"),
                ImportOutcome.NEEDS_CONFIRMATION: {
                    Question.UNSAFE: t("Token is unsafe! Add it anyway, or cancel?"),
                    Question.EDITOR: t("The app shows the new entry: change it if needed, then Save or Cancel."),
                    Question.LINK: t("Save key for this account?")}.get(
                        result.question, t("The app holds this entry already: replace it, keep both, or cancel?")),
                ImportOutcome.CANCELLED: t("Cancelled: nothing changed"),
                ImportOutcome.UNCHANGED: t("The app holds this entry already: nothing changed"),
                ImportOutcome.UNTICKED: t("Not imported: unticked"),
                ImportOutcome.SKIPPED: t("Not imported: the app keeps its own entry")}[result.outcome]
        shown = result.entry or result.existing
        details = [] if shown is None else [t("{label} ({algorithm}, {digits} digits, {period} s)", label=shown.label,
                                              algorithm=shown.algorithm, digits=shown.digits, period=shown.period)]
        details += [str(note) for note in (*result.adjustments, *result.warnings)]
        return said + (": " + "; ".join(details) if details else "")

    def _tap(self, entry_id: int) -> None:
        self.safe(lambda: self.tap(entry_id))()

    def _remove(self, entry_id: int) -> None:
        self.safe(lambda: self.device.remove(entry_id))()
        self.render()

    def render(self) -> None:
        app = self.device.app
        self.brand.value = f'<div class="tfs-app-brand">{html.escape(app.profile.name)}</div>'
        clock = self.texts("clock {offset:+g} s", offset=self.device.offset)
        self.info.value = (f'<div class="tfs-hint">{html.escape(self.device.name)} · {html.escape(app.profile.title)}'
                           f' · {html.escape(clock)}</div>')
        self.sync.disabled = not app.profile.corrects_clock
        self.automatic_time.value = self.device.automatic_time
        self.warning.value = "".join(message_html(w, "error") for w in self.device.warnings())
        ids = [entry.id for entry in app.entries]
        self.cards = {i: self.cards.get(i) or EntryCard(i, self._remove, self.texts, self._tap) for i in ids}
        self.entries.children = ([self.cards[i] for i in ids] if ids else
                                 [widgets.HTML(html_text("tfs-hint", self.texts("No entries yet: scan a QR code.")))])
        self.refresh()

    def refresh(self) -> None:
        """Called once a second by the ticker: the code and the countdown of every entry."""
        local = self.device.now()
        for entry_id, card in list(self.cards.items()):
            try:
                reading = self.device.app.reading(entry_id, local)
            except AppStopped as stopped:
                entry = self.device.app.entry(entry_id)
                card.stopped(entry.issuer, entry.account, str(stopped))
                continue
            card.show(reading.issuer, reading.account, reading.code, reading.seconds_left, reading.fraction_left,
                      reading.shown)

    def __repr__(self) -> str:
        return f"AuthenticatorView({self.device.app.profile.title}, {len(self.device.app.entries)} entries)"
