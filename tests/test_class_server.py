"""The class server (``python -m twofa_sim.server``, what ``make class`` runs) as a class meets it,
and as an attacker sitting in the class does: one server for the module, on an SQLite file, with a
class of two (two warm kernels, a cap of five pages), short culling and reconnection times so that
what takes minutes in a class takes seconds here.

What it must hold:
- a client of the legacy websocket protocol (the one that froze Voila's whole server) is refused,
  and the server keeps answering; frame headers are read by a bounded reader;
- a kernel answers only the page that started it (its channels, its model, its shutdown), and the
  dashboard's page (so its kernel) only with the trainer's key, checked before a kernel starts;
- a reloaded page, and a closed one, give their kernel back; past the cap a page is refused with a
  page that says so; a page that never connects is culled;
- the server's log names no kernel id and no key; the idle cull skips a kernel still starting (it
  logged a traceback), and Ctrl-C ends every kernel at once without one.
Two class servers on one PostgreSQL database serving one class are in ``test_class_servers_pg.py``.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import http.client
import http.cookiejar
import json
import os
import pathlib
import re
import secrets
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from jupyter_server.services.kernels.connection.base import (deserialize_msg_from_ws_v1,
                                                            serialize_binary_message, serialize_msg_to_ws_v1)
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from test_browser import CHROMIUM_ARGS, debian_chromium, free_port, running_voila, trust
from twofa_sim.classroom.course import Classroom, open_class
from twofa_sim.server.admission import Admission
from twofa_sim.server.handlers import V1_PROTOCOL, frame_header
from twofa_sim.server.kernels import ClassKernels
from twofa_sim.server.page_keys import PageKeys

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "class-server"
TRAINEE, TRAINER = "/voila/render/trainee.ipynb", "/voila/render/trainer.ipynb"
KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')
KERNEL_ID_IN_COMMAND = re.compile(r"kernel-([0-9a-f-]{36})\.json")
CLASS_SIZE, SPARE, CAP, GRACE, CULL, REFILL = 2, 2, 5, 3, 8, 1
SEEN_KERNEL_IDS: set[str] = set()  # every kernel id a page showed: none may reach the log


def kernels_of(pid: int) -> set[str]:
    """The ids of the kernels a server runs (its children running ipykernel, by their connection file)."""
    found = set()
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"ipykernel" in command:
            found.update(KERNEL_ID_IN_COMMAND.findall(command.decode(errors="replace")))
    return found


def ended(server, kernels: set[str], within: float = 15.0) -> bool:
    """Whether none of ``kernels`` runs any more, waiting up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while kernels & kernels_of(server.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not kernels & kernels_of(server.pid)


def quiet(server) -> None:
    """Waits until the pages of earlier tests (never connected) are culled: only warm kernels left."""
    deadline = time.monotonic() + CULL + 30
    while len(kernels_of(server.pid)) > CLASS_SIZE and time.monotonic() < deadline:
        time.sleep(0.5)


STEADY: list[set[str]] = []  # the kernels steady() last found, once they had stayed the same


def steady(server, seconds: float = 2 * REFILL) -> set[str]:
    """The server's kernels once they stay the same for ``seconds`` (the pool refilled after earlier tests).
    The very kernels found steady before are steady still: no kernel started or ended since, so no
    page was taken or given back and no refill is due."""
    deadline, kernels = time.monotonic() + 60, kernels_of(server.pid)
    if STEADY and STEADY[-1] == kernels:
        return kernels
    since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < seconds:
        time.sleep(0.3)
        now = kernels_of(server.pid)
        if now != kernels:
            kernels, since = now, time.monotonic()
    STEADY.append(kernels)
    return kernels


class Browser:
    """One browser's cookies over plain HTTP: what a page's JavaScript would send."""

    def __init__(self, server) -> None:
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: bytes | None = None, timeout: float = 120) -> tuple[int, str]:
        try:
            with self.opener.open(self.server.base + path, data=data, timeout=timeout) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode()
        SEEN_KERNEL_IDS.update(KERNEL_ID.findall(body))
        return status, body

    def page(self, path: str) -> str:
        status, body = self.request(path)
        assert status == 200, (path, status, body[-500:])
        return KERNEL_ID.search(body).group(1)

    def cookie(self, name: str = "") -> str:
        if name:
            return next(c.value for c in self.jar if c.name == name)
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def channels(self, kernel: str, subprotocols=(V1_PROTOCOL,)):
        address = f"ws://127.0.0.1:{self.server.port}/api/kernels/{kernel}/channels?session_id={uuid.uuid4().hex}"
        return connect(address, additional_headers={"Cookie": self.cookie()}, open_timeout=30,
                       subprotocols=list(subprotocols) or None)

    def shut_down(self, kernel: str) -> int:
        form = urllib.parse.urlencode({"_xsrf": self.cookie("_xsrf")}).encode()
        return self.request(f"/voila/api/shutdown/{kernel}", data=form)[0]


