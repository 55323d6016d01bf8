"""The named starting points: each builds a fresh back office in the state its name says."""

from __future__ import annotations

import pytest

from twofa_sim import State, ValidationError
from twofa_sim.render import events_table
from twofa_sim.spec.starting_points import (STARTING_POINTS, StartingPointError, alice_enrolled, backoffice_as_filed,
                                            catalogue)


@pytest.mark.parametrize("name, time, enrolled, failures, locked, logins", [
    ("backoffice_as_filed", "2026-01-05 09:00:10", False, 0, False, 0),
    ("alice_enrolled", "2026-01-05 09:00:40", True, 0, False, 1),
    ("alice_signed_in", "2026-01-05 09:00:40", True, 0, False, 2),
    ("alice_locked_out", "2026-01-05 09:00:40", True, 5, True, 6),
])
def test_each_starting_point_is_the_state_its_name_says(name, time, enrolled, failures, locked, logins):
    start = STARTING_POINTS[name]()
    alice = start.office.user("alice").enrolment
    now = start.office.clock.now()
    assert (start.time, alice.is_enrolled, alice.failures_at(now), alice.is_locked_out(now)) == \
        (time, enrolled, failures, locked)
    assert events_table(start.office.events)["kind"].tolist().count("login started") == logins


def test_every_call_builds_a_new_back_office():
    first, second = alice_enrolled(), alice_enrolled()
    first.office.clock.advance(3600)
    first.office.reset_2fa("alice")
    assert second.time == "2026-01-05 09:00:40" and second.office.user("alice").enrolment.is_enrolled
    assert first.secret == second.secret    # seeded: the same story gives the same secret


def test_the_app_code_is_the_one_the_back_office_accepts():
    start = alice_enrolled()
    assert start.login_at_code_prompt().submit_code(start.app_code()).state is State.AUTHENTICATED


def test_neither_secret_nor_password_is_in_the_repr():
    start = alice_enrolled()
    assert start.secret not in repr(start) and start.password not in repr(start)
    assert start.app_code() not in repr(start)


def test_no_code_before_enrolment_and_no_code_prompt_without_2fa():
    start = backoffice_as_filed()
    with pytest.raises(ValidationError, match="has not enrolled at the starting point 'the back office as filed'"):
        start.app_code()
    with pytest.raises(StartingPointError, match="not to the code prompt"):
        start.login_at_code_prompt()          # alice's first login shows the QR instead


def test_the_catalogue_names_every_starting_point_without_markup():
    described = catalogue()
    assert list(described) == list(STARTING_POINTS)
    assert all(text and "``" not in text and "\n" not in text for text in described.values())
