"""The back office's login mask and its second window (QR and secret, or the code field alone).

As in the article, the second window opens over the login mask after a correct password: a
dialog with its own title bar, holding the QR code, the key as text and the code field. The
username and password stay visible (dimmed) beneath it, so a trainer can point at both.
"""

from __future__ import annotations

import html
import io
from typing import Callable

import ipywidgets as widgets
from PIL import Image, ImageDraw, ImageFont

from ..login.backoffice import BackOffice
from ..login.flow import FlowEvent
from ..login.attempt import LoginAttempt, StepResult
from .common import SafeCallbacks, html_text, message_html, style_sheet
from .i18n import Texts

_DONE_EVENTS = {FlowEvent.LOG_OUT: LoginAttempt.log_out, FlowEvent.START_OVER: LoginAttempt.start_over}


class LoginMask(widgets.VBox):
    """One login attempt at a time; each button is one event of the flow, the view follows the state."""

    def __init__(self, office: BackOffice, *, language: str = "en") -> None:
        self.office = office
        self.texts = t = Texts(language)
        self.attempt: LoginAttempt = office.start_login()
        self.last: StepResult | None = None
        self.safe = SafeCallbacks(self.show, t)
        self.message = widgets.HTML()
        self.message.add_class("tfs-login-message")

        self.username = widgets.Text(description=t("Username"), placeholder=t("Username"))
        self.username.add_class("tfs-login-username")
        self.password = widgets.Password(description=t("Password"), placeholder=t("Password"))
        self.password.add_class("tfs-login-password")
        self.login_button = widgets.Button(description=t("Log in"), button_style="primary", icon="sign-in",
                                           layout=widgets.Layout(width="auto"))
        self.login_button.add_class("tfs-login-submit")
        self.credentials = widgets.VBox([self.username, self.password, self.login_button])
        self.credentials.add_class("tfs-credentials")

        self.window_bar = widgets.HTML()
        self.title = widgets.HTML()
        self.qr = widgets.Image(format="png", layout=widgets.Layout(width="200px", height="200px"))
        self.qr.add_class("tfs-login-qr")
        self.secret_text = widgets.HTML()
        self.secret_text.add_class("tfs-login-secret")
        self.code = widgets.Text(description=t("Code"), placeholder=t("{digits}-digit code", digits=office.policy.digits),
                                 layout=widgets.Layout(width="230px"))
        self.code.add_class("tfs-login-code")
        self.code_button = widgets.Button(description=t("Verify"), button_style="primary", icon="check", layout=widgets.Layout(width="auto"))
        self.code_button.add_class("tfs-login-verify")
        self.recovery = widgets.Text(description=t("Recovery"), placeholder="xxxx-xxxx-xxxx-xxxx",
                                     layout=widgets.Layout(width="230px"))
        self.recovery.add_class("tfs-login-recovery")
        self.recovery_button = widgets.Button(description=t("Use recovery code"), icon="key", layout=widgets.Layout(width="auto"))
        self.recovery_button.add_class("tfs-login-use-recovery")
        self.countdown = widgets.HTML()
        self.second_window = widgets.VBox([])
        self.second_window.add_class("tfs-second-window")
        self.second_window.layout.display = "none"

        self.done_button = widgets.Button(description=t("Log out"), icon="sign-out", layout=widgets.Layout(width="auto"))
        self.done_button.add_class("tfs-login-restart")

        # asked before each button's step: the trainee page signs its trainee out instead once the class has ended
        self.may_step: Callable[[], bool] = lambda: True
        self.login_button.on_click(self.safe(lambda _: self.may_step() and self.submit_password()))
        self.code_button.on_click(self.safe(lambda _: self.may_step() and self.submit_code()))
        self.recovery_button.on_click(self.safe(lambda _: self.may_step() and self.submit_recovery_code()))
        self.done_button.on_click(self.safe(lambda _: self.may_step() and self.restart()))

        brand = t("{issuer} backend · Login", issuer=office.policy.issuer)
        header = widgets.HTML(f'<div class="tfs-brand">{html.escape(brand)}</div>')
        self._style, self._header = style_sheet(), header
        super().__init__([])
        self.add_class("tfs-card")
        self.add_class("tfs-login")
        self.render()

    # -- actions: one flow event each ----------------------------------------------------------------

    def submit_password(self) -> StepResult:
        result = self.attempt.submit_password(self.username.value, self.password.value)
        self.password.value = ""
        return self._after(result)

    def submit_code(self) -> StepResult:
        result = self.attempt.submit_code(self.code.value)
        self.code.value = ""
        return self._after(result)

    def submit_recovery_code(self) -> StepResult:
        result = self.attempt.submit_recovery_code(self.recovery.value)
        self.recovery.value = ""
        return self._after(result)

    def restart(self) -> StepResult:
        """Log out or start over: whichever of the two the flow offers now."""
        event = next(e for e in self.attempt.allowed_events if e in _DONE_EVENTS)
        return self._after(_DONE_EVENTS[event](self.attempt))

    def leave(self) -> StepResult | None:
        """Log out or start over; in the middle of a step, which offers neither, a new attempt
        instead (nothing of the old one stays on the page; its open prompt lapses by itself)."""
        if any(event in _DONE_EVENTS for event in self.attempt.allowed_events):
            return self.restart()
        self.attempt, self.last = self.office.start_login(), None
        self.qr.value, self.secret_text.value, self.code.value, self.recovery.value = b"", "", "", ""
        self.show("")
        self.render()
        return None

    def refresh(self) -> None:
        """Called by the ticker: lets time pass for an open prompt, updates the countdown.

        The flow is asked only once the prompt's time is up: before that, time passing keeps the
        prompt open and changes nothing, and on a shared database each ask is a write transaction
        (a class of 30 with the QR open would write 30 times a second for nothing)."""
        if FlowEvent.TIME_PASSES in self.attempt.allowed_events and self.attempt.seconds_left() == 0:
            before = self.attempt.state
            result = self.attempt.poll()
            if result.state is not before:
                self._after(result)
                return
        self._render_countdown()

    # -- rendering -------------------------------------------------------------------------------------

    def _after(self, result: StepResult) -> StepResult:
        self.last = result
        # The second window's title says the prompt's instruction; the same words below it would be said twice.
        said_by_window = result.message_key == self.attempt.flow.facts_of(result.state).instruction
        self.show("" if said_by_window else self.texts.say(result.message_key, **dict(result.message_fields)),
                  self.attempt.flow.outcome_facts(result.outcome).tone)
        self.render()
        return result

    def show(self, text: str, kind: str = "info") -> None:
        self.message.value = message_html(text, kind)

    @property
    def dialog_open(self) -> bool:
        """The second window is open: the QR prompt, or the code prompt of a later login."""
        return self.attempt.flow.facts_of(self.attempt.state).prompt_open

    def render(self) -> None:
        t = self.texts
        state, allowed = self.attempt.state, self.attempt.allowed_events
        facts = self.attempt.flow.facts_of(state)
        done = [event for event in allowed if event in _DONE_EVENTS]
        self.credentials.layout.display = "none" if done else None
        for field in (self.username, self.password, self.login_button):
            field.disabled = FlowEvent.SUBMIT_PASSWORD not in allowed
        self.done_button.layout.display = None if done else "none"
        self.done_button.description = t("Log out") if FlowEvent.LOG_OUT in done else t("Start again")
        window = t("Second window")
        inputs = [widgets.HBox([self.code, self.code_button])] if FlowEvent.SUBMIT_CODE in allowed else []
        if FlowEvent.SUBMIT_RECOVERY_CODE in allowed:
            inputs.append(widgets.HBox([self.recovery, self.recovery_button]))
        if facts.shows_qr and self.attempt.screen is not None:
            screen = self.attempt.screen
            purpose = t("Set up two-factor authentication")
            self.window_bar.value = html_text("tfs-window-bar", f"{window} · {purpose}")
            self.title.value = html_text("tfs-hint", t.say(facts.instruction))
            buffer = io.BytesIO()
            screen.qr_image(box_size=5).save(buffer, format="PNG")
            self.qr.value = buffer.getvalue()
            self.secret_text.value = (html_text("tfs-hint", t("Or enter this key by hand:"))
                                      + html_text("tfs-secret", screen.secret_for_typing))
            self.second_window.children = [self.window_bar, self.title, self.qr, self.secret_text, *inputs,
                                           self.message, self.countdown]
        elif facts.prompt_open:
            purpose = t("Two-factor authentication")
            self.window_bar.value = html_text("tfs-window-bar", f"{window} · {purpose}")
            self.title.value = html_text("tfs-hint", t.say(facts.instruction))
            self.second_window.children = [self.window_bar, self.title, *inputs, self.message, self.countdown]
        else:
            self.second_window.children = []
        # the message sits in the second window while it is open, under the mask otherwise
        below = [] if self.dialog_open else [self.message]
        self.children = [self._style, self._header, self.credentials, self.second_window, *below,
                         self.done_button, self.safe.errors]
        self.second_window.layout.display = None if self.dialog_open else "none"
        if self.dialog_open:
            self.add_class("tfs-dialog-open")
        else:
            self.remove_class("tfs-dialog-open")
        self._render_countdown()

    def _render_countdown(self) -> None:
        left = self.attempt.seconds_left()
        self.countdown.value = ("" if left is None else '<div class="tfs-hint">' + html.escape(self.texts(
            "This step closes in {minutes}:{seconds:02d}.", minutes=int(left) // 60, seconds=int(left) % 60)) + "</div>")

    def screen_image(self) -> Image.Image:
        """What the login mask shows right now, as pixels (what a browser add-on captures of the tab)."""
        if self.attempt.flow.facts_of(self.attempt.state).shows_qr and self.attempt.screen is not None:
            return self.attempt.screen.page_image()
        page = Image.new("RGB", (640, 320), "#f4f5f7")
        draw = ImageDraw.Draw(page)
        draw.rectangle([20, 20, 620, 300], fill="white", outline="#c9ccd1")
        title = self.attempt.flow.facts_of(self.attempt.state).page_title
        draw.text((40, 40), f"{self.office.policy.issuer} backend · {title}", fill="#1f2933",
                  font=ImageFont.load_default(size=18))
        return page

    def __repr__(self) -> str:
        return f"LoginMask(state={self.attempt.state.value!r})"
