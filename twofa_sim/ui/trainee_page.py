"""A trainee's page in class mode: the back office's login mask alone, against the class's shared
back office, on the real time. The trainee scans the QR code with the authenticator app on their
own phone; a trainee without one opens the simulated app beside the mask; a trainee with only a
phone taps the ``otpauth://`` link the page offers on a narrow screen.

The page holds no one else's data: no admin panel, no event log, no password; the only secret it
ever shows is the QR code (and its link and key) of the trainee who has just typed their own
password. Beside the mask it explains what the login's messages mean, from the step's facts (the
reason a code was refused, the failures counted against the policy's limit, the step the accepted
code matched): the login's own messages stay what the back office says.
"""

from __future__ import annotations

import html
import os
from urllib.parse import parse_qs

import ipywidgets as widgets

from ..apps.device import Device
from ..apps.comparisons import apps_opening_links
from ..apps.qr import group_secret
from ..classroom.course import class_ended, open_class
from ..core.clock import iso
from ..core.errors import TwofaSimError
from ..core.events import EventLog
from ..core.otp import step_of
from ..login.attempt import StepResult
from ..login.backoffice import BackOffice
from ..login.flow import Outcome, Reason, State
from .authenticator_view import AuthenticatorView
from .common import SafeCallbacks, Ticker, html_text, message_html, problem_page, style_sheet
from .i18n import LANGUAGES, Texts
from .login_mask import LoginMask

PAGE_STYLE = """
<style>
.tfs-trainee-phone { display: none !important; }
@media (max-width: 600px) {
  .tfs-trainee-phone.tfs-phone-ready { display: block !important; margin-bottom: 8px; }
}
.tfs-trainee-otpauth { display: inline-block; background: #1d4ed8; color: #fff !important; padding: 10px 14px;
                       border-radius: 8px; font-size: 16px; font-weight: 600; text-decoration: none; }
.tfs-trainee-key { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 14px; white-space: nowrap;
                   letter-spacing: 0; margin-top: 6px; }
.tfs-trainee-why .tfs-message { margin-top: 4px; }
</style>
"""


def language_asked(query: str | None = None) -> str:
    """The language the page's address asks for (``?lang=de``; the request's ``QUERY_STRING``
    when no query is given), English when it asks for none we have."""
    query = os.environ.get("QUERY_STRING", "") if query is None else query
    asked = parse_qs(query).get("lang", ["en"])[-1]
    return asked if asked in LANGUAGES else "en"


def close_tree(page: widgets.Widget) -> None:
    """Closes ``page`` and every widget it holds (its children, their layouts and styles, and the
    widgets its attributes keep that are not shown yet), so that no state of it reaches a browser."""
    if isinstance(page, TraineePage):
        page.ticker.stop()
    stack, seen = [page], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        values = [getattr(item, name, None) for name in item.keys] + list(vars(item).values())
        for value in values:
            for one in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(one, widgets.Widget):
                    stack.append(one)
        item.close()


