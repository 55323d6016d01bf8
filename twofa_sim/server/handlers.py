"""The class server's request handlers: Voila's own, each with the class's rules in front.

- :class:`ClassPage` serves the pages of the class and nothing else: the dashboard only with
  the trainer's key, every page only while the kernel cap allows (the trainee page, the projector
  view, which holds no secret, and the dashboards all count; the dashboard is served a little past
  it). It gives each page its key
  (:mod:`.page_keys`) and the ``_xsrf`` cookie that Voila's "tab closed" call sends back (without
  it that call was refused with 403 and every closed tab kept its kernel).
- :class:`KernelChannels`, :class:`KernelModel` and :class:`PageShutdown` answer only the page
  that started the kernel. The channels take only the v1 websocket protocol and read frame
  headers with a bounded reader (:func:`frame_header`): see :class:`KernelChannels`.
- :class:`RequestInfo` hands a preheated kernel its page's request (the address's ``?lang=``),
  to kernels on this machine only.
- :class:`ToTraineePage` sends the root address (and Voila's folder listing) to the trainee page.
"""

from __future__ import annotations

import html
import ipaddress
import json
import re
from datetime import datetime, timezone
from http.client import responses

import tornado.web
from tornado.ioloop import IOLoop
from jupyter_server.services.kernels.handlers import KernelHandler
from voila.request_info_handler import RequestInfoSocketHandler
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

from ..ui.i18n import LANGUAGES, Texts

STATE = "twofa_class_server"  # the tornado setting holding the server's ClassState
V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
KERNEL_ID_IN_PAGE = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')


def frame_header(frame: bytes) -> dict | None:
    """The header of a kernel message in the v1 websocket protocol's binary frame, or None.

    A v1 frame starts with the number of offsets (8 bytes, little endian), then the offsets; the
    header lies between the second and the third. Voila's reader builds the whole list of
    offsets from that first number, so a frame of the legacy protocol (whose first bytes mean
    something else and read as about 10**17) keeps the server's only thread busy, and its memory
    growing, for ever. This reader reads three offsets at most and only when the frame is long
    enough to hold them all."""
    if len(frame) < 8:
        return None
    count = int.from_bytes(frame[:8], "little")
    if count < 3 or 8 * (count + 1) > len(frame):
        return None
    offsets = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(3)]
    if not offsets[1] <= offsets[2] <= len(frame):
        return None
    try:
        header = json.loads(frame[offsets[1]:offsets[2]].decode("utf-8"))
    except ValueError:
        return None
    return header if isinstance(header, dict) else None


def cookies_of(handler: tornado.web.RequestHandler) -> dict[str, str]:
    return {name: morsel.value for name, morsel in handler.request.cookies.items()}


def language_of(handler: tornado.web.RequestHandler) -> str:
    asked = handler.get_query_argument("lang", "en")
    return asked if asked in LANGUAGES else "en"


def require_page(handler: tornado.web.RequestHandler, kernel_id: str) -> str:
    """The key of the page that started ``kernel_id``, from the request's cookies; 403 otherwise."""
    key = handler.settings[STATE].page_keys.key_for(cookies_of(handler), kernel_id)
    if key is None:
        raise tornado.web.HTTPError(403, reason="Forbidden")
    return key


class PlainErrors:
    """Refusals as one short line: jupyter_server's error page needs templates Voila's server
    does not have (rendering it failed with a traceback for every refused request)."""

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        reason = getattr(error, "reason", None) or responses.get(status_code, "Error")
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code} {reason}\n")


