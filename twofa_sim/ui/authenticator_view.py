"""The authenticator app on a device: entries with a large code and a countdown bar, a scan
button that captures what the login mask shows right now and decodes it from pixels, manual key
entry, the device's clock offset and the app profile."""

from __future__ import annotations

import html
import math
from typing import Callable

import ipywidgets as widgets
from PIL import Image

from ..apps.profiles import PROFILES
from ..apps.authenticator import Choice, ImportOutcome, ImportResult, Question
from ..apps.device import Device
from ..core.errors import NotFoundError
from .common import SafeCallbacks, html_text, message_html, style_sheet
from .i18n import Texts


class EntryCard(widgets.VBox):
    """One entry: issuer, account, the current code in large type, and the time left as a bar."""

    def __init__(self, entry_id: int, on_remove: Callable[[int], None], texts: Texts | None = None) -> None:
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
        super().__init__([self.label, self.code, widgets.HBox([self.bar, self.seconds, self.remove])])
        self.add_class("tfs-entry")

    def show(self, issuer: str, account: str, code: str, seconds_left: float, fraction_left: float) -> None:
        no_issuer = self.texts("(no issuer)")
        self.label.value = html_text("tfs-issuer", issuer or no_issuer) + html_text("tfs-account", account)
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
                        for choice, label in ((Choice.REPLACE, "Replace"), (Choice.KEEP_BOTH, "Keep both"),
                                              (Choice.ADD_ANYWAY, "Add anyway"), (Choice.CANCEL, "Cancel"))}
        self.replace, self.keep_both, self.cancel = (self.answers[c] for c in (Choice.REPLACE, Choice.KEEP_BOTH,
                                                                               Choice.CANCEL))
        self.add_anyway = self.answers[Choice.ADD_ANYWAY]
        self.question = widgets.HBox(list(self.answers.values()))
        self.question.layout.display = "none"
        self._pending: ImportResult | None = None

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

        self.scan_button.on_click(self.safe(lambda _: self.scan()))
        for choice, button in self.answers.items():
            button.on_click(self.safe(lambda _, choice=choice: self.answer(choice)))
        self.manual_button.on_click(self.safe(lambda _: self.add_key()))
        self.offset.observe(self.safe(lambda change: self.set_offset(change["new"])), "value")
        self.sync.on_click(self.safe(lambda _: self.sync_clock()))
        self.profile.observe(self.safe(lambda change: self.install(change["new"])), "value")

        settings = widgets.VBox([widgets.HTML(html_text("tfs-hint", t("Device and app"))),
                                 self.profile, widgets.HBox([self.offset, self.sync]),
                                 widgets.HBox([self.manual_account, self.manual_key, self.manual_button])])
        super().__init__([style_sheet(), self.brand, self.info, self.entries, self.scan_button, self.question, self.message,
                          settings, self.safe.errors])
        self.add_class("tfs-card")
        self.add_class("tfs-app")
        self.render()

    # -- actions ---------------------------------------------------------------------------------------

    def scan(self) -> ImportResult:
        result = self.device.scan(self.capture())
        self._after_import(result)
        return result

    def answer(self, choice: Choice) -> ImportResult:
        if self._pending is None:  # a second click on an answer that was already given
            raise NotFoundError("no question about a duplicate is open: scan the QR code again")
        result = self.device.confirm(self._pending, choice)
        self._pending = None
        self._after_import(result)
        return result

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
        self.show(self.texts.message(correction.reason), "ok" if correction.applied else "error")
        self.render()

    def install(self, key: str) -> None:
        """Another app on the same device: entries of the old app do not carry over."""
        old = self.device
        if key == old.app.profile.key:
            return
        self.device = Device(old.name, old.owner, old.reference, offset=old.offset, app=key, events=old.events,
                             company=old.company)
        self._pending = None
        self.show(self.texts("{app} installed; scan the QR code again to add entries.", app=self.device.app.profile.title),
                  "info")
        self.render()

    # -- rendering ---------------------------------------------------------------------------------------

    def show(self, text: str, kind: str = "info") -> None:
        self.message.value = message_html(text, kind)

    def _after_import(self, result: ImportResult) -> None:
        self._pending = result if result.needs_confirmation else None
        self.question.layout.display = None if self._pending else "none"
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
                ImportOutcome.NEEDS_CONFIRMATION: (t("Token is unsafe! Add it anyway, or cancel?")
                                                   if result.question is Question.UNSAFE else
                                                   t("The app holds this entry already: replace it, keep both, or cancel?")),
                ImportOutcome.CANCELLED: t("Cancelled: nothing changed")}[result.outcome]
        shown = result.entry or result.existing
        details = [] if shown is None else [t("{label} ({algorithm}, {digits} digits, {period} s)", label=shown.label,
                                              algorithm=shown.algorithm, digits=shown.digits, period=shown.period)]
        details += [t.message(str(note)) for note in (*result.adjustments, *result.warnings)]
        return said + (": " + "; ".join(details) if details else "")

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
        ids = [entry.id for entry in app.entries]
        self.cards = {i: self.cards.get(i) or EntryCard(i, self._remove, self.texts) for i in ids}
        self.entries.children = ([self.cards[i] for i in ids] if ids else
                                 [widgets.HTML(html_text("tfs-hint", self.texts("No entries yet: scan a QR code.")))])
        self.refresh()

    def refresh(self) -> None:
        """Called once a second by the ticker: the code and the countdown of every entry."""
        local = self.device.now()
        for entry_id, card in list(self.cards.items()):
            reading = self.device.app.reading(entry_id, local)
            card.show(reading.issuer, reading.account, reading.code, reading.seconds_left, reading.fraction_left)

    def __repr__(self) -> str:
        return f"AuthenticatorView({self.device.app.profile.title}, {len(self.device.app.entries)} entries)"
