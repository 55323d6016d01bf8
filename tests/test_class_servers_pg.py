"""Past one machine: two class servers on one PostgreSQL database serve one class.

Two servers (``python -m twofa_sim.server``, as ``make class`` runs it with the same ``DB=``) on the
run's throw-away PostgreSQL server (skipped, with the reason, where none can be started). A trainee
on the second server enrols with a code computed from the QR code's pixels; the trainer's dashboards
on the first server and on the second, two tabs of one browser (one cookie jar for both servers),
see it, and each server leaves the other's page cookie alone. Across the two servers, as within one:
- one code is accepted once: the same trainee at the code prompt on both servers, the same fresh code
  typed on both at once, and exactly one page signs in (the other is told the code was used);
- the lock limit is one limit: wrong codes typed on either server count toward the same five, each
  page says how many tries are left after the other's, and the fifth locks the trainee on both.
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
from twofa_sim.core.events import EventKind
from twofa_sim.core.otp import a_code_outside_window
from twofa_sim.server.page_keys import COOKIE_PREFIX

WELCOME = "Welcome, you are logged in."
CULL_AFTER = 120  # seconds, as class_server.json has it


@pytest.fixture(scope="module")
def two_servers(postgres):
    database = postgres.new_database()
    roster = Classroom.create(open_class(database, until_created=True), "Two servers class", count=3).roster
    with contextlib.ExitStack() as stack:
        # pages here are not culled before their notebook has run, however loaded the machine
        servers = [stack.enter_context(contextlib.contextmanager(class_server)(database, f"pg-server-{i}.log", 1,
                                                                               cull=CULL_AFTER))
                   for i in (1, 2)]
        yield servers, roster, database


@pytest.fixture(scope="module")
def chromium(two_servers):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=debian_chromium(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def row_of(page, username: str):
    return page.locator(".tfs-class-table tbody tr", has=page.locator(f"td:text-is('{username}')"))


def trainee_page(chromium, server):
    page = chromium.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server.base + TRAINEE, wait_until="commit", timeout=60_000)
    page.wait_for_selector(".tfs-login-submit", timeout=120_000)
    return page


def log_in(page, username: str, password: str) -> None:
    page.locator(".tfs-login-username input").fill(username)
    page.locator(".tfs-login-password input").fill(password)
    page.locator(".tfs-login-submit").click()


def enrolled(database: str, username: str, password: str) -> str:
    """Enrols ``username`` on the class's database, as a phone 30 s behind would (the code of the
    step before), so that the current code is still fresh; returns the secret."""
    office = open_class(database)
    try:
        login = office.start_login()
        secret = login.submit_password(username, password).screen.secret
        assert login.submit_code(independent_totp(secret, time.time() - 30)).state.name == "AUTHENTICATED"
        return secret
    finally:
        office.store.close()


def at_the_code_prompt_on_both(chromium, servers, username: str, password: str) -> list:
    pages = [trainee_page(chromium, server) for server in servers]
    for page in pages:
        log_in(page, username, password)
    for page in pages:
        page.wait_for_selector(".tfs-second-window .tfs-login-code input", timeout=60_000)
    return pages


def events_of(database: str, username: str, *kinds: EventKind) -> dict[EventKind, int]:
    office = open_class(database)
    try:
        return {kind: office.events.count(kind, username) for kind in kinds}
    finally:
        office.store.close()


def test_two_servers_on_one_postgresql_serve_one_class(two_servers, chromium):
    from playwright.sync_api import expect

    (first, second), roster, _ = two_servers
    trainers_browser = chromium.new_context(viewport={"width": 1280, "height": 720})  # both dashboards in it
    dashboards = []
    for server in (first, second):
        page = trainers_browser.new_page()
        page.goto(f"{server.base}{TRAINER}?key={server.key}", wait_until="commit", timeout=60_000)
        page.wait_for_selector(".tfs-class-table table", timeout=120_000)
        dashboards.append(page)
    # one cookie jar for both servers (cookies ignore ports): the second kept the first's page cookie
    assert len([c for c in trainers_browser.cookies() if c["name"].startswith(COOKIE_PREFIX)]) == 2
    trainee = trainee_page(chromium, second)
    log_in(trainee, "trainee01", roster.password_of("trainee01"))
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
    trainee.close()
    trainers_browser.close()


def test_one_code_sent_to_both_servers_is_accepted_once(two_servers, chromium):
    from playwright.sync_api import expect

    servers, roster, database = two_servers
    name = "trainee02"
    secret = enrolled(database, name, roster.password_of(name))
    pages = at_the_code_prompt_on_both(chromium, servers, name, roster.password_of(name))
    code = independent_totp(secret, time.time())
    for page in pages:
        page.locator(".tfs-login-code input").fill(code)
    for page in pages:  # both clicks leave before either answer comes back
        page.locator(".tfs-login-verify").click(no_wait_after=True)
    for page in pages:
        expect(page.locator(".tfs-login-message")).not_to_be_empty(timeout=60_000)
    said = [page.locator(".tfs-login-message").inner_text() for page in pages]
    assert sum(WELCOME in text for text in said) == 1, said
    refused = pages[[WELCOME in text for text in said].index(False)]
    expect(refused.locator(".tfs-trainee-why")).to_contain_text("this one was used already")
    counted = events_of(database, name, EventKind.CODE_ACCEPTED, EventKind.REPLAY_BLOCKED, EventKind.AUTHENTICATED)
    assert counted == {EventKind.CODE_ACCEPTED: 2, EventKind.REPLAY_BLOCKED: 1, EventKind.AUTHENTICATED: 2}, \
        "the enrolment's code and one of the two"
    for page in pages:
        page.close()


def test_wrong_codes_on_both_servers_add_up_to_one_lock(two_servers, chromium):
    from playwright.sync_api import expect

    servers, roster, database = two_servers
    name = "trainee03"
    secret = enrolled(database, name, roster.password_of(name))
    first, second = at_the_code_prompt_on_both(chromium, servers, name, roster.password_of(name))
    limit = open_class(database).policy.failed_code_limit
    assert limit == 5
    # two wrong on the first server, two on the second, the fifth on the first: each page counts the other's
    for page, left in ((first, 4), (first, 3), (second, 2), (second, 1)):
        page.locator(".tfs-login-code input").fill(a_code_outside_window(secret, time.time(), window=1))
        page.locator(".tfs-login-verify").click()
        expect(page.locator(".tfs-trainee-why")).to_contain_text(f"{left} tries left before a 15-minute lockout",
                                                                 timeout=60_000)
    first.locator(".tfs-login-code input").fill(a_code_outside_window(secret, time.time(), window=1))
    first.locator(".tfs-login-verify").click()
    expect(first.locator(".tfs-trainee-why")).to_contain_text("Your trainer can unlock you at once.", timeout=60_000)
    # the second server's page now meets the same lock, even with the right code
    second.locator(".tfs-login-code input").fill(independent_totp(secret, time.time()))
    second.locator(".tfs-login-verify").click()
    expect(second.locator(".tfs-trainee-why")).to_contain_text("Your trainer can unlock you at once.", timeout=60_000)
    assert WELCOME not in second.locator(".tfs-login-message").inner_text()
    counted = events_of(database, name, EventKind.CODE_REJECTED, EventKind.LOCKED_OUT, EventKind.LOGIN_REFUSED_LOCKED_OUT,
                        EventKind.AUTHENTICATED)
    assert counted == {EventKind.CODE_REJECTED: limit, EventKind.LOCKED_OUT: 1, EventKind.LOGIN_REFUSED_LOCKED_OUT: 1,
                       EventKind.AUTHENTICATED: 1}, "five refused, one lock at the fifth, and only the enrolment in"
    for page in (first, second):
        page.close()
