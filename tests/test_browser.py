"""The trainer app in a real browser, as a class sees it: Voila serves ``notebooks/trainer_app.ipynb``
with the project's ``voila.json`` (offline page template, kernel culling), Playwright drives
Debian's Chromium through the article's story at projector size, in English and once in German.

What it checks, beyond the story: the QR code appears in the second window over the login mask
and is decoded from the screenshot's pixels, as the add-on does with the visible tab; no text of
any widget is cut at 1280x720 or 1920x1080 (trainer app and notebook 8's what-if widget); every
request while the page loads stays on this machine; the admin panel's failure count follows each
wrong code of a lock demo; the kernel of a closed tab is culled. Screenshots go to
artifacts/browser/; with ``SCREENSHOTS_TO=docs/screenshots`` (``make screenshots``) the README's
pictures are written there too.
"""

from __future__ import annotations

import datetime
import contextlib
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

from twofa_sim import Policy
from twofa_sim.core.otp import a_code_outside_window

from helpers import independent_totp, parse_key_uri

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "browser"
APP = "trainer_app.ipynb"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "correct horse 42"
SIZES = {"projector": (1280, 720), "full HD": (1920, 1080)}
NARROW = (860, 720)  # a notebook's width in JupyterLab at 1280 px with the file browser open
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
CULL_SECONDS = 4
FIGURES: dict[str, object] = {}  # printed at the end of the module: what was checked, how much

# Every element inside the roots that shows text of its own, or a drop-down's chosen option, is
# checked: its text must fit its box (no scrollWidth beyond clientWidth, no ellipsis) and it must not
# stick out of an ancestor that clips or scrolls (a drop-down included: the simulated app's chooser
# once stuck out of its card at 390 px while its own text fitted). The page itself must not scroll sideways.
CUT_TEXT_JS = """
(roots) => {
  const cut = []; let checked = 0;
  const label = (el) => (el.className && typeof el.className === 'string' ? el.className.split(' ')[0] : el.tagName)
      + ': ' + (el.tagName === 'SELECT' ? el.options[el.selectedIndex]?.text : el.textContent).trim().slice(0, 40);
  const canvas = document.createElement('canvas').getContext('2d');
  for (const root of document.querySelectorAll(roots)) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (!el.getClientRects().length) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden') continue;
      const ownText = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      if (!ownText && el.tagName !== 'SELECT') continue;
      checked += 1;
      if (el.tagName === 'SELECT') {
        canvas.font = style.font;
        const text = el.options[el.selectedIndex]?.text || '';
        if (canvas.measureText(text).width + 28 > el.clientWidth) {
          cut.push(label(el) + ' (drop-down)');
          continue;
        }
      } else if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && style.display !== 'inline') {
        cut.push(label(el) + ` (${el.scrollWidth} > ${el.clientWidth})`);
        continue;
      } else if (style.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1) {
        cut.push(label(el) + ' (ellipsis)');
        continue;
      }
      const box = el.getBoundingClientRect();
      for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        const ox = getComputedStyle(up).overflowX;
        if (ox === 'visible') continue;
        const frame = up.getBoundingClientRect();
        if (box.right > frame.right + 1 || box.left < frame.left - 1) {
          cut.push(label(el) + ' (outside a clipping box)');
        }
        break;
      }
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) cut.push('the page scrolls sideways');
  return {checked, cut};
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def debian_chromium() -> str:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: run scripts/ensure-chromium (make test does)")
    return chromium


def trust(*notebooks: pathlib.Path) -> None:
    """What ``jupyter trust`` does before ``make app`` and ``make class`` serve them, done in this
    process: starting Jupyter's command line for it costs a second of CPU each time."""
    from nbformat import NO_CONVERT, read
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()
    try:
        for notebook in notebooks:
            notary.sign(read(notebook, as_version=NO_CONVERT))
    finally:
        notary.store.close()


