"""django-two-factor-auth (on django-otp) as a target, driven through Django's test client.

The adapter is a user with a browser and an admin with the site's own tools, nothing more: every
login goes through the real login wizard, setup wizard, QR view and backup-token step over the
site's URLs (:mod:`.django_project`), and the state and message of a step are read from the page
the site sends back (the wizard's current step, its error list, the back office's page). Each
decision about how a notion of the spec maps onto the target is a row of :data:`MAPPING`, with the
place in the target's source it rests on (django-two-factor-auth 1.18.1, django-otp 1.7.5, the
versions the ``peers`` extra installs). Where the target has no way to do what a step asks, the
adapter raises :class:`~.target.NotExpressible`; it never does something else instead.

Time: the scenario's clock is the only time. Every request and every admin action runs under
freezegun moved to that clock's "now", so django-otp's ``time.time()`` (TOTP), Django's
``timezone.now()`` (throttling) and the login wizard's timeout all read the scenario's time, as
the project's back office does.
"""

from __future__ import annotations

import asyncio
import html
import io
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from PIL import Image

from ..core.clock import Clock
from .target import ACCEPTED, DONE, REFUSED, NotExpressible, Observation, Screen

NAME = "django-two-factor-auth"

#: The releases the mapping below was read in (the ``peers`` extra pins them).
READ_AT = {"django-two-factor-auth": "1.18.1", "django-otp": "1.7.5"}
LOGIN_URL = "/account/login/?next=/backoffice/"
BACK_OFFICE_URL = "/backoffice/"
LOGOUT_URL = "/account/logout/"


@dataclass(frozen=True)
class Mapping:
    """One decision: the spec's notion, what it is on the target, and where the target's source says so."""

    notion: str
    on_target: str
    source: str


