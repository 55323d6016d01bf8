"""The flow is one table: it renders, and the engine refuses whatever the table does not have."""

from __future__ import annotations

import itertools

import pytest

from twofa_sim import FLOW, FlowEvent, Outcome, State, TransitionNotAllowed
from twofa_sim.flow import TRANSITIONS

from conftest import PASSWORD, make_office
from helpers import current_code, enrol

CALLS = {
    FlowEvent.SUBMIT_PASSWORD: lambda login: login.submit_password("alice", PASSWORD),
    FlowEvent.SUBMIT_CODE: lambda login: login.submit_code("123456"),
    FlowEvent.SUBMIT_RECOVERY_CODE: lambda login: login.submit_recovery_code("0000-0000-0000-0000"),
    FlowEvent.TIME_PASSES: lambda login: login.poll(),
    FlowEvent.LOG_OUT: lambda login: login.log_out(),
    FlowEvent.START_OVER: lambda login: login.start_over(),
}


def login_in(state: State):
    """A fresh back office and a login driven into ``state``."""
    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    if state is State.CODE_REQUIRED:
        enrol(office, "alice")
        office.clock.advance(30)
    login = office.start_login()
    if state is State.CREDENTIALS:
        return office, login
    result = login.submit_password("alice", PASSWORD)
    if state in (State.ENROLMENT, State.CODE_REQUIRED):
        return office, login
    if state is State.AUTHENTICATED:
        login.submit_code(current_code(office, result.screen.secret))
    elif state is State.EXPIRED:
        office.clock.advance(office.policy.code_step_timeout)
        login.poll()
    elif state is State.LOCKED:
        for _ in range(office.policy.failed_code_limit):
            login.submit_code("000000" if current_code(office, result.screen.secret) != "000000" else "111111")
    assert login.state is state
    return office, login


def test_every_state_is_reachable_and_every_state_has_a_way_on():
    targets = {row.target for row in TRANSITIONS} | {FLOW.initial}
    assert targets == set(State)
    assert all(FLOW.events_from(state) for state in State)


@pytest.mark.parametrize("state, event", [
    (s, e) for s, e in itertools.product(State, FlowEvent) if e not in FLOW.events_from(s)])
def test_engine_refuses_events_the_table_does_not_have(state, event):
    office, login = login_in(state)
    events_before = len(office.events)
    with pytest.raises(TransitionNotAllowed, match=event.value):
        CALLS[event](login)
    assert login.state is state and len(office.events) == events_before


def test_lookup_refuses_every_triple_that_is_not_a_row():
    rows = {(r.source, r.event, r.outcome) for r in TRANSITIONS}
    missing = [t for t in itertools.product(State, FlowEvent, Outcome) if t not in rows]
    assert missing
    for triple in missing:
        with pytest.raises(TransitionNotAllowed):
            FLOW.lookup(*triple)


def test_table_renders_as_mermaid():
    text = FLOW.to_mermaid()
    assert text.startswith("stateDiagram-v2")
    for state in State:
        assert f"    {state.name}: {state.value}" in text
    assert "    CREDENTIALS --> ENROLMENT: not enrolled" in text
    assert "    CODE_REQUIRED --> LOCKED: limit reached / locked" in text
    edges = {tuple(line.split(":")[0].split(" --> ")) for line in text.splitlines() if " --> " in line}
    assert {(r.source.name.strip(), r.target.name) for r in TRANSITIONS} <= {(a.strip(), b) for a, b in edges}
    assert "```mermaid\nstateDiagram-v2" in FLOW._repr_markdown_()


def test_table_renders_as_a_dataframe():
    frame = FLOW.to_frame()
    assert list(frame.columns) == ["from", "event", "outcome", "to", "effect", "rule"]
    assert len(frame) == len(TRANSITIONS)
    assert frame.loc[frame["to"] == State.ENROLMENT.value, "from"].unique().tolist() == [
        State.CREDENTIALS.value, State.ENROLMENT.value]


def test_every_state_change_has_its_event():
    office, login = login_in(State.CREDENTIALS)
    for step in (lambda: login.submit_password("alice", PASSWORD), lambda: login.submit_code("000000")):
        before = login.state
        step()
        changes = [e for e in office.events if e.state_from]
        assert (changes[-1].state_from, changes[-1].state_to) == (before.name, login.state.name)


def test_a_check_changes_nothing_unless_its_row_says_so(monkeypatch):
    """Take the row "enrolment + valid code -> authenticated" out of the table: the valid code is
    then refused as a transition the flow lacks, and the user is neither enrolled nor changed."""
    office, login = login_in(State.ENROLMENT)
    key = (State.ENROLMENT, FlowEvent.SUBMIT_CODE, Outcome.ACCEPTED)
    monkeypatch.delitem(FLOW._index, key)
    enrolment = office.user("alice").enrolment
    before = (enrolment.secret, enrolment.pending_secret, enrolment.last_used_step, enrolment.failures)
    with pytest.raises(TransitionNotAllowed):
        login.submit_code(current_code(office, login.screen.secret))
    assert (enrolment.secret, enrolment.pending_secret, enrolment.last_used_step, enrolment.failures) == before
    assert login.state is State.ENROLMENT


def test_a_failing_listener_does_not_leave_a_login_half_done():
    office, login = login_in(State.CREDENTIALS)
    office.events.subscribe(lambda event: 1 / 0)
    result = login.submit_password("alice", PASSWORD)
    assert result.state is State.ENROLMENT and login.screen is not None and login.deadline is not None
    assert office.events.listener_errors >= 2
