"""Class mode in a real browser: one Voila server over ``notebooks/class`` (as ``make class`` runs
it, on one SQLite file, then on a throw-away PostgreSQL server where one can be started), two
Chromium pages, the trainer's and a trainee's, each with its own kernel.

The trainer creates the class and reads a trainee's password from the closed section of the
dashboard; the trainee logs in on the trainee page; the QR code is read from the screenshot's
pixels with zxing-cpp; the code is computed from the decoded Key URI at the real time with an RFC
6238 written out in the tests (hmac and hashlib, not the project's code path), typed and accepted;
the trainer's dashboard shows the trainee as enrolled within 2 s. Screenshots and the server's log
go to artifacts/class-browser/; with ``SCREENSHOTS_TO=docs/screenshots`` (``make screenshots``) the
README's pictures of class mode are written there too.
"""

from __future__ import annotations

import os
import pathlib
import secrets
import subprocess
import sys
import time

import pytest
import zxingcpp
from PIL import Image

from helpers import independent_totp, parse_key_uri
from pg_server import postgres  # noqa: F401 - fixture: the run's throw-away PostgreSQL server
from test_browser import (CHROMIUM_ARGS, at_every_size, debian_chromium, free_port, only_local_requests, publish,
                          running_voila)

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "class-browser"
NOTEBOOKS = ROOT / "notebooks" / "class"
SEEN_WITHIN = 2.0  # seconds from the trainee's "Welcome" to "enrolled" on the trainer's dashboard


def serve(database_url: str, log_name: str):
    """One Voila server with the root at notebooks/class, the project's voila.json (offline
    template, culling) and the environment ``make class`` gives it; yields what the tests need."""
    chromium = debian_chromium()
    port, key = free_port(), secrets.token_urlsafe(12)
    env = dict(os.environ, TZ="UTC", JUPYTER_PATH=str(ROOT / "share" / "jupyter"),
               TWOFA_SIM_CLASS_DB=database_url, TWOFA_SIM_TRAINER_KEY=key,
               TWOFA_SIM_TRAINEE_URL=f"http://127.0.0.1:{port}/voila/render/trainee.ipynb")
    subprocess.run([sys.executable, "-m", "jupyter", "trust", str(NOTEBOOKS / "trainer.ipynb"),
                    str(NOTEBOOKS / "trainee.ipynb")], env=env, check=True, capture_output=True)
    log_path = ARTIFACTS / log_name
    with running_voila("notebooks/class", port, env, log_path):
        yield {"base": f"http://127.0.0.1:{port}/voila/render/", "key": key, "chromium": chromium, "log": log_path}


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """The class on an SQLite file, as ``make class`` runs it by default."""
    yield from serve(f"sqlite:///{tmp_path_factory.mktemp('class') / 'class.sqlite'}", "voila.log")


@pytest.fixture(scope="module")
def postgres_class_server(postgres):
    """The same class on the run's throw-away PostgreSQL server (skipped with the reason where none starts)."""
    yield from serve(postgres.new_database(), "voila-postgresql.log")


