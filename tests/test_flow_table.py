"""The flow is one table: it renders, and the engine refuses whatever the table does not have."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from twofa_sim import FLOW, EventKind, FlowEvent, LoginAttempt, Outcome, Reason, State, TransitionNotAllowed
from twofa_sim.login.flow import ON_ENTER, TRANSITIONS, Action, FlowTable, StateFacts
from twofa_sim.core.messages import SILENT, keyed_messages

from conftest import PASSWORD, make_office
from helpers import at_code_prompt, current_code, enrol, refused_code
from twofa_sim.render.tables import flow_table
from twofa_sim.render.diagram import to_markdown, to_mermaid

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
        office.clock.advance(office.policy.code_prompt_timeout)
        login.poll()
    elif state is State.LOCKED_OUT:
        for _ in range(office.policy.failed_code_limit):
            login.submit_code(refused_code(office, result.screen.secret))
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
    text = to_mermaid(FLOW)
    assert text.startswith("stateDiagram-v2")
    for state in State:
        assert f"    {state.name}: {state.value}" in text
    assert "    CREDENTIALS --> ENROLMENT: not enrolled" in text
    assert "    CODE_REQUIRED --> LOCKED_OUT: limit reached / locked" in text
    edges = {tuple(line.split(":")[0].split(" --> ")) for line in text.splitlines() if " --> " in line}
    assert {(r.source.name.strip(), r.target.name) for r in TRANSITIONS} <= {(a.strip(), b) for a, b in edges}
    assert "```mermaid\nstateDiagram-v2" in to_markdown(FLOW)


def test_table_renders_as_a_dataframe():
    frame = flow_table(FLOW)
    assert list(frame.columns) == ["from", "event", "outcome", "reason", "to", "effect", "records", "message", "rule"]
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


def test_a_check_changes_nothing_unless_its_row_says_so():
    """Take the row "enrolment + valid code -> authenticated" out of a copy of the table: the valid
    code is then refused as a transition the flow lacks, and the user is neither enrolled nor changed."""
    key = (State.ENROLMENT, FlowEvent.SUBMIT_CODE, Outcome.ACCEPTED, None)
    copy = FLOW.replace(rows=tuple(r for r in FLOW.rows if (r.source, r.event, r.outcome, r.reason) != key))
    assert len(copy.rows) == len(FLOW.rows) - 1
    office, _ = login_in(State.CREDENTIALS)
    login = LoginAttempt(office, 99, flow=copy)
    login.submit_password("alice", PASSWORD)
    enrolment = office.user("alice").enrolment
    before = (enrolment.secret, enrolment.pending_secret, enrolment.last_used_step, enrolment.failures)
    with pytest.raises(TransitionNotAllowed):
        login.submit_code(current_code(office, login.screen.secret))
    assert (enrolment.secret, enrolment.pending_secret, enrolment.last_used_step, enrolment.failures) == before
    assert login.state is State.ENROLMENT


def test_a_failing_listener_does_not_leave_a_login_half_done(caplog):
    office, login = login_in(State.CREDENTIALS)
    office.events.subscribe(lambda event: 1 / 0)
    with caplog.at_level("ERROR", logger="twofa_sim.core.events"):
        result = login.submit_password("alice", PASSWORD)
    assert result.state is State.ENROLMENT and login.screen is not None and login.deadline is not None
    failures = [r for r in caplog.records if "listener of the event log failed" in r.getMessage()]
    assert len(failures) >= 2 and all(r.exc_info[0] is ZeroDivisionError for r in failures)


# -- the table drives everything: edit a copy, and a login driven by the copy follows it -------------

def edited(table: FlowTable, key: tuple, **changes) -> FlowTable:
    """A copy of ``table`` with the row ``(source, event, outcome, reason)`` changed."""
    rows = tuple(dataclasses.replace(r, **changes) if (r.source, r.event, r.outcome, r.reason) == key else r
                 for r in table.rows)
    assert rows != table.rows, f"no row {key}"
    return table.replace(rows=rows)


def wrong_code_for(office, secret) -> str:
    return refused_code(office, secret)


def test_editing_a_copy_of_a_row_changes_the_target_the_actions_the_message_and_the_event():
    """In the copy a wrong code at the code prompt ends the login at once, is logged as expired and
    is not counted; the package's table is untouched, so a login driven by it behaves as before."""
    key = (State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.REJECTED, None)
    copy = edited(FLOW, key, target=State.EXPIRED, actions=(Action.CLOSE_CODE_PROMPT,), records=EventKind.EXPIRED,
                  message="expired")
    results = {}
    for name, table in (("copy", copy), ("original", FLOW)):
        office = make_office()
        office.create_user("alice", PASSWORD, force_2fa=True)
        secret = enrol(office, "alice")
        office.clock.advance(30)
        login = LoginAttempt(office, 99, flow=table)
        login.submit_password("alice", PASSWORD)
        before = len(office.events)
        result = login.submit_code(wrong_code_for(office, secret))
        results[name] = (result.state, result.message, [e.kind for e in office.events[before:]],
                         office.user("alice").enrolment.failures, login.allowed_events)
    assert results["copy"] == (State.EXPIRED, "The login took too long. Please start again.", [EventKind.EXPIRED],
                               0, [FlowEvent.START_OVER])
    assert results["original"] == (State.CODE_REQUIRED, "That code is not valid. Check your app and try again.",
                                   [EventKind.CODE_REJECTED], 1, FLOW.events_from(State.CODE_REQUIRED))
    assert FLOW.lookup(*key).target is State.CODE_REQUIRED


