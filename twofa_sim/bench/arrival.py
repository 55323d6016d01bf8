"""A class arriving at once at the class server (part of ``make bench-class``).

The trainer puts the address on the projector and the class opens it within one second. Measured
on this machine, against the class server (``python -m twofa_sim.server``: warm kernels, as many as
the class) and, in the same run, against the old configuration (plain Voila with ``voila.json``:
one kernel started per page), on an SQLite file and on PostgreSQL (``--postgres URL``), and with
two class servers on one PostgreSQL database, the class split between them:

- login mask, server side: N concurrent GETs of the trainee page, each read to its end (every cell
  of the page executed in its kernel), started within one second: p50/p95 seconds;
- login mask in Chromium: N headless pages opened within one second, until the login mask is
  there to type in; then each trainee logs in: "QR after password" (click to QR code shown) and
  "code accepted" (the QR code read from the page's pixels, the code computed and typed, click to
  "Welcome"), p50/p95; and the CPU seconds per page that Chromium (every process of it), the
  server and the kernels spent during that rush (process times): the browsers share the server's
  CPUs here, which a class's own laptops and phones do not;
- kernels alive and their memory (proportional set size, so libraries shared between kernels
  count once) after the rush and 10 s after every tab was closed; one idle trainee kernel's memory.

Figures, not a test: the machine's load average is printed beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import pathlib
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import pyotp

from ..apps.otpauth import parse_key_uri
from ..apps.scan import read_otpauth
from ..classroom.course import Classroom, open_class
from .engines import load_average, print_figure

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRAINEE = "/voila/render/trainee.ipynb"
KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')
KERNEL_FILE = re.compile(r"kernel-([0-9a-f-]{36})\.json")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kernel_processes(server_pid: int) -> list[int]:
    """The kernels a server started: its child processes running ipykernel."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat, command = (entry / "stat").read_text(), (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == server_pid and b"ipykernel" in command:
                found.append(int(entry.name))
    return found