@contextlib.contextmanager
def running_voila(folder: str, port: int, env: dict, log_path: pathlib.Path, *options: str, module: str = "voila"):
    """Voila over ``folder`` (relative to the project) on 127.0.0.1:``port``, its output in
    ``log_path``; yields once the port answers and stops the server afterwards. ``module`` runs
    another application built on Voila (the class server: ``twofa_sim.server``)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        voila = [sys.executable, "-m", module, folder, "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
                 *options]
        process = subprocess.Popen(voila, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 90
            while True:  # probe the port: each GET of a notebook would start a kernel
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"Voila did not start:\n{log_path.read_text()[-3000:]}")
                    time.sleep(0.3)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def server():
    """Voila over the notebooks folder with the project's voila.json, as ``make app`` runs it, and
    a short culling time so that a closed tab's kernel goes within seconds."""
    chromium = debian_chromium()
    port = free_port()
    env = dict(os.environ, TZ="UTC", JUPYTER_PATH=str(ROOT / "share" / "jupyter"))
    trust(ROOT / "notebooks" / APP)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "voila.log"
    with running_voila("notebooks", port, env, log_path, f"--MappingKernelManager.cull_idle_timeout={CULL_SECONDS}",
                       "--MappingKernelManager.cull_interval=1"):
        started = time.monotonic()
        yield {"url": f"http://127.0.0.1:{port}/voila/render/", "chromium": chromium, "log": log_path}
        FIGURES["seconds with the server up"] = round(time.monotonic() - started, 1)
    print("\nbrowser test figures:", FIGURES)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=server["chromium"], args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


OPEN_PAGES: list = []


@pytest.fixture(autouse=True)
def close_pages():
    yield
    while OPEN_PAGES:
        OPEN_PAGES.pop().close()


def open_page(browser, url: str, size: str = "projector"):
    """A page at ``size`` that records every request it makes; waits for the trainer app."""
    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.requests = []
    page.console_warnings = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("console", lambda message: page.console_warnings.append(message.text)
            if message.type in ("warning", "error") else None)
    OPEN_PAGES.append(page)
    page.goto(url, timeout=120_000)
    return page


def shot(page, name: str, full_page: bool = False) -> pathlib.Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def publish(path: pathlib.Path, name: str) -> None:
    """Copy a screenshot into the README's folder when asked to (make screenshots)."""
    target = os.environ.get("SCREENSHOTS_TO")
    if target:
        shutil.copyfile(path, ROOT / target / f"{name}.png")


def no_cut_text(page, roots: str, where: str) -> int:
    """Fails listing every element whose text is cut; returns how many elements were checked."""
    result = page.evaluate(CUT_TEXT_JS, roots)
    assert result["cut"] == [], f"text cut {where}: {result['cut']}"
    assert result["checked"] > 0, f"nothing checked {where}"
    FIGURES[f"elements checked for cut text, {where}"] = result["checked"]
    return result["checked"]


def at_every_size(page, roots: str, where: str) -> None:
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        no_cut_text(page, roots, f"{where} at {width}x{height}")
    page.set_viewport_size(dict(zip(("width", "height"), SIZES["projector"])))


def only_local_requests(page, where: str) -> None:
    hosts = {urlsplit(url).hostname for url in page.requests if urlsplit(url).scheme in ("http", "https", "ws", "wss")}
    assert hosts <= LOCAL_HOSTS, f"requests left the machine {where}: {hosts - LOCAL_HOSTS}"
    FIGURES[f"requests recorded {where}"] = len(page.requests)


def app_code(page) -> str:
    return re.sub(r"\D", "", page.locator(".tfs-app .tfs-code").first.inner_text())


def demo_time(page) -> float:
    """The demo clock's time as the page shows it (the demo runs its own clock, not the wall clock)."""
    text = page.locator(".tfs-clock b").inner_text()
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=datetime.timezone.utc).timestamp()


