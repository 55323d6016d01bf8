"""A trainee's page in class mode: the back office's login mask alone, against the class's shared
back office, on the real time. The trainee scans the QR code with the authenticator app on their
own phone; a trainee without one opens the simulated app beside the mask.

The page holds no one else's data: no admin panel, no event log, no password; the only secret it
ever shows is the QR code of the trainee who has just typed their own password.
"""

from __future__ import annotations

import html
import os
from urllib.parse import parse_qs

import ipywidgets as widgets

from ..apps.device import Device
from ..classroom.course import open_class
from ..core.clock import iso
from ..core.errors import TwofaSimError
from ..core.events import EventLog
from ..login.backoffice import BackOffice
from .authenticator_view import AuthenticatorView
from .common import SafeCallbacks, Ticker, html_text, message_html, problem_page, style_sheet
from .i18n import LANGUAGES, Texts
from .login_mask import LoginMask


class TraineePage(widgets.VBox):
    """The login mask, the real time, and (on request) the simulated app."""

    def __init__(self, office: BackOffice, *, live: bool = True, language: str = "en") -> None:
        self.ticker = Ticker()  # first: close() (also from __del__) stops it even if building the page fails
        self.office = office
        self.language = language
        self.texts = t = Texts(language)
        self.login = LoginMask(office, language=language)
        self.app: AuthenticatorView | None = None
        self.message = widgets.HTML()
        self.safe = SafeCallbacks(self.show, t)
        self.time = widgets.HTML()
        self.time.add_class("tfs-trainee-time")
        self.no_app = widgets.Button(description=t("No app on your phone? Use the simulated app"), icon="mobile",
                                     layout=widgets.Layout(width="auto"))
        self.no_app.add_class("tfs-trainee-no-app")
        self.no_app.on_click(self.safe(lambda _: self.open_simulated_app()))
        title = widgets.HTML(html_text("tfs-header tfs-title", t("Two-factor login · class")))
        steps = widgets.HTML(html_text("tfs-hint", t(
            "Log in with the username and password your trainer gave you. After the password a second "
            "window shows a QR code: scan it with the authenticator app on your phone, then type the code it shows.")))
        side = widgets.VBox([self.no_app, self.message, self.safe.errors])
        side.add_class("tfs-trainee-side")
        self.cards = widgets.HBox([self.login, side])
        self.cards.add_class("tfs-cards")
        super().__init__([style_sheet(), widgets.HBox([title, self.time]), steps, self.cards])
        self.add_class("tfs-trainee-page")
        self.add_class("tfs-root")
        self.ticker.add(self.refresh)
        self.refresh()
        if live:
            self.ticker.start()

    @classmethod
    def for_page(cls, query: str | None = None, *, db_url: str | None = None,
                 **options) -> "TraineePage | widgets.HTML":
        """The page as Voila serves it: the class's back office (:func:`open_class`) and the
        language the address asks for (``?lang=de``)."""
        query = os.environ.get("QUERY_STRING", "") if query is None else query
        asked = parse_qs(query).get("lang", ["en"])[-1]
        language = asked if asked in LANGUAGES else "en"
        try:  # the database named in words, never a traceback on the page (building it reads the store too)
            return cls(open_class(db_url), language=language, **options)
        except TwofaSimError as error:
            return problem_page(Texts(language), error)

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

    def refresh(self) -> None:
        """Once a second: the login mask's open step and the time, so a trainee can compare it
        with the phone's clock (a phone more than a step off shows codes the server refuses)."""
        self.login.refresh()
        now = self.office.clock.now()
        self.time.value = (f"<span class='tfs-clock'><b>{html.escape(iso(now))} UTC</b></span> "
                           + html_text("tfs-hint", self.texts("server time"), "span"))

    def close(self) -> None:
        self.ticker.stop()
        super().close()

    def __repr__(self) -> str:
        app = ", simulated app" if self.app is not None else ""
        return f"TraineePage(login {self.login.attempt.state.name}{app})"
