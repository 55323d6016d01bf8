"""Class mode in a real browser: one class server over ``notebooks/class`` (``python -m
twofa_sim.server``, as ``make class`` runs it, with its warm kernels, on one SQLite file), two
Chromium pages, the trainer's and a trainee's, each with its own kernel. The same enrolment on
PostgreSQL, through two servers at once, is in ``test_class_servers_pg.py``.

The trainer creates the class and reads a trainee's password from the closed section of the
dashboard; the trainee logs in on the trainee page; the QR code is read from the screenshot's
pixels with zxing-cpp; the code is computed from the decoded Key URI at the real time with an RFC
6238 written out in the tests (hmac and hashlib, not the project's code path), typed and accepted;
the trainer's dashboard shows the trainee as enrolled within 2 s. Screenshots and the server's log
go to artifacts/class-browser/; with ``SCREENSHOTS_TO=docs/screenshots`` (``make screenshots``) the
README's pictures of class mode are written there too.
"""

from __future__ import annotations

import io
import os
import pathlib
import secrets
import time

import pytest
import zxingcpp
from PIL import Image

from helpers import independent_totp, parse_key_uri
from test_browser import (CHROMIUM_ARGS, at_every_size, debian_chromium, free_port, no_cut_text, only_local_requests,
                          publish, running_voila, trust)

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "class-browser"
NOTEBOOKS = ROOT / "notebooks" / "class"
# Seconds a trainee's step may take to show on the trainer's dashboard, which refreshes every second
# without a reload. On a quiet machine it shows within a second (the measured time is printed); the
# bound only has to tell a live dashboard from one that needs a reload, on a test run that loads both
# CPUs with browsers and kernels.
SEEN_WITHIN = 10.0
WARM, SPARE, CAP = 1, 1, 10  # the class server's warm kernels at start, kept once pages hold them, and its cap
PHONE = (390, 844)
# Boxes that clip or scroll must hold what they contain: the app chooser at 390 px once stuck out of
# its card's settings box, which then scrolled sideways (cut, though no text of it overflowed itself).
CLIPPED_JS = """
(root) => [...document.querySelectorAll(root + ', ' + root + ' *')]
  .filter(e => e.clientWidth > 0 && getComputedStyle(e).overflowX !== 'visible' && e.scrollWidth > e.clientWidth + 1)
  .map(e => `${e.className.toString().split(' ').slice(-1)[0] || e.tagName}: ${e.scrollWidth} > ${e.clientWidth}`)
"""


def serve(database_url: str, log_name: str):
    """One class server with the root at notebooks/class, the project's voila.json and
    class_server.json (offline template, warm kernels, culling) and the environment ``make class``
    gives it, sized for the pages these tests open; yields what the tests need."""
    chromium = debian_chromium()
    port, key = free_port(), secrets.token_urlsafe(12)
    env = dict(os.environ, TZ="UTC", JUPYTER_PATH=str(ROOT / "share" / "jupyter"),
               TWOFA_SIM_CLASS_DB=database_url, TWOFA_SIM_TRAINER_KEY=key,
               TWOFA_SIM_TRAINEE_URL=f"http://127.0.0.1:{port}/voila/render/trainee.ipynb")
    trust(NOTEBOOKS / "trainer.ipynb", NOTEBOOKS / "trainee.ipynb", NOTEBOOKS / "projector.ipynb")
    log_path = ARTIFACTS / log_name
    with running_voila("notebooks/class", port, env, log_path, f"--class-size={WARM}", f"--spare-kernels={SPARE}",
                       f"--kernel-cap={CAP}", module="twofa_sim.server"):
        yield {"base": f"http://127.0.0.1:{port}/voila/render/", "key": key, "chromium": chromium, "log": log_path,
               "db": database_url, "trainees": env["TWOFA_SIM_TRAINEE_URL"]}


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """The class on an SQLite file, as ``make class`` runs it by default."""
    yield from serve(f"sqlite:///{tmp_path_factory.mktemp('class') / 'class.sqlite'}", "voila.log")