def admin_cell(page, username: str, column: str):
    """The admin panel's cell of ``column`` (as the page heads it) in the row of ``username``."""
    table = page.locator(".tfs-admin-users table")
    headers = [h.strip() for h in table.locator("th").all_inner_texts()]
    row = table.locator("tbody tr", has=page.locator(f"td:text-is('{username}')"))
    return row.locator("td").nth(headers.index(column))


def failed_codes_shown(page, username: str) -> int:
    """The admin panel's "failed codes" cell for ``username``, read from the page."""
    return int(admin_cell(page, username, "failed codes").inner_text())


def boxes_overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def create_forced_user(page, words: dict) -> None:
    page.locator(".tfs-admin-username input").fill("alice")
    page.locator(".tfs-admin-password input").fill(PASSWORD)
    page.locator(".tfs-admin-force input").check()
    page.locator(".tfs-admin-create").click()
    from playwright.sync_api import expect
    expect(page.locator(".tfs-admin")).to_contain_text(words["created"])


def log_in(page) -> None:
    page.locator(".tfs-login-username input").fill("alice")
    page.locator(".tfs-login-password input").fill(PASSWORD)
    page.locator(".tfs-login-submit").click()


def qr_in_the_second_window(page, name: str) -> dict:
    """The QR code shows in a second window over the login mask; read it from the pixels."""
    from playwright.sync_api import expect
    qr = page.locator(".tfs-second-window .tfs-login-qr")
    expect(qr).to_be_visible()
    window = page.locator(".tfs-login .tfs-second-window").bounding_box()
    mask = page.locator(".tfs-login .tfs-credentials").bounding_box()
    assert boxes_overlap(window, mask), "the second window opens over the login mask"
    assert page.locator(".tfs-second-window .tfs-login-code input").is_visible(), "with the code field in it"
    screenshot = shot(page, name)
    [barcode] = zxingcpp.read_barcodes(Image.open(screenshot))
    uri = parse_key_uri(barcode.text)
    assert (uri["scheme"], uri["type"], uri["label"], uri["issuer"]) == ("otpauth", "totp", "plenigo:alice", "plenigo")
    shown_key = page.locator(".tfs-second-window .tfs-login-secret .tfs-secret").inner_text().replace(" ", "")
    assert shown_key == uri["secret"], "the key as text is the QR's secret"
    return uri


def scan_and_sign_in(page, uri: dict, words: dict) -> None:
    from playwright.sync_api import expect
    if page.locator(".tfs-app .tfs-code").count() == 0:
        page.locator(".tfs-app-scan").click()
    expect(page.locator(".tfs-app .tfs-code")).to_have_count(1)
    code, shown_at = app_code(page), demo_time(page)
    assert code in {independent_totp(uri["secret"], shown_at + d) for d in (-30, 0, 30)}
    page.locator(".tfs-login-code input").fill(app_code(page))
    page.locator(".tfs-login-verify").click()
    expect(page.locator(".tfs-login-message")).to_contain_text(words["welcome"])
    # the admin panel follows the same step: alice shows as enrolled (before a screenshot is taken)
    expect(admin_cell(page, "alice", words["enrolled"])).to_have_text(words["yes"])


ENGLISH = {"created": "User alice created with 2FA forced.", "welcome": "Welcome, you are logged in.",
           "window": "Second window", "locked": "Too many wrong codes: locked out until", "enrolled": "enrolled",
           "yes": "yes"}
GERMAN = {"created": "Benutzer alice mit erzwungener 2FA angelegt.", "welcome": "Willkommen, Sie sind angemeldet.",
          "window": "Zweites Fenster", "locked": "Zu viele falsche Codes: gesperrt bis", "enrolled": "eingerichtet",
          "yes": "ja"}