def test_the_order_of_the_password_steps_outcomes_is_data():
    """Move "2FA not required" before "user is locked" in a copy: a locked-out user whose 2FA is no
    longer required then gets in, which the package's order (a lock holds) refuses."""
    order = {g.outcome: g for g in FLOW.password_order}
    swapped = tuple(order[o] for o in (Outcome.BAD_CREDENTIALS, Outcome.NO_2FA_NEEDED, Outcome.IS_LOCKED_OUT,
                                       Outcome.NEEDS_CODE, Outcome.NEEDS_ENROLMENT))
    copy = FlowTable(FLOW.rows, FLOW.on_enter, swapped, FLOW.code_order, FLOW.time_passes_order)
    states = {}
    for name, table in (("copy", copy), ("original", FLOW)):
        office = make_office(keep_2fa_when_unforced=False)
        office.create_user("alice", PASSWORD, force_2fa=True)
        secret = enrol(office, "alice")
        login = at_code_prompt(office, "alice")
        for _ in range(office.policy.failed_code_limit):
            login.submit_code(wrong_code_for(office, secret))
        office.set_force_2fa("alice", False)
        states[name] = LoginAttempt(office, 99, flow=table).submit_password("alice", PASSWORD).state
    assert states == {"copy": State.AUTHENTICATED, "original": State.LOCKED_OUT}


def test_what_entering_a_state_does_is_data():
    """Without the on-enter action of the login mask, a login that logged out still names its user."""
    copy = FlowTable(FLOW.rows, {}, FLOW.password_order, FLOW.code_order, FLOW.time_passes_order)
    names = {}
    for name, table in (("copy", copy), ("original", FLOW)):
        office = make_office()
        office.create_user("alice", PASSWORD)
        login = LoginAttempt(office, 99, flow=table)
        login.submit_password("alice", PASSWORD)
        login.log_out()
        names[name] = login.username
    assert names == {"copy": "alice", "original": None}


def test_every_action_has_its_engine_method_and_every_message_key_its_text():
    assert all(callable(getattr(LoginAttempt, action.method, None)) for action in Action)
    assert {row.message for row in TRANSITIONS} <= set(keyed_messages().english) | {SILENT}
    assert all(row.records is None or isinstance(row.records, EventKind) for row in TRANSITIONS)


