"""Class mode's model: creating a class, each trainee's progress derived from the shared state and
event log only, the trainer's actions on the shared state, and passwords that never leak."""

from __future__ import annotations

import gc
import re
import sys
from types import SimpleNamespace

import pandas as pd
import pytest

from twofa_sim import AlreadyExistsError, BackOffice, Clock, NotFoundError, SeededSecretSource, State, ValidationError
from twofa_sim.core.events import EventKind
from twofa_sim.classroom import Classroom, Progress, Roster, class_db_url, generate_password, open_class
from twofa_sim.classroom.progress import ClassProgress
from twofa_sim.core.clock import iso
from twofa_sim.ui.class_dashboard import COLUMNS, clock_time, progress_rows
from twofa_sim.classroom.course import DB_ENV, TRAINER_KEY_ENV, trainer_key_accepted
from twofa_sim.classroom.roster import ALPHABET
from twofa_sim.core.passwords import check_password_rule
from twofa_sim.render.tables import events_table, users_table
from twofa_sim.store import StoreError

from conftest import FAST, START
from helpers import independent_totp

LIMIT = FAST.failed_code_limit


def office_for_class() -> BackOffice:
    return BackOffice(policy=FAST, clock=Clock.at(START), secret_source=SeededSecretSource(11))


@pytest.fixture
def classroom() -> Classroom:
    return Classroom.create(office_for_class(), "Class 7", count=3)


def password_of(classroom: Classroom, name: str) -> str:
    return classroom.roster.password_of(name)


def first_login(classroom: Classroom, name: str):
    login = classroom.office.start_login()
    result = login.submit_password(name, password_of(classroom, name))
    return login, result


def right_code(classroom: Classroom, secret: str, steps: int = 0) -> str:
    return independent_totp(secret, classroom.office.clock.now() + 30 * steps)


def table(classroom: Classroom) -> pd.DataFrame:
    """The live table as the trainer's CSV export has it."""
    rows = progress_rows(classroom.statuses(), classroom.office.policy.period)
    return pd.DataFrame(rows, columns=COLUMNS).set_index("trainee")


def progress_of(classroom: Classroom, name: str) -> Progress:
    return next(s.progress for s in classroom.progress.statuses() if s.username == name)


# -- creating a class ------------------------------------------------------------------------------

@pytest.mark.parametrize("names, count, expected", [
    (None, 3, ["trainee01", "trainee02", "trainee03"]),
    (None, 12, [f"trainee{i:02d}" for i in range(1, 13)]),
    (None, 120, [f"trainee{i:03d}" for i in range(1, 121)]),
    (["anna", " ben ", "", "cleo"], None, ["anna", "ben", "cleo"]),
    (["", " "], 2, ["trainee01", "trainee02"]),
])
def test_a_roster_names_its_trainees(names, count, expected):
    assert Roster.generate(names, count=count).usernames == expected


@pytest.mark.parametrize("names, count, message", [
    (None, 0, "count: must be a whole number from 1 to 200, got 0"),
    (None, 201, "count: must be a whole number from 1 to 200, got 201"),
    (None, True, "count: must be a whole number from 1 to 200"),
    (None, None, "count: must be a whole number from 1 to 200"),
    (["anna", "Anna"], None, r"trainees: names must differ \(ignoring case\): anna"),
    (["anna", "b:c"], None, r"names\[2\]: username: must be 3 to 64 characters"),
    (["", "  "], None, "count: must be a whole number"),
    ("anna", None, "names: must be a list of usernames"),
])
def test_a_bad_roster_is_refused_with_what_and_where(names, count, message):
    with pytest.raises(ValidationError, match=message):
        Roster.generate(names, count=count)


def test_generated_passwords_meet_the_rule_and_differ():
    passwords = [generate_password("trainee01") for _ in range(200)]
    assert len(set(passwords)) == 200
    for password in passwords:
        assert re.fullmatch(f"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}", password)
        assert check_password_rule(password, "trainee01") == password


