"""One class, one database, never split: only creating a class creates its database; a page opened
on a database that is not there says so; a file deleted or replaced under the running class is
named on every page's next action, nothing more is written into the old file and no new, empty
database appears; after a PostgreSQL restart the next action works and the dashboard's error
goes; creating a class hashes its passwords before its transaction, so no other writer waits for
scrypt."""

from __future__ import annotations

import gc
import html
import multiprocessing
import os
import sqlite3
import sys
import threading

import ipywidgets as widgets
import pytest
import sqlalchemy

from twofa_sim import Policy, State
from twofa_sim.classroom import Classroom, open_class
from twofa_sim.core.passwords import PasswordHash
from twofa_sim.store import MissingDatabaseError, StoreError, open_store
from twofa_sim.ui import trainee_page
from twofa_sim.ui.common import ProblemPage
from twofa_sim.ui.class_dashboard import ClassDashboard
from twofa_sim.ui.i18n import Texts
from twofa_sim.ui.trainee_page import TraineePage

from pg_server import postgres, started_or_skip  # noqa: F401 - fixture: the run's throw-away PostgreSQL server

FAST = Policy(kdf_log2_n=4)
DELETED = "was deleted while the class was running"
REPLACED = "was replaced by another file while the class was running"
MISSING = "does not exist. The trainer creates it with Create class on the dashboard"


def log_in(page: TraineePage, username: str, password: str) -> None:
    page.login.username.value, page.login.password.value = username, password
    page.login.login_button.click()


def shown(page: widgets.Widget) -> str:
    """The messages a page shows (the trainee page's and its login mask's, or the dashboard's)."""
    parts = [page.message.value] + ([page.login.message.value] if isinstance(page, TraineePage) else [])
    return html.unescape(" ".join(parts))


def events_in(path) -> int:
    with sqlite3.connect(path) as connection:
        count = connection.execute("SELECT count(*) FROM events").fetchone()[0]
    connection.close()
    return count