#: Every mapping decision, in the order a scenario meets them.
MAPPING: tuple[Mapping, ...] = (
    Mapping("\"Force 2 factor auth.\" ticked",
            "the site requires a verified second factor on the back office's page for every user "
            "(OTPRequiredMixin with verification_url at the setup wizard); a user without a device "
            "is sent to enrol",
            "two_factor/views/mixins.py OTPRequiredMixin.dispatch"),
    Mapping("\"Force 2 factor auth.\" not ticked, ticking or unticking it, the company setting",
            "not expressible: the target has no per-user or per-company flag, only the views a site "
            "protects; the user is created and, like everyone, must enrol",
            "two_factor/views/mixins.py; two_factor/utils.py default_device"),
    Mapping("companies",
            "a company whose setting is \"2FA for all\" is the site itself; any other is not expressible",
            "django.contrib.auth users belong to no company"),
    Mapping("policy knobs other than the defaults",
            "not expressible: the site runs django-two-factor-auth's and django-otp's defaults "
            "(tolerance 1, step 30 s, 6 digits, SHA1, throttle factor 1, login timeout 600 s)",
            "django_otp/plugins/otp_totp/models.py TOTPDevice; two_factor/forms.py TOTPDeviceForm"),
    Mapping("username and password",
            "the login wizard's auth step (POST to /account/login/); a user without a device is then "
            "sent to the setup wizard, whose welcome page the user confirms with \"Next\"",
            "two_factor/views/core.py LoginView.done, SetupView"),
    Mapping("the QR shown (ENROLMENT)",
            "the setup wizard's generator step; the QR is the PNG the QR view serves "
            "(TWO_FACTOR_QR_FACTORY = qrcode.image.pil.PilImage); 'page' and 'qr' both scan that "
            "image (a screenshot of the HTML page would need a browser) and a marked rectangle, "
            "drawn on the spec's page, is not applied",
            "two_factor/views/core.py QRGeneratorView; templates/two_factor/core/setup.html"),
    Mapping("the key as text", "the 'TOTP Secret' on the generator step",
            "templates/two_factor/core/setup.html"),
    Mapping("a code at enrolment",
            "the generator step's token field: checked by TOTPDeviceForm, with tolerance 1 and no "
            "throttle and no replay memory (no device exists yet)",
            "two_factor/forms.py TOTPDeviceForm.clean_token"),
    Mapping("a code at a later login (CODE_REQUIRED)",
            "the login wizard's token step: TOTPDevice.verify_token (throttle, window, last_t)",
            "django_otp/plugins/otp_totp/models.py TOTPDevice.verify_token"),
    Mapping("AUTHENTICATED", "the back office's page answers 200 to the user's browser",
            "two_factor/views/mixins.py OTPRequiredMixin"),
    Mapping("message class 'wrong'",
            "\"Please enter a correct username and password\", \"Invalid token\", \"Entered token is "
            "not valid\" or a field error on the token",
            "django/contrib/auth/forms.py; django_otp/forms.py otp_error_messages; two_factor/forms.py"),
    Mapping("message class 'replay'",
            "never: a used code is refused with the same \"Invalid token\" as a wrong one, so the "
            "target's class is 'wrong'",
            "django_otp/oath.py TOTP.verify (min_t); django_otp/forms.py _verify_token"),
    Mapping("LOCKED_OUT and message class 'locked'",
            "no lock state: django-otp throttles, refusing every code for 1, 2, 4, 8 s and so on after the "
            "n-th failure (\"Verification temporarily disabled because of n failed attempts\"); "
            "that refusal is the class 'locked', the state stays CODE_REQUIRED",
            "django_otp/models.py ThrottlingMixin.verify_is_allowed"),
    Mapping("EXPIRED and message class 'expired'",
            "the login wizard refuses a step after TWO_FACTOR_LOGIN_TIMEOUT (600 s) and shows the "
            "login form with \"Your session has timed out\": the state EXPIRED; the server notices "
            "only at the next submission, and the setup wizard has no timeout",
            "two_factor/views/core.py LoginView.expired, LoginView.post"),
    Mapping("time passes",
            "no request: the states stay what the pages showed", "a server acts on requests only"),
    Mapping("recovery codes issued by the admin",
            "ten backup tokens made as the backup-tokens page makes them (the target lets only the "
            "user make them, on that page)",
            "two_factor/views/core.py BackupTokensView.form_valid"),
    Mapping("a recovery code typed",
            "the login wizard's backup step (\"Use Backup Token\"), StaticDevice with its own "
            "throttle; at enrolment not expressible (the setup wizard takes no backup token)",
            "two_factor/views/core.py LoginView (BACKUP_STEP); django_otp/plugins/otp_static/models.py"),
    Mapping("admin reset (lost phone)", "manage.py two_factor_disable USER (every device deleted)",
            "two_factor/management/commands/two_factor_disable.py"),
    Mapping("admin unlock",
            "the throttling fields of the user's devices set back, as the admin does in the device's "
            "\"Throttling\" fields (throttle_reset)",
            "django_otp/plugins/otp_totp/admin.py TOTPDeviceAdmin; django_otp/models.py throttle_reset"),
    Mapping("log out, start over", "POST /account/logout/; a fresh GET of the login page",
            "django/contrib/auth/views.py LogoutView; formtools WizardView.get resets the wizard"),
    Mapping("a browser tab", "one test client (its own cookies and session) per user and tab",
            "django/test/client.py Client"),
)

# -- the site, once per process --------------------------------------------------------------------

_configured = False