class Server:
    def __init__(self, port: int, process, log: pathlib.Path, key: str, database: str) -> None:
        self.port, self.pid, self.log, self.key, self.database = port, process.pid, log, key, database
        self.base = f"http://127.0.0.1:{port}"


def class_server(database_url: str, log_name: str, class_size: int = CLASS_SIZE, cull: float = CULL):
    """A class server over notebooks/class on ``database_url`` (as ``make class`` runs it, with
    a class of two), once its warm kernels are up. ``cull``: seconds before a page that never
    connects loses its kernel (short here; a page whose notebook takes longer to run is culled too)."""
    port, key = free_port(), secrets.token_urlsafe(12)
    env = dict(os.environ, TZ="UTC", JUPYTER_PATH=str(ROOT / "share" / "jupyter"), TWOFA_SIM_CLASS_DB=database_url,
               TWOFA_SIM_TRAINER_KEY=key, TWOFA_SIM_TRAINEE_URL=f"http://127.0.0.1:{port}{TRAINEE}")
    log = ARTIFACTS / log_name
    trust(ROOT / "notebooks" / "class" / "trainer.ipynb", ROOT / "notebooks" / "class" / "trainee.ipynb")
    with running_voila("notebooks/class", port, env, log, f"--class-size={class_size}", f"--spare-kernels={SPARE}", f"--kernel-cap={CAP}",
                       f"--ClassServer.disconnected_grace={GRACE}",
                       f"--ClassServer.refill_interval={REFILL}",
                       f"--MappingKernelManager.cull_idle_timeout={cull}",
                       "--MappingKernelManager.cull_interval=1", module="twofa_sim.server") as process:
        server = Server(port, process, log, key, database_url)
        deadline = time.monotonic() + 120
        while "Kernel pool of trainee.ipynb is filled" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = f"sqlite:///{tmp_path_factory.mktemp('class-server') / 'class.sqlite'}"
    Classroom.create(open_class(database, until_created=True), "Server class", count=CLASS_SIZE)
    yield from class_server(database, "server.log")


def answers_within(server, seconds: float, tries: int = 3) -> bool:
    """Whether a static file comes back within ``seconds`` (a frozen server never answers)."""
    for _ in range(tries):
        started = time.monotonic()
        try:
            with urllib.request.urlopen(server.base + "/voila/static/favicon.ico", timeout=10) as response:
                response.read()
        except OSError:
            continue
        if time.monotonic() - started <= seconds:
            return True
    return False


def shell_message(kind: str, content: dict) -> tuple[dict, list[bytes]]:
    header = {"msg_id": uuid.uuid4().hex, "msg_type": kind, "session": "attacker", "username": "", "version": "5.3",
              "date": ""}
    return header, [json.dumps(part).encode() for part in (header, {}, {"version": "1.0.0"}, content)]