@pytest.fixture(scope="module")
def browser(class_server):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=class_server["chromium"], args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, server, address: str, ready: str):
    """A page at projector size that records its requests. Voila's page keeps loading while the
    kernel runs the notebook, so wait for the response, then for the widget itself."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(server["base"] + address, wait_until="commit", timeout=60_000)
    try:
        page.wait_for_selector(ready, timeout=120_000)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "not-ready.png"))
        pytest.fail(f"{address}: {ready} never appeared; the server's log ends:\n"
                    f"{server['log'].read_text()[-3000:]}")
    return page


def cell(page, username: str, column: str) -> str:
    """One cell of the trainer's live table, read from the page."""
    table = page.locator(".tfs-class-table table")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    row = table.locator("tbody tr", has=page.locator(f"td:text-is('{username}')"))
    return row.locator("td").nth(headers.index(column)).inner_text().strip()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_trainee_enrols_with_a_code_computed_from_the_pixels(request, database, browser):
    from playwright.sync_api import expect

    class_server = request.getfixturevalue("class_server" if database == "sqlite" else "postgres_class_server")

    # the trainer creates a class of two
    trainer = open_page(browser, class_server, f"trainer.ipynb?key={class_server['key']}", ".tfs-class-create")
    trainer.locator(".tfs-class-count input").fill("2")
    trainer.locator(".tfs-class-create").click()
    expect(trainer.locator(".tfs-class-table table")).to_be_visible(timeout=30_000)
    assert cell(trainer, "trainee01", "progress") == "not logged in yet"
    expect(trainer.locator(".tfs-class-passwords")).to_be_hidden()  # the slips start closed
    section_header = trainer.locator(".tfs-class-password-section .jupyter-widget-Collapse-header, "
                                     ".tfs-class-password-section .lm-Widget.p-Collapse-header").first
    section_header.click()
    slips = trainer.locator(".tfs-class-passwords table tbody tr")
    expect(slips).to_have_count(2)
    slip = slips.filter(has=trainer.locator("td:text-is('trainee01')"))
    password = slip.locator("td.tfs-secret").inner_text().strip()
    other = slips.filter(has=trainer.locator("td:text-is('trainee02')")).locator("td.tfs-secret").inner_text().strip()
    section_header.click()  # closed again before anything goes on a screen others see
    expect(trainer.locator(".tfs-class-passwords")).to_be_hidden()

    # the trainee logs in on their own page (another kernel)
    trainee = open_page(browser, class_server, "trainee.ipynb", ".tfs-login-submit")
    trainee.locator(".tfs-login-username input").fill("trainee01")
    trainee.locator(".tfs-login-password input").fill(password)
    trainee.locator(".tfs-login-submit").click()
    qr = trainee.locator(".tfs-second-window .tfs-login-qr")
    expect(qr).to_be_visible(timeout=30_000)
    started = time.monotonic()
    expect(trainer.locator(".tfs-class-table tbody tr", has=trainer.locator("td:text-is('trainee01')"))) \
        .to_contain_text("sees the QR code", timeout=SEEN_WITHIN * 1000)
    sees_qr_after = time.monotonic() - started

    # the phone: the QR read from the screenshot's pixels, the code computed at the real time
    screenshot = ARTIFACTS / f"trainee-qr-{database}.png"
    trainee.screenshot(path=str(screenshot))
    if database == "sqlite":
        publish(screenshot, "class-trainee-qr")
    [barcode] = zxingcpp.read_barcodes(Image.open(screenshot))
    uri = parse_key_uri(barcode.text)
    assert (uri["scheme"], uri["type"], uri["label"], uri["issuer"]) == ("otpauth", "totp", "plenigo:trainee01",
                                                                          "plenigo")
    assert uri.get("algorithm", "SHA1") == "SHA1" and uri.get("digits", "6") == "6" and uri.get("period", "30") == "30"
    code = independent_totp(uri["secret"], time.time())
    trainee.locator(".tfs-login-code input").fill(code)
    trainee.locator(".tfs-login-verify").click()
    expect(trainee.locator(".tfs-login-message")).to_contain_text("Welcome, you are logged in.", timeout=30_000)

    # the trainer sees it within 2 s
    started = time.monotonic()
    row = trainer.locator(".tfs-class-table tbody tr", has=trainer.locator("td:text-is('trainee01')"))
    expect(row).to_contain_text("signed in", timeout=SEEN_WITHIN * 1000)
    enrolled_after = time.monotonic() - started
    assert cell(trainer, "trainee01", "enrolled") == "yes"
    assert cell(trainer, "trainee02", "progress") == "not logged in yet"
    expect(trainer.locator(".tfs-class-summary")).to_contain_text("1 of 2 enrolled")
    trainer.screenshot(path=str(ARTIFACTS / f"trainer-trainee-enrolled-{database}.png"))
    if database == "sqlite":
        publish(ARTIFACTS / f"trainer-trainee-enrolled-{database}.png", "class-dashboard")
    trainee.screenshot(path=str(ARTIFACTS / f"trainee-signed-in-{database}.png"))
    at_every_size(trainer, ".tfs-class-dashboard", "class dashboard")
    at_every_size(trainee, ".tfs-trainee-page", "trainee page")

    # nothing of the trainer's reaches the trainee's page: no password, no other trainee
    shown = trainee.content()
    assert password not in shown and other not in shown and "trainee02" not in shown
    assert "Traceback" not in shown and "Traceback" not in trainer.content()
    only_local_requests(trainee, "class mode, trainee page")
    only_local_requests(trainer, "class mode, trainer page")
    print(f"\nclass browser figures ({database}): dashboard saw the QR after {sees_qr_after:.2f} s, "
          f"the enrolment after {enrolled_after:.2f} s")


def test_the_dashboard_address_without_the_key_offers_nothing(class_server, browser):
    page = open_page(browser, class_server, "trainer.ipynb", ".tfs-class-refused")
    assert page.locator(".tfs-class-create").count() == 0 and page.locator(".tfs-class-table").count() == 0


def test_the_trainee_page_in_german_has_no_cut_text(class_server, browser):
    from playwright.sync_api import expect

    page = open_page(browser, class_server, "trainee.ipynb?lang=de", ".tfs-login-submit")
    expect(page.locator(".tfs-login-submit")).to_have_text("Anmelden")
    page.locator(".tfs-trainee-no-app").click()
    expect(page.locator(".tfs-app-scan")).to_be_visible()
    at_every_size(page, ".tfs-trainee-page", "German trainee page with the simulated app")
    only_local_requests(page, "German trainee page")