@pytest.mark.parametrize("two_factor_by, user_flag, company_flag", [
    ("user flag", True, False),
    ("company setting", False, True),
])
def test_every_trainee_needs_2fa(two_factor_by, user_flag, company_flag):
    office = office_for_class()
    classroom = Classroom.create(office, "Class 7", count=4, two_factor_by=two_factor_by)
    assert classroom.usernames == ["trainee01", "trainee02", "trainee03", "trainee04"]
    assert office.company("Class 7").force_2fa_for_all is company_flag
    for user in office.users:
        assert (user.force_2fa, office.needs_2fa(user)) == (user_flag, True)


@pytest.mark.parametrize("change, message", [
    (dict(company="Class 7"), "company: a class named 'Class 7' exists already"),
    (dict(names=["trainee02", "zoe"]), "names: taken already: trainee02"),
    (dict(two_factor_by="phone"), "two_factor_by: must be one of user flag, company setting, got 'phone'"),
    (dict(count=0), "count: must be a whole number"),
    (dict(company=" "), "company"),
])
def test_a_refused_class_leaves_the_back_office_as_it_was(classroom, change, message):
    office = classroom.office
    before = (len(office.companies), len(office.users), len(office.events))
    arguments = dict(company="Class 8", count=2) | change
    with pytest.raises(ValidationError, match=message):
        Classroom.create(office, arguments.pop("company"), **arguments)
    assert (len(office.companies), len(office.users), len(office.events)) == before


def test_a_class_in_a_database_is_created_whole_or_not_at_all(tmp_path, monkeypatch):
    """A failure half way (here the third user) leaves no company, no user and no event behind."""
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"
    office = open_class(url, policy=FAST, until_created=True)
    create_user, made = office.create_user, []

    def failing_third(*args, **kwargs):
        if len(made) == 2:
            raise StoreError(f"database file {str(tmp_path / 'class.sqlite')!r}", "is locked by another process for "
                             "too long (busy timeout); try again")
        made.append(args[0])
        return create_user(*args, **kwargs)

    monkeypatch.setattr(office, "create_user", failing_third)
    with pytest.raises(StoreError, match="locked by another process"):
        Classroom.create(office, "Class 7", count=4)
    assert made == ["trainee01", "trainee02"]
    fresh = open_class(url, policy=FAST)
    assert (fresh.companies, fresh.users, len(fresh.events)) == ([], [], 0)
    assert Classroom.create(fresh, "Class 7", count=4).usernames == ["trainee01", "trainee02", "trainee03", "trainee04"]


def test_a_dashboard_opened_later_finds_the_class_without_its_passwords(classroom):
    found = Classroom.find(classroom.office)
    assert (found.company, found.usernames, found.roster) == ("Class 7", classroom.usernames, None)
    assert Classroom.find(office_for_class()) is None


# -- progress, from the shared state and the event log only -----------------------------------------

def test_the_stages_of_one_trainee_in_order(classroom):
    """Each row: what the trainee does, then the whole live row the trainer sees."""
    office, name = classroom.office, "trainee02"
    columns = ["progress", "enrolled", "signed in", "failed codes"]
    seen = [tuple(table(classroom).loc[name, columns])]
    login, result = first_login(classroom, name)
    seen.append(tuple(table(classroom).loc[name, columns]))
    login.submit_code("000000" if right_code(classroom, result.screen.secret) != "000000" else "111111")
    seen.append(tuple(table(classroom).loc[name, columns]))
    login.submit_code(right_code(classroom, result.screen.secret))
    seen.append(tuple(table(classroom).loc[name, columns]))
    login.log_out()
    seen.append(tuple(table(classroom).loc[name, columns]))
    office.clock.advance(30)
    login.submit_password(name, password_of(classroom, name))
    seen.append(tuple(table(classroom).loc[name, columns]))
    assert seen == [
        ("not logged in yet", False, False, 0),
        ("sees the QR code", False, False, 0),
        ("sees the QR code", False, False, 1),
        ("signed in", True, True, 0),
        ("enrolled", True, False, 0),
        ("asked for the code", True, False, 0),
    ]
    assert table(classroom).loc["trainee01", "progress"] == "not logged in yet", "others stay where they are"