class RunningClass:
    """A class on an SQLite file: the trainer's dashboard and a trainee's page open on it."""

    def __init__(self, folder) -> None:
        self.path = folder / "class.sqlite"
        self.url = f"sqlite:///{self.path}"
        self.board = ClassDashboard(open_class(self.url, policy=FAST, until_created=True), live=False)
        self.board.count.value = 2
        self.board.create_button.click()
        self.name, self.password = self.board.classroom.roster.hand_out()[0]
        self.page = TraineePage(open_class(self.url, policy=FAST), live=False)

    def keep_old_file(self, folder) -> str:
        """A second name for the database's inode (and its WAL's), so whatever is still written
        into the old file after it is deleted or replaced can be counted."""
        with sqlite3.connect(self.path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        kept = folder / "kept" / "class.sqlite"
        kept.parent.mkdir()
        os.link(self.path, kept)
        os.link(f"{self.path}-wal", f"{kept}-wal")
        return str(kept)

    def delete(self) -> None:
        """What the README says to do to start afresh: the file and its -wal and -shm."""
        for suffix in ("", "-wal", "-shm"):
            os.remove(f"{self.path}{suffix}")

    def replace(self, folder) -> None:
        """Another file moved over the database (a copy of it: same content, another file)."""
        copy = folder / "copy.sqlite"
        with sqlite3.connect(self.path) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        source.close()
        target.close()
        os.replace(copy, self.path)


@pytest.fixture
def running(tmp_path) -> RunningClass:
    return RunningClass(tmp_path)


def assert_named_on_every_page(page, board, name: str, password: str, words: str) -> None:
    """The trainee's next login, the dashboard's refresh and its Unlock each name the problem in
    ``words``, and the login stays at the password."""
    log_in(page, name, password)
    assert words in shown(page) and page.login.attempt.state is State.CREDENTIALS, shown(page)
    board.refresh()
    assert words in shown(board)
    board.selected.value = name
    board.unlock.click()
    assert words in shown(board)


# -- a database deleted or replaced under the running class --------------------------------------

def test_a_database_deleted_under_the_class_is_named_on_every_pages_next_action(running, tmp_path):
    kept = running.keep_old_file(tmp_path)
    before = events_in(kept)
    running.delete()

    assert_named_on_every_page(running.page, running.board, running.name, running.password, DELETED)
    assert not running.path.exists(), "a page made a new, empty database"
    assert events_in(kept) == before, "a page wrote on into the deleted file"


def test_a_file_deleted_while_a_transaction_runs_gets_none_of_it(running, tmp_path):
    """The file's identity is compared again just before COMMIT: the whole action rolls back."""
    kept = running.keep_old_file(tmp_path)
    before = events_in(kept)
    office = running.board.office
    with pytest.raises(StoreError, match="was deleted while in use"):
        with office.transaction():
            office.create_company("Written too late")
            running.delete()
    assert events_in(kept) == before and not running.path.exists()


def test_a_database_replaced_under_the_class_is_named_and_the_new_file_is_left_alone(running, tmp_path):
    kept = running.keep_old_file(tmp_path)
    before = events_in(kept)
    running.replace(tmp_path)
    in_new_file = events_in(running.path)

    log_in(running.page, running.name, running.password)
    assert REPLACED in shown(running.page) and running.page.login.attempt.state is State.CREDENTIALS
    running.board.refresh()
    assert REPLACED in shown(running.board)
    assert (events_in(kept), events_in(running.path)) == (before, in_new_file)


LOST_LOG = "lost its write-ahead log: its -wal or -shm file was deleted while the class was running"


@pytest.mark.parametrize("suffixes", [("-wal",), ("-shm",), ("-wal", "-shm")])
def test_a_database_whose_wal_or_shm_file_was_deleted_is_named_and_nothing_more_is_written(running, tmp_path,
                                                                                            suffixes):
    """The -wal and -shm files hold what is committed and not yet in the file itself: pages that
    went on with the deleted ones while new pages made new ones would split the class."""
    running.keep_old_file(tmp_path)  # everything committed so far copied into the file itself
    main_file = os.stat(running.path)
    for suffix in suffixes:
        os.remove(f"{running.path}{suffix}")

    assert_named_on_every_page(running.page, running.board, running.name, running.password, LOST_LOG)
    assert [os.path.exists(f"{running.path}{suffix}") for suffix in suffixes] == [False] * len(suffixes)
    assert (os.stat(running.path).st_size, os.stat(running.path).st_mtime_ns) == (main_file.st_size,
                                                                                  main_file.st_mtime_ns)


def test_the_wal_and_shm_files_may_go_with_the_last_connection_and_come_back(tmp_path):
    """SQLite deletes them when the last connection closes: a store whose connections all closed
    opens them anew without a word."""
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"
    store = open_store(url, create=True)
    store.close()  # the last connection: SQLite removes the -wal and -shm files
    assert not os.path.exists(tmp_path / "class.sqlite-wal")
    with store.transaction(write=False):
        store.companies()
    with store.transaction():
        store.next_login_id()
    assert os.path.exists(tmp_path / "class.sqlite-wal")
    store.close()


def test_a_page_opened_after_the_database_was_deleted_names_it_and_creates_nothing(running):
    running.delete()
    later = TraineePage.for_page("", db_url=running.url, live=False)
    assert isinstance(later, ProblemPage) and MISSING in html.unescape(later.value)
    german = TraineePage.for_page("lang=de", db_url=running.url, live=False)
    assert "existiert nicht" in german.value
    board = ClassDashboard.for_page("", db_url=running.url, live=False)
    assert board.classroom is None and board.form.layout.display is None  # the trainer may create a class
    assert not running.path.exists()
    board.count.value = 1
    board.create_button.click()
    assert running.path.exists() and board.classroom.usernames == ["trainee01"]


def trainee_kernel(url: str, name: str, password: str, to_kernel, from_kernel) -> None:
    """A trainee's page in a kernel of its own, opened while the class runs; after the database is
    deleted it tries to log in, and a page opened anew in that kernel meets the missing file."""
    page = TraineePage(open_class(url, policy=FAST), live=False)
    from_kernel.put("open")
    to_kernel.get(timeout=120)
    log_in(page, name, password)
    later = TraineePage.for_page("", db_url=url, live=False)
    from_kernel.put((page.login.attempt.state.name, shown(page), type(later).__name__, html.unescape(later.value)))


def test_a_trainee_kernel_in_another_process_meets_the_deleted_database(running):
    context = multiprocessing.get_context("spawn")
    to_kernel, from_kernel = context.Queue(), context.Queue()
    kernel = context.Process(target=trainee_kernel, args=(running.url, running.name, running.password, to_kernel,
                                                          from_kernel))
    kernel.start()
    try:
        assert from_kernel.get(timeout=120) == "open"
        running.delete()
        to_kernel.put("deleted")
        state, message, later_kind, later_text = from_kernel.get(timeout=120)
    finally:
        kernel.join(timeout=60)
    assert (state, DELETED in message) == ("CREDENTIALS", True)
    assert (later_kind, MISSING in later_text) == ("ProblemPage", True)
    assert not running.path.exists()


# -- opening a class database that is not there ---------------------------------------------------

def test_a_trainee_page_on_a_database_that_was_never_created_names_it(tmp_path):
    path = tmp_path / "class.sqlite"
    page = TraineePage.for_page("", db_url=f"sqlite:///{path}", live=False)
    assert isinstance(page, ProblemPage) and MISSING in html.unescape(page.value) and "class.sqlite" in page.value
    assert not path.exists()


def test_a_postgresql_database_without_a_class_is_named_and_left_empty(postgres):
    url = postgres.new_database()
    page = TraineePage.for_page("", db_url=url, live=False)
    assert isinstance(page, ProblemPage) and "holds no class yet" in html.unescape(page.value)
    with pytest.raises(MissingDatabaseError, match="holds no twofa-sim store yet"):
        open_class(url)
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    assert sqlalchemy.inspect(engine).get_table_names() == []  # opening created nothing
    engine.dispose()
    open_store(url).close()  # creating is a deliberate act: open_store's default, or Create class
    assert open_class(url).companies == []


DROPPED = "was dropped and created anew while the class was running"


def drop_and_create_anew(url: str) -> None:
    """What a trainer's ``dropdb --force`` and ``createdb`` do under the running servers."""
    parsed = sqlalchemy.engine.make_url(url)
    admin = parsed.set(drivername="postgresql+psycopg", database="postgres")
    engine = sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE "{parsed.database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    engine.dispose()


def tables_and_users(url: str) -> tuple[set[str], list[str]]:
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        tables = set(sqlalchemy.inspect(connection).get_table_names())
        users = [] if "users" not in tables else list(connection.exec_driver_sql("SELECT key FROM users").scalars())
    engine.dispose()
    return tables, users


@pytest.mark.parametrize("new_class", [False, True], ids=["left empty", "a new class in it"])
def test_a_postgresql_database_dropped_and_created_anew_under_the_class_is_named_and_left_alone(postgres, new_class):
    url = postgres.new_database()
    board = ClassDashboard(open_class(url, policy=FAST, until_created=True), live=False)
    board.count.value = 2
    board.create_button.click()
    (name, password), _ = board.classroom.roster.hand_out()
    page = TraineePage(open_class(url, policy=FAST), live=False)

    drop_and_create_anew(url)
    if new_class:
        other = ClassDashboard(open_class(url, policy=FAST, until_created=True), live=False)
        other.count.value = 1
        other.create_button.click()
    before = tables_and_users(url)

    assert_named_on_every_page(page, board, name, password, DROPPED)
    assert tables_and_users(url) == before
    assert before == (set(), []) or before[1] == ["trainee01"]


def test_a_store_error_while_the_trainee_page_is_built_is_a_message_on_the_page(running, monkeypatch):
    """The database deleted between opening the class and building the page: the page's guard
    shows it, and the half-built page's clean-up raises nothing either."""
    def open_then_lose(db_url=None):
        office = open_class(db_url, policy=FAST)
        running.delete()
        return office

    raised = []
    monkeypatch.setattr(trainee_page, "open_class", open_then_lose)
    monkeypatch.setattr(sys, "unraisablehook", lambda report: raised.append(report.exc_value))
    page = TraineePage.for_page("", db_url=running.url, live=False)
    gc.collect()
    assert isinstance(page, ProblemPage) and DELETED in html.unescape(page.value)
    assert raised == []


# -- PostgreSQL restarted under open pages ---------------------------------------------------------

@pytest.fixture(scope="module")
def own_postgres():
    """A server of this module's own, which the test stops and starts again."""
    server = started_or_skip()
    yield server
    server.stop()


def test_after_a_postgresql_restart_the_next_action_works_and_the_dashboards_error_goes(own_postgres):
    url = own_postgres.new_database()
    board = ClassDashboard(open_class(url, policy=FAST, until_created=True), live=False)
    board.count.value = 2
    board.create_button.click()
    (first, first_password), (second, second_password) = board.classroom.roster.hand_out()
    page = TraineePage(open_class(url, policy=FAST), live=False)

    own_postgres.pause()
    assert own_postgres.resume() is None
    log_in(page, first, first_password)  # the first action after the restart
    assert page.login.attempt.state is State.ENROLMENT, shown(page)
    board.refresh()
    assert shown(board).strip() == "" or "created" in shown(board)

    own_postgres.pause()
    board.refresh()
    assert "cannot be reached" in shown(board)
    with pytest.raises(StoreError, match="cannot be reached"):
        page.office.start_login()
    assert own_postgres.resume() is None
    board.refresh()
    assert "cannot be reached" not in shown(board)
    second_page = TraineePage(open_class(url, policy=FAST), live=False)
    log_in(second_page, second, second_password)
    assert second_page.login.attempt.state is State.ENROLMENT, shown(second_page)


# -- creating a class: the hashing is done before the write lock is taken -----------------------------

@pytest.mark.parametrize("where", ["sqlite", "memory"])
def test_creating_a_class_hashes_before_its_transaction_so_another_writer_does_not_wait(tmp_path, monkeypatch, where):
    """While each password is being hashed, another process's write (here another store on
    the same file, or another thread of the in-memory store) goes through: the class's
    transaction, which holds the write lock, is not open yet. Had it been open, the other write
    would wait for the lock (ending in a busy timeout), and the order below would be the reverse."""
    url = f"sqlite:///{tmp_path / 'class.sqlite'}" if where == "sqlite" else "memory"
    office = open_class(url, policy=FAST, until_created=True)
    office.store.ensure_created()
    other = office if where == "memory" else open_class(url, policy=FAST)
    order, real_create = [], PasswordHash.create

    def other_writer(number: int):
        try:
            other.create_company(f"Another class {number}")
            order.append("other write done")
        except StoreError:
            order.append("other write timed out")

    def hashing(cls, password, source, log2_n):
        order.append("hashing")
        writer = threading.Thread(target=other_writer, args=(len(order),))
        writer.start()
        writer.join(timeout=15)
        order.append("hash made")
        return real_create(password, source, log2_n)

    monkeypatch.setattr(PasswordHash, "create", classmethod(hashing))
    Classroom.create(office, "Class 7", count=3)
    monkeypatch.undo()
    assert order == ["hashing", "other write done", "hash made"] * 3
    assert sorted(c.name for c in other.companies) == ["Another class 1", "Another class 4", "Another class 7",
                                                       "Class 7"]


def test_the_class_creation_benchmark_measures_both_ways():
    """A smoke run of ``python -m twofa_sim.bench.class_creation`` (figures are not checked: the
    benchmark prints them): the class is created each way, and the probe writes meanwhile."""
    from twofa_sim.bench.class_creation import measure

    for hashed_first in (False, True):
        found = measure(3, FAST, hashed_first)
        assert found["whole"] > 0 and found["longest_wait"] >= 0 and found["probe_writes"] >= 0


# -- a database that is full or cannot be written ------------------------------------------------------

def with_every_connection(monkeypatch, statement: str) -> None:
    """Every SQLite connection opened from now on runs ``statement`` first: SQLite's own way to
    make a file full (``max_page_count``) or read-only (``query_only``; the tests may run as root,
    for whom a file's permissions do not hold)."""
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):
        connection = real_connect(*args, **kwargs)
        connection.execute(statement)
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect)