@pytest.mark.parametrize("event", [FlowEvent.SUBMIT_CODE, FlowEvent.SUBMIT_RECOVERY_CODE])
def test_a_malformed_code_has_its_own_row_that_writes_nothing(event):
    row = FLOW.lookup(State.CODE_REQUIRED, event, Outcome.REJECTED, Reason.MALFORMED)
    assert row.reason is Reason.MALFORMED and Action.APPLY_CHECK not in row.actions
    counted = FLOW.lookup(State.CODE_REQUIRED, event, Outcome.REJECTED, Reason.WRONG_CODE)
    assert counted.reason is None and Action.APPLY_CHECK in counted.actions


def failures_after_malformed(table: FlowTable, event: FlowEvent, text: str) -> tuple[int, list[EventKind]]:
    office, _ = login_in(State.CODE_REQUIRED)
    login = LoginAttempt(office, 99, flow=table)
    login.submit_password("alice", PASSWORD)
    before = len(office.events)
    submit = login.submit_code if event is FlowEvent.SUBMIT_CODE else login.submit_recovery_code
    result = submit(text)
    assert result.reason is Reason.MALFORMED
    return office.user("alice").enrolment.failures, [e.kind for e in office.events[before:]]


@pytest.mark.parametrize("event, text", [(FlowEvent.SUBMIT_CODE, "abc"), (FlowEvent.SUBMIT_RECOVERY_CODE, "x" * 65)])
def test_the_row_alone_decides_whether_a_malformed_code_counts(event, text):
    """The second factor proposes a counted failure for every refusal; the package's malformed row
    does not write it, and a copy whose malformed row takes the check's change counts the code."""
    key = (State.CODE_REQUIRED, event, Outcome.REJECTED, Reason.MALFORMED)
    row = FLOW.lookup(*key)
    counting = edited(FLOW, key, actions=row.actions + (Action.APPLY_CHECK,))
    assert failures_after_malformed(FLOW, event, text)[0] == 0
    assert failures_after_malformed(counting, event, text)[0] == 1


def test_the_order_of_the_code_checks_guards_is_data():
    """A locked user types the right code: the package's order refuses it as locked (the lock
    decides first); a copy that asks "matched" before "locked" lets the code in."""
    order = list(FLOW.code_order)
    locked = next(i for i, g in enumerate(order) if g.outcome is Outcome.IS_LOCKED_OUT)
    matched = next(i for i, g in enumerate(order) if g.outcome is Outcome.ACCEPTED)
    order[locked], order[matched] = order[matched], order[locked]
    copy = FLOW.replace(code_order=tuple(order))
    outcomes = {}
    for name, table in (("copy", copy), ("original", FLOW)):
        office = make_office()
        office.create_user("alice", PASSWORD, force_2fa=True)
        secret = enrol(office, "alice")
        office.clock.advance(30)
        login = LoginAttempt(office, 98, flow=table)
        login.submit_password("alice", PASSWORD)
        for _ in range(office.policy.failed_code_limit - 1):
            login.submit_code(wrong_code_for(office, secret))
        other = LoginAttempt(office, 99, flow=FLOW)
        other.submit_password("alice", PASSWORD)
        assert other.submit_code(wrong_code_for(office, secret)).outcome is Outcome.LOCKS_OUT
        outcomes[name] = login.submit_code(current_code(office, secret)).outcome
    assert outcomes == {"copy": Outcome.ACCEPTED, "original": Outcome.IS_LOCKED_OUT}


