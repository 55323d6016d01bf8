"""Class mode's pages in one process (the browser test runs them in two kernels): the trainer's
dashboard creates the class and follows a trainee who logs in on the trainee page; the trainer's
actions work; no password and no other trainee's secret ever reaches a trainee's page."""

from __future__ import annotations

import base64
import html
import io
import re

import ipywidgets as widgets
import pandas as pd
import pytest
import zxingcpp
from freezegun import freeze_time
from PIL import Image

from twofa_sim import BackOffice, Clock, Policy, State, ValidationError
from twofa_sim.classroom.course import TRAINER_KEY_ENV
from twofa_sim.ui.common import ProblemPage
from twofa_sim.ui.class_dashboard import BANNER_SECONDS, SECRET_SECONDS, ClassDashboard
from twofa_sim.ui.projector_view import ProjectorView
from twofa_sim.ui.trainee_page import TraineePage
from twofa_sim.ui.trainer_demo import TrainerDemo

from helpers import independent_totp, parse_key_uri, refused_code
from pg_server import database, postgres  # noqa: F401 - fixtures: an SQLite file or a throw-away PostgreSQL database
from store_workers import process_trainee_enrols

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
    for cells in re.findall(r"<tr[^>]*>(.*?)</tr>", table):
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
    assert row(dashboard, anna)["progress"] == "sees the QR code" and "1 see the QR code" in dashboard.summary.value

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
    dashboard_text = "\n".join([dashboard.table.value, dashboard.summary.value, dashboard.message.value])
    assert not any(password in dashboard_text for password in passwords), "a password in the live table"
    assert all(password in dashboard.passwords.value for password in passwords), "the trainer's slips"
    assert dashboard.password_section.selected_index is None, "the slips start closed"


@pytest.mark.parametrize("action, button, expected", [
    ("reset", "reset", "2FA of {name} reset"),
    ("unlock", "unlock", "{name} unlocked."),
    ("recovery before enrolling", "recovery", "has not set up an authenticator app yet"),
])
def test_the_trainers_buttons(office, dashboard, action, button, expected):
    assert dashboard.selected.value == "" and dashboard.selected.label == "choose a trainee", "no one preselected"
    name = dashboard.selected.value = "trainee02"
    before = len(office.events)
    getattr(dashboard, button).click()
    if action == "reset":  # it asks first, naming the trainee; nothing happens before the second click
        assert len(office.events) == before and "Reset 2FA of trainee02?" in dashboard.confirm.children[0].value
        yes = dashboard.confirm.children[1].children[0]
        assert yes.description == "Yes, reset trainee02"
        yes.click()
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


def open_widget_ids() -> set[str]:
    from ipywidgets.widgets.widget import _instances
    return set(_instances)


@pytest.mark.parametrize("query, button, same_page", [
    ("", "Log in", True),
    ("lang=xx", "Log in", True),
    ("lang=de", "Anmelden", False),
])
def test_a_warm_page_serves_its_request_and_is_rebuilt_only_for_another_language(query, button, same_page):
    """The class server's warm kernel builds the page before its request (in English, not ticking);
    the request only picks the language: another one builds the page anew on the same back office
    and closes every widget of the warm one, so no state of it reaches the browser."""
    before = open_widget_ids()
    warm = TraineePage.for_page("", live=False)
    warm_widgets = open_widget_ids() - before
    assert not warm.ticker.running
    page = TraineePage.for_request(warm, query)
    try:
        assert (page is warm) is same_page and page.office is warm.office
        assert page.login.login_button.description == button and page.ticker.running
        assert warm_widgets.isdisjoint(open_widget_ids()) is not same_page
    finally:
        page.close()


def test_a_page_warmed_before_the_class_existed_is_built_at_its_request(tmp_path, monkeypatch):
    from twofa_sim.classroom.course import Classroom, open_class
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"
    warm = TraineePage.for_page("", db_url=url, live=False)
    assert isinstance(warm, ProblemPage) and "does not exist" in warm.problem
    Classroom.create(open_class(url, policy=FAST, until_created=True), "Class", count=2)
    page = TraineePage.for_request(warm, "lang=de", db_url=url)
    try:
        assert isinstance(page, TraineePage) and page.login.login_button.description == "Anmelden"
        assert warm.comm is None and page.message.value == ""  # the problem page closed; the class has started
    finally:
        page.close()