class TraineePage(widgets.VBox):
    """The login mask, the real time, what the last step meant, and (on request) the simulated app."""

    def __init__(self, office: BackOffice, *, live: bool = True, language: str = "en") -> None:
        self.ticker = Ticker()  # first: close() (also from __del__) stops it even if building the page fails
        self.office = office
        self.language = language
        self.texts = t = Texts(language)
        self.login = LoginMask(office, language=language)
        self.app: AuthenticatorView | None = None
        self.message = widgets.HTML()
        self.message.add_class("tfs-trainee-message")
        self.why = widgets.HTML()
        self.why.add_class("tfs-trainee-why")
        self.phone = widgets.HTML()
        self.phone.add_class("tfs-trainee-phone")
        self.safe = SafeCallbacks(self.show, t)
        self._password_seen: tuple[str, object] | None = None  # (username, password hash) once past the password
        self.login.may_step = self.still_open
        self.time = widgets.HTML()
        self.time.add_class("tfs-trainee-time")
        self.no_app = widgets.Button(description=t("No app on your phone? Use the simulated app"), icon="mobile",
                                     layout=widgets.Layout(width="auto"))
        self.no_app.add_class("tfs-trainee-no-app")
        self.no_app.on_click(self.safe(lambda _: self.open_simulated_app()))
        # after the mask's own handler: explain the step it has just taken
        for button in (self.login.login_button, self.login.code_button, self.login.recovery_button,
                       self.login.done_button):
            button.on_click(self.safe(lambda _: self.explain(self.login.last)))
        title = widgets.HTML(html_text("tfs-header tfs-title", t("Two-factor login · class")))
        steps = widgets.HTML(html_text("tfs-hint", t(
            "Log in with the username and password your trainer gave you. The first time, a second window shows a "
            "QR code: scan it with the authenticator app on your phone, then type the code it shows. Later logins "
            "ask only for the app's current code.")))
        side = widgets.VBox([self.why, self.no_app, self.message, self.safe.errors])
        side.add_class("tfs-trainee-side")
        self.cards = widgets.HBox([self.login, side])
        self.cards.add_class("tfs-cards")
        super().__init__([style_sheet(), widgets.HTML(PAGE_STYLE), widgets.HBox([title, self.time]), steps,
                          self.phone, self.cards])
        self.add_class("tfs-trainee-page")
        self.add_class("tfs-root")
        self.say_if_not_started()
        self.ticker.add(self.refresh)
        self.refresh()
        if live:
            self.ticker.start()

    def say_if_not_started(self) -> None:
        if not self.office.companies:  # a cheap look: no log is read for it
            self.show(self.texts("The class has not started yet: wait until your trainer has created it, then "
                                 "reload this page."), "info")
        else:
            self.message.value = ""

    @classmethod
    def for_page(cls, query: str | None = None, *, db_url: str | None = None,
                 **options) -> "TraineePage | widgets.HTML":
        """The page as Voila serves it: the class's back office (:func:`open_class`) and the
        language the address asks for (``?lang=de``)."""
        language = language_asked(query)
        try:  # the database named in words, never a traceback on the page (building it reads the store too)
            return cls(open_class(db_url), language=language, **options)
        except TwofaSimError as error:
            return problem_page(Texts(language), error)

    @classmethod
    def for_request(cls, warm: "TraineePage | widgets.HTML", query: str | None = None, *,
                    db_url: str | None = None) -> "TraineePage | widgets.HTML":
        """The page for a request, from ``warm``, the page a warm kernel of the class server built
        (:meth:`for_page` without a query, ``live=False``) before its request came: a class
        arriving at once then costs each kernel only this. ``warm`` itself when it is in the
        language the address asks for; otherwise a page in that language on ``warm``'s back office
        (no second opening of the database), ``warm``'s widgets closed; a page that could not be
        built (the class's database not created yet) is built again now. It starts ticking."""
        language = language_asked(query)
        if isinstance(warm, TraineePage) and warm.language == language:
            page = warm
        else:
            office = warm.office if isinstance(warm, TraineePage) else None
            close_tree(warm)
            try:
                page = cls(office, language=language, live=False) if office else cls.for_page(query, db_url=db_url,
                                                                                                live=False)
            except TwofaSimError as error:
                page = problem_page(Texts(language), error)
        if isinstance(page, TraineePage):
            page.safe(lambda: page.say_if_not_started())()  # the class may have started while the kernel waited
            page.refresh()
            page.ticker.start()
        return page

    def show(self, text: str, kind: str = "info") -> None:
        self.message.value = message_html(text, kind)

    def open_simulated_app(self) -> AuthenticatorView:
        """The article's app beside the mask, on this page only: its entries and its log stay here."""
        if self.app is None:
            device = Device(self.texts("Simulated phone"), "trainee", self.office.clock, app="authenticator-addon",
                            events=EventLog())
            self.app = AuthenticatorView(device, capture=self.login.screen_image, language=self.language)
            self.cards.children = [self.login, self.app]
            self.ticker.add(self.app.refresh)
        return self.app

    # -- what the last step meant ---------------------------------------------------------------------

    def explain(self, result: StepResult | None) -> None:
        """Beside the login's own message: why a code was refused, how many tries are left before
        the lock, how the server saw the phone's clock once a code was accepted."""
        if not self.still_open():
            return
        self.render_phone()
        if result is None:
            self.why.value = ""
            return
        lines = self._reasons(result)
        self.why.value = "".join(message_html(text, kind) for text, kind in lines)

    def _reasons(self, result: StepResult) -> list[tuple[str, str]]:
        t, policy = self.texts, self.office.policy
        if result.outcome is Outcome.BAD_CREDENTIALS:
            return self._class_closed()
        if result.outcome is Outcome.DONE and result.state is State.CREDENTIALS:  # logged out: about to log in again
            return [(t("Logging in again? Wait for the next code in your app: the one you used last works only "
                       "once."), "info")]
        why = {
            Reason.WRONG_CODE: t("Why was my code refused? It is none of the codes the server accepts now (the "
                                 "current one and its neighbours). Use the newest entry in your app, and check that "
                                 "your phone sets its time automatically: compare it with the server time above."),
            Reason.REPLAY: t("Why was my code refused? Each code works only once, and this one was used already. "
                             "Wait for the next code (a new one every {period} s) and type that.",
                             period=policy.period),
            Reason.CLOCK_BEHIND: t("Why was my code refused? The server's clock is behind the last code you used; "
                                   "ask your trainer."),
            Reason.MALFORMED: t("A code is the {digits} digits your app shows; this does not count as a wrong code.",
                                digits=policy.digits),
        }.get(result.reason)
        lines = [(why, "info")] if why else []
        if result.outcome is Outcome.REJECTED and result.reason is not Reason.MALFORMED:
            left = policy.failed_code_limit - self._failures()
            lines.append((t("{left} tries left before a {minutes}-minute lockout.", left=left,
                            minutes=policy.lockout_seconds // 60), "error"))
        elif result.outcome in (Outcome.LOCKS_OUT, Outcome.IS_LOCKED_OUT):
            lines.append((t("Your trainer can unlock you at once."), "info"))
        elif result.outcome is Outcome.ACCEPTED and result.state is State.AUTHENTICATED and result.time_step is not None:
            offset = result.time_step - step_of(self.office.clock.now(), policy.period)
            lines.append((self.phone_clock(offset), "ok"))
            lines.append((t("Logging out to try again? Wait for the next code: the one you just used works only "
                            "once."), "info"))
        return lines

    def _class_closed(self) -> list[tuple[str, str]]:
        t = self.texts
        companies = self.office.companies
        if not companies:
            return [(t("The class has not started yet: wait until your trainer has created it."), "info")]
        if class_ended(self.office, companies[-1].name):
            return [(t("The class has ended: logins are closed."), "info")]
        return [(t("Type the password exactly as on your slip, dashes included."), "info")]

    def still_open(self) -> bool:
        """Before each step, after it and once a second: a trainee past the password whose class has
        ended is signed out with the words that logins are closed. Ending the class replaces every
        password, so the page watches its own trainee's password hash (one row) and reads the log
        only once it changed; a new password from the trainer alone signs no one out."""
        attempt = self.login.attempt
        if attempt.state is State.CREDENTIALS or attempt.username is None:
            self._password_seen = None
            return True
        user = self.office.find_user(attempt.username)
        seen = (attempt.username, None if user is None else user.password_hash)
        if self._password_seen is None or self._password_seen[0] != seen[0]:
            self._password_seen = seen  # just past the password: the hash it was checked against
            return True
        if seen == self._password_seen:
            return True
        self._password_seen = seen
        if user is not None and not class_ended(self.office, user.company):
            return True
        self.login.leave()
        self.login.last = None
        self.login.show(self.texts("The class has ended: logins are closed."), "info")
        self.why.value = ""
        self.render_phone()
        return False

    def _failures(self) -> int:
        user = self.office.find_user(self.login.attempt.username or "")
        return user.enrolment.failures_at(self.office.clock.now()) if user is not None else 0

    def phone_clock(self, offset: int) -> str:
        t, period = self.texts, self.office.policy.period
        if offset == 0:
            return t("Your phone's clock, as the server saw your code: on time.")
        side = t("behind") if offset < 0 else t("ahead")
        return t("Your phone's clock, as the server saw your code: about {seconds} s {side}.",
                 seconds=abs(offset) * period, side=side)

    def render_phone(self) -> None:
        """On a narrow screen, while the QR code shows: a link that opens the account in an app on
        this phone, and the key on one line in groups (the style sheet hides both on wide screens)."""
        screen = self.login.attempt.screen if self.login.attempt.state is State.ENROLMENT else None
        if screen is None:
            self.phone.value = ""
            self.phone.remove_class("tfs-phone-ready")
            return
        t = self.texts
        self.phone.value = (
            f'<a class="tfs-trainee-otpauth" href="{html.escape(screen.uri)}">'
            f'{html.escape(t("Only this phone? Tap to add the account to your authenticator app"))}</a>'
            + html_text("tfs-hint", self.link_hint())
            + html_text("tfs-trainee-key", group_secret(screen.secret)))
        self.phone.add_class("tfs-phone-ready")

    def link_hint(self) -> str:
        """Which apps a tapped link opens, named from the app profiles (their manifests register
        ``otpauth``), and what to do when none of them is on the phone."""
        t, apps = self.texts, apps_opening_links()
        listed = apps[0] if len(apps) == 1 else t("{some} and {last}", some=", ".join(apps[:-1]), last=apps[-1])
        return t("It opens in an authenticator app that takes otpauth:// links ({apps} do); if nothing opens, type "
                 "this key into your app by hand:", apps=listed)

    def refresh(self) -> None:
        """Once a second: the login mask's open step and the time, so a trainee can compare it
        with the phone's clock (a phone more than a step off shows codes the server refuses)."""
        self.still_open()
        self.login.refresh()
        if self.login.attempt.state is not State.ENROLMENT and self.phone.value:
            self.render_phone()  # the step closed by itself
        now = self.office.clock.now()
        self.time.value = (f"<span class='tfs-clock'><b>{html.escape(iso(now))} UTC</b></span> "
                           + html_text("tfs-hint", self.texts("server time"), "span"))

    def close(self) -> None:
        self.ticker.stop()
        super().close()

    def __repr__(self) -> str:
        app = ", simulated app" if self.app is not None else ""
        return f"TraineePage(login {self.login.attempt.state.name}{app})"
