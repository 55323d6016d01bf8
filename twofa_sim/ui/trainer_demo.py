"""The trainer's one screen: clock on top, login mask and app side by side, the admin to the
right, the event log below; codes rotate live once a second without blocking the kernel."""

from __future__ import annotations

import os
from urllib.parse import parse_qs

import ipywidgets as widgets

from ..login.backoffice import BackOffice
from ..login.user import check_username
from ..core.clock import Clock
from ..apps.device import Device
from ..core.policy import Policy
from ..core.secret_source import SeededSecretSource, SystemSecretSource
from .admin_panel import AdminPanel
from .authenticator_view import AuthenticatorView
from .clock_control import ClockControl
from .common import Ticker, html_text, style_sheet
from .event_log_view import EventLogView
from .i18n import LANGUAGES, Texts
from .login_mask import LoginMask


class TrainerDemo(widgets.VBox):
    """Everything a class needs to see, wired to one back office and one device.

    ``language`` is ``"en"`` (the default) or ``"de"``; every card, button and message follows it.
    """

    def __init__(self, office: BackOffice, device: Device, *, live: bool = True, language: str = "en") -> None:
        self.office = office
        self.language = language
        self.texts = t = Texts(language)
        self.clock = ClockControl(office.clock, period=lambda: office.policy.period, events=office.events,
                                  language=language)
        self.admin = AdminPanel(office, compact=True, language=language)
        self.login = LoginMask(office, language=language)
        self.app = AuthenticatorView(device, capture=self.login.screen_image, language=language)
        self.event_log = EventLogView(office.events, rows=10, language=language)
        self.ticker = Ticker()
        # the admin panel too: a lock that runs out changes what it shows without any event
        for view in (self.clock, self.login, self.app, self.admin):
            self.ticker.add(view.refresh)
        self.clock.on_change(self.login.refresh)
        self.clock.on_change(self.app.refresh)
        self.clock.on_change(self.admin.refresh)
        title = widgets.HTML(html_text("tfs-header tfs-title", t("Two-factor login · trainer demo")))
        cards = widgets.HBox([self.login, self.app, self.admin])
        cards.add_class("tfs-cards")
        super().__init__([style_sheet(), widgets.HBox([title, self.clock]), cards, self.event_log])
        self.add_class("tfs-trainer-demo")
        self.add_class("tfs-root")
        if live:
            self.go_live()

    @classmethod
    def standard(cls, *, seed: int = 7, start: str = "2026-01-05T09:00:00Z", live: bool = True,
                 app: str = "authenticator-addon", owner: str = "alice", language: str = "en",
                 real_time: bool = False) -> "TrainerDemo":
        """The demo a trainer opens: one company, the user ``owner`` not yet created (the class
        watches the admin create her), her device with the article's app.

        The clock is pinned at ``start`` (the story's time, the same codes every run); with
        ``real_time`` it is the real time (UTC) and secrets come from :mod:`secrets`, so a real
        authenticator app can scan the QR code and its code signs in.
        """
        clock = Clock.real_time() if real_time else Clock.at(start)
        secrets_from = SystemSecretSource() if real_time else SeededSecretSource(seed)
        office = BackOffice(policy=Policy(), clock=clock, secret_source=secrets_from)
        office.create_company("ACME Publishing")
        device = Device(Texts(language)("{owner}'s browser", owner=owner), owner, office.clock, app=app,
                        events=office.events, company="ACME Publishing")
        return cls(office, device, live=live, language=language)

    @classmethod
    def for_page(cls, query: str | None = None, **options) -> "TrainerDemo":
        """The standard demo in the language the page address asks for (``?lang=de``); Voila
        hands the address's query to the kernel as ``QUERY_STRING``. English otherwise.
        ``?clock=real`` runs the demo on the real time (see :meth:`standard`); ``?user=bob`` names
        the browser after the user the trainer demonstrates with ("bob's browser")."""
        query = os.environ.get("QUERY_STRING", "") if query is None else query
        asked = parse_qs(query)
        language = asked.get("lang", ["en"])[-1]
        real_time = asked.get("clock", [""])[-1] == "real"
        chosen = {"owner": check_username(asked["user"][-1])} if asked.get("user") else {}
        return cls.standard(language=language if language in LANGUAGES else "en",
                            **({"real_time": True} if real_time else {}) | chosen | options)

    def go_live(self) -> None:
        """Let time run from the current instant and start the one-second ticker."""
        self.clock.live.value = True
        self.ticker.start()

    def pause(self) -> None:
        self.clock.live.value = False
        self.ticker.stop()

    def __repr__(self) -> str:
        return f"TrainerDemo({'live' if self.ticker.running else 'paused'}, login {self.login.attempt.state.name})"
