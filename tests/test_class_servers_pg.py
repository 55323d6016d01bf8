"""Past one machine: two class servers on one PostgreSQL database serve one class.

Two servers (``python -m twofa_sim.server``, as ``make class`` runs it with the same ``DB=``) on the
run's throw-away PostgreSQL server (skipped, with the reason, where none can be started). A trainee
on the second server enrols with a code computed from the QR code's pixels; the trainer's dashboard
on the first server, and another on the second, see it. Each trainee page's kernel is just another
process on the shared database, so exactly-once and the lock limit across servers are what
``tests/test_store_concurrency.py`` shows across processes.
"""

from __future__ import annotations

import contextlib
import time

import pytest
import zxingcpp
from PIL import Image

from helpers import independent_totp, parse_key_uri
from pg_server import postgres  # noqa: F401 - fixture: the run's throw-away PostgreSQL server
from test_browser import CHROMIUM_ARGS, debian_chromium
from test_class_server import ARTIFACTS, TRAINEE, TRAINER, class_server
from twofa_sim.classroom.course import Classroom, open_class


@pytest.fixture(scope="module")
def two_servers(postgres):
    database = postgres.new_database()
    roster = Classroom.create(open_class(database, until_created=True), "Two servers class", count=2).roster
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(contextlib.contextmanager(class_server)(database, f"pg-server-{i}.log", 1))
                   for i in (1, 2)]
        yield servers, roster


def row_of(page, username: str):
    return page.locator(".tfs-class-table tbody tr", has=page.locator(f"td:text-is('{username}')"))


def test_two_servers_on_one_postgresql_serve_one_class(two_servers):
    from playwright.sync_api import expect, sync_playwright

    (first, second), roster = two_servers
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=debian_chromium(), args=CHROMIUM_ARGS)
        try:
            dashboards = []
            for server in (first, second):
                page = chromium.new_page(viewport={"width": 1280, "height": 720})
                page.goto(f"{server.base}{TRAINER}?key={server.key}", wait_until="commit", timeout=60_000)
                page.wait_for_selector(".tfs-class-table table", timeout=120_000)
                dashboards.append(page)
            trainee = chromium.new_page(viewport={"width": 1280, "height": 720})
            trainee.goto(second.base + TRAINEE, wait_until="commit", timeout=60_000)
            trainee.wait_for_selector(".tfs-login-submit", timeout=120_000)
            trainee.locator(".tfs-login-username input").fill("trainee01")
            trainee.locator(".tfs-login-password input").fill(roster.password_of("trainee01"))
            trainee.locator(".tfs-login-submit").click()
            qr = trainee.locator(".tfs-second-window .tfs-login-qr")
            expect(qr).to_be_visible(timeout=60_000)
            for dashboard in dashboards:
                expect(row_of(dashboard, "trainee01")).to_contain_text("sees the QR code", timeout=10_000)
            screenshot = ARTIFACTS / "two-servers-qr.png"
            qr.screenshot(path=str(screenshot))
            [barcode] = zxingcpp.read_barcodes(Image.open(screenshot))
            trainee.locator(".tfs-login-code input").fill(independent_totp(parse_key_uri(barcode.text)["secret"],
                                                                           time.time()))
            trainee.locator(".tfs-login-verify").click()
            expect(trainee.locator(".tfs-login-message")).to_contain_text("Welcome", timeout=60_000)
            for dashboard in dashboards:  # both servers' dashboards see the trainee of the second
                expect(row_of(dashboard, "trainee01")).to_contain_text("signed in", timeout=10_000)
                expect(row_of(dashboard, "trainee02")).to_contain_text("not logged in yet")
        finally:
            chromium.close()
