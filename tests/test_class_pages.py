"""Class mode's pages in one process (the browser test runs them in two kernels): the trainer's
dashboard creates the class and follows a trainee who logs in on the trainee page; the trainer's
actions work; no password and no other trainee's secret ever reaches a trainee's page."""

from __future__ import annotations

import html
import io
import re

import ipywidgets as widgets
import pytest
import zxingcpp
from freezegun import freeze_time
from PIL import Image

from twofa_sim import BackOffice, Clock, Policy, State
from twofa_sim.classroom.course import TRAINER_KEY_ENV
from twofa_sim.ui.class_dashboard import ClassDashboard
from twofa_sim.ui.trainee_page import TraineePage
from twofa_sim.ui.trainer_demo import TrainerDemo

from helpers import independent_totp, parse_key_uri
from pg_server import database, postgres  # noqa: F401 - fixtures: an SQLite file or a throw-away PostgreSQL database

FAST = Policy(kdf_log2_n=4)


@pytest.fixture
def office() -> BackOffice:
    return BackOffice(policy=FAST, clock=Clock.real_time())


@pytest.fixture
def dashboard(office) -> ClassDashboard:
    board = ClassDashboard(office, live=False)
    board.count.value = 3
    board.create_button.click()
    return board


def everything_on(widget: widgets.Widget) -> list[str]:
    """Every text a page holds in its widgets' synced state (what reaches the browser), and the
    text of every QR image in it, decoded from its pixels."""
    found, stack, seen = [], [widget], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        for name in item.keys:
            value = getattr(item, name)
            values = value if isinstance(value, (list, tuple)) else [value]
            for one in values:
                if isinstance(one, widgets.Widget):
                    stack.append(one)
                elif isinstance(one, str):
                    found.append(one)
                elif isinstance(one, (bytes, memoryview)) and len(one):
                    found.extend(b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(bytes(one)))))
    return found


def log_in(page: TraineePage, username: str, password: str) -> None:
    page.login.username.value, page.login.password.value = username, password
    page.login.login_button.click()


def row(board: ClassDashboard, name: str) -> dict[str, str]:
    board.refresh()
    table = board.table.value
    heads = re.findall(r"<th>(.*?)</th>", table)
    for cells in re.findall(r"<tr>(.*?)</tr>", table):
        values = re.findall(r"<td>(.*?)</td>", cells)
        if values and values[0] == name:
            return dict(zip(heads, values))
    raise AssertionError(f"{name} not in the table")


def test_the_whole_class_story(office, dashboard):
    roster = dashboard.classroom.roster.hand_out()
    (anna, anna_password), (ben, ben_password) = roster[0], roster[1]
    assert "3 trainees" in dashboard.message.value
    assert [row(dashboard, name)["progress"] for name, _ in roster] == ["not logged in yet"] * 3
    anna_page, ben_page = TraineePage(office, live=False), TraineePage(office, live=False)

    log_in(anna_page, anna, anna_password)
    assert anna_page.login.attempt.state is State.ENROLMENT
    assert row(dashboard, anna)["progress"] == "sees the QR code" and row(dashboard, anna)["sees QR"] == "yes"

    # Anna's phone: the QR read from the page's pixels, the code computed independently
    [uri_text] = [text for text in everything_on(anna_page) if text.startswith("otpauth://")]
    uri = parse_key_uri(uri_text)
    assert (uri["type"], uri["label"], uri["issuer"]) == ("totp", f"plenigo:{anna}", "plenigo")
    anna_page.login.code.value = independent_totp(uri["secret"], office.clock.now())
    anna_page.login.code_button.click()
    assert anna_page.login.attempt.state is State.AUTHENTICATED
    assert (row(dashboard, anna)["enrolled"], row(dashboard, anna)["progress"]) == ("yes", "signed in")
    assert "1 of 3 enrolled" in dashboard.summary.value

    # Ben has no app: the simulated one scans his page
    log_in(ben_page, ben, ben_password)
    app = ben_page.open_simulated_app()
    app.scan_button.click()
    code = re.sub(r"\D", "", next(iter(app.cards.values())).code.value)
    ben_page.login.code.value = code
    ben_page.login.code_button.click()
    assert row(dashboard, ben)["enrolled"] == "yes"

    # what the pages hold: no password, no secret but the trainee's own
    passwords = {password for _, password in roster}
    for page, own in ((anna_page, anna), (ben_page, ben)):
        held = "\n".join(everything_on(page))
        assert not any(password in held for password in passwords), "a password reached a trainee's page"
    assert uri["secret"] not in "".join(everything_on(ben_page)).replace(" ", ""), "Anna's secret reached Ben's page"
    dashboard_text = "\n".join(everything_on(dashboard.live_card.children[3]) + [dashboard.summary.value])
    assert not any(password in dashboard_text for password in passwords), "a password in the live table"
    assert all(password in dashboard.passwords.value for password in passwords), "the trainer's slips"
    assert dashboard.password_section.selected_index is None, "the slips start closed"