def request_states() -> list[tuple[dict, list[bytes]]]:
    """Ordinary widget traffic: open the widget manager's control channel and ask for every
    widget's state (the reply carries binary buffers: the login mask's QR image)."""
    comm = uuid.uuid4().hex
    return [shell_message("comm_open", {"comm_id": comm, "target_name": "jupyter.widget.control", "data": {}}),
            shell_message("comm_msg", {"comm_id": comm, "data": {"method": "request_states"}})]


@pytest.mark.parametrize("class_size, spare, cap, open_pages, warm", [
    (30, 3, 0, 0, 30),    # before the class: one warm kernel per trainee
    (30, 3, 0, 10, 20),   # the class arriving: only what it still needs
    (30, 3, 0, 29, 3),    # arrived: a few spare ones for reloads and late-comers
    (30, 3, 0, 58, 2),    # the cap (twice the class) counts pages and warm kernels together
    (30, 3, 0, 60, 0),
    (30, 3, 40, 39, 1),   # a cap set by the trainer
    (2, 1, 5, 1, 1),
])
def test_warm_kernels_follow_what_the_class_still_needs_within_the_cap(class_size, spare, cap, open_pages, warm):
    assert Admission(class_size=class_size, spare_kernels=spare, kernel_cap=cap).pool_target(open_pages) == warm


class PoolOfKernels:
    """Voila's kernel manager as far as the class server's refill uses it: a pool filled up to its
    configured size at once, each warm kernel an id."""

    def __init__(self, notebook: str, warm: int) -> None:
        self.kernel_pools_config = {notebook: {"pool_size": warm}}
        self.pool = [f"warm-{i}" for i in range(warm)]
        self.started = 0
        self.alive: set[str] = set()  # kernels pages took

    def get_pool_size(self, notebook: str) -> int:
        return len(self.pool)

    def fill_if_needed(self, delay=None, notebook_name=None) -> None:
        for _ in range(self.kernel_pools_config[notebook_name]["pool_size"] - len(self.pool)):
            self.started += 1
            self.pool.append(f"new-{self.started}")

    def take(self, notebook: str) -> str:
        """A page takes a warm kernel (Voila pops it, then fills the pool to its size)."""
        kernel = self.pool.pop(0)
        self.fill_if_needed(notebook_name=notebook)
        return kernel

    def list_kernel_ids(self) -> list[str]:
        return [*self.pool, *self.alive]


@pytest.mark.parametrize("pages_keep_arriving, seconds_between_top_ups, started_per_top_up", [
    (True, 1, [0, 0, 0]),    # a class still arriving: no kernel warms while pages are served
    (False, 5, [2, 2, 2]),   # once arrivals pause: two at a time, never the class's thirty at once
    (True, 15, [0, 2, 0]),   # a class coming in over minutes: two every 30 s all the same
])
def test_the_pool_is_refilled_after_a_rush_a_few_kernels_at_a_time(pages_keep_arriving, seconds_between_top_ups,
                                                                    started_per_top_up):
    from twofa_sim.server.app import ClassState
    now = [0.0]
    admission = Admission(class_size=30, spare_kernels=3)
    km = PoolOfKernels(admission.trainee_notebook, 30)
    state = ClassState(admission, "key", km, True, 60.0, None, refill_step=2, quiet_seconds=5.0,
                       clock=lambda: now[0])
    for _ in range(30):  # the class arrives at once; then every tab is closed
        state.arriving(admission.trainee_notebook)
        km.take(admission.trainee_notebook)
    assert km.started == 0 and km.pool == []
    started = []
    for _ in range(3):
        now[0] += seconds_between_top_ups
        if pages_keep_arriving:
            state.last_arrival = now[0]
        before = km.started
        state.top_up()
        started.append(km.started - before)
    assert started == started_per_top_up