def pages_of(path) -> int:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.close()
    return pages


def test_a_full_database_is_named_and_the_refused_class_leaves_nothing_behind(running, monkeypatch):
    before = (events_in(running.path), len(running.board.office.users))
    with_every_connection(monkeypatch, f"PRAGMA max_page_count = {pages_of(running.path)}")
    office = open_class(running.url, policy=FAST)
    with pytest.raises(StoreError, match=r"is full \(no room left on its disk\)") as refused:
        Classroom.create(office, "Second class", count=200)
    assert ("its disk has no room left" in Texts("en").error(refused.value)
            and "kein Platz mehr" in Texts("de").error(refused.value))
    monkeypatch.undo()
    assert (events_in(running.path), len(open_class(running.url, policy=FAST).users)) == before
    assert [c.name for c in open_class(running.url, policy=FAST).companies] == [running.board.classroom.company]


def test_a_database_that_cannot_be_written_is_named_on_the_trainee_page(running, monkeypatch):
    before = events_in(running.path)
    with_every_connection(monkeypatch, "PRAGMA query_only = 1")
    page = TraineePage.for_page("", db_url=running.url, live=False)
    assert isinstance(page, ProblemPage) and "cannot be written (is the file or its folder read-only?)" in page.value
    monkeypatch.undo()
    assert events_in(running.path) == before