def test_a_dashboard_opened_later_shows_the_class_without_passwords(office, dashboard):
    later = ClassDashboard(office, classroom=type(dashboard.classroom).find(office), live=False)
    assert row(later, "trainee01")["progress"] == "not logged in yet"
    assert later.passwords.value == "" and later.password_section.selected_index is None


# -- the trainer demo's real time ------------------------------------------------------------------

@pytest.mark.parametrize("query, real_time", [("clock=real", True), ("", False), ("clock=real&lang=de", True)])
def test_the_trainer_demo_can_run_on_the_real_time(query, real_time):
    demo = TrainerDemo.for_page(query, live=False)
    assert demo.office.clock.is_real_time is real_time


@pytest.mark.parametrize("query, browser, owner", [("", "alice's browser", "alice"), ("user=bob", "bob's browser", "bob"),
                                                   ("lang=de&user=Carla", "Browser von Carla", "Carla")])
def test_the_trainer_demo_names_the_browser_after_the_user_demonstrated(query, browser, owner):
    demo = TrainerDemo.for_page(query, live=False)
    assert (demo.app.device.name, demo.app.device.owner) == (browser, owner)


def test_a_bad_user_in_the_demos_address_is_named():
    with pytest.raises(ValidationError, match="username"):
        TrainerDemo.for_page("user=a:b", live=False)


def test_the_real_time_button_leaves_the_story_time():
    with freeze_time("2026-12-06 08:00:00", tick=True):
        demo = TrainerDemo.standard(live=False)
        assert not demo.office.clock.is_real_time
        demo.clock.real_time.click()
        assert demo.office.clock.is_real_time and demo.clock.live.value
        assert "real time" in demo.clock.display.value and "2026-12-06 08:00" in demo.clock.display.value
        assert demo.office.events[-1].detail == "real time"


# -- one class in one database, pages in different processes --------------------------------------

def test_a_trainee_in_another_process_shows_on_the_dashboard(database):
    import multiprocessing

    from twofa_sim.classroom import open_class

    url = database
    board = ClassDashboard(open_class(url, policy=FAST, until_created=True), live=False)
    board.count.value = 2
    board.create_button.click()
    name, password = board.classroom.roster.hand_out()[1]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    trainee = context.Process(target=process_trainee_enrols, args=(url, FAST, name, password, results))
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
    assert isinstance(shown, ProblemPage) and "tfs-error" in shown.value
    text = html.unescape(shown.value)
    assert named in text and (english if language == "en" else german) in text and "Traceback" not in text


def test_an_open_prompt_costs_the_database_nothing_until_its_time_is_up(tmp_path):
    """Each trainee page ticks once a second; while the QR prompt is open that must not write (it
    reads its trainee's row, to notice the end of the class)."""
    from twofa_sim.classroom import open_class

    office = open_class(f"sqlite:///{tmp_path / 'class.sqlite'}", policy=FAST, until_created=True)
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
        clock.advance(FAST.code_prompt_timeout / 6)
        page.refresh()
    assert (opened, page.login.attempt.state, [w for w in transactions if w]) == (State.ENROLMENT, State.ENROLMENT, [])
    assert len(transactions) <= 5, "one read a tick at most"
    clock.advance(FAST.code_prompt_timeout / 6)
    page.refresh()
    assert page.login.attempt.state is State.EXPIRED and any(transactions[5:]), "the lapse is written"


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
    assert "0 von 2 eingerichtet · 0 angemeldet · 1 sehen den QR-Code · 0 gesperrt" in board.summary.value
    assert "<td>sieht den QR-Code</td>" in board.table.value and "<th>Stand</th>" in board.table.value
    assert "Zweites Fenster" in page.login.window_bar.value


# -- what the trainer takes away, and what closes by itself ---------------------------------------

ADDRESS = "http://192.0.2.10:8866/voila/render/trainee.ipynb"


def saved_file(widget_html: str, css_class: str) -> str:
    """The file a download link of the dashboard saves (a data: address, base64)."""
    [encoded] = re.findall(rf'class="{css_class}"[^>]*href="data:[^;]+;charset=utf-8;base64,([^"]+)"', widget_html)
    return base64.b64decode(encoded).decode("utf-8")


@pytest.fixture
def board_with_address(office) -> ClassDashboard:
    board = ClassDashboard(office, live=False, trainee_url=ADDRESS)
    board.count.value = 3
    board.create_button.click()
    return board