@pytest.mark.parametrize("arriving, found_none, most_started_by_one_page, started, warm_after", [
    (30, 0, 0, 0, 0),    # the class it was sized for: nothing warms during the rush
    (31, 0, 3, 3, 2),    # one more: it takes a kernel warming for it, and two more warm for whoever comes next
    (40, 0, 3, 13, 3),   # ten more: each finds a kernel, never more than three started at once
    (80, 0, 3, 30, 0),   # a script: "The class is full" at the cap (twice the class), and nothing warms past it
])
def test_a_class_larger_than_the_pool_warms_kernels_during_its_rush_a_few_at_a_time(
        arriving, found_none, most_started_by_one_page, started, warm_after):
    """The pages of a rush past the class size each find a kernel in the pool, warming a few at a
    time, instead of the pool staying empty until arrivals pause (each page a cold start)."""
    from twofa_sim.server.app import ClassState
    admission = Admission(class_size=30, spare_kernels=3)
    notebook = admission.trainee_notebook
    km = PoolOfKernels(notebook, 30)
    state = ClassState(admission, "key", km, True, 60.0, None, refill_step=2, quiet_seconds=5.0, clock=lambda: 0.0)
    pool_empty, most = 0, 0
    for _ in range(arriving):  # within one second: top_up never runs
        if admission.is_full(state.page_keys.pages()):
            continue  # refused with "The class is full": no kernel
        before = km.started
        state.arriving(notebook)
        _, key = state.page_keys.issue(notebook)
        if km.pool:
            kernel = km.take(notebook)
        else:  # Voila starts a cold kernel for the page
            pool_empty += 1
            kernel = f"cold-{pool_empty}"
        state.page_keys.bind(key, kernel)
        km.alive.add(kernel)
        most = max(most, km.started - before)
    assert (pool_empty, most, km.started, len(km.pool)) == (found_none, most_started_by_one_page, started, warm_after)


@pytest.mark.parametrize("trainee_pages, all_pages, warm", [
    (0, 2, 30),    # two dashboards before the class: room enough
    (29, 31, 3),   # the class arrived, the projector and a dashboard open
    (29, 58, 2),   # the other pages leave less room under the cap
    (29, 60, 0),
])
def test_every_page_counts_against_the_cap_of_warm_kernels(trainee_pages, all_pages, warm):
    assert Admission(class_size=30, spare_kernels=3).pool_target(trainee_pages, all_pages) == warm


@pytest.mark.parametrize("open_pages, trainer, full", [
    (0, False, False), (4, False, False), (5, False, True), (6, False, True),  # a trainee's or the projector's page
    (5, True, False), (6, True, False), (7, True, True),  # the trainer's dashboard: two more
])
def test_a_full_server_refuses_once_the_cap_of_pages_is_reached(open_pages, trainer, full):
    assert Admission(class_size=2, kernel_cap=5).is_full(open_pages, trainer=trainer) is full
    assert [Admission(class_size=30).is_full(pages) for pages in (59, 60)] == [False, True]


@pytest.mark.parametrize("given, expected, refused", [
    ("k3y", "k3y", False), ("", "k3y", True), ("K3Y", "k3y", True), ("k3y", "", True), ("", "", True)])
def test_the_dashboard_needs_the_key_and_a_server_without_one_gives_it_to_nobody(given, expected, refused):
    assert (Admission.dashboard_refusal(given, expected) is not None) is refused


LEGACY_FRAME = serialize_binary_message({"header": {"msg_type": "comm_msg"}, "parent_header": {}, "metadata": {},
                                         "content": {}, "channel": "iopub", "buffers": [b"", b"png"]})
V1_FRAME = serialize_msg_to_ws_v1([b'{"msg_type": "execute_input"}', b"{}", b"{}", b"{}"], "iopub")