@pytest.mark.parametrize("seconds_later, expected", [
    (0, Progress.SEES_QR),
    (FAST.code_prompt_timeout - 1, Progress.SEES_QR),
    (FAST.code_prompt_timeout, Progress.LAPSED),      # the page's step closed (or its kernel was culled)
    (FAST.code_prompt_timeout + 3600, Progress.LAPSED),
])
def test_sees_the_qr_only_while_the_prompt_is_open(classroom, seconds_later, expected):
    """The QR on a trainee's page is in that trainee's kernel only: the dashboard derives it from
    the logged step and the policy's timeout, so a closed tab does not show as "sees the QR" forever."""
    first_login(classroom, "trainee01")
    classroom.office.clock.advance(seconds_later)
    assert progress_of(classroom, "trainee01") is expected


def test_the_progress_of_another_process_is_read_from_the_log_alone(classroom):
    """A trainee's page in another kernel shares only the back office's state and event log: a
    second ClassProgress on the same office, built after the fact, tells the same."""
    login, result = first_login(classroom, "trainee03")
    late = Classroom(classroom.office, "Class 7")
    assert progress_of(late, "trainee03") is Progress.SEES_QR
    login.submit_code(right_code(classroom, result.screen.secret))
    assert progress_of(late, "trainee03") is Progress.SIGNED_IN


# -- the trainer's actions on the shared state -----------------------------------------------------

def lock(classroom: Classroom, name: str) -> None:
    login, result = first_login(classroom, name)
    wrong = "000000" if right_code(classroom, result.screen.secret) != "000000" else "111111"
    for _ in range(LIMIT):
        login.submit_code(wrong)
    assert login.state is State.LOCKED_OUT


@pytest.mark.parametrize("action, before, after", [
    ("unlock", Progress.LOCKED_OUT, Progress.STARTED),
    ("reset_2fa", Progress.SEES_QR, Progress.RESET),
])
def test_admin_actions_change_what_the_dashboard_shows(classroom, action, before, after):
    if action == "unlock":
        lock(classroom, "trainee01")
    else:
        first_login(classroom, "trainee01")
    assert progress_of(classroom, "trainee01") is before
    getattr(classroom, action)("trainee01")
    assert progress_of(classroom, "trainee01") is after
    assert classroom.office.events[-1].actor == "admin:trainer"


def test_a_trainees_row_holds_instants_and_the_export_words_them(classroom):
    """The live row is typed (a lock's end and the last action are instants, None when there are
    none); only the dashboard's rows word them, in UTC, and its table shows the time of day."""
    start = classroom.office.clock.now()
    lock(classroom, "trainee01")
    rows = {s.username: s for s in classroom.statuses()}
    locked, idle = rows["trainee01"], rows["trainee02"]
    lockout_end = start + FAST.lockout_seconds
    assert (locked.locked_out_until, locked.last_seen, idle.locked_out_until, idle.last_seen) == (lockout_end, start, None, None)
    assert table(classroom).loc["trainee01", ["locked out until", "last seen"]].tolist() == [iso(lockout_end), iso(start)]
    assert table(classroom).loc["trainee02", ["locked out until", "last seen"]].tolist() == ["", ""]
    assert (clock_time(lockout_end), clock_time(None)) == (iso(lockout_end)[11:], "")


def test_a_reset_sends_the_trainee_back_to_a_fresh_qr(classroom):
    login, result = first_login(classroom, "trainee01")
    login.submit_code(right_code(classroom, result.screen.secret))
    classroom.reset_2fa("trainee01")
    again = classroom.office.start_login().submit_password("trainee01", password_of(classroom, "trainee01"))
    assert again.state is State.ENROLMENT and again.screen.secret != result.screen.secret