@pytest.mark.parametrize("action, button, expected", [
    ("reset", "reset", "2FA of {name} reset"),
    ("unlock", "unlock", "{name} unlocked."),
    ("recovery before enrolling", "recovery", "has not set up an authenticator app yet"),
])
def test_the_trainers_buttons(office, dashboard, action, button, expected):
    name = dashboard.selected.value
    before = len(office.events)
    getattr(dashboard, button).click()
    assert expected.format(name=name) in dashboard.message.value
    assert len(office.events) == before + (0 if action.startswith("recovery") else 1)
    assert dashboard.safe.errors.outputs == ()


def test_recovery_codes_shown_once_for_an_enrolled_trainee(office, dashboard):
    name, password = dashboard.classroom.roster.hand_out()[2]
    page = TraineePage(office, live=False)
    log_in(page, name, password)
    secret = page.login.attempt.screen.secret
    page.login.code.value = independent_totp(secret, office.clock.now())
    page.login.code_button.click()
    dashboard.selected.value = name
    dashboard.recovery.click()
    assert len(re.findall(r"<li class='tfs-secret'>", dashboard.recovery_codes.value)) == FAST.recovery_code_count
    dashboard.unlock.click()
    assert dashboard.recovery_codes.value == "", "shown once: gone after the next action"


def test_a_bad_class_is_a_message_and_nothing_changes(office):
    board = ClassDashboard(office, live=False)
    board.names.value = "anna\nb:c\n"
    board.create_button.click()
    assert "username" in board.message.value and "tfs-error" in board.message.value
    assert (office.companies, office.users, board.classroom) == ([], [], None)
    assert board.safe.errors.outputs == ()


@pytest.mark.parametrize("key_set, query, shown", [
    ("", "", ClassDashboard),
    ("s3cret-key", "key=s3cret-key", ClassDashboard),
    ("s3cret-key", "key=s3cret-key&lang=de", ClassDashboard),
    ("s3cret-key", "", widgets.HTML),
    ("s3cret-key", "key=guess", widgets.HTML),
])
def test_the_dashboard_needs_the_trainers_key(monkeypatch, key_set, query, shown):
    monkeypatch.setenv(TRAINER_KEY_ENV, key_set)
    page = ClassDashboard.for_page(query, live=False)
    assert type(page) is shown
    if shown is widgets.HTML:
        assert "for the trainer" in page.value


@pytest.mark.parametrize("query, button", [("lang=de", "Anmelden"), ("", "Log in")])
def test_the_trainee_page_speaks_the_address_language(query, button):
    page = TraineePage.for_page(query, live=False)
    assert page.login.login_button.description == button and page.office.clock.is_real_time


def test_a_dashboard_opened_later_shows_the_class_without_passwords(office, dashboard):
    later = ClassDashboard(office, classroom=type(dashboard.classroom).find(office), live=False)
    assert row(later, "trainee01")["progress"] == "not logged in yet"
    assert later.passwords.value == "" and later.password_section.layout.display == "none"


# -- the trainer demo's real time ------------------------------------------------------------------

@pytest.mark.parametrize("query, real_time", [("clock=real", True), ("", False), ("clock=real&lang=de", True)])
def test_the_trainer_demo_can_run_on_the_real_time(query, real_time):
    demo = TrainerDemo.for_page(query, live=False)
    assert demo.office.clock.is_real_time is real_time


def test_the_real_time_button_leaves_the_story_time():
    with freeze_time("2026-12-06 08:00:00", tick=True):
        demo = TrainerDemo.standard(live=False)
        assert not demo.office.clock.is_real_time
        demo.clock.real_time.click()
        assert demo.office.clock.is_real_time and demo.clock.live.value
        assert "real time" in demo.clock.display.value and "2026-12-06 08:00" in demo.clock.display.value
        assert demo.office.events[-1].detail == "real time"


# -- one class in one database, pages in different processes --------------------------------------

def enrol_in_another_process(url: str, username: str, password: str, results) -> None:
    """A trainee's kernel: its own back office on the class's database, its own clock."""
    from twofa_sim.classroom import open_class

    office = open_class(url, policy=FAST)
    page = TraineePage(office, live=False)
    log_in(page, username, password)
    screen = page.login.attempt.screen
    page.login.code.value = independent_totp(screen.secret, office.clock.now())
    page.login.code_button.click()
    results.put((page.login.attempt.state.name, page.login.message.value))


def test_a_trainee_in_another_process_shows_on_the_dashboard(database):
    import multiprocessing

    from twofa_sim.classroom import open_class

    url = database
    board = ClassDashboard(open_class(url, policy=FAST), live=False)
    board.count.value = 2
    board.create_button.click()
    name, password = board.classroom.roster.hand_out()[1]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    trainee = context.Process(target=enrol_in_another_process, args=(url, name, password, results))
    trainee.start()
    state, message = results.get(timeout=120)
    trainee.join(timeout=60)
    assert (state, "Welcome" in message) == ("AUTHENTICATED", True)
    assert (row(board, name)["enrolled"], row(board, name)["progress"]) == ("yes", "signed in")
    assert row(board, "trainee01")["progress"] == "not logged in yet"
    assert "1 of 2 enrolled" in board.summary.value


