"""The in-memory store's transaction is a transaction: what fails inside it leaves nothing, and
the event log's listeners hear of a step only once it has committed, in its final state."""

from __future__ import annotations

import pytest

from twofa_sim import EventKind

from conftest import PASSWORD, make_office
from helpers import at_code_prompt, current_code, enrol, refused_code


class Boom(Exception):
    pass


def test_a_failed_transaction_leaves_no_user_company_or_event():
    office = make_office()
    office.create_user("alice", PASSWORD)
    before = (len(office.users), len(office.events), [c.name for c in office.companies])
    heard = []
    office.events.subscribe(heard.append)
    with pytest.raises(Boom):
        with office.transaction():
            office.create_company("Night school")
            office.create_user("bob", PASSWORD, company="Night school")
            office.create_user("carol", PASSWORD, company="Night school")
            raise Boom
    assert (len(office.users), len(office.events), [c.name for c in office.companies]) == before
    assert office.find_user("bob") is None and heard == []
    office.create_user("bob", PASSWORD)           # the name is free again, and numbering goes on
    assert office.events[-1].seq == before[1] + 1


def test_a_failed_transaction_puts_a_changed_user_back():
    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    enrol(office, "alice")
    office.issue_recovery_codes("alice")
    user = office.user("alice")
    before = user.snapshot()
    with pytest.raises(Boom):
        with office.transaction():
            office.user("alice").enrolment.failures = 4
            office.user("alice").enrolment.recovery.consume(0)
            office.reset_2fa("alice")
            raise Boom
    assert office.user("alice") is user and user.snapshot() == before


def test_listeners_hear_a_step_after_it_is_whole():
    """The wrong code's event comes before the failure is counted in the row's actions; a listener
    still sees the count already written, because events are told after the step commits."""
    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(30)
    login = at_code_prompt(office, "alice")
    seen = []
    office.events.subscribe(lambda event: seen.append((event.kind, office.user("alice").enrolment.failures)))
    login.submit_code(refused_code(office, secret))
    assert seen == [(EventKind.CODE_REJECTED, 1)]


def test_a_step_that_fails_is_not_heard():
    office = make_office()
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(30)
    login = at_code_prompt(office, "alice")
    heard, count = [], len(office.events)
    office.events.subscribe(heard.append)
    with pytest.raises(Boom):
        with office.transaction():
            login.submit_code(refused_code(office, secret))
            raise Boom
    assert heard == [] and len(office.events) == count and office.user("alice").enrolment.failures == 0


def test_an_event_the_log_builds_at_once_is_the_event_its_dataclass_builds():
    """``Event.of`` (the log's way, one call per event) sets the same fields as the dataclass's own
    ``__init__``: a field added to the dataclass and not to ``Event.of`` fails here."""
    from dataclasses import fields

    from twofa_sim.core.events import Event
    values = [f"value of {field.name}" for field in fields(Event)]
    built, made = Event.of(*values), Event(*values)
    assert (built, vars(built)) == (made, vars(made))
    with pytest.raises(AttributeError):
        built.user = "mallory"               # as frozen as the dataclass's own