def test_article_story_offline_at_projector_size(server, browser):
    from playwright.sync_api import expect

    started = time.monotonic()
    page = open_page(browser, server["url"] + APP)
    page.wait_for_selector(".tfs-login-submit", timeout=120_000)
    only_local_requests(page, "while the page loads")
    assert page.locator(".tfs-trainer-demo").bounding_box()["y"] < 60, "the app starts at the top of the page"
    assert page.locator(".tfs-event-log").bounding_box()["y"] < SIZES["projector"][1], \
        "the event log shows at 1280x720"
    assert page.locator(".jp-RenderedMarkdown").count() == 0, "no prose, only the app"
    assert page.locator(".jp-OutputArea-output:visible").count() == 1, "one output: the app, no assert output"
    assert f"Notebook {APP} is not trusted" not in server["log"].read_text()
    at_every_size(page, ".tfs-trainer-demo", "trainer app at start")
    shot(page, "01-start")

    # 1. the admin creates a forced user; 2. the QR code in the second window after the password
    create_forced_user(page, ENGLISH)
    log_in(page)
    expect(page.locator(".tfs-second-window")).to_contain_text(ENGLISH["window"])
    uri = qr_in_the_second_window(page, "02-qr-shown")
    at_every_size(page, ".tfs-trainer-demo", "trainer app with the QR window open")
    publish(ARTIFACTS / "02-qr-shown.png", "trainer-demo-qr")

    # 3. the app scans what the login window shows; 4. its code completes enrolment
    page.locator(".tfs-app-scan").click()
    expect(page.locator(".tfs-app .tfs-code")).to_have_count(1)
    at_every_size(page, ".tfs-trainer-demo", "trainer app with an app entry")
    for widget in ("login", "app", "admin", "clock-control", "event-log"):
        path = ARTIFACTS / f"widget-{widget}.png"
        page.locator(f".tfs-{widget}").first.screenshot(path=str(path))
        publish(path, f"widget-{widget}")
    scan_and_sign_in(page, uri, ENGLISH)
    publish(shot(page, "04-logged-in"), "trainer-demo-signed-in")

    # 5. next login: only the code, no QR; one step later a new code works
    page.locator(".tfs-login-restart").click()
    log_in(page)
    expect(page.locator(".tfs-second-window .tfs-login-code input")).to_be_visible()
    expect(page.locator(".tfs-login-qr")).to_have_count(0)
    previous = app_code(page)
    page.locator(".tfs-clock-step").click()
    expect(page.locator(".tfs-app .tfs-code")).not_to_have_text(re.compile(" ".join([previous[:3], previous[3:]])))
    page.locator(".tfs-login-code input").fill(app_code(page))
    page.locator(".tfs-login-verify").click()
    expect(page.locator(".tfs-login-message")).to_contain_text(ENGLISH["welcome"])

    # 6. a lock demo: after each wrong code the admin panel shows the count the back office holds
    page.locator(".tfs-login-restart").click()
    log_in(page)
    right = app_code(page)
    wrong = a_code_outside_window(uri["secret"], demo_time(page), window=Policy().window, margin=2)
    for typed in range(1, 6):
        page.locator(".tfs-login-code input").fill(wrong)
        page.locator(".tfs-login-verify").click()
        expect(page.locator(".tfs-admin-users")).to_contain_text("alice")
        page.wait_for_function(
            """([n]) => { const t = document.querySelector('.tfs-event-log table');
                          return t && t.innerText.split('code rejected').length - 1 >= n; }""", arg=[typed])
        assert failed_codes_shown(page, "alice") == typed, f"after wrong code {typed}"
    expect(page.locator(".tfs-login-message")).to_contain_text(ENGLISH["locked"])
    at_every_size(page, ".tfs-trainer-demo", "trainer app after a lock")

    # as narrow as a notebook beside JupyterLab's file browser: the cards stack, nothing is cut
    page.set_viewport_size({"width": NARROW[0], "height": NARROW[1]})
    page.wait_for_timeout(300)
    login, admin = (page.locator(f".tfs-cards > .tfs-{card}").bounding_box() for card in ("login", "admin"))
    assert admin["y"] >= login["y"] + login["height"], "the admin card goes below when narrow"
    no_cut_text(page, ".tfs-trainer-demo", f"trainer app at {NARROW[0]}x{NARROW[1]}")
    page.set_viewport_size(dict(zip(("width", "height"), SIZES["projector"])))
    assert "Traceback" not in page.locator(".tfs-trainer-demo").inner_text()
    only_local_requests(page, "during the whole story")
    FIGURES["console warnings (English page)"] = len(page.console_warnings)
    FIGURES["seconds for the English story"] = round(time.monotonic() - started, 1)