@pytest.fixture(scope="module")
def browser():
    """Set up before the servers (the first test asks for it first), so it is closed after them: a
    server stopped with its pages still open ends their kernels, where pages closed first would
    have the server start warm kernels again just before it stops."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=debian_chromium(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, server, address: str, ready: str, size: tuple[int, int] = (1280, 720)):
    """A page at projector size (or ``size``) that records its requests. Voila's page keeps
    loading while the kernel runs the notebook, so wait for the response, then for the widget itself."""
    page = browser.new_page(viewport={"width": size[0], "height": size[1]}, accept_downloads=True)
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


def test_a_trainee_enrols_with_a_code_computed_from_the_pixels(class_server, browser):
    from playwright.sync_api import expect

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
    screenshot = ARTIFACTS / "trainee-qr.png"
    trainee.screenshot(path=str(screenshot))
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
    trainer.screenshot(path=str(ARTIFACTS / "trainer-trainee-enrolled.png"))
    publish(ARTIFACTS / "trainer-trainee-enrolled.png", "class-dashboard")
    trainee.screenshot(path=str(ARTIFACTS / "trainee-signed-in.png"))
    at_every_size(trainer, ".tfs-class-dashboard", "class dashboard")
    at_every_size(trainee, ".tfs-trainee-page", "trainee page")

    # nothing of the trainer's reaches the trainee's page: no password, no other trainee
    shown = trainee.content()
    assert password not in shown and other not in shown and "trainee02" not in shown
    assert "Traceback" not in shown and "Traceback" not in trainer.content()
    only_local_requests(trainee, "class mode, trainee page")
    only_local_requests(trainer, "class mode, trainer page")
    print(f"\nclass browser figures: dashboard saw the QR after {sees_qr_after:.2f} s, "
          f"the enrolment after {enrolled_after:.2f} s")


def test_the_dashboard_address_without_the_key_offers_nothing(class_server, browser):
    page = open_page(browser, class_server, "trainer.ipynb", ".tfs-class-refused")
    assert page.locator(".tfs-class-create").count() == 0 and page.locator(".tfs-class-table").count() == 0


def test_nothing_on_the_trainee_page_moves_while_it_loads_or_after(class_server, browser):
    """A running animation makes the browser draw a frame 60 times a second on the thread that
    loads the page: Voila's turning logo did, and a class loading at once on one machine paid for it
    (make bench-class). The logo stands still while the page loads; the page, once shown, moves nothing."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(class_server["base"] + "trainee.ipynb", wait_until="commit", timeout=60_000)
    page.wait_for_selector("#loading .spinner", state="attached", timeout=60_000)
    running = "document.getAnimations().filter(a => a.playState === 'running').map(a => a.animationName || 'script')"
    loading = page.evaluate(f"[getComputedStyle(document.querySelector('#loading .spinner')).animationName, {running}]")
    # the mask, or (run alone, before the class is created) the page that names the missing database
    page.wait_for_selector(".tfs-login-submit, .tfs-trainee-page, .tfs-message.tfs-error", timeout=120_000)
    page.wait_for_timeout(1000)
    assert {"while loading": loading, "once shown": page.evaluate(running)} == \
        {"while loading": ["none", []], "once shown": []}
    page.close()


def test_the_trainee_page_in_german_has_no_cut_text(class_server, browser):
    from playwright.sync_api import expect

    page = open_page(browser, class_server, "trainee.ipynb?lang=de", ".tfs-login-submit")
    expect(page.locator(".tfs-login-submit")).to_have_text("Anmelden")
    page.locator(".tfs-trainee-no-app").click()
    expect(page.locator(".tfs-app-scan")).to_be_visible()
    at_every_size(page, ".tfs-trainee-page", "German trainee page with the simulated app")
    # on a phone: the simulated app under the mask, its app chooser and move target inside the card
    page.set_viewport_size(dict(zip(("width", "height"), PHONE)))
    page.wait_for_timeout(300)
    no_cut_text(page, ".tfs-trainee-page", "German trainee page with the simulated app at 390x844")
    assert page.evaluate(CLIPPED_JS, ".tfs-trainee-page") == [], "a box of the page cuts what it holds at 390x844"
    card, chooser = page.locator(".tfs-app").bounding_box(), page.locator(".tfs-app-profile select").bounding_box()
    assert card["x"] <= chooser["x"] and chooser["x"] + chooser["width"] <= card["x"] + card["width"]
    page.locator(".tfs-app").screenshot(path=str(ARTIFACTS / "trainee-simulated-app-390-de.png"))
    page.set_viewport_size({"width": 1280, "height": 720})
    only_local_requests(page, "German trainee page")


