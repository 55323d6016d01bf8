"""The store under the back office: the SQL store behaves as the in-memory one, processes share
one database, and a database that cannot be used gives a clear error naming it."""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import sqlite3
import threading

import pyotp
import pytest
import sqlalchemy

from twofa_sim import AlreadyExistsError, BackOffice, Clock, EventKind, SeededSecretSource, State
from twofa_sim.store import MemoryStore, StoreError, open_store
from twofa_sim.store.sql import SqlStore

from conftest import FAST, PASSWORD, START
from pg_server import database, postgres  # noqa: F401 - fixtures


def office_on(url: str | None, seed: int = 2026) -> BackOffice:
    return BackOffice(policy=FAST, clock=Clock.at(START), secret_source=SeededSecretSource(seed),
                      store=open_store(url))


def story(office: BackOffice) -> None:
    """Every admin action and every kind of login step, on one back office."""
    office.create_company("ACME")
    office.create_company("Globex", force_2fa_for_all=True)
    office.create_user("alice", PASSWORD, company="ACME", force_2fa=True)
    office.create_user("bob", PASSWORD, company="Globex")
    office.create_user("carol", PASSWORD, company="ACME")
    for name in ("alice", "bob"):
        attempt = office.start_login()
        screen = attempt.submit_password(name, PASSWORD).screen
        assert attempt.submit_code("000000").state is State.ENROLMENT
        assert attempt.submit_code(pyotp.TOTP(screen.secret).at(office.clock.now())).state is State.AUTHENTICATED
        attempt.log_out()
    codes = office.issue_recovery_codes("alice")
    office.clock.advance(30)
    attempt = office.start_login()
    attempt.submit_password("alice", PASSWORD)
    assert attempt.submit_recovery_code(codes[0]).state is State.AUTHENTICATED
    attempt = office.start_login()
    assert attempt.submit_password("bob", "wrong password!").state is State.CREDENTIALS
    attempt.submit_password("bob", PASSWORD)
    for _ in range(FAST.failed_code_limit):
        attempt.submit_code("123456")
    assert attempt.state is State.LOCKED_OUT
    office.unlock("bob")
    office.reset_2fa("alice")
    office.set_force_2fa("carol", True)
    office.set_company_force_2fa("ACME", True)
    office.set_policy(FAST.replace(period=60))


def test_sql_store_gives_the_same_users_and_events_as_the_memory_store(database):
    memory, sql = office_on(None), office_on(database)
    story(memory)
    story(sql)
    assert sql.user_views() == memory.user_views()
    assert sql.events.rows() == memory.events.rows()
    assert [(c.name, c.force_2fa_for_all, c.usernames) for c in sql.companies] == \
           [(c.name, c.force_2fa_for_all, c.usernames) for c in memory.companies]
    assert sql.store.peek_login_id() == memory.store.peek_login_id()
    assert [(u.username, u.password_hash, u.enrolment.secret, u.enrolment.last_used_step) for u in sql.users] == \
           [(u.username, u.password_hash, u.enrolment.secret, u.enrolment.last_used_step) for u in memory.users]


def test_a_new_back_office_on_the_same_database_sees_everything(database):
    url = database
    first = office_on(url)
    story(first)
    again = office_on(url)
    assert again.user_views() == first.user_views()
    assert list(again.events) == list(first.events)
    bob = again.user("bob")
    assert bob.enrolment.is_enrolled and bob.enrolment.secret == first.user("bob").enrolment.secret


def test_a_database_made_before_details_had_ids_gets_their_columns_and_keeps_its_words(database):
    older = office_on(database)
    story(older)
    words = [e.detail for e in older.events]
    with older.store.transaction():   # the events table as it was before detail_key and detail_fields
        for column in ("detail_fields", "detail_key"):
            older.store._connection().execute(sqlalchemy.text(f"ALTER TABLE events DROP COLUMN {column}"))
    older.store.close()
    again = office_on(database)
    assert [e.detail for e in again.events] == [e.detail_in("de") for e in again.events] == words
    again.set_force_2fa("carol", False)
    newest = again.events[-1]
    assert (newest.detail_key, newest.detail, newest.detail_in("de")) == ("flag_unticked", "unticked", "nicht mehr angehakt")
    assert office_on(database).events[-1] == newest


def _child_enrols(url: str, done) -> None:
    office = office_on(url, seed=7)
    attempt = office.start_login()
    screen = attempt.submit_password("dave", PASSWORD).screen
    result = attempt.submit_code(pyotp.TOTP(screen.secret).at(office.clock.now()))
    done.put(result.state.name)