def test_a_flow_table_is_changed_only_by_copying_it():
    """What the engine runs for each row is worked out when a table is built, so a table cannot be
    edited in place: its mappings are read-only and its parts cannot be set; a copy is seen."""
    with pytest.raises(TypeError):
        FLOW.on_enter[State.CREDENTIALS] = ()
    with pytest.raises(TypeError):
        FLOW.state_facts[State.ENROLMENT] = StateFacts(prompt_open=True)
    for name in ("rows", "on_enter", "state_facts", "code_order", "initial"):
        with pytest.raises(AttributeError, match=f"cannot be changed in place \\(setting '{name}'\\).*replace"):
            setattr(FLOW, name, getattr(FLOW, name))
    with pytest.raises(AttributeError, match="cannot be changed in place"):
        del FLOW.rows
    with pytest.raises(TypeError):
        ON_ENTER[State.CREDENTIALS] = ()
    hidden = FLOW.replace(state_facts={**FLOW.state_facts, State.ENROLMENT: StateFacts(prompt_open=True)})
    shown = {}
    for name, table in (("hidden", hidden), ("original", FLOW)):
        office, _ = login_in(State.CREDENTIALS)
        shown[name] = LoginAttempt(office, 99, flow=table).submit_password("alice", PASSWORD).qr_shown
    assert shown == {"hidden": False, "original": True}
    assert FLOW.replace(on_enter={}).entering(State.CREDENTIALS) == () != FLOW.entering(State.CREDENTIALS)


def test_a_flow_table_copy_names_the_part_it_does_not_have():
    with pytest.raises(TypeError, match="no part 'login_order'"):
        FLOW.replace(login_order=())


@pytest.mark.parametrize("event, text", [(FlowEvent.SUBMIT_CODE, "abc"), (FlowEvent.SUBMIT_RECOVERY_CODE, "x" * 65)])
def test_a_flood_of_malformed_codes_from_one_login_costs_nothing(event, text):
    """The table's guard order refuses a login's malformed codes beyond the first few without a
    record: 40 clicks on Verify leave as many events as five; the next login records again."""
    from twofa_sim.login.flow import MALFORMED_RECORDED
    office, login = login_in(State.CODE_REQUIRED)
    submit = login.submit_code if event is FlowEvent.SUBMIT_CODE else login.submit_recovery_code
    before = len(office.events)
    reasons = [submit(text).reason for _ in range(40)]
    assert reasons == [Reason.MALFORMED] * MALFORMED_RECORDED + [Reason.MALFORMED_AGAIN] * (40 - MALFORMED_RECORDED)
    assert len(office.events) - before == MALFORMED_RECORDED
    assert login.state is State.CODE_REQUIRED and office.user("alice").enrolment.failures == 0
    row = FLOW.lookup(State.CODE_REQUIRED, event, Outcome.REJECTED, Reason.MALFORMED_AGAIN)
    assert row.records is None and row.actions == ()
    office.clock.advance(office.policy.code_prompt_timeout)
    login.poll()
    login.start_over()
    login.submit_password("alice", PASSWORD)
    before = len(office.events)
    assert submit(text).reason is Reason.MALFORMED and len(office.events) == before + 1


ENGINE_AND_MASK = ["login/attempt.py", "login/enrolment.py", "ui/login_mask.py", "render/diagram.py"]


@pytest.mark.parametrize("module", ENGINE_AND_MASK)
def test_no_outcome_is_decided_outside_the_table(module):
    """The engine, the second factor, the login mask and the diagrams compare no state and no
    outcome, and keep no table of their own keyed by them: what a state offers and shows (its page
    title included) and how an outcome reads (its label, its tone) come from the flow's facts."""
    import ast
    import pathlib
    import twofa_sim
    tree = ast.parse((pathlib.Path(twofa_sim.__file__).parent / module).read_text(encoding="utf-8"))
    names = {"State", "Outcome"}

    def names_a_member(node) -> bool:
        return any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in names
                   for n in ast.walk(node))

    compared = [ast.unparse(node) for node in ast.walk(tree)
                if isinstance(node, ast.Compare) and names_a_member(node)]
    side_tables = [ast.unparse(node)[:60] for node in ast.walk(tree)
                   if isinstance(node, ast.Dict) and any(key is not None and names_a_member(key) for key in node.keys)]
    assert compared == [] and side_tables == []