def kernel_ids(server_pid: int) -> set[str]:
    """The ids of the kernels a server runs (from their connection files' names)."""
    found = set()
    for pid in kernel_processes(server_pid):
        try:
            found.update(KERNEL_FILE.findall(pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")))
        except OSError:
            continue
    return found


def process_tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def browser_cpu(tag: str) -> float:
    """CPU seconds so far of the Chromium started with the argument ``tag`` and of all its
    processes (the browser, its renderers, GPU and network processes; ended ones included)."""
    for entry in pathlib.Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and tag.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                return sum(cpu_seconds(pid, children=True) for pid in process_tree(int(entry.name)))
        except OSError:
            continue
    return 0.0


def memory_mb(pid: int, field_name: str = "Pss") -> float:
    try:
        for line in pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User and system CPU time of ``pid`` (with ``children``: also of its ended, reaped children)."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_of(server_pids: list[int]) -> tuple[float, dict[int, float]]:
    """CPU seconds so far of the servers' own processes and their ended (reaped) kernels, and of
    each kernel alive."""
    own = sum(cpu_seconds(pid, children=True) for pid in server_pids)
    return own, {pid: cpu_seconds(pid) for server in server_pids for pid in kernel_processes(server)}


def cpu_total(server_pids: list[int]) -> float:
    own, kernels = cpu_of(server_pids)
    return own + sum(kernels.values())


def kernels_and_memory(server_pids: list[int]) -> tuple[int, float]:
    pids = [pid for server in server_pids for pid in kernel_processes(server)]
    return len(pids), sum(memory_mb(pid) for pid in pids)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


@dataclass
class Server:
    """A class server (or the old configuration) running on a port of this machine."""

    label: str
    process: subprocess.Popen
    port: int
    log: pathlib.Path
    warm: bool

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def serving(database_url: str, trainees: int, *, warm: bool, key: str, log_dir: pathlib.Path):
    """A server over notebooks/class on ``database_url``: the class server sized for ``trainees``
    (``warm``) or plain Voila with the project's voila.json (the old configuration)."""
    port = free_port()
    env = dict(os.environ, JUPYTER_PATH=str(ROOT / "share" / "jupyter"), TWOFA_SIM_CLASS_DB=database_url,
               TWOFA_SIM_TRAINER_KEY=key, TWOFA_SIM_TRAINEE_URL=f"http://127.0.0.1:{port}{TRAINEE}")
    subprocess.run([sys.executable, "-m", "jupyter", "trust", "notebooks/class/trainee.ipynb",
                    "notebooks/class/trainer.ipynb"], cwd=ROOT, env=env, capture_output=True, check=False)
    module = ["-m", "twofa_sim.server"] if warm else ["-m", "voila"]
    sizes = [f"--class-size={trainees}"] if warm else []
    log = log_dir / f"{'class-server' if warm else 'voila'}-{port}.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, *module, "notebooks/class", "--no-browser", f"--port={port}",
                                    "--Voila.ip=127.0.0.1", "--Voila.port_retries=0", *sizes],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None:
            text = log.read_text(errors="replace")
            if (warm and "Kernel pool of trainee.ipynb is filled" in text) or (not warm and "is running at" in text):
                break
            time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')[-2000:]}")
        if warm:  # every warm kernel has run the page up to its request
            while len(kernel_processes(process.pid)) < trainees and time.monotonic() < deadline:
                time.sleep(0.5)
            settle([process.pid], deadline)
        yield Server("class server" if warm else "plain Voila (no pool)", process, port, log, warm)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def settle(server_pids: list[int], deadline: float, window: float = 2.0) -> None:
    """Waits until the servers and their kernels are idle (under 5 % of a CPU over ``window``
    seconds): warm kernels that still run the page would otherwise be measured as the rush."""
    before = cpu_total(server_pids)
    while time.monotonic() < deadline:
        time.sleep(window)
        now = cpu_total(server_pids)
        if now - before < 0.05 * window:
            return
        before = now


class Tab:
    """One trainee's page over plain HTTP (its cookies kept, as a browser would)."""

    def __init__(self, server: Server) -> None:
        import http.cookiejar
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.kernel = ""

    def open(self) -> float:
        started = time.monotonic()
        with self.opener.open(self.server.base + TRAINEE, timeout=600) as response:
            page = response.read().decode()
        found = KERNEL_ID.search(page)
        self.kernel = found.group(1) if found else ""
        return time.monotonic() - started

    def close(self) -> None:
        """The page's "tab closed" call, as Voila's page sends it."""
        xsrf = next((c.value for c in self.jar if c.name == "_xsrf"), "")
        data = urllib.parse.urlencode({"_xsrf": xsrf}).encode()
        try:
            self.opener.open(f"{self.server.base}/voila/api/shutdown/{self.kernel}", data=data, timeout=60).read()
        except urllib.error.HTTPError:
            pass  # refused: the old configuration's pages keep their kernels


def at_once(count: int, spread: float, action) -> list:
    """``action(i)`` for ``count`` trainees, each starting at a random instant within ``spread`` seconds."""
    results: list = [None] * count
    starts = sorted(random.uniform(0, spread) for _ in range(count))
    begin = time.monotonic() + 0.2

    def run(i: int) -> None:
        time.sleep(max(0.0, begin + starts[i] - time.monotonic()))
        results[i] = action(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@dataclass
class Figures:
    label: str
    trainees: int
    mask_server: list[float] = field(default_factory=list)
    mask_browser: list[float] = field(default_factory=list)
    qr: list[float] = field(default_factory=list)
    code: list[float] = field(default_factory=list)
    server_after_rush: tuple[int, float] = (0, 0.0)  # kernels, MB
    server_after_close: tuple[int, float] = (0, 0.0)
    pages_kernels_after_rush: int = 0  # kernels the pages named, running after the rush
    pages_kernels_after_close: int = 0  # the same kernels still running 10 s after the pages closed
    browser_after_rush: tuple[int, float] = (0, 0.0)
    browser_after_close: tuple[int, float] = (0, 0.0)
    idle_kernel_mb: float = 0.0
    server_cpu_per_page: float = 0.0  # CPU seconds of the server process(es) during the rush, per page
    kernel_cpu_per_page: float = 0.0  # CPU seconds of the warm kernels that served the pages, per page
    other_cpu: float = 0.0  # CPU seconds of kernels started or ended during the rush (the new spare ones)
    browser_cpu_per_page: float = 0.0  # CPU seconds of Chromium (all its processes) during the browser rush, per page
    browser_server_cpu_per_page: float = 0.0  # ... of the server process(es)
    browser_kernels_cpu_per_page: float = 0.0  # ... of the kernels (the pages', and any started meanwhile)
    load: str = ""


def pages_kernels(tabs: list[Tab], server_pids: list[int]) -> set[str]:
    """The kernels the tabs' pages named that still run."""
    return {tab.kernel for tab in tabs if tab.kernel} & {k for pid in server_pids for k in kernel_ids(pid)}


def server_side(servers: list[Server], trainees: int, spread: float, figures: Figures) -> None:
    tabs = [Tab(servers[i % len(servers)]) for i in range(trainees)]
    pids = [s.process.pid for s in servers]
    server_cpu, warm = cpu_of(pids)
    servers_own = sum(cpu_seconds(pid) for pid in pids)
    figures.mask_server = at_once(trainees, spread, lambda i: tabs[i].open())
    server_cpu_after, kernels = cpu_of(pids)
    figures.server_cpu_per_page = (sum(cpu_seconds(pid) for pid in pids) - servers_own) / trainees
    figures.kernel_cpu_per_page = sum(kernels[pid] - warm[pid] for pid in warm if pid in kernels) / trainees
    figures.other_cpu = max(0.0, server_cpu_after - server_cpu - figures.server_cpu_per_page * trainees
                                 + sum(cpu for pid, cpu in kernels.items() if pid not in warm))
    figures.server_after_rush = kernels_and_memory(pids)
    figures.pages_kernels_after_rush = len(pages_kernels(tabs, pids))
    kernels = [pid for s in servers for pid in kernel_processes(s.process.pid)]
    figures.idle_kernel_mb = statistics.median(memory_mb(pid) for pid in kernels) if kernels else 0.0
    for tab in tabs:
        tab.close()
    time.sleep(10)
    figures.server_after_close = kernels_and_memory(pids)
    figures.pages_kernels_after_close = len(pages_kernels(tabs, pids))


SHOWN_JS = """([selector, text]) => new Promise(resolve => {
  const shown = () => [...document.querySelectorAll(selector)].some(
    e => e.getClientRects().length > 0 && (!text || e.textContent.includes(text)));
  if (shown()) return resolve();
  new MutationObserver((_, observer) => { if (shown()) { observer.disconnect(); resolve(); } })
    .observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
})"""


async def shown(page, selector: str, text: str = "", timeout: float = 600) -> None:
    """Until an element of ``selector`` (holding ``text``) is displayed, seen from inside the page
    as the page changes: the moment it is shown, where Playwright's own waits ask the browser
    again (every half second once they have waited a while) and see it up to then late."""
    await asyncio.wait_for(page.evaluate(SHOWN_JS, [selector, text]), timeout)


async def _trainee_in_chromium(browser, server: Server, delay: float, username: str, password: str,
                               figures: Figures) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    await asyncio.sleep(delay)
    started = time.monotonic()
    await page.goto(server.base + TRAINEE, wait_until="commit", timeout=600_000)
    await shown(page, ".tfs-login-submit")
    figures.mask_browser.append(time.monotonic() - started)
    await page.locator(".tfs-login-username input").fill(username)
    await page.locator(".tfs-login-password input").fill(password)
    started = time.monotonic()
    await page.locator(".tfs-login-submit").click()
    await shown(page, ".tfs-second-window .tfs-login-qr")
    figures.qr.append(time.monotonic() - started)
    qr = page.locator(".tfs-second-window .tfs-login-qr")
    from PIL import Image
    image = Image.open(io.BytesIO(await qr.screenshot()))
    uri = parse_key_uri(read_otpauth(image))
    code = pyotp.TOTP(uri.secret, digits=uri.digits or 6, interval=uri.period or 30).now()
    await page.locator(".tfs-login-code input").fill(code)
    started = time.monotonic()
    await page.locator(".tfs-login-verify").click()
    await shown(page, ".tfs-login-message", "Welcome")
    figures.code.append(time.monotonic() - started)
    return page


async def _in_chromium(servers: list[Server], roster: list[tuple[str, str]], spread: float, figures: Figures) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        tag = f"--twofa-sim-bench={secrets.token_hex(4)}"  # finds this browser's processes (Chromium ignores it)
        browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"), args=[*CHROMIUM_ARGS, tag])
        try:
            pids = [s.process.pid for s in servers]
            delays = [random.uniform(0, spread) for _ in roster]
            before = browser_cpu(tag), sum(cpu_seconds(pid) for pid in pids), cpu_total(pids) - sum(
                cpu_seconds(pid) for pid in pids)
            pages = await asyncio.gather(*(
                _trainee_in_chromium(browser, servers[i % len(servers)], delays[i], name, password, figures)
                for i, (name, password) in enumerate(roster)), return_exceptions=True)
            own = sum(cpu_seconds(pid) for pid in pids)
            after = browser_cpu(tag), own, cpu_total(pids) - own
            figures.browser_cpu_per_page, figures.browser_server_cpu_per_page, figures.browser_kernels_cpu_per_page = (
                (b - a) / len(roster) for a, b in zip(before, after))
            failed = [p for p in pages if isinstance(p, BaseException)]
            if failed:
                print(f"  {len(failed)} browser pages failed, the first: {failed[0]!r}")
            figures.browser_after_rush = kernels_and_memory(pids)
            for page in pages:
                if not isinstance(page, BaseException):
                    await page.goto("about:blank")  # the tab leaves the page: its "tab closed" call
                    await page.close()
            await asyncio.sleep(10)
            figures.browser_after_close = kernels_and_memory(pids)
        finally:
            await browser.close()


def measure(label: str, database_url: str, trainees: int, *, servers: int = 1, warm: bool = True,
            browser: bool = True, spread: float = 1.0, log_dir: pathlib.Path) -> Figures:
    """One configuration: the class created in ``database_url``, then the rush served side and in Chromium."""
    key = secrets.token_urlsafe(12)
    office = open_class(database_url, until_created=True)
    tag = secrets.token_hex(3)  # runs can share one database (--postgres)
    classroom = Classroom.create(office, f"Bench class {tag}", names=[f"t{tag}-{i:02d}" for i in range(1, trainees + 1)])
    roster = classroom.roster.hand_out()
    figures = Figures(label, trainees)
    with contextlib.ExitStack() as stack:
        running = [stack.enter_context(serving(database_url, max(1, trainees // servers), warm=warm, key=key,
                                               log_dir=log_dir)) for _ in range(servers)]
        figures.load = load_average()
        server_side(running, trainees, spread, figures)
        if browser:
            if warm:  # the pool warms up again after the closed tabs (the server tops it up every 10 s)
                deadline = time.monotonic() + 300
                while (sum(len(kernel_processes(s.process.pid)) for s in running) < trainees
                       and time.monotonic() < deadline):
                    time.sleep(1)
                settle([s.process.pid for s in running], deadline)
            asyncio.run(_in_chromium(running, roster, spread, figures))
    return figures


def report(figures: Figures, baseline: Figures | None = None) -> None:
    print(f"\n{figures.label}: {figures.trainees} trainees within 1 s (load average {figures.load})")

    def line(label: str, values: list[float], base: list[float] | None, goal: str = "") -> None:
        if not values:
            return
        text = f"{percentile(values, 0.5):.2f} / {percentile(values, 0.95):.2f} s"
        if base:
            text += f"  ({percentile(base, 0.95) / percentile(values, 0.95):.1f}x faster at p95)"
        print_figure(label, text, goal)

    line("login mask, server side (p50 / p95)", figures.mask_server, baseline.mask_server if baseline else None)
    if figures.mask_server:
        print_figure("CPU per page during the rush: server, its kernel",
                     f"{figures.server_cpu_per_page:.2f} s, {figures.kernel_cpu_per_page:.2f} s")
        print_figure("CPU of kernels started during the rush", f"{figures.other_cpu:.1f} s")
    line("login mask in Chromium (p50 / p95)", figures.mask_browser, baseline.mask_browser if baseline else None,
         "goal p95 <= 5 s")
    line("QR after password in Chromium (p50 / p95)", figures.qr, None, "goal p95 <= 1 s")
    line("code accepted in Chromium (p50 / p95)", figures.code, None, "goal p95 <= 1 s")
    if figures.mask_browser:
        print_figure("CPU per page in Chromium's rush: Chromium, server, kernels",
                     f"{figures.browser_cpu_per_page:.2f} s, {figures.browser_server_cpu_per_page:.2f} s, "
                     f"{figures.browser_kernels_cpu_per_page:.2f} s")
    if figures.mask_server:
        print_figure("the pages' own kernels: after the rush, 10 s after closing",
                     f"{figures.pages_kernels_after_rush}, {figures.pages_kernels_after_close}")
    for label, (kernels, mb) in (("kernels, memory after the rush (server side)", figures.server_after_rush),
                                 ("... 10 s after every page closed", figures.server_after_close),
                                 ("kernels, memory after the rush (Chromium)", figures.browser_after_rush),
                                 ("... 10 s after every tab closed", figures.browser_after_close)):
        if kernels or "server side" in label or figures.mask_browser:
            print_figure(label, f"{kernels}, {mb:.0f} MB")
    print_figure("one idle trainee kernel (proportional set size)", f"{figures.idle_kernel_mb:.0f} MB",
                 "goal <= 100 MB")