def test_the_slips_page_has_one_slip_per_trainee_with_a_qr_of_the_address(board_with_address):
    page = saved_file(board_with_address.passwords.value, "tfs-class-slips-link")
    usernames = re.findall(r'class="tfs-slip-value tfs-slip-username">([^<]+)<', page)
    passwords = re.findall(r'class="tfs-slip-value tfs-slip-password">([^<]+)<', page)
    assert list(zip(usernames, passwords)) == board_with_address.classroom.roster.hand_out()
    pictures = re.findall(r'<img class="tfs-slip-qr" src="data:image/png;base64,([^"]+)"', page)
    assert len(pictures) == 3
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(pictures[0]))))
    assert barcode.text == ADDRESS
    assert "<script" not in page and "http" not in page.replace(ADDRESS, ""), "stands alone, nothing fetched"


def test_the_csv_exports_have_one_row_per_trainee_and_the_class_events(office, board_with_address):
    board = board_with_address
    name, password = board.classroom.roster.hand_out()[0]
    log_in(TraineePage(office, live=False), name, password)
    board.export.click()
    progress = pd.read_csv(io.StringIO(saved_file(board.exports.value, "tfs-class-progress-csv")))
    assert progress["trainee"].tolist() == board.classroom.usernames
    assert progress.set_index("trainee").loc[name, "progress"] == "sees the QR code"
    events = pd.read_csv(io.StringIO(saved_file(board.exports.value, "tfs-class-events-csv")))
    assert events["kind"].value_counts()["user created"] == 3 and "QR shown" in set(events["kind"])
    passwords = saved_file(board.passwords.value, "tfs-class-passwords-csv")
    assert pd.read_csv(io.StringIO(passwords))["username"].tolist() == board.classroom.usernames


def test_secret_sections_close_and_recovery_codes_clear_by_themselves(office, board_with_address):
    board = board_with_address
    name, password = board.classroom.roster.hand_out()[0]
    page = TraineePage(office, live=False)
    log_in(page, name, password)
    page.login.code.value = independent_totp(page.login.attempt.screen.secret, office.clock.now())
    page.login.code_button.click()
    board.selected.value = name
    board.recovery.click()
    assert board.recovery_section.selected_index is None, "issued into a closed section"
    codes = re.findall(r"<li class='tfs-secret'>([^<]+)</li>", board.recovery_codes.value)
    printable = saved_file(board.recovery_codes.value, "tfs-class-recovery-page")
    assert re.findall(r'<li class="tfs-recovery-code">([^<]+)</li>', printable) == codes and len(codes) == 10
    board.recovery_section.selected_index = board.password_section.selected_index = 0
    board.refresh()
    assert (board.recovery_section.selected_index, board.password_section.selected_index) == (0, 0)
    board.recovery_section.opened_at -= SECRET_SECONDS + 1
    board.refresh()
    assert (board.recovery_section.selected_index, board.password_section.selected_index) == (None, None)
    assert board.recovery_codes.value == "" and board.passwords.value != "", "codes gone, slips kept"


def test_the_banner_clears_once_it_is_stale(board_with_address):
    board = board_with_address
    board.refresh()
    assert "created" in board.message.value
    board.message_shown_at -= BANNER_SECONDS + 1
    board.refresh()
    assert board.message.value == ""


def test_a_dashboard_opened_later_makes_a_new_password_that_lets_the_trainee_in(office, dashboard):
    later = ClassDashboard(office, classroom=type(dashboard.classroom).find(office), live=False)
    later.selected.value = "trainee02"
    later.new_password_button.click()
    [password] = re.findall(r"<td>trainee02</td><td class='tfs-secret'>([^<]+)</td>", later.passwords.value)
    assert password not in later.message.value + later.table.value + later.summary.value
    page = TraineePage(office, live=False)
    log_in(page, "trainee02", password)
    assert page.login.attempt.state is State.ENROLMENT


def test_ending_the_class_asks_first_then_no_one_logs_in(office, board_with_address):
    board = board_with_address
    name, password = board.classroom.roster.hand_out()[0]
    board.end.click()
    assert "No trainee can log in any more" in board.confirm.children[0].value and not board.classroom.ended
    board.confirm.children[1].children[0].click()
    assert board.classroom.ended and "has ended" in board.summary.value and board.passwords.value == ""
    assert "the class has ended" in ProjectorView(office, live=False).summary.value
    page = TraineePage(office, live=False)
    log_in(page, name, password)
    assert page.login.attempt.state is State.CREDENTIALS
    assert "The class has ended" in page.why.value