def extra_missing() -> str | None:
    """Why the target cannot run here (the missing modules named), or None when the ``peers`` extra is installed."""
    missing = []
    for module in ("django", "django_otp", "two_factor", "formtools", "freezegun"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        return (f"the 'peers' extra is not installed (no {', '.join(missing)}): "
                "pip install -e '.[peers]'")
    return None


def configure() -> None:
    """Django set up with the minimal site's settings, its tables made in an in-memory database."""
    global _configured
    if _configured:
        return
    problem = extra_missing()
    if problem:
        raise NotExpressible(problem)
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.urls import get_resolver

    from .django_project.settings import SETTINGS

    if _inside_an_event_loop():
        # a Jupyter kernel runs cells inside its event loop, where Django refuses database calls; Django's
        # documentation names this variable for that case ("Async safety": notebooks)
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if settings.configured:
        if settings.ROOT_URLCONF != SETTINGS["ROOT_URLCONF"]:
            raise RuntimeError("Django is already configured for another project in this process; "
                               "run the conformance run in a process of its own")
    else:
        settings.configure(**SETTINGS)
    django.setup()
    call_command("migrate", verbosity=0)
    get_resolver().url_patterns  # every view module imported now, before any clock is frozen
    _configured = True


def _inside_an_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


# -- reading a page ----------------------------------------------------------------------------------

_STEP = re.compile(r'name="(login_view|setup_view)-current_step" value="(\w+)"')
_ERRORS = re.compile(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', re.S)
_ITEM = re.compile(r"<li>(.*?)</li>", re.S)
_QR = re.compile(r'<img src="([^"]+)" alt="QR Code"')
_KEY = re.compile(r'<a href="(otpauth://[^"]+)">([A-Z2-7]+)</a>')

#: The target's messages, by the words that start them, in the spec's message classes.
_MESSAGES = (
    ("Your session has timed out", "expired"),
    ("Verification temporarily disabled", "locked"),
    ("Please enter a correct", "wrong"),
    ("Invalid token", "wrong"),
    ("Entered token is not valid", "wrong"),
    ("Enter a whole number", "wrong"),
    ("Ensure this value", "wrong"),
    ("Enter a valid value", "wrong"),
    ("Please enter your OTP token", "wrong"),
    ("This field is required", "wrong"),
)


def classify(message: str) -> str:
    """The message class of one of the target's messages; an unknown message is an error, never a guess."""
    for start, kind in _MESSAGES:
        if message.startswith(start):
            return kind
    raise RuntimeError(f"the target showed a message the adapter has no class for: {message!r}")


@dataclass
class Page:
    """The last page a login's browser shows: its wizard and step, its messages, its HTML."""

    wizard: str
    step: str
    messages: tuple[str, ...]
    text: str
    url: str = LOGIN_URL

    @classmethod
    def read(cls, text: str, url: str = LOGIN_URL) -> "Page":
        found = _STEP.search(text)
        wizard, step = (found.group(1), found.group(2)) if found else ("", "")
        messages = tuple(html.unescape(re.sub(r"<[^>]+>", "", item)).strip()
                         for block in _ERRORS.findall(text) for item in _ITEM.findall(block))
        return cls(wizard, step, messages, text, url)

    @property
    def message_class(self) -> str:
        classes = [classify(m) for m in self.messages]
        for kind in ("expired", "locked", "wrong"):
            if kind in classes:
                return kind
        return ""


class DjangoTwoFactorTarget:
    """django-two-factor-auth's site with a fresh database, on the scenario's clock."""

    name = NAME

    def __init__(self, clock: Clock) -> None:
        configure()
        from django.contrib.auth import get_user_model
        from freezegun import freeze_time

        self.clock = clock
        self._users = get_user_model()
        self._users.objects.all().delete()  # a fresh site: devices and tokens go with their users
        self._freezer = freeze_time(self._now(), real_asyncio=True)
        self._frozen = self._freezer.start()
        self._clients: dict[tuple[str, str], Any] = {}
        self._pages: dict[tuple[str, str], Page] = {}
        self._states: dict[tuple[str, str], str] = {}

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), tz=timezone.utc)

    def _sync(self) -> None:
        self._frozen.move_to(self._now())

    def close(self) -> None:
        self._freezer.stop()

    # -- the admin --------------------------------------------------------------------------------

    def create_company(self, name: str, force_2fa_for_all: bool) -> None:
        if not force_2fa_for_all:
            raise NotExpressible("no companies: the site requires 2FA of every user, so a company without "
                                 "\"2FA for all\" cannot be set up")

    def create_user(self, name: str, password: str, company: str | None, force_2fa: bool) -> None:
        self._sync()
        self._users.objects.create_user(name, password=password)
        if not force_2fa:
            raise NotExpressible("user created, but \"Force 2 factor auth.\" cannot be left unticked: no "
                                 "per-user flag, the site requires 2FA of every user")

    def change_policy(self, changes: dict[str, Any]) -> None:
        raise NotExpressible(f"policy {', '.join(changes)}: the site runs django-two-factor-auth's and "
                             "django-otp's defaults")

    def set_force_2fa(self, user: str, on: bool) -> None:
        raise NotExpressible("no per-user \"Force 2 factor auth.\" flag")

    def set_company_force_2fa(self, company: str, on: bool) -> None:
        raise NotExpressible("no company setting")

    def reset_2fa(self, user: str) -> None:
        from django.core.management import call_command

        self._sync()
        call_command("two_factor_disable", self._user(user).get_username())

    def unlock(self, user: str) -> None:
        from django_otp import devices_for_user

        self._sync()
        for device in devices_for_user(self._user(user), confirmed=None):
            if hasattr(device, "throttle_reset"):
                device.throttle_reset()

    def issue_recovery_codes(self, user: str) -> list[str]:
        from django_otp.plugins.otp_static.models import StaticToken

        self._sync()
        device, _ = self._user(user).staticdevice_set.get_or_create(defaults={"name": "backup"})
        device.token_set.all().delete()
        return [device.token_set.create(token=StaticToken.random_token()).token for _ in range(10)]

    # -- the user at the login mask ---------------------------------------------------------------

    def submit_password(self, user: str, tab: str, username: str, password: str) -> Observation:
        from django.test import Client

        key = (user.casefold(), tab)
        client = self._clients[key] = Client()
        self._request(client, "get", LOGIN_URL)
        page = self._request(client, "post", LOGIN_URL, {
            "login_view-current_step": "auth", "auth-username": username, "auth-password": password})
        if page.wizard == "setup_view" and page.step == "welcome":
            page = self._request(client, "post", page.url, {"setup_view-current_step": "welcome"})
        state = self._note(key, page)
        if state in ("CREDENTIALS", "EXPIRED"):
            return Observation(REFUSED, page.message_class, state, "; ".join(page.messages))
        return Observation(ACCEPTED, "", state, "; ".join(page.messages))

    def enrolment_screen(self, user: str, tab: str, image: str) -> Screen:
        key = (user.casefold(), tab)
        page = self._page(key)
        if self._states[key] != "ENROLMENT":
            raise NotExpressible(f"the page shows no QR code (state {self._states[key]})")
        qr, uri = _QR.search(page.text), _KEY.search(page.text)
        if qr is None or uri is None:
            raise RuntimeError("the setup wizard's generator step shows no QR image or key")
        self._sync()
        response = self._clients[key].get(html.unescape(qr.group(1)))
        if response["Content-Type"] != "image/png":
            raise RuntimeError(f"the QR view served {response['Content-Type']}, not a PNG")
        picture = Image.open(io.BytesIO(response.content))
        picture.load()
        from ..apps.otpauth import parse_key_uri

        parsed = parse_key_uri(html.unescape(uri.group(1)))
        return Screen(picture.convert("RGB"), uri.group(2), parsed.account,
                      parsed.issuer_param or parsed.label_issuer or "")

    def submit_code(self, user: str, tab: str, code: str) -> Observation:
        key = (user.casefold(), tab)
        page, client = self._page(key), self._clients[key]
        if page.wizard == "setup_view" and page.step == "generator":
            page = self._request(client, "post", page.url,
                                 {"setup_view-current_step": "generator", "generator-token": code})
        elif page.wizard == "login_view" and page.step in ("token", "backup"):
            if page.step == "backup":  # the user goes back from the backup form to the app's code
                page = self._request(client, "post", LOGIN_URL, {"wizard_goto_step": "token"})
            page = self._request(client, "post", LOGIN_URL,
                                 {"login_view-current_step": "token", "token-otp_token": code})
        else:
            raise NotExpressible(f"the page shows no code field (state {self._states[key]})")
        return self._submitted(key, page)

    def submit_recovery_code(self, user: str, tab: str, code: str) -> Observation:
        key = (user.casefold(), tab)
        page, client = self._page(key), self._clients[key]
        if page.wizard == "login_view" and page.step == "token":
            if 'value="backup"' not in page.text:
                raise NotExpressible("the token step offers no backup token (the user has none)")
            page = self._request(client, "post", LOGIN_URL, {"wizard_goto_step": "backup"})
        if not (page.wizard == "login_view" and page.step == "backup"):
            raise NotExpressible(f"backup tokens are taken only at the login's token step, not here "
                                 f"(state {self._states[key]})")
        page = self._request(client, "post", LOGIN_URL,
                             {"login_view-current_step": "backup", "backup-otp_token": code})
        return self._submitted(key, page)

    def log_out(self, user: str, tab: str) -> Observation:
        key = (user.casefold(), tab)
        page = self._request(self._client(key), "post", LOGOUT_URL)
        return Observation(DONE, "", self._note(key, page))

    def start_over(self, user: str, tab: str) -> Observation:
        key = (user.casefold(), tab)
        page = self._request(self._client(key), "get", LOGIN_URL)
        return Observation(DONE, "", self._note(key, page))

    def time_passed(self) -> dict[tuple[str, str], str]:
        """No request is made: the pages stay as they are until the user submits one."""
        self._sync()
        return dict(self._states)

    # -- helpers ----------------------------------------------------------------------------------

    def _user(self, name: str) -> Any:
        try:
            return self._users.objects.get_by_natural_key(name)
        except self._users.DoesNotExist:
            raise NotExpressible(f"no user {name!r} on the site") from None

    def _client(self, key: tuple[str, str]) -> Any:
        if key not in self._clients:
            raise NotExpressible(f"{key[0]} has no open login in tab {key[1]!r}")
        return self._clients[key]

    def _page(self, key: tuple[str, str]) -> Page:
        self._client(key)
        return self._pages[key]

    def _request(self, client: Any, method: str, url: str, data: dict | None = None) -> Page:
        self._sync()
        response = getattr(client, method)(url, data or {}, follow=True)
        if response.status_code != 200:
            raise RuntimeError(f"{method.upper()} {url} answered {response.status_code}")
        query = response.request.get("QUERY_STRING")
        return Page.read(response.content.decode(), response.request["PATH_INFO"] + (f"?{query}" if query else ""))

    def _note(self, key: tuple[str, str], page: Page) -> str:
        """The page is the login's last one; its state in the spec's words."""
        self._pages[key] = page
        if page.wizard == "login_view":
            if page.step == "auth":
                state = "EXPIRED" if page.message_class == "expired" else "CREDENTIALS"
            else:
                state = "CODE_REQUIRED"
        elif page.wizard == "setup_view":
            state = "ENROLMENT" if page.step == "generator" else "CREDENTIALS"
        else:
            self._sync()
            answer = self._clients[key].get(BACK_OFFICE_URL)
            from .django_project.views import SIGNED_IN

            state = "AUTHENTICATED" if answer.status_code == 200 and SIGNED_IN in answer.content.decode() \
                else "CREDENTIALS"
        self._states[key] = state
        return state

    def _submitted(self, key: tuple[str, str], page: Page) -> Observation:
        state = self._note(key, page)
        if state == "AUTHENTICATED":
            return Observation(ACCEPTED, "accepted", state)
        return Observation(REFUSED, page.message_class, state, "; ".join(page.messages))