def test_two_servers_on_one_machine_read_and_clear_only_their_own_page_cookies():
    """A browser keeps one cookie jar per host, whatever the port: the trainer's browser, with the
    dashboard of each of two class servers open, sends both servers' page cookies to each. Each
    server finds its own pages' keys among them, and clears as stale only its own pages that ended;
    a server that cleared the other's would leave that page without its key (its "tab closed" call
    and any reconnection refused)."""
    first, second = PageKeys(), PageKeys()
    jar: dict[str, str] = {}
    pages = {}  # page -> its cookie's name
    for page, server, notebook, kernel in [("dashboard on the first", first, "trainer.ipynb", "k1"),
                                           ("trainee page on the first", first, "trainee.ipynb", "k2"),
                                           ("dashboard on the second", second, "trainer.ipynb", "k3")]:
        name, key = server.issue(notebook)
        server.bind(key, kernel)
        jar[name], pages[page] = key, name
    first.prune(["k1"])  # the trainee page on the first server ended
    assert {server: [kernel for kernel in ("k1", "k2", "k3") if keys.key_for(jar, kernel)]
            for server, keys in (("first", first), ("second", second))} == {"first": ["k1"], "second": ["k3"]}
    assert {"first": first.stale_cookies(jar), "second": second.stale_cookies(jar)} == \
        {"first": [pages["trainee page on the first"]], "second": []}


@pytest.mark.parametrize("frame, header", [
    (V1_FRAME, {"msg_type": "execute_input"}),
    (LEGACY_FRAME, None),                          # its first 8 bytes read as a count of about 8.6e17
    (b"\xff" * 8 + b"x" * 64, None),               # a count far beyond the frame
    ((3).to_bytes(8, "little") + b"\x00" * 8, None),  # offsets cut off
    (V1_FRAME[:30], None),
    (b"", None),
    ((3).to_bytes(8, "little") + (32).to_bytes(8, "little") + (40).to_bytes(8, "little")
     + (10**12).to_bytes(8, "little"), None),     # an offset past the end
])
def test_frame_headers_are_read_without_trusting_the_counts_in_the_frame(frame, header):
    assert int.from_bytes(LEGACY_FRAME[:8], "little") > 10**17
    assert frame_header(frame) == header


def test_a_client_of_the_legacy_protocol_is_refused_and_the_server_keeps_answering(server):
    trainee = Browser(server)
    kernel = trainee.page(TRAINEE)
    with pytest.raises(InvalidStatus) as refused:
        with trainee.channels(kernel, subprotocols=()) as channels:  # no subprotocol asked: the legacy protocol
            for header, parts in request_states():
                channels.send(json.dumps({"header": header, "parent_header": {}, "metadata": json.loads(parts[2]),
                                          "content": json.loads(parts[3]), "channel": "shell", "buffers": []}))
            time.sleep(2)
    assert refused.value.response.status_code == 400
    assert answers_within(server, 0.1)

    # the same traffic in the v1 protocol: the widgets' state comes back, binary frame and all
    with trainee.channels(kernel) as channels:
        for _, parts in request_states():
            channels.send(serialize_msg_to_ws_v1(parts, "shell"))
        deadline, states = time.monotonic() + 60, None
        while states is None and time.monotonic() < deadline:
            frame = channels.recv(timeout=60)
            channel, parts = deserialize_msg_from_ws_v1(frame)
            content = json.loads(parts[3])
            if json.loads(parts[0])["msg_type"] == "comm_msg" and content["data"].get("method") == "update_states":
                states = content["data"]["states"]
    assert states and any(s["model_name"] == "ImageModel" for s in states.values())
    assert answers_within(server, 0.1)


def test_a_kernel_answers_only_the_page_that_started_it(server):
    alice, mallory, stranger = Browser(server), Browser(server), Browser(server)
    kernel = alice.page(TRAINEE)
    own = mallory.page(TRAINEE)  # a classmate with a page (and an _xsrf cookie) of her own
    for other in (mallory, stranger):
        with pytest.raises(InvalidStatus) as refused:
            with other.channels(kernel):
                pass
        assert refused.value.response.status_code == 403
        assert other.request(f"/api/kernels/{kernel}")[0] == 403
        if other is mallory:
            assert other.shut_down(kernel) == 403
    assert alice.request(f"/api/kernels/{kernel}")[0] == 200
    with alice.channels(kernel):
        pass
    assert kernel in kernels_of(server.pid)
    assert alice.shut_down(kernel) == 204  # the page's own "tab closed" call, _xsrf and all
    assert ended(server, {kernel}, within=10)
    assert alice.request(f"/api/kernels/{kernel}")[0] == 403
    assert mallory.shut_down(own) == 204