class ClassPage(PlainErrors, TornadoVoilaHandler):
    """The trainee page and the dashboard, with the class's admission rules (see the module)."""

    @tornado.web.authenticated
    async def get(self, path=None):
        state = self.settings[STATE]
        admission, km = state.admission, self.kernel_manager
        texts = Texts(language_of(self))
        if path == admission.trainer_notebook:
            refusal = admission.dashboard_refusal(self.get_query_argument("key", ""), state.trainer_key)
            if refusal:
                return self.refuse(403, texts(refusal), "tfs-class-refused")
        elif path not in admission.open_notebooks:
            raise tornado.web.HTTPError(404)
        alive = list(km.list_kernel_ids())
        state.page_keys.prune(alive)
        state.replace_unconnected(cookies_of(self), path)  # F5 before the page's script loaded
        if admission.is_full(state.page_keys.pages(), trainer=path == admission.trainer_notebook):
            self.set_header("Retry-After", "60")
            return self.refuse(503, texts(
                "The class is full: this server already holds as many pages as it may. "
                "Close a tab you no longer need, or ask your trainer."), "tfs-class-full")
        if state.preheat and path == admission.trainee_notebook:
            state.arriving(path)
        for stale in state.page_keys.stale_cookies(cookies_of(self)):
            self.clear_cookie(stale, path=self.base_url)
        self.xsrf_token  # sets the _xsrf cookie that the page's "tab closed" call must send back
        cookie, key = state.page_keys.issue(path)
        self.set_cookie(cookie, key, path=self.base_url, httponly=True, samesite="Strict")
        kernel_id = None
        try:
            async for snippet in self.get_generator(path=path):
                if kernel_id is None:
                    found = KERNEL_ID_IN_PAGE.search(snippet)
                    if found:
                        kernel_id = found.group(1)
                        state.page_keys.bind(key, kernel_id)
                        # a warm kernel idled in the pool: its idle time starts now, not at warm-up
                        km.get_kernel(kernel_id).last_activity = datetime.now(timezone.utc)
                self.write(snippet)
                self.flush()
        finally:
            if kernel_id is None:
                state.page_keys.forget(key)

    def refuse(self, status: int, message: str, css_class: str) -> None:
        """A small page of its own (no kernel, nothing from outside the machine) that says why."""
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(
            "<!doctype html><html><head><meta charset='utf-8'><title>Two-factor login · class</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:3em;max-width:40em;line-height:1.4}"
            ".box{border-left:4px solid #c0392b;padding:.5em 1em;background:#fdf2f0}</style></head>"
            f"<body><div class='box {css_class}'><p>{html.escape(message)}</p></div></body></html>")


class KernelChannels(PlainErrors, VoilaKernelWebsocketHandler):
    """A kernel's websocket, for the page that started the kernel, in the v1 protocol only.

    In the legacy protocol (a client that does not ask for ``v1.kernel.websocket.jupyter.org``)
    the server sends binary frames whose first 8 bytes Voila's ``write_message`` takes for the
    v1 count of offsets; such a connection is refused before it opens, and frame headers are read
    with :func:`frame_header` in any case."""

    async def get(self, kernel_id, *args, **kwargs):
        require_page(self, kernel_id)
        offered = {part.strip() for part in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",")}
        if V1_PROTOCOL not in offered:
            raise tornado.web.HTTPError(400, reason=f"Kernel channels speak {V1_PROTOCOL} only")
        return await super().get(kernel_id, *args, **kwargs)

    def on_close(self):
        """A page whose channels stay closed (a tab closed without the "tab closed" call, as
        phones' browsers do; a laptop put to sleep) gives its kernel back after a grace time; a
        page that reconnects within it (a network blip) keeps it."""
        super().on_close()
        state, kernel_id = self.settings[STATE], self.kernel_id
        IOLoop.current().call_later(state.disconnected_grace, state.end_if_disconnected, kernel_id)

    def write_message(self, message, binary=False):
        if isinstance(message, bytes):
            header = frame_header(message)
        elif isinstance(message, dict):
            header = message.get("header")
        else:
            header = None
        if isinstance(header, dict) and header.get("msg_type") == "execute_input":
            return None  # the page shows outputs, never the code it runs (as Voila does)
        return super(VoilaKernelWebsocketHandler, self).write_message(message, binary)


class KernelModel(PlainErrors, KernelHandler):
    """A kernel's model (which the page reads before it connects) and its removal, for its page only."""

    async def get(self, kernel_id):
        require_page(self, kernel_id)
        return await super().get(kernel_id)

    async def delete(self, kernel_id):
        require_page(self, kernel_id)
        return await super().delete(kernel_id)


class PageShutdown(PlainErrors, VoilaShutdownKernelHandler):
    """The call a closing tab sends: ends its kernel at once, for the page that started it only."""

    async def post(self, kernel_id):
        key = require_page(self, kernel_id)
        state = self.settings[STATE]
        for name, value in cookies_of(self).items():
            if value == key:
                self.clear_cookie(name, path=self.base_url)
        state.page_keys.forget(key)
        return await super().post(kernel_id)


class RequestInfo(PlainErrors, RequestInfoSocketHandler):
    """Voila's channel that hands a preheated kernel its page's request: kernels run on this machine."""

    async def get(self, *args, **kwargs):
        try:
            local = ipaddress.ip_address(self.request.remote_ip or "").is_loopback
        except ValueError:
            local = False
        if not local:
            raise tornado.web.HTTPError(403, reason="Forbidden")
        return await super().get(*args, **kwargs)


class ToTraineePage(tornado.web.RequestHandler):
    """The root address (and Voila's folder listing) lead to the trainee page, the address's query kept."""

    def initialize(self, **_options) -> None:  # Voila's options for the handler it replaces
        pass

    def get(self, *args, **kwargs):  # Voila's tree route passes the folder as ``path=``
        target = self.settings[STATE].trainee_address(self.settings.get("base_url", "/"))
        query = self.request.query
        self.redirect(target + (f"?{query}" if query else ""))
