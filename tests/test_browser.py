"""The trainer demo in a real browser: Voila serves notebook 7, Playwright drives Debian's
Chromium through the article's story, and the QR code is decoded from the screenshot's pixels, as
the add-on does with the visible tab. Screenshots are kept under artifacts/browser/."""

from __future__ import annotations

import datetime
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest
import zxingcpp
from PIL import Image

from helpers import independent_totp, parse_key_uri

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "browser"
NOTEBOOK = ROOT / "notebooks" / "07_trainer_demo.ipynb"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "correct horse 42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila_url():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: run scripts/ensure-chromium (make test does)")
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "voila.log", "w")
    voila = [sys.executable, "-m", "voila", str(NOTEBOOK), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"]
    server = subprocess.Popen(voila, cwd=ROOT / "notebooks", stdout=log, stderr=subprocess.STDOUT,
                              env=dict(os.environ, TZ="UTC"))
    deadline = time.monotonic() + 90
    while True:  # probe the port: each GET of / would start a kernel
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"Voila did not start; see {ARTIFACTS / 'voila.log'}")
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}/", chromium
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def shot(page, name: str) -> pathlib.Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def app_code(page) -> str:
    return re.sub(r"\D", "", page.locator(".tfs-app .tfs-code").first.inner_text())


def demo_time(page) -> float:
    """The demo clock's time as the page shows it (the demo runs its own clock, not the wall clock)."""
    text = page.locator(".tfs-clock b").inner_text()
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=datetime.timezone.utc).timestamp()


def test_article_story_in_a_real_browser(voila_url):
    from playwright.sync_api import expect, sync_playwright

    url, chromium = voila_url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.goto(url, timeout=120_000)
            page.wait_for_selector(".tfs-login-submit", timeout=120_000)
            shot(page, "01-start")

            # 1. the admin creates a forced user
            page.locator(".tfs-admin-username input").fill("alice")
            page.locator(".tfs-admin-password input").fill(PASSWORD)
            page.locator(".tfs-admin-force input").check()
            page.locator(".tfs-admin-create").click()
            expect(page.locator(".tfs-admin")).to_contain_text("User alice created with 2FA forced.")

            # 2. first login: the QR appears after the password
            page.locator(".tfs-login-username input").fill("alice")
            page.locator(".tfs-login-password input").fill(PASSWORD)
            page.locator(".tfs-login-submit").click()
            qr = page.locator(".tfs-login-qr")
            expect(qr).to_be_visible()
            screenshot = shot(page, "02-qr-shown")

            # the QR, read from the screenshot's pixels, carries the key shown as text
            [barcode] = zxingcpp.read_barcodes(Image.open(screenshot))
            uri = parse_key_uri(barcode.text)
            assert (uri["scheme"], uri["type"], uri["label"], uri["issuer"]) == ("otpauth", "totp", "plenigo:alice", "plenigo")
            shown_key = page.locator(".tfs-login-secret .tfs-secret").inner_text().replace(" ", "")
            assert shown_key == uri["secret"]

            # 3. the app scans what the login window shows
            page.locator(".tfs-app-scan").click()
            expect(page.locator(".tfs-app .tfs-code")).to_have_count(1)
            expect(page.locator(".tfs-app")).to_contain_text("plenigo")
            code = app_code(page)
            shown_at = demo_time(page)
            assert code in {independent_totp(uri["secret"], shown_at + d) for d in (-30, 0, 30)}
            shot(page, "03-scanned")
            for widget in ("login", "app", "admin", "clock-control", "event-log"):
                page.locator(f".tfs-{widget}").first.screenshot(path=str(ARTIFACTS / f"widget-{widget}.png"))

            # 4. the app's code completes enrolment
            page.locator(".tfs-login-code input").fill(app_code(page))
            page.locator(".tfs-login-verify").click()
            expect(page.locator(".tfs-login-message")).to_contain_text("Welcome, you are logged in.")
            shot(page, "04-logged-in")

            # 5. next login: only the code, no QR; one step later a new code works
            page.locator(".tfs-login-restart").click()
            page.locator(".tfs-login-username input").fill("alice")
            page.locator(".tfs-login-password input").fill(PASSWORD)
            page.locator(".tfs-login-submit").click()
            expect(page.locator(".tfs-login-code input")).to_be_visible()
            expect(qr).to_have_count(0)
            previous = app_code(page)
            page.locator(".tfs-clock-step").click()
            expect(page.locator(".tfs-app .tfs-code")).not_to_have_text(re.compile(" ".join([previous[:3], previous[3:]])))
            page.locator(".tfs-login-code input").fill(app_code(page))
            page.locator(".tfs-login-verify").click()
            expect(page.locator(".tfs-login-message")).to_contain_text("Welcome, you are logged in.")
            shot(page, "05-second-login")
            assert "Traceback" not in page.locator(".tfs-trainer-demo").inner_text()
        finally:
            browser.close()