@pytest.mark.parametrize("query", ["", "?key=", "?key=guess", "?lang=de", "?KEY={key}"])
def test_the_dashboard_without_the_trainers_key_starts_no_kernel(server, query):
    kernels = steady(server)
    status, body = Browser(server).request(TRAINER + query.format(key=server.key))
    assert status == 403 and "tfs-class-refused" in body and "kernelId" not in body
    assert ("für die Trainerin" if "lang=de" in query else "This page is for the trainer") in body
    time.sleep(1)
    assert kernels_of(server.pid) - kernels == set()  # no kernel started for it


def test_the_dashboards_kernel_answers_only_the_trainers_page(server):
    trainer, trainee = Browser(server), Browser(server)
    kernel = trainer.page(f"{TRAINER}?key={server.key}")
    own = trainee.page(TRAINEE)
    with pytest.raises(InvalidStatus) as refused:
        with trainee.channels(kernel):
            pass
    assert refused.value.response.status_code == 403
    assert trainee.request(f"/api/kernels/{kernel}")[0] == 403
    with trainer.channels(kernel):
        pass
    assert trainer.request(f"/api/kernels/{kernel}")[0] == 200
    deadline = time.monotonic() + GRACE + 20  # no page came back: the kernel ends after the grace time
    while trainer.request(f"/api/kernels/{kernel}")[0] == 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert trainer.request(f"/api/kernels/{kernel}")[0] == 403
    assert trainee.shut_down(own) == 204


def test_the_root_address_leads_to_the_trainee_page(server):
    """The folder listing is never served: its addresses lead to the trainee page (checked on the
    redirect itself; following it would only start one more trainee page's kernel)."""
    visitor = Browser(server)
    status, body = visitor.request("/?lang=de")
    assert status == 200 and "Select items to open" not in body and "cdn.jsdelivr" not in body
    assert "trainer.ipynb" not in body
    pages = KERNEL_ID.findall(body)
    assert pages
    status, body = visitor.request("/voila/render/../trainer.ipynb")
    assert "Select items to open" not in body and "trainer.ipynb" not in body
    pages += KERNEL_ID.findall(body)
    address = urllib.parse.urlsplit(server.base)
    for folder in ("/voila/tree", "/voila/tree/"):  # the folder listing leads to the trainee page too
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        connection.request("GET", folder)
        response = connection.getresponse()
        body = response.read().decode()
        assert (response.status, response.getheader("Location", "")[-len("/voila/render/trainee.ipynb"):]) == (
            302, "/voila/render/trainee.ipynb"), folder
        assert "Select items to open" not in body and "trainer.ipynb" not in body
        connection.close()
    assert [visitor.shut_down(kernel) for kernel in pages] == [204] * len(pages)


@pytest.mark.parametrize("address", ["/voila/static/voila.js", "/voila/templates/trainer/static/index.css"])
def test_the_front_end_travels_compressed_to_a_browser_that_accepts_it(server, address):
    """Every page loads about 5 MB of Voila's front end: thirty at once over a classroom's network."""
    found = {}
    for accepts in ("identity", "gzip"):
        host = urllib.parse.urlsplit(server.base)
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        connection.request("GET", address, headers={"Accept-Encoding": accepts})
        response = connection.getresponse()
        found[accepts] = (response.status, response.getheader("Content-Encoding"), response.read())
        connection.close()
    (plain_status, plain_encoding, plain), (packed_status, packed_encoding, packed) = found["identity"], found["gzip"]
    assert (plain_status, plain_encoding, packed_status, packed_encoding) == (200, None, 200, "gzip")
    assert gzip.decompress(packed) == plain and len(packed) < len(plain) / 2