def test_recovery_codes_for_an_enrolled_trainee_only(classroom):
    with pytest.raises(ValidationError, match="has not enrolled"):
        classroom.issue_recovery_codes("trainee01")
    login, result = first_login(classroom, "trainee01")
    login.submit_code(right_code(classroom, result.screen.secret))
    codes = classroom.issue_recovery_codes("trainee01")
    assert len(codes) == FAST.recovery_code_count
    assert users_table(classroom.office).loc["trainee01", "recovery codes left"] == len(codes)


@pytest.mark.parametrize("action", ["reset_2fa", "unlock", "issue_recovery_codes"])
@pytest.mark.parametrize("name", ["outsider", "nobody", "a:b"])
def test_actions_only_on_trainees_of_the_class(classroom, action, name):
    office = classroom.office
    office.create_company("Other")
    office.create_user("outsider", "another pass 9", company="Other", force_2fa=True)
    before = len(office.events)
    with pytest.raises(NotFoundError, match="in class 'Class 7'"):
        getattr(classroom, action)(name)
    assert len(office.events) == before


# -- passwords stay with the trainer ---------------------------------------------------------------

def test_passwords_are_in_no_repr_table_log_or_error(classroom):
    passwords = [password for _, password in classroom.roster.hand_out()]
    assert len(passwords) == 3 and len(set(passwords)) == 3
    login, _ = first_login(classroom, "trainee01")
    login.submit_code("12")
    shown = [repr(classroom), repr(classroom.roster), repr(list(classroom.roster)), repr(classroom.progress),
             table(classroom).to_string(), users_table(classroom.office).to_string(),
             events_table(classroom.office.events).to_string(), repr(classroom.office)]
    for stage in classroom.progress.statuses():
        shown.append(repr(stage))
    try:
        classroom.roster.password_of("nobody")
    except ValidationError as error:
        shown.append(str(error))
    leaked = [text for text in shown for password in passwords if password in text]
    assert leaked == []


def test_only_hashes_reach_the_back_office(classroom):
    """No object the back office holds carries a password in clear text."""
    passwords = {password for _, password in classroom.roster.hand_out()}
    roster, classroom.roster = classroom.roster, None
    del roster
    gc.collect()
    reachable, stack, seen = [], [classroom.office], set()
    while stack:
        item = stack.pop()
        # type(), not isinstance(): isinstance asks the object for __class__, and a lazy object
        # (Django's settings, once any test imported Django) would try to load itself
        if id(item) in seen or type(item) is type(sys):
            continue
        seen.add(id(item))
        if issubclass(type(item), str):
            reachable.append(item)
            continue
        stack.extend(gc.get_referents(item))
    assert passwords.isdisjoint(reachable)


# -- where the class lives ----------------------------------------------------------------------------

@pytest.mark.parametrize("given, environment, expected", [
    (None, None, "memory"),
    (None, "sqlite:////srv/class/x.sqlite", "sqlite:////srv/class/x.sqlite"),
    ("postgresql+psycopg://class@db/class", "sqlite:///ignored.sqlite", "postgresql+psycopg://class@db/class"),
])
def test_the_database_of_a_class(monkeypatch, given, environment, expected):
    if environment is None:
        monkeypatch.delenv(DB_ENV, raising=False)
    else:
        monkeypatch.setenv(DB_ENV, environment)
    assert class_db_url(given) == expected


@pytest.mark.parametrize("bad", ["", "  ", 7])
def test_a_database_url_must_be_text(bad):
    with pytest.raises(ValidationError, match="db_url: must be a database URL"):
        class_db_url(bad)


def test_a_class_runs_on_the_real_time():
    assert open_class().clock.is_real_time


