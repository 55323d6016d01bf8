"""What a class sees on the trainer's screen is exact: views show the state after the whole step,
one ticker thread at a time, tables without pandas' extra header rows, messages in plain words."""

from __future__ import annotations

import threading
import time
from html.parser import HTMLParser

import pandas as pd
import pytest

from twofa_sim import State
from twofa_sim.core.errors import refusal
from twofa_sim.ui.admin_panel import AdminPanel
from twofa_sim.ui.common import Ticker, table_html
from twofa_sim.ui.i18n import Texts
from twofa_sim.ui.login_mask import LoginMask
from twofa_sim.ui.trainer_demo import TrainerDemo

from conftest import PASSWORD
from helpers import current_code, refused_code


class _Table(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def read_table(markup: str) -> list[dict[str, str]]:
    """The rows of an HTML table as dicts keyed by the header row."""
    parser = _Table()
    parser.feed(markup)
    header, *rows = parser.rows
    return [dict(zip(header, row)) for row in rows]


def shown_failures(panel: AdminPanel, username: str) -> int:
    [row] = [row for row in read_table(panel.users_table.value) if row["username"] == username]
    return int(row["failed codes"])


def enrolled_demo() -> TrainerDemo:
    demo = TrainerDemo.standard(live=False)
    demo.admin.username.value, demo.admin.password.value, demo.admin.force.value = "alice", PASSWORD, True
    demo.admin.create.click()
    demo.login.username.value, demo.login.password.value = "alice", PASSWORD
    demo.login.login_button.click()
    demo.app.scan_button.click()
    demo.login.code.value = demo.app.device.code()
    demo.login.code_button.click()
    assert demo.login.attempt.state is State.AUTHENTICATED
    demo.login.done_button.click()
    return demo


def test_failed_codes_shown_equal_the_domains_after_each_step_of_a_lock_demo():
    demo = enrolled_demo()
    office, limit = demo.office, demo.office.policy.failed_code_limit
    demo.login.username.value, demo.login.password.value = "alice", PASSWORD
    demo.login.login_button.click()
    seen = []
    for _ in range(limit):
        demo.login.code.value = refused_code(office, office.user("alice").enrolment.secret)
        demo.login.code_button.click()
        domain = office.user("alice").enrolment.failures_at(office.clock.now())
        seen.append((shown_failures(demo.admin, "alice"), domain))
    assert seen == [(n, n) for n in range(1, limit + 1)]
    [row] = read_table(demo.admin.users_table.value)
    assert row["locked out until"] != "" and demo.login.attempt.state is State.LOCKED_OUT
    newest = read_table(demo.event_log.table.value)[0]
    assert newest["kind"] == "locked"


def test_a_view_refreshes_once_per_step_not_once_per_event(office):
    panel = AdminPanel(office)
    calls = []
    original = panel.refresh
    panel.refresh = lambda: calls.append(1) or original()
    office.create_user("alice", PASSWORD, force_2fa=True)
    mask = LoginMask(office)
    mask.username.value, mask.password.value = "alice", PASSWORD
    before, calls[:] = len(office.events), []
    mask.login_button.click()  # password accepted, QR shown: two events, one step
    assert len(office.events) - before == 2 and len(calls) == 1


def test_a_stop_that_times_out_never_leaves_two_ticker_threads():
    release = threading.Event()
    entered = threading.Event()
    calls: list[str] = []
    ticker = Ticker(interval=0.01)

    def slow_listener():
        calls.append(threading.current_thread().name + str(threading.get_ident()))
        entered.set()
        release.wait(5)  # waits (as a listener waiting for the UI lock would) past the stop's timeout

    ticker.add(slow_listener)
    ticker.start()
    assert entered.wait(5)
    ticker.stop()  # the join times out: the thread is still inside the listener
    ticker.start()
    release.set()
    time.sleep(0.3)
    tickers = [t for t in threading.enumerate() if t.name == "twofa-sim-ticker"]
    ticker.stop()
    assert len(tickers) == 1, f"{len(tickers)} ticker threads run after a stop that timed out"
    assert len(set(calls[1:])) == 1, "after the restart one thread, and only one, calls the listeners"


@pytest.mark.parametrize("frame, expected_header", [
    (pd.DataFrame({"failed codes": [0]}, index=pd.Index(["alice"], name="username")), ["username", "failed codes"]),
    (pd.DataFrame({"kind": ["user created"]}), ["kind"]),
])
def test_tables_have_one_header_row_and_no_index_name_row(frame, expected_header):
    parser = _Table()
    parser.feed(table_html(frame, "nothing"))
    assert parser.rows[0] == expected_header and len(parser.rows) == 2


@pytest.mark.parametrize("frame", [
    pd.DataFrame(columns=["failed codes"]).rename_axis("username"),
    pd.DataFrame(columns=["id", "issuer"]),
])
def test_an_empty_table_is_a_sentence(frame):
    assert table_html(frame, "No users yet.") == '<span class="tfs-hint">No users yet.</span>'


def _refusal_of(office, action):
    return refusal(lambda: action(office))


@pytest.mark.parametrize("action, plain", [
    (lambda office: office.create_user("carol", "short"),
     "The password is too short: it needs at least 10 characters, this one has 5."),
    (lambda office: office.create_user("carol", "password123"), "This password is too common: choose another one."),
    (lambda office: office.create_user("alice", "a long horse 42"),
     "The username 'alice' is taken (upper and lower case count as the same)."),
    (lambda office: office.user("nobody"), "There is no user 'nobody'."),
    (lambda office: office.set_force_2fa("alice", "yes"), "on: must be true or false, got 'yes'"),
])
def test_admin_facing_errors_in_plain_words(office, action, plain):
    """An error says its plain words by id and fields; one without them is shown as it came."""
    office.create_user("alice", "a long horse 42")
    assert Texts("en").error(_refusal_of(office, action)) == plain


def test_the_admin_panel_says_why_a_password_is_refused_in_plain_words(office):
    panel = AdminPanel(office)
    panel.username.value, panel.password.value = "alice", "short"
    panel.create.click()
    assert "The password is too short: it needs at least 10 characters, this one has 5." in panel.message.value
    assert "must have" not in panel.message.value


@pytest.mark.parametrize("enrolled_first, hint, other", [
    (False, "then type the code it shows", "Type the current code"),
    (True, "Type the current code", "then type the code it shows"),
])
def test_the_second_window_says_what_to_do_once(office, enrolled_first, hint, other):
    office.create_user("alice", PASSWORD, force_2fa=True)
    mask = LoginMask(office)
    if enrolled_first:
        mask.username.value, mask.password.value = "alice", PASSWORD
        mask.login_button.click()
        mask.code.value = current_code(office, mask.attempt.screen.secret)
        mask.code_button.click()
        mask.done_button.click()
        office.clock.advance(30)
    mask.username.value, mask.password.value = "alice", PASSWORD
    mask.login_button.click()
    shown = " ".join(child.value for child in mask.second_window.children if hasattr(child, "value")
                     and isinstance(child.value, str)) + mask.message.value
    assert (shown.count(hint), shown.count(other)) == (1, 0)
    assert mask.message.value == ""