def test_ten_reloads_hold_one_kernel_and_a_closed_page_gives_it_back(server):
    from playwright.sync_api import sync_playwright

    quiet(server)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=debian_chromium(), args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page()
            pages: list[str] = []
            page.goto(server.base + TRAINEE, wait_until="commit", timeout=60_000)
            for reload in range(11):
                if reload:
                    page.reload(wait_until="commit", timeout=60_000)
                page.wait_for_selector(".tfs-login-submit", timeout=120_000)
                pages += KERNEL_ID.findall(page.content())
            SEEN_KERNEL_IDS.update(pages)
            assert len(set(pages)) == 11  # each load its own kernel
            assert ended(server, set(pages[:-1]))  # ten reloads: the ten earlier kernels gave back
            assert pages[-1] in kernels_of(server.pid)
            page.goto("about:blank")  # the tab leaves the page: its "tab closed" call
            assert ended(server, {pages[-1]}, within=10)
        finally:
            chromium.close()


def test_past_the_cap_a_trainee_page_is_refused_politely_and_pages_never_connected_are_culled(server):
    cap = CAP
    quiet(server)
    answers: list[tuple[str, int, str]] = []  # a script of GET requests, all at once
    languages = ["de", "en"] * cap

    def request(language: str) -> None:
        answers.append((language, *Browser(server).request(f"{TRAINEE}?lang={language}")))
    requests = [threading.Thread(target=request, args=(language,)) for language in languages[:cap + 3]]
    for one in requests:
        one.start()
    for one in requests:
        one.join()
    served = [body for _, status, body in answers if status == 200]
    refused = [(language, body) for language, status, body in answers if status == 503]
    assert len(served) == cap and len(refused) == 3, [status for _, status, _ in answers]
    assert all("tfs-class-full" in body and "kernelId" not in body for _, body in refused)
    assert all(("Kurs ist voll" if language == "de" else "The class is full") in body for language, body in refused)
    assert len(kernels_of(server.pid)) <= cap
    # a full class does not lock the trainer out: the dashboard is still served past the cap
    trainer = Browser(server)
    dashboard = trainer.page(f"{TRAINER}?key={server.key}")
    assert trainer.shut_down(dashboard) == 204
    # none of those pages ever connected: their kernels are culled, and pages are served again
    deadline = time.monotonic() + CULL + 30
    while time.monotonic() < deadline and len(kernels_of(server.pid)) >= cap:
        time.sleep(0.5)
    assert len(kernels_of(server.pid)) < cap
    served_again = False  # the server counts a culled kernel's page until its shutdown is done
    while time.monotonic() < deadline and not served_again:
        served_again = Browser(server).request(TRAINEE)[0] == 200
        time.sleep(0 if served_again else 0.5)
    assert served_again


def test_a_page_reloaded_before_its_script_connected_gives_its_kernel_back_at_once(server):
    """F5 before the page's script loaded: the browser asks again with the first page's cookie.
    That page never connected and never will, so its kernel ends now, not at the idle cull; a
    classmate's page that has not connected yet keeps its kernel."""
    quiet(server)  # the pages of earlier tests culled: room under the cap for three pages
    trainee, classmate = Browser(server), Browser(server)
    first = trainee.page(TRAINEE)
    waiting = classmate.page(TRAINEE)  # younger than the first page: the idle cull cannot take it first
    again = trainee.page(TRAINEE)
    assert ended(server, {first}, within=CULL)
    assert {waiting, again} <= kernels_of(server.pid)
    assert "asked for its page again before it connected" in server.log.read_text()
    assert (classmate.shut_down(waiting), trainee.shut_down(again)) == (204, 204)


def test_the_servers_log_names_no_kernel_id_and_no_key(server):
    """Checked on what this test does itself (a page served, the dashboard refused for a wrong key,
    the dashboard served with the key) and on every kernel id any earlier test of the file saw."""
    visitor = Browser(server)
    own = {visitor.page(TRAINEE)}
    assert visitor.request(f"{TRAINER}?key=not-the-key")[0] == 403
    own.add(Browser(server).page(f"{TRAINER}?key={server.key}"))
    log = server.log.read_text()
    assert "Kernel started" in log and "403 GET /voila/render/trainer.ipynb" in log
    leaked = sorted(kernel for kernel in own | SEEN_KERNEL_IDS if kernel in log)
    assert leaked == [] and server.key not in log and "not-the-key" not in log