# -- a class of thirty, from the first slide to the last -------------------------------------------

THIRTY = ["anna", "ben", "carla", "david", "emma", "felix", "greta", "hugo", "ida", "jonas", "klara", "leon", "mia",
          "noah", "olga", "paul", "quinn", "rosa", "sam", "tara", "uwe", "vera", "wim", "xenia", "yusuf", "zoe",
          "amir", "bea", "cem", "dora"]


def section(page, css_class: str):
    """The header of one of the dashboard's closed sections (click to open or close it)."""
    return page.locator(f".{css_class} .jupyter-widget-Collapse-header, .{css_class} .lm-Widget.p-Collapse-header").first


def passwords_on(trainer) -> dict[str, str]:
    """The passwords the dashboard holds, read from its closed section (opened, read, closed again)."""
    from playwright.sync_api import expect

    section(trainer, "tfs-class-password-section").click()
    rows = trainer.locator(".tfs-class-passwords table tbody tr")
    expect(rows.first).to_be_visible()
    found = dict(row.split("\t") for row in rows.all_inner_texts())
    section(trainer, "tfs-class-password-section").click()
    expect(trainer.locator(".tfs-class-passwords")).to_be_hidden()
    return found


def downloaded(page, link: str) -> str:
    with page.expect_download() as saving:
        page.locator(link).click()
    return pathlib.Path(saving.value.path()).read_text(encoding="utf-8")


def choose(trainer, name: str) -> None:
    trainer.locator(".tfs-class-selected select").select_option(label=name)


def play_the_room(db_url: str, passwords: dict[str, str]) -> None:
    """What the rest of the room does meanwhile, in this process on the class's database (as the
    trainees' kernels would): some enrolled and signed in, two on the QR code, one locked, one who
    typed a wrong password three times before getting in."""
    from twofa_sim.classroom import open_class

    office = open_class(db_url)
    for name in THIRTY[2:9]:
        login = office.start_login()
        screen = login.submit_password(name, passwords[name]).screen
        login.submit_code(independent_totp(screen.secret, time.time()))
    for name in THIRTY[9:11]:
        office.start_login().submit_password(name, passwords[name])
    login = office.start_login()
    screen = login.submit_password(THIRTY[11], passwords[THIRTY[11]]).screen
    wrong = "000000" if independent_totp(screen.secret, time.time()) != "000000" else "111111"
    for _ in range(office.policy.failed_code_limit):
        login.submit_code(wrong)
    login = office.start_login()
    for _ in range(3):
        login.submit_password(THIRTY[12], "not the password 7")
    login.submit_password(THIRTY[12], passwords[THIRTY[12]])
    office.store.close()