@pytest.mark.parametrize("key_set, given, accepted", [
    ("", "", True),                 # no key set: a notebook in JupyterLab, the tests
    ("", "anything", True),
    ("k3y-of-the-day", "k3y-of-the-day", True),
    ("k3y-of-the-day", "", False),
    ("k3y-of-the-day", "k3y-of-the-da", False),
    ("k3y-of-the-day", "K3Y-OF-THE-DAY", False),
])
def test_the_trainer_key(monkeypatch, key_set, given, accepted):
    monkeypatch.setenv(TRAINER_KEY_ENV, key_set)
    assert trainer_key_accepted(given) is accepted


# -- a lost slip, a late trainee, the end of the class ----------------------------------------------

def can_log_in(classroom: Classroom, name: str, password: str) -> bool:
    return classroom.office.start_login().submit_password(name, password).state is not State.CREDENTIALS


def test_a_new_password_replaces_the_old_one_and_the_log_names_no_password(classroom):
    old = password_of(classroom, "trainee02")
    new = classroom.new_password("trainee02")
    assert new != old and check_password_rule(new, "trainee02") == new
    assert (can_log_in(classroom, "trainee02", old), can_log_in(classroom, "trainee02", new)) == (False, True)
    assert classroom.roster.password_of("trainee02") == new, "the page that made it holds it for the slips"
    [event] = classroom.office.events.of_kind(EventKind.PASSWORD_SET)
    assert (event.user, event.actor) == ("trainee02", "admin:trainer")
    assert new not in str(classroom.office.events.rows()) and old not in str(classroom.office.events.rows())


def test_new_passwords_only_for_those_not_logged_in_yet(classroom):
    first_login(classroom, "trainee01")
    kept = password_of(classroom, "trainee01")
    made = dict(classroom.new_passwords_for_those_not_logged_in())
    assert sorted(made) == ["trainee02", "trainee03"]
    assert can_log_in(classroom, "trainee01", kept) and can_log_in(classroom, "trainee03", made["trainee03"])


def test_a_trainee_added_to_a_running_class_needs_2fa_like_the_others(classroom):
    password = classroom.add_trainee("late")
    assert classroom.usernames[-1] == "late" and table(classroom).loc["late", "progress"] == "not logged in yet"
    result = classroom.office.start_login().submit_password("late", password)
    assert result.state is State.ENROLMENT
    with pytest.raises(AlreadyExistsError, match="taken"):
        classroom.add_trainee("LATE")


def test_an_ended_class_lets_no_one_in_and_keeps_its_results(classroom):
    login, result = first_login(classroom, "trainee01")
    login.submit_code(right_code(classroom, result.screen.secret))
    passwords = {name: password_of(classroom, name) for name in classroom.usernames}
    before = table(classroom)
    classroom.end()
    assert classroom.ended and not any(can_log_in(classroom, n, p) for n, p in passwords.items())
    assert table(classroom)["enrolled"].tolist() == before["enrolled"].tolist()
    with pytest.raises(ValidationError, match="has ended"):
        classroom.add_trainee("late")
    assert Classroom(classroom.office, "Class 7").ended, "a dashboard opened later knows it too"


@pytest.mark.parametrize("phone_steps, offset, words", [(-1, -1, "about 30 s behind"), (0, 0, "on time"),
                                                        (1, 1, "about 30 s ahead")])
def test_the_phone_clock_as_the_server_saw_the_accepted_code(classroom, phone_steps, offset, words):
    login, result = first_login(classroom, "trainee01")
    login.submit_code(right_code(classroom, result.screen.secret, steps=phone_steps))
    [status] = [s for s in classroom.statuses() if s.username == "trainee01"]
    assert (status.step_offset, status.phone_clock(30)) == (offset, words)
    assert table(classroom).loc["trainee01", "phone clock"] == words