def test_the_story_in_german(server, browser):
    from playwright.sync_api import expect

    page = open_page(browser, server["url"] + APP + "?lang=de")
    page.wait_for_selector(".tfs-login-submit", timeout=120_000)
    expect(page.locator(".tfs-login-submit")).to_have_text("Anmelden")
    expect(page.locator(".tfs-admin-create")).to_have_text("Benutzer anlegen")
    at_every_size(page, ".tfs-trainer-demo", "German trainer app at start")
    page.locator(".tfs-admin-username input").fill("alice")
    page.locator(".tfs-admin-password input").fill("kurz")
    page.locator(".tfs-admin-create").click()
    expect(page.locator(".tfs-admin")).to_contain_text("Das Passwort ist zu kurz")
    create_forced_user(page, GERMAN)
    expect(page.locator(".tfs-event-log")).to_contain_text("2-Faktor-Auth. erzwingen: angehakt")
    log_in(page)
    expect(page.locator(".tfs-second-window")).to_contain_text(GERMAN["window"])
    expect(page.locator(".tfs-event-log")).to_contain_text("Aussteller=")
    uri = qr_in_the_second_window(page, "de-02-qr-shown")
    at_every_size(page, ".tfs-trainer-demo", "German trainer app with the QR window open")
    publish(ARTIFACTS / "de-02-qr-shown.png", "trainer-demo-qr-de")
    scan_and_sign_in(page, uri, GERMAN)
    at_every_size(page, ".tfs-trainer-demo", "German trainer app signed in")
    publish(shot(page, "de-04-logged-in"), "trainer-demo-signed-in-de")
    assert "Traceback" not in page.locator(".tfs-trainer-demo").inner_text()
    only_local_requests(page, "German page")


def test_what_if_widget_of_notebook_8_has_no_cut_text(server, browser):
    page = open_page(browser, server["url"] + "08_what_if.ipynb")
    page.wait_for_selector(".tfs-whatif .tfs-whatif-check", timeout=240_000)
    page.wait_for_selector(".tfs-whatif .tfs-table table", timeout=60_000)
    at_every_size(page, ".tfs-whatif", "notebook 8's what-if widget")
    page.locator(".tfs-whatif .tfs-whatif-tables").scroll_into_view_if_needed()
    shot(page, "what-if-tables")
    page.locator(".tfs-whatif .tfs-whatif-figure").scroll_into_view_if_needed()
    shot(page, "what-if-figure")
    only_local_requests(page, "notebook 8")


def test_the_kernel_of_a_closed_tab_is_culled(server, browser):
    """Runs last: every page above is closed, so their kernels, idle but for the ticker's widget
    updates (which voila.json does not count as activity), are shut down by the culler."""
    deadline = time.monotonic() + 6 * CULL_SECONDS + 10
    while time.monotonic() < deadline:
        log = server["log"].read_text()
        started = len(re.findall(r"Kernel started: ", log))
        culled = len(re.findall(r"Culling '.*' kernel", log))
        if started and culled >= started:
            break
        time.sleep(1)
    FIGURES["kernels started / culled"] = (started, culled)
    assert started >= 3 and culled == started, f"{culled} of {started} kernels culled after their tabs closed"