def test_a_class_of_thirty_from_first_slide_to_last(class_server, browser):
    from playwright.sync_api import expect
    import pandas as pd

    server, (phone_user, lost_slip, reset_user) = class_server, THIRTY[:2] + [THIRTY[2]]
    trainer = open_page(browser, server, f"trainer.ipynb?key={server['key']}", ".tfs-class-dashboard")
    if trainer.locator(".tfs-class-new").is_visible():  # an earlier test's class is on the dashboard
        trainer.locator(".tfs-class-new").click()
    trainer.locator(".tfs-class-company input").fill("Class of 30")
    trainer.locator(".tfs-class-names textarea").fill("\n".join(THIRTY))
    trainer.locator(".tfs-class-create").click()
    expect(trainer.locator(".tfs-class-summary")).to_contain_text("Class of 30: 0 of 30 enrolled", timeout=60_000)
    chosen = trainer.locator(".tfs-class-selected select").evaluate("s => s.selectedIndex < 0 ? '' : s.options[s.selectedIndex].text")
    assert chosen.replace("\xa0", " ") == "choose a trainee", "no trainee preselected"
    passwords = passwords_on(trainer)
    assert sorted(passwords) == sorted(THIRTY)

    # the slips: a page of their own, printable, one slip per trainee, the address as a QR code
    section(trainer, "tfs-class-password-section").click()
    slips_html = downloaded(trainer, ".tfs-class-slips-link")
    section(trainer, "tfs-class-password-section").click()
    slips = browser.new_page(viewport={"width": 1280, "height": 720})
    slips.set_content(slips_html)
    slips.emulate_media(media="print")
    assert slips.locator(".tfs-slip").count() == 30
    assert slips.locator(".tfs-slip-username").all_inner_texts() == THIRTY
    assert dict(zip(THIRTY, slips.locator(".tfs-slip-password").all_inner_texts())) == passwords
    slips.locator(".tfs-slip-qr").first.screenshot(path=str(ARTIFACTS / "slip-qr.png"))
    [address] = zxingcpp.read_barcodes(Image.open(ARTIFACTS / "slip-qr.png"))
    assert address.text == server["trainees"]
    slips.screenshot(path=str(ARTIFACTS / "slips-print.png"), full_page=True)
    no_cut_text(slips, ".tfs-slips", "password slips, printed")
    slips.close()

    play_the_room(server["db"], passwords)

    # a trainee with only a phone: the link opens the app on the phone, its URI is the QR code's
    phone = open_page(browser, server, "trainee.ipynb", ".tfs-login-submit", size=(390, 844))
    phone.locator(".tfs-login-username input").fill(phone_user)
    phone.locator(".tfs-login-password input").fill(passwords[phone_user])
    phone.locator(".tfs-login-submit").click()
    expect(phone.locator(".tfs-second-window .tfs-login-qr")).to_be_visible(timeout=30_000)
    link = phone.locator(".tfs-trainee-otpauth")
    expect(link).to_be_visible()
    phone.locator(".tfs-second-window .tfs-login-qr").screenshot(path=str(ARTIFACTS / "phone-qr.png"))
    [qr] = zxingcpp.read_barcodes(Image.open(ARTIFACTS / "phone-qr.png"))
    assert link.get_attribute("href") == qr.text and qr.text.startswith("otpauth://totp/")
    assert phone.locator(".tfs-trainee-key").evaluate("k => k.scrollWidth <= k.clientWidth + 1"), "the key on one line"
    assert phone.locator(".tfs-trainee-key").evaluate("k => k.getClientRects().length") == 1
    no_cut_text(phone, ".tfs-trainee-phone", "the phone's link and key at 390x844")
    phone.screenshot(path=str(ARTIFACTS / "trainee-phone-qr.png"))
    # the phone's clock is 30 s behind: its code is the previous step's
    phone.locator(".tfs-login-code input").fill(independent_totp(parse_key_uri(qr.text)["secret"], time.time() - 30))
    phone.locator(".tfs-login-verify").click()
    expect(phone.locator(".tfs-login-message")).to_contain_text("Welcome, you are logged in.", timeout=30_000)
    expect(phone.locator(".tfs-trainee-why")).to_contain_text("about 30 s behind")
    phone.screenshot(path=str(ARTIFACTS / "trainee-phone-signed-in.png"))
    expect(trainer.locator(".tfs-class-table tbody tr", has=trainer.locator(f"td:text-is('{phone_user}')"))) \
        .to_contain_text("about 30 s behind", timeout=SEEN_WITHIN * 1000)

    # the room as the trainer sees it: stages, marks, wrong passwords
    expect(trainer.locator(".tfs-class-summary")).to_contain_text("8 of 30 enrolled", timeout=10_000)
    assert cell(trainer, THIRTY[11], "progress") == "locked out"
    assert trainer.locator(f"tr.tfs-row-locked td:text-is('{THIRTY[11]}')").count() == 1
    assert (cell(trainer, THIRTY[12], "wrong passwords"), cell(trainer, THIRTY[9], "progress")) == ("3",
                                                                                                  "sees the QR code")

    # recovery codes: in a closed section, for the trainer's eyes
    choose(trainer, phone_user)
    trainer.locator(".tfs-class-recovery").click()
    expect(trainer.locator(".tfs-class-side .tfs-class-message")).to_contain_text("recovery codes issued")
    expect(trainer.locator(".tfs-class-recovery-codes")).to_be_hidden()
    section(trainer, "tfs-class-recovery-section").click()
    codes = trainer.locator(".tfs-class-recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    section(trainer, "tfs-class-recovery-section").click()

    # Reset 2FA asks first, naming the trainee; Cancel leaves everything as it was
    choose(trainer, reset_user)
    trainer.locator(".tfs-class-reset").click()
    expect(trainer.locator(".tfs-class-confirm")).to_contain_text(f"Reset 2FA of {reset_user}?")
    trainer.wait_for_timeout(1500)
    assert cell(trainer, reset_user, "progress") == "signed in", "nothing happens before the second click"
    trainer.locator(".tfs-class-confirm-no").click()
    expect(trainer.locator(".tfs-class-confirm")).to_be_hidden()
    trainer.locator(".tfs-class-reset").click()
    trainer.locator(".tfs-class-confirm-yes").click()
    expect(trainer.locator(".tfs-class-table tbody tr", has=trainer.locator(f"td:text-is('{reset_user}')"))) \
        .to_contain_text("2FA reset: log in again", timeout=SEEN_WITHIN * 1000)

    # a lost slip: a new password, and the trainee logs in with it
    choose(trainer, lost_slip)
    trainer.locator(".tfs-class-new-password").click()
    expect(trainer.locator(".tfs-class-side .tfs-class-message")).to_contain_text(f"New password for {lost_slip}")
    new_password = passwords_on(trainer)[lost_slip]
    assert new_password != passwords[lost_slip]
    trainee = open_page(browser, server, "trainee.ipynb", ".tfs-login-submit")
    trainee.locator(".tfs-login-username input").fill(lost_slip)
    trainee.locator(".tfs-login-password input").fill(new_password)
    trainee.locator(".tfs-login-submit").click()
    expect(trainee.locator(".tfs-second-window .tfs-login-qr")).to_be_visible(timeout=30_000)

    # the projector view: the address and the stages, no password, no recovery code, no button
    projector = open_page(browser, server, "projector.ipynb", ".tfs-projector-bars table")
    expect(projector.locator(".tfs-projector-summary")).to_contain_text("of 30 have set up two-factor login")
    shown = projector.content()
    assert server["trainees"] in shown
    assert not [p for p in list(passwords.values()) + [new_password] if p in shown], "a password on the projector"
    assert not [c for c in codes if c in shown], "a recovery code on the projector"
    assert projector.locator("button").count() == 0 and "Reset 2FA" not in shown and "Unlock" not in shown
    assert not [name for name in THIRTY if f">{name}<" in shown], "a trainee's name on the projector"
    projector.screenshot(path=str(ARTIFACTS / "projector.png"))
    publish(ARTIFACTS / "projector.png", "class-projector")
    at_every_size(projector, ".tfs-projector", "projector view")

    # what the class learned, to keep: the progress table as CSV, one row per trainee
    trainer.locator(".tfs-class-export").click()
    progress = pd.read_csv(io.StringIO(downloaded(trainer, ".tfs-class-progress-csv")))
    assert progress["trainee"].tolist() == THIRTY
    assert progress.set_index("trainee").loc[phone_user, "phone clock"] == "about 30 s behind"

    trainer.locator(".tfs-class-dashboard .tfs-title").scroll_into_view_if_needed()
    trainer.screenshot(path=str(ARTIFACTS / "dashboard-30.png"))
    publish(ARTIFACTS / "dashboard-30.png", "class-dashboard-30")
    at_every_size(trainer, ".tfs-class-dashboard", "class dashboard with 30 trainees")
    for page, where in ((trainer, "dashboard"), (phone, "phone"), (projector, "projector"), (trainee, "trainee")):
        assert "Traceback" not in page.content(), where
        only_local_requests(page, f"class of 30, {where}")