def test_the_phone_clock_is_read_from_the_events_field_not_its_words(classroom, monkeypatch):
    """Rewording the accepted code's detail changes nothing: the offset is the event's field."""
    from twofa_sim.core import messages
    english = dict(messages.keyed_messages().english, matched_step="the phone's step: {offset}")
    monkeypatch.setattr(messages, "keyed_messages", lambda: messages.KeyedMessages(english, {}))
    messages.render_fields.cache_clear()
    try:
        login, result = first_login(classroom, "trainee01")
        login.submit_code(right_code(classroom, result.screen.secret, steps=-1))
        assert classroom.office.events.of_kind(EventKind.CODE_ACCEPTED)[-1].detail == "the phone's step: -1"
        [status] = [s for s in classroom.statuses() if s.username == "trainee01"]
        assert status.step_offset == -1
    finally:
        messages.render_fields.cache_clear()


def test_the_class_event_log_for_csv_says_its_details_in_the_dashboards_language(classroom):
    login, result = first_login(classroom, "trainee01")
    login.submit_code(right_code(classroom, result.screen.secret, steps=-1))
    english, german = classroom.event_rows("en"), classroom.event_rows("de")
    assert [row | {"detail": ""} for row in english] == [row | {"detail": ""} for row in german]
    accepted = [i for i, row in enumerate(english) if row["kind"] == EventKind.CODE_ACCEPTED.value]
    assert [(english[i]["detail"], german[i]["detail"]) for i in accepted] == [("matched step -1", "passt zu Schritt -1")]


def test_wrong_passwords_count_for_the_trainee_whose_login_they_were_in(classroom):
    """A refused password names no one in the log: it belongs to its login (the trainee's page)
    until a password accepted there names the trainee."""
    login = classroom.office.start_login()
    for _ in range(2):
        login.submit_password("trainee01", "not the password 1")
    assert classroom.progress.unclaimed_wrong_passwords() == (2, 1)
    assert table(classroom).loc["trainee01", "wrong passwords"] == 0
    login.submit_password("trainee01", password_of(classroom, "trainee01"))
    assert classroom.progress.unclaimed_wrong_passwords() == (0, 0)
    assert table(classroom).loc["trainee01", "wrong passwords"] == 2


def test_last_seen_is_the_trainees_own_last_action_not_a_lapse(classroom):
    login, _ = first_login(classroom, "trainee01")
    seen = table(classroom).loc["trainee01", "last seen"]
    classroom.office.clock.advance(FAST.code_prompt_timeout + 5)
    login.poll()  # the page's ticker closes the step: not something the trainee did
    assert classroom.office.events[-1].kind is EventKind.EXPIRED
    assert table(classroom).loc["trainee01", ["last seen", "progress"]].tolist() == [seen, "QR code timed out"]


def test_folding_the_log_bit_by_bit_tells_what_folding_it_whole_tells(classroom):
    follower = Classroom(classroom.office, "Class 7")
    login, result = first_login(classroom, "trainee01")
    follower.statuses()
    login.submit_code("000000" if right_code(classroom, result.screen.secret) != "000000" else "111111")
    follower.statuses()
    login.submit_code(right_code(classroom, result.screen.secret, steps=-1))
    classroom.office.start_login().submit_password("trainee02", "not the password 1")
    classroom.reset_2fa("trainee03")
    assert follower.statuses() == Classroom(classroom.office, "Class 7").statuses()


def test_an_event_committed_late_with_a_lower_number_is_not_missed(classroom):
    """On PostgreSQL a lower sequence number can commit after a higher one: the log then reads in
    order again, and the progress folds afresh instead of skipping it."""
    first_login(classroom, "trainee02")
    classroom.office.start_login()  # an event after it
    events = list(classroom.office.events)
    late = next(e for e in events if e.kind is EventKind.PASSWORD_ACCEPTED)
    seen = [e for e in events if e is not late]  # committed after the others were read
    stand_in = SimpleNamespace(events=seen, clock=classroom.office.clock, policy=classroom.office.policy,
                               user_views=classroom.office.user_views)
    progress = ClassProgress(stand_in, classroom.usernames)
    assert not progress.statuses()[1].logged_in
    seen[:] = events  # the log read again whole, in order
    assert progress.statuses()[1].logged_in and progress.statuses() == ClassProgress(classroom.office,
                                                                                      classroom.usernames).statuses()