@pytest.mark.parametrize("make, kind", [(os.mkfifo, "a named pipe"), (os.mkdir, "a folder")])
def test_a_class_database_that_is_not_a_regular_file_is_named_and_nothing_waits_on_it(tmp_path, make, kind):
    path = tmp_path / "class.sqlite"
    make(path)
    page = TraineePage.for_page("", db_url=f"sqlite:///{path}", live=False)
    assert isinstance(page, ProblemPage) and f"is {kind}, not a database file" in page.value
    with pytest.raises(StoreError, match=f"is {kind}"):
        open_store(f"sqlite:///{path}")


def test_a_postgresql_server_that_refuses_is_not_called_unreachable(postgres):
    """A database missing on a running server is named as such; a role the server refuses is its
    own message: neither reads as a server that is down."""
    url = postgres.new_database()
    missing = url.replace("/class", "/no_such_class", 1)
    with pytest.raises(StoreError, match=r"does not exist on its server \(create it first"):
        open_class(missing)
    page = TraineePage.for_page("lang=de", db_url=missing, live=False)
    assert "existiert auf ihrem Server nicht" in html.unescape(page.value)
    with pytest.raises(StoreError) as refused:
        open_class(url.replace("twofa@", "nobody_here@", 1))
    assert "cannot be reached" not in str(refused.value) and "nobody_here" in str(refused.value)