@pytest.mark.parametrize("database, accepted", [(None, True), ("memory", True), ("sqlite:///class.sqlite", False),
                                                ("postgresql+psycopg://trainer@db/class", False)])
def test_without_a_trainer_key_no_page_is_the_trainers_once_a_database_is_shared(monkeypatch, database, accepted):
    from twofa_sim.classroom.course import DB_ENV, TRAINER_KEY_ENV, trainer_key_accepted

    monkeypatch.setenv(TRAINER_KEY_ENV, "")
    if database is None:
        monkeypatch.delenv(DB_ENV, raising=False)
    else:
        monkeypatch.setenv(DB_ENV, database)
    assert trainer_key_accepted("") is accepted and trainer_key_accepted("anything") is accepted


def test_ctrl_c_ends_the_class_at_once_with_every_kernel_and_no_traceback(server):
    """The trainer ends the class with Ctrl-C: every kernel ends with the server, the warm ones in
    the middle of running the page (they wait there for their request) and a page's, and the
    terminal shows no traceback (a kernel asked to shut down mid-run wrote one when its reply found
    the channel closed); the class stays in its database. The last test of the module's server: it
    ends it."""
    page = Browser(server).page(TRAINEE)
    kernels = steady(server, seconds=REFILL)
    assert page in kernels and len(kernels) > 1, "a page's kernel and a warm one"
    said_before = len(server.log.read_text())
    os.kill(server.pid, signal.SIGINT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server_running(server.pid):
        time.sleep(0.1)
    assert not server_running(server.pid), "the server did not end"
    assert not kernels & kernels_anywhere(), "a kernel outlived the class server"
    assert "Traceback" not in server.log.read_text()[said_before:]
    assert Classroom.find(open_class(server.database)).usernames != []


def server_running(pid: int) -> bool:
    """Whether the process runs and has not ended (a zombie waiting for its parent has)."""
    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kernels_anywhere() -> set[str]:
    """The ids of every kernel of a class server running on this machine, whoever its parent is now."""
    found = set()
    for entry in pathlib.Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = entry.read_bytes()
        except OSError:
            continue
        if b"ipykernel" in command:
            found.update(KERNEL_ID_IN_COMMAND.findall(command.decode(errors="replace")))
    return found


@pytest.mark.parametrize("manager, traceback_logged", [(AsyncMappingKernelManager, True), (ClassKernels, False)])
def test_the_cull_leaves_a_kernel_alone_while_it_starts(manager, traceback_logged, caplog):
    """A kernel is listed a moment before jupyter_server marks its activity; a cull in that moment
    logged a traceback on the trainer's terminal. The class's kernels skip it; jupyter_server's own
    (the first row) show the window is real. The day the first row fails, jupyter_server has closed
    the window and server/kernels.py can go."""
    kernels = manager(cull_idle_timeout=1)
    starting, _, kernel_id = kernels.pre_start_kernel("python3", {})
    kernels._kernels[kernel_id] = starting  # listed, its start not yet returned
    with caplog.at_level("ERROR"):
        asyncio.run(kernels.cull_kernels())
    assert ("TraitError" in caplog.text) is traceback_logged
    assert kernel_id in kernels


def test_the_cull_still_ends_a_started_kernel_idle_too_long():
    kernels = ClassKernels(cull_idle_timeout=1)
    started, _, kernel_id = kernels.pre_start_kernel("python3", {})
    kernels._kernels[kernel_id] = started
    started.execution_state = "idle"
    started.last_activity = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    culled = []

    async def shutdown_kernel(kernel_id, now=False, restart=False):
        culled.append(kernel_id)

    kernels.shutdown_kernel = shutdown_kernel
    asyncio.run(kernels.cull_kernels())
    assert culled == [kernel_id]
