"""The back office's login mask and its second window (QR and secret, or the code field alone)."""

from __future__ import annotations

import html
import io

import ipywidgets as widgets
from PIL import Image, ImageDraw, ImageFont

from ..backoffice import BackOffice
from ..flow import FlowEvent, Outcome, State
from ..login import LoginAttempt, StepResult
from .common import SafeCallbacks, message_html

_KIND = {Outcome.ACCEPTED: "ok", Outcome.NO_2FA_NEEDED: "ok", Outcome.NEEDS_ENROLMENT: "info",
         Outcome.NEEDS_CODE: "info", Outcome.STILL_OPEN: "info", Outcome.DONE: "info"}


class LoginMask(widgets.VBox):
    """One login attempt at a time; each button is one event of the flow, the view follows the state."""

    def __init__(self, office: BackOffice) -> None:
        self.office = office
        self.attempt: LoginAttempt = office.start_login()
        self.last: StepResult | None = None
        self.safe = SafeCallbacks(self.show)
        self.message = widgets.HTML()
        self.message.add_class("tfs-login-message")

        self.username = widgets.Text(description="Username", placeholder="Username")
        self.username.add_class("tfs-login-username")
        self.password = widgets.Password(description="Password", placeholder="Password")
        self.password.add_class("tfs-login-password")
        self.login_button = widgets.Button(description="Log in", button_style="primary", icon="sign-in")
        self.login_button.add_class("tfs-login-submit")
        self.credentials = widgets.VBox([self.username, self.password, self.login_button])

        self.title = widgets.HTML()
        self.qr = widgets.Image(format="png", layout=widgets.Layout(width="220px", height="220px"))
        self.qr.add_class("tfs-login-qr")
        self.secret_text = widgets.HTML()
        self.secret_text.add_class("tfs-login-secret")
        self.code = widgets.Text(description="Code", placeholder=f"{office.policy.digits}-digit code")
        self.code.add_class("tfs-login-code")
        self.code_button = widgets.Button(description="Verify", button_style="primary", icon="check")
        self.code_button.add_class("tfs-login-verify")
        self.recovery = widgets.Text(description="Recovery", placeholder="xxxx-xxxx-xxxx-xxxx")
        self.recovery.add_class("tfs-login-recovery")
        self.recovery_button = widgets.Button(description="Use recovery code", icon="key")
        self.recovery_button.add_class("tfs-login-use-recovery")
        self.countdown = widgets.HTML()
        self.second_window = widgets.VBox([])
        self.second_window.add_class("tfs-second-window")

        self.done_button = widgets.Button(description="Log out", icon="sign-out")
        self.done_button.add_class("tfs-login-restart")

        self.login_button.on_click(self.safe(lambda _: self.submit_password()))
        self.code_button.on_click(self.safe(lambda _: self.submit_code()))
        self.recovery_button.on_click(self.safe(lambda _: self.submit_recovery_code()))
        self.done_button.on_click(self.safe(lambda _: self.restart()))

        header = widgets.HTML(f'<div class="tfs-brand">{html.escape(office.policy.issuer)} backend · Login</div>')
        super().__init__([header, self.credentials, self.second_window, self.message, self.done_button,
                          self.safe.errors])
        self.add_class("tfs-card")
        self.add_class("tfs-login")
        self.layout.width = "440px"
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
        event = FlowEvent.LOG_OUT if self.attempt.state is State.AUTHENTICATED else FlowEvent.START_OVER
        result = self.attempt.log_out() if event is FlowEvent.LOG_OUT else self.attempt.start_over()
        return self._after(result)

    def refresh(self) -> None:
        """Called by the ticker: lets time pass for an open step, updates the countdown."""
        if FlowEvent.TIME_PASSES in self.attempt.allowed_events:
            result = self.attempt.poll()
            if result.outcome is Outcome.TIMED_OUT:
                self._after(result)
                return
        self._render_countdown()

    # -- rendering -------------------------------------------------------------------------------------

    def _after(self, result: StepResult) -> StepResult:
        self.last = result
        self.show(result.message, _KIND.get(result.outcome, "error"))
        self.render()
        return result

    def show(self, text: str, kind: str = "info") -> None:
        self.message.value = message_html(text, kind)

    def render(self) -> None:
        state = self.attempt.state
        self.credentials.layout.display = None if state is State.CREDENTIALS else "none"
        self.done_button.layout.display = "none" if state in (State.CREDENTIALS, State.ENROLMENT,
                                                               State.CODE_REQUIRED) else None
        self.done_button.description = "Log out" if state is State.AUTHENTICATED else "Start again"
        if state is State.ENROLMENT and self.attempt.screen is not None:
            screen = self.attempt.screen
            self.title.value = ('<div class="tfs-header">Set up two-factor authentication</div>'
                                '<div class="tfs-hint">Scan this QR code with your authenticator app, '
                                'then type the code it shows.</div>')
            buffer = io.BytesIO()
            screen.qr_image(box_size=5).save(buffer, format="PNG")
            self.qr.value = buffer.getvalue()
            self.secret_text.value = ('<div class="tfs-hint">Or enter this key by hand:</div>'
                                      f'<div class="tfs-secret">{html.escape(screen.secret_for_typing)}</div>')
            self.second_window.children = [self.title, self.qr, self.secret_text,
                                           widgets.HBox([self.code, self.code_button]), self.countdown]
        elif state is State.CODE_REQUIRED:
            self.title.value = ('<div class="tfs-header">Two-factor authentication</div>'
                                '<div class="tfs-hint">Type the current code from your authenticator app.</div>')
            self.second_window.children = [self.title, widgets.HBox([self.code, self.code_button]),
                                           widgets.HBox([self.recovery, self.recovery_button]), self.countdown]
        else:
            self.second_window.children = []
        self._render_countdown()

    def _render_countdown(self) -> None:
        left = self.attempt.seconds_left()
        self.countdown.value = ("" if left is None else
                                f'<div class="tfs-hint">This step closes in {int(left) // 60}:{int(left) % 60:02d}.</div>')

    def screen_image(self) -> Image.Image:
        """What the login mask shows right now, as pixels (what a browser add-on captures of the tab)."""
        if self.attempt.state is State.ENROLMENT and self.attempt.screen is not None:
            return self.attempt.screen.page_image()
        page = Image.new("RGB", (640, 320), "#f4f5f7")
        draw = ImageDraw.Draw(page)
        draw.rectangle([20, 20, 620, 300], fill="white", outline="#c9ccd1")
        title = {State.CODE_REQUIRED: "Two-factor authentication: type the code",
                 State.AUTHENTICATED: "Welcome to the back office"}.get(self.attempt.state, "Login")
        draw.text((40, 40), f"{self.office.policy.issuer} backend · {title}", fill="#1f2933",
                  font=ImageFont.load_default(size=18))
        return page

    def __repr__(self) -> str:
        return f"LoginMask(state={self.attempt.state.value!r})"