def sqlite_file(folder, name: str, *statements: str) -> str:
    """An SQLite file that is not a class's database (made with the standard library)."""
    import sqlite3

    path = folder / name
    with sqlite3.connect(path) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()
    return f"sqlite:///{path}"


@pytest.mark.parametrize("make_database, named, english, german", [
    (lambda folder: f"sqlite:///{folder / 'missing' / 'class.sqlite'}", "class.sqlite",
     "cannot be opened. Check that its folder exists", "lässt sich nicht öffnen"),
    (lambda folder: (folder / "notes.sqlite").write_text("not a database " * 100) and
     f"sqlite:///{folder / 'notes.sqlite'}", "notes.sqlite", "is not an SQLite database", "ist keine SQLite-Datenbank"),
    (lambda folder: sqlite_file(folder, "shop.sqlite", "create table orders (id integer)"), "shop.sqlite",
     "holds other tables: it is not a class database", "enthält andere Tabellen"),
    (lambda folder: sqlite_file(folder, "old.sqlite", "create table schema_version (version integer)",
                                "insert into schema_version values (99)"), "old.sqlite",
     "has schema version 99", "hat die Schemaversion 99"),
    (lambda folder: "mysql://class@localhost/class", "database URL", "names the database kind 'mysql'",
     "names the database kind 'mysql'"),
])
@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("page", [TraineePage, ClassDashboard])
def test_a_database_that_cannot_be_used_is_named_on_the_page(tmp_path, monkeypatch, make_database, named, english,
                                                             german, language, page):
    monkeypatch.delenv(TRAINER_KEY_ENV, raising=False)
    shown = page.for_page(f"lang={language}", db_url=make_database(tmp_path), live=False)
    assert type(shown) is widgets.HTML and "tfs-error" in shown.value
    text = html.unescape(shown.value)
    assert named in text and (english if language == "en" else german) in text and "Traceback" not in text


def test_an_open_step_costs_the_database_nothing_until_its_time_is_up(tmp_path):
    """Each trainee page ticks once a second; while the QR step is open that must not write."""
    from twofa_sim.classroom import open_class

    office = open_class(f"sqlite:///{tmp_path / 'class.sqlite'}", policy=FAST)
    board = ClassDashboard(office, live=False)
    board.count.value = 1
    board.create_button.click()
    name, password = board.classroom.roster.hand_out()[0]
    clock = Clock.at(office.clock.now())
    page = TraineePage(BackOffice(policy=FAST, clock=clock, store=office.store), live=False)
    log_in(page, name, password)
    opened, transactions = page.login.attempt.state, []
    real = page.office.store.transaction

    def counted(write=True):
        transactions.append(write)
        return real(write)

    page.office.store.transaction = counted
    for _ in range(5):
        clock.advance(FAST.code_step_timeout / 6)
        page.refresh()
    assert (opened, page.login.attempt.state, transactions) == (State.ENROLMENT, State.ENROLMENT, [])
    clock.advance(FAST.code_step_timeout / 6)
    page.refresh()
    assert page.login.attempt.state is State.EXPIRED and transactions and all(transactions)


@pytest.mark.parametrize("app", ["reference", "authenticator-addon", "aegis", "freeotp", "2fas",
                                 "google-authenticator"])
def test_on_the_real_time_every_apps_code_signs_in(app):
    """The trainer demo on the real time: its QR is a Key URI each app takes, and the code the app
    then shows on a correctly set device (its clock at the real time) signs in."""
    from twofa_sim import PROFILES

    assert app in PROFILES
    demo = TrainerDemo.standard(real_time=True, app=app, live=False)
    demo.admin.username.value, demo.admin.password.value = "alice", "correct horse 42"
    demo.admin.force.value = True
    demo.admin.create.click()
    demo.login.username.value, demo.login.password.value = "alice", "correct horse 42"
    demo.login.login_button.click()
    assert demo.login.attempt.state is State.ENROLMENT and demo.office.clock.is_real_time
    demo.app.scan_button.click()
    if demo.app.editor.layout.display is None:       # Aegis: the edit screen, saved on Save
        demo.app.save.click()
    [card] = demo.app.cards.values()
    if card.tap.layout.display is None:              # FreeOTP: the code after a tap
        card.tap.click()
    demo.login.code.value = re.sub(r"\D", "", card.code.value)
    demo.login.code_button.click()
    assert demo.login.attempt.state is State.AUTHENTICATED, demo.login.message.value


def test_the_dashboard_in_german(office):
    board = ClassDashboard(office, live=False, language="de")
    assert board.create_button.description == "Kurs anlegen"
    board.count.value = 2
    board.create_button.click()
    name, password = board.classroom.roster.hand_out()[0]
    page = TraineePage(office, live=False, language="de")
    log_in(page, name, password)
    board.refresh()
    assert "angelegt: 2 Teilnehmende." in board.message.value
    assert "0 von 2 eingerichtet · 1 sehen den QR-Code · 0 gesperrt" in board.summary.value
    assert "<td>sieht den QR-Code</td>" in board.table.value and "<th>Stand</th>" in board.table.value
    assert "Zweites Fenster" in page.login.window_bar.value