def end_the_class(board: ClassDashboard) -> None:
    board.end.click()
    board.confirm.children[1].children[0].click()


def signed_in(office, board, index: int, language: str = "en") -> TraineePage:
    """A trainee page whose trainee has enrolled and is signed in."""
    name, password = board.classroom.roster.hand_out()[index]
    page = TraineePage(office, live=False, language=language)
    log_in(page, name, password)
    page.login.code.value = independent_totp(page.login.attempt.screen.secret, office.clock.now())
    page.login.code_button.click()
    assert page.login.attempt.state is State.AUTHENTICATED
    return page


@pytest.mark.parametrize("language, closed", [("en", "The class has ended: logins are closed."),
                                              ("de", "Der Kurs ist beendet: Anmeldungen sind geschlossen.")])
def test_ending_the_class_signs_out_a_trainee_already_signed_in_on_the_pages_next_tick(office, board_with_address,
                                                                                       language, closed):
    page, name = signed_in(office, board_with_address, 0, language), board_with_address.classroom.roster.hand_out()[0][0]
    page.refresh()
    assert page.login.attempt.state is State.AUTHENTICATED, "nothing changes while the class runs"
    end_the_class(board_with_address)
    page.refresh()  # what the ticker does each second
    assert page.login.attempt.state is State.CREDENTIALS and closed in page.login.message.value
    assert row(board_with_address, name)["signed in"] == "no"


def test_after_the_end_a_trainee_s_next_action_signs_out_instead_of_stepping(office, board_with_address):
    name, password = board_with_address.classroom.roster.hand_out()[1]
    page = TraineePage(office, live=False)
    log_in(page, name, password)
    code = independent_totp(page.login.attempt.screen.secret, office.clock.now())
    end_the_class(board_with_address)
    page.login.code.value = code  # the right code, typed after the end: it is not even checked
    page.login.code_button.click()
    assert page.login.attempt.state is State.CREDENTIALS
    assert "logins are closed" in page.login.message.value and "Welcome" not in page.login.message.value
    assert row(board_with_address, name)["enrolled"] == "no" and page.phone.value == "" and page.login.qr.value == b""


def test_a_new_password_alone_signs_no_one_out(office, board_with_address):
    page = signed_in(office, board_with_address, 2)
    board_with_address.selected.value = "trainee03"
    board_with_address.new_password_button.click()
    page.refresh()
    assert page.login.attempt.state is State.AUTHENTICATED
    page.login.done_button.click()  # the trainee's own log out, as always
    assert "logins are closed" not in page.login.message.value and page.login.attempt.state is State.CREDENTIALS


def test_the_dashboard_chooses_among_the_classes_of_the_database(office, board_with_address):
    board = board_with_address
    first = board.classroom.company
    board.new_class.click()
    assert board.form.layout.display is None
    board.company.value, board.names.value = "Tuesday", "tia\ntom\n"
    board.create_button.click()
    assert board.classroom.company == "Tuesday" and board.class_choice.options == (first, "Tuesday")
    assert "tia" in board.table.value and "trainee01" not in board.table.value
    board.class_choice.value = first
    assert board.classroom.company == first and "trainee01" in board.table.value and "tia" not in board.table.value


def test_rows_that_need_the_trainer_are_marked(office, board_with_address):
    board = board_with_address
    name, password = board.classroom.roster.hand_out()[1]
    page = TraineePage(office, live=False)
    log_in(page, name, password)
    for _ in range(office.policy.failed_code_limit):
        page.login.code.value = refused_code(office, page.login.attempt.screen.secret)
        page.login.code_button.click()
    board.refresh()
    assert re.search(rf'<tr class="tfs-row-locked"><td>{name}</td>', board.table.value)
    assert re.search(r'<tr><td>trainee01</td>', board.table.value), "the others unmarked"


# -- the trainee's page explains, and serves a phone alone ------------------------------------------