def test_two_processes_see_each_others_users_factors_and_events(tmp_path):
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"
    office = office_on(url)
    office.create_company("ACME", force_2fa_for_all=True)
    office.create_user("dave", PASSWORD)
    context = multiprocessing.get_context("fork")
    done = context.Queue()
    child = context.Process(target=_child_enrols, args=(url, done))
    child.start()
    assert done.get(timeout=60) == "AUTHENTICATED"
    child.join(60)
    assert office.user("dave").enrolment.is_enrolled
    assert [v.enrolled for v in office.user_views()] == [True]
    assert office.events.count(EventKind.ENROLMENT_COMPLETED, "dave") == 1
    assert office.store.peek_login_id() == 2


def test_the_default_store_is_in_memory():
    assert isinstance(BackOffice().store, MemoryStore)
    assert isinstance(open_store("memory"), MemoryStore) and isinstance(open_store(None), MemoryStore)


def _write(path, content: bytes) -> None:
    path.write_bytes(content)


def _other_version(path) -> None:
    SqlStore(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 99")


def _foreign_tables(path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER)")


@pytest.mark.parametrize("prepare, name, words", [
    (lambda p: _write(p, b"this is a text file, not a database" * 100), "notes.sqlite", "not an SQLite database"),
    (lambda p: None, "missing-folder/class.sqlite", "cannot be opened"),
    (_other_version, "old.sqlite", "schema version 99"),
    (_foreign_tables, "shop.sqlite", "other tables"),
])
def test_a_database_that_cannot_be_used_is_named_in_a_clear_error(tmp_path, prepare, name, words):
    path = tmp_path / name
    prepare(path)
    with pytest.raises(StoreError, match=words) as caught:
        open_store(f"sqlite:///{path}")
    assert path.name in str(caught.value)
    assert "Traceback" not in str(caught.value) and "SELECT" not in str(caught.value)


def test_a_database_locked_too_long_is_named_in_a_clear_error(tmp_path):
    path = tmp_path / "class.sqlite"
    office_on(f"sqlite:///{path}").create_company("ACME")
    slow = office_on(f"sqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    impatient = BackOffice(policy=FAST, clock=Clock.at(START), store=open_store(f"sqlite:///{path}", busy_timeout=0.2))
    try:
        with pytest.raises(StoreError, match="locked by another process") as caught:
            impatient.create_user("erin", PASSWORD)
        assert "class.sqlite" in str(caught.value)
    finally:
        holder.execute("ROLLBACK")
    assert slow.find_user("erin") is None
    slow.create_user("erin", PASSWORD)
    assert impatient.find_user("erin") is not None


@pytest.mark.parametrize("url, words", [
    ("nonsense", "not a database URL"),
    ("mysql://db/class", "'mysql'"),
    ("sqlite://", "name an SQLite file"),
    (42, "must be text"),
])
def test_a_url_that_names_no_usable_database_is_refused(url, words):
    with pytest.raises(StoreError, match=words):
        open_store(url)


def test_a_postgresql_server_that_does_not_answer_is_named_without_the_password():
    with pytest.raises(StoreError, match="database 'class' on 127.0.0.1: cannot be reached") as caught:
        open_store("postgresql://teacher:s3cret-Passw0rd@127.0.0.1:9/class", busy_timeout=1)
    assert "s3cret" not in str(caught.value)


def test_a_sql_store_refuses_to_start_a_write_inside_a_read(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    with store.transaction(write=False):
        with pytest.raises(RuntimeError, match="inside a reading one"):
            with store.transaction():
                pass


def test_a_failed_action_leaves_the_database_as_it_was(database):
    office = office_on(database)
    office.create_company("ACME")
    office.create_user("alice", PASSWORD)
    before = (office.user_views(), office.events.rows())
    with pytest.raises(Exception, match="boom"):
        with office.transaction():
            office.user("alice").enrolment.failures = 3
            office.events.record(office.clock.now(), EventKind.UNLOCKED, "admin:test", user="alice")
            raise RuntimeError("boom")
    again = office_on(database)
    assert (again.user_views(), again.events.rows()) == before


def test_two_processes_creating_one_username_at_once_get_one_user_and_a_clear_error(postgres):
    """PostgreSQL lets both transactions check that the name is free; the unique key refuses the
    second at commit, as AlreadyExistsError, and nothing of that transaction stays."""
    url = postgres.new_database()
    first, second = office_on(url), office_on(url)
    first.create_company("ACME")
    with pytest.raises(AlreadyExistsError, match="another process created the same name"):
        with first.transaction():
            first.create_user("zed", PASSWORD)
            done = threading.Thread(target=second.create_user, args=("zed", PASSWORD))
            done.start()
            done.join(30)
    assert [u.username for u in office_on(url).users] == ["zed"]
    assert office_on(url).events.count(EventKind.USER_CREATED) == 1


def test_a_back_office_on_a_database_saves_what_its_twin_in_memory_saves(tmp_path):
    """A session saved from the shared database is the session of the same story played in memory."""
    memory, sql = office_on(None), office_on(f"sqlite:///{tmp_path / 'class.sqlite'}")
    story(memory)
    story(sql)
    assert sql.snapshot() == memory.snapshot()
    assert BackOffice.restore(sql.snapshot()).user_views() == sql.user_views()


class CountingStore(MemoryStore):
    """The in-memory store, noting how many transactions are open (for the scrypt test)."""

    def __init__(self) -> None:
        super().__init__()
        self.open = 0

    @contextlib.contextmanager
    def transaction(self, write: bool = True):
        with super().transaction(write):
            self.open += 1
            try:
                yield
            finally:
                self.open -= 1


def _right_password(office):
    office.start_login().submit_password("alice", PASSWORD)


def _wrong_password(office):
    office.start_login().submit_password("alice", "not the password")


def _unknown_user(office):
    office.start_login().submit_password("nobody-here", PASSWORD)


def _upgraded_hash(office):
    office.set_policy(office.policy.replace(kdf_log2_n=5))
    office.start_login().submit_password("alice", PASSWORD)


def _new_user(office):
    office.create_user("bob", PASSWORD)


@pytest.mark.parametrize("action, hashes", [
    (_right_password, 1), (_wrong_password, 1), (_unknown_user, 1), (_upgraded_hash, 2), (_new_user, 1)])
def test_every_scrypt_runs_outside_any_transaction(monkeypatch, action, hashes):
    """30 trainees must not queue behind each other's slow password hashing: no scrypt (checking,
    creating or upgrading a hash, or the decoy of an unknown name) runs while the store's write lock is held."""
    store = CountingStore()
    office = BackOffice(policy=FAST, clock=Clock.at(START), secret_source=SeededSecretSource(1), store=store)
    office.create_company("ACME")
    office.create_user("alice", PASSWORD)
    open_at_each: list[int] = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: (open_at_each.append(store.open), real(*a, **k))[1])
    action(office)
    assert open_at_each == [0] * hashes


def test_a_code_check_refused_by_a_locked_database_changes_nothing_and_can_be_retried(tmp_path):
    path = tmp_path / "class.sqlite"
    office = BackOffice(policy=FAST, clock=Clock.at(START), secret_source=SeededSecretSource(3),
                        store=open_store(f"sqlite:///{path}", busy_timeout=0.2))
    office.create_company("ACME", force_2fa_for_all=True)
    office.create_user("alice", PASSWORD)
    attempt = office.start_login()
    secret = attempt.submit_password("alice", PASSWORD).screen.secret
    code = pyotp.TOTP(secret).at(office.clock.now())
    before = (attempt.state, len(office.events), office.user_views())
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="class.sqlite.*locked"):
            attempt.submit_code(code)
        assert attempt.state is State.ENROLMENT
    finally:
        holder.execute("ROLLBACK")
    assert (attempt.state, len(office.events), office.user_views()) == before
    assert attempt.submit_code(code).state is State.AUTHENTICATED


def test_nothing_the_sql_store_shows_holds_a_secret_or_hash(tmp_path):
    office = office_on(f"sqlite:///{tmp_path / 'class.sqlite'}")
    story(office)
    secrets = [u.enrolment.secret for u in office.users if u.enrolment.secret]
    hashes = [u.password_hash.digest.hex() for u in office.users]
    with office.transaction():
        office.user("bob")
        shown = [repr(office.store), repr(office.events), repr(office), repr(office.user("bob")),
                 str(list(office.events)), str(office.user_views())]
    assert secrets and not [s for s in secrets + hashes for text in shown if s in text]


def test_the_event_log_misses_no_event_committed_after_a_later_one(postgres):
    """On PostgreSQL a transaction that took its sequence number first may commit last; a reader
    that has already seen the later event still gets the earlier one once it commits."""
    url = postgres.new_database()
    slow, fast, reader = office_on(url), office_on(url), office_on(url)
    before = len(reader.events)
    inside, finish = threading.Event(), threading.Event()

    def slow_admin() -> None:
        with slow.transaction():
            slow.events.record(slow.clock.now(), EventKind.UNLOCKED, "admin:slow")
            inside.set()
            finish.wait(30)
    thread = threading.Thread(target=slow_admin)
    thread.start()
    assert inside.wait(30)
    fast.events.record(fast.clock.now(), EventKind.UNLOCKED, "admin:fast")
    assert [e.actor for e in reader.events][before:] == ["admin:fast"]
    finish.set()
    thread.join(30)
    assert sorted(e.actor for e in reader.events[before:]) == ["admin:fast", "admin:slow"]
    assert [e.seq for e in reader.events] == sorted(e.seq for e in reader.events)


def _open_and_report(url: str, gate, results) -> None:
    gate.wait(60)
    try:
        open_store(url).close()
        results.put("opened")
    except Exception as error:  # noqa: BLE001 - reported to the parent
        results.put(f"{type(error).__name__}: {error}")


def test_kernels_opening_a_new_database_at_once_all_get_it(database):
    """The first page of a class is often opened by many trainees at the same instant."""
    context = multiprocessing.get_context("fork")
    gate, results = context.Barrier(6), context.Queue()
    children = [context.Process(target=_open_and_report, args=(database, gate, results)) for _ in range(6)]
    for child in children:
        child.start()
    assert sorted(results.get(timeout=120) for _ in children) == ["opened"] * 6
    for child in children:
        child.join(60)
    office_on(database).create_company("ACME")


@contextlib.contextmanager
def statements() -> list[str]:
    """Every SQL statement any engine runs inside the block."""
    import sqlalchemy

    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001 - SQLAlchemy's signature
        seen.append(" ".join(statement.split()).lower())
    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", note)


@pytest.mark.parametrize("new_events, counts, reads", [
    (0, 1, 0),      # nothing new: one count, no row read
    (1, 1, 1),      # one new event: one count, then the rows after the last one seen, in the same read
    (3, 1, 1),
])
def test_a_refresh_of_the_event_log_counts_the_events_table_once(tmp_path, new_events, counts, reads):
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"
    writer, reader = office_on(url), office_on(url)
    writer.create_company("ACME")
    before = len(reader.events)
    for _ in range(new_events):
        writer.events.record(writer.clock.now(), EventKind.UNLOCKED, "admin")
    with statements() as seen:
        assert len(reader.events) == before + new_events
    events_reads = [s for s in seen if "from events" in s]
    assert [s for s in events_reads if "count(" in s] == events_reads[:counts] and len(events_reads) == counts + reads


class _Rows:
    """A flow listener that keeps the rows the engine reports."""

    def __init__(self) -> None:
        self.rows = []

    def row_taken(self, row) -> None:
        self.rows.append(row)

    def guard_taken(self, order, guard) -> None:
        pass


def test_a_flood_of_malformed_codes_never_takes_the_write_lock_and_each_step_is_reported_once(tmp_path):
    """After the first few malformed codes of a login (recorded), the rest write nothing: they are
    decided in a reading transaction, so they go on while another process holds the write lock."""
    from twofa_sim.core.observers import observing
    from twofa_sim.login.flow import MALFORMED_RECORDED, Reason

    from helpers import at_code_prompt, current_code, enrol

    path = tmp_path / "class.sqlite"
    office = office_on(f"sqlite:///{path}")
    office.create_company("ACME")
    office.create_user("alice", PASSWORD, company="ACME", force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(office.policy.period)
    quick = BackOffice(policy=FAST, clock=office.clock, secret_source=SeededSecretSource(1),
                       store=open_store(f"sqlite:///{path}", busy_timeout=0.2))
    login = at_code_prompt(quick, "alice")
    before = len(quick.events)
    with observing(_Rows()) as listener:
        reasons = [login.submit_code("abc").reason for _ in range(MALFORMED_RECORDED + 1)]
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")               # another process holds the write lock
        try:
            reasons += [login.submit_code("abc").reason for _ in range(20)]
            with pytest.raises(StoreError, match="locked"):
                login.submit_code(current_code(quick, secret))   # a code that counts must write: it waits
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert login.submit_code(current_code(quick, secret)).state is State.AUTHENTICATED
    assert reasons == [Reason.MALFORMED] * MALFORMED_RECORDED + [Reason.MALFORMED_AGAIN] * 21
    assert len(quick.events) - before == MALFORMED_RECORDED + 2    # the recorded ones, the code and the sign-in
    assert len(listener.rows) == len(reasons) + 1                  # each step reported once, the retried one too