def test_the_trainee_page_says_why_a_code_was_refused_and_how_many_tries_are_left(office, board_with_address):
    name, password = board_with_address.classroom.roster.hand_out()[0]
    page = TraineePage(office, live=False)
    log_in(page, name, password)
    secret = page.login.attempt.screen.secret
    page.login.code.value = refused_code(office, secret)
    page.login.code_button.click()
    limit = office.policy.failed_code_limit
    assert "none of the codes the server accepts now" in page.why.value
    assert f"{limit - 1} tries left before a 15-minute lockout." in page.why.value
    page.login.code.value = independent_totp(secret, office.clock.now() - 30)  # a phone 30 s behind
    page.login.code_button.click()
    assert page.login.attempt.state is State.AUTHENTICATED
    assert "as the server saw your code: about 30 s behind" in page.why.value
    assert "Wait for the next code" in page.why.value
    page.login.done_button.click()
    assert "Wait for the next code in your app" in page.why.value, "said before the same code is typed again"
    log_in(page, name, password)
    page.login.code.value = independent_totp(secret, office.clock.now() - 30)  # the same code again
    page.login.code_button.click()
    assert "Each code works only once" in page.why.value and f"{limit - 1} tries left" in page.why.value


def test_a_phone_alone_gets_a_link_whose_uri_is_the_qr_codes(office, board_with_address):
    name, password = board_with_address.classroom.roster.hand_out()[2]
    page = TraineePage(office, live=False)
    assert "tfs-phone-ready" not in page.phone.get_state()["_dom_classes"]
    log_in(page, name, password)
    [link] = re.findall(r'class="tfs-trainee-otpauth" href="([^"]+)"', page.phone.value)
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.login.qr.value)))
    assert html.unescape(link) == barcode.text and link.startswith("otpauth://totp/")
    [key] = re.findall(r'class="tfs-trainee-key">([^<]+)<', page.phone.value)
    assert key.replace(" ", "") == page.login.attempt.screen.secret and "tfs-phone-ready" in page.phone.get_state()["_dom_classes"]


@pytest.mark.parametrize("language, named", [
    ("en", "takes otpauth:// links (Aegis, FreeOTP, 2FAS and Google Authenticator do)"),
    ("de", "otpauth://-Links annimmt (Aegis, FreeOTP, 2FAS und Google Authenticator tun das)"),
])
def test_the_phone_hint_names_the_apps_a_tapped_link_opens_from_their_profiles(office, board_with_address, language,
                                                                               named):
    name, password = board_with_address.classroom.roster.hand_out()[2]
    page = TraineePage(office, live=False, language=language)
    log_in(page, name, password)
    assert named in html.unescape(page.phone.value) and "add-on" not in page.phone.value


def test_before_the_class_exists_the_trainee_page_says_so(office):
    page = TraineePage(office, live=False)
    assert "The class has not started yet" in page.message.value
    log_in(page, "trainee01", "any password 1")
    assert "has not started yet" in page.why.value


# -- the projector view ----------------------------------------------------------------------------

def test_the_projector_view_shows_address_and_stages_and_no_name_or_secret(office, board_with_address):
    board = board_with_address
    name, password = board.classroom.roster.hand_out()[0]
    log_in(TraineePage(office, live=False), name, password)
    view = ProjectorView(office, live=False, trainee_url=ADDRESS)
    held = "\n".join(everything_on(view))
    assert ADDRESS in held and held.count(ADDRESS) >= 2, "as text and as the QR code's content"
    assert "1 sees the QR code" not in held and re.search(r"<td>sees the QR code</td><td>1</td>", view.bars.value)
    assert re.search(r"<td>not logged in yet</td><td>2</td>", view.bars.value)
    assert not any(n in held for n, _ in board.classroom.roster.hand_out()), "no trainee's name"
    assert not any(p in held for _, p in board.classroom.roster.hand_out()), "no password"
    assert not [w for w in descendants(view) if isinstance(w, widgets.Button)], "no button"


def descendants(widget: widgets.Widget) -> list[widgets.Widget]:
    found, stack = [], [widget]
    while stack:
        item = stack.pop()
        found.append(item)
        stack.extend(getattr(item, "children", ()))
    return found


def test_the_projector_view_and_the_new_texts_in_german(office):
    board = ClassDashboard(office, live=False, language="de", trainee_url=ADDRESS)
    board.count.value = 2
    board.create_button.click()
    view = ProjectorView(office, live=False, language="de", trainee_url=ADDRESS)
    assert "Öffnen Sie auf Laptop oder Telefon:" in "".join(everything_on(view))
    assert "<td>noch nicht angemeldet</td><td>2</td>" in view.bars.value
    assert "0 von 2 haben die Zwei-Faktor-Anmeldung eingerichtet" in view.summary.value
    assert "<th>falsche Passwörter</th>" in board.table.value and "<th>Uhr des Telefons</th>" in board.table.value
    assert board.selected.label == "Person wählen" and "Zettel zum Drucken" in board.passwords.value
