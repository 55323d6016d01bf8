"""Session files edited by hand: every value is checked against the range the domain can use, so
a file that loads also works (the users table, a login with password and code, the trainer demo).

A value outside its range is a SessionFileError naming the place; the edge of each range loads and
then works. Found by hand-editing a saved file: ``locked_out_until`` of 3e11 loaded and then crashed
the time formatting after "login refused (locked)" was already logged.
"""

from __future__ import annotations

import json

import pytest

from twofa_sim import Policy, State
from twofa_sim.core.clock import LATEST
from twofa_sim.apps.device import Device
from twofa_sim.apps.entry import APP_PERIODS
from twofa_sim.io.persistence import SessionFileError, dumps, loads
from twofa_sim.io.session_fields import MAX_COUNTER
from twofa_sim.ui.trainer_demo import TrainerDemo

from conftest import PASSWORD, make_office
from helpers import current_code, enrol
from twofa_sim.render.tables import app_table, users_table

DAY = 86400
YEAR = 365 * DAY


def edited_session(where: str, value, *, drift_tracking: bool = False) -> bytes:
    """A saved session of alice (enrolled, then locked) and her phone, with one value replaced."""
    office = make_office(drift_tracking=drift_tracking)
    office.create_user("alice", PASSWORD, force_2fa=True)
    enrol(office, "alice")
    phone = Device.for_user(office, "alice", app="aegis")
    phone.app.scan_uri(f"otpauth://hotp/Lab:hugo?secret={'A' * 32}&issuer=Lab&counter=5", phone.now())
    document = json.loads(dumps(office, [phone]))
    document.pop("sha256")
    session = document["session"]
    target = {"enrolment": session["users"][0]["enrolment"], "device": session["devices"][0],
              "user": session["users"][0], "clock": session["clock"], "entry": session["devices"][0]["entries"][0]}
    part, _, name = where.partition(".")
    target[part][name] = value
    return json.dumps(document).encode()


def works(data: bytes) -> None:
    """The loaded session does what a trainer does with one, without an exception."""
    session = loads(data)
    office = session.office
    users_table(office)
    login = office.start_login()
    result = login.submit_password("alice", PASSWORD)
    if result.state is State.CODE_REQUIRED:
        login.submit_code("000000")
        login.submit_code(current_code(office, office.user("alice").enrolment.secret))
    users_table(office)
    demo = TrainerDemo(office, Device.for_user(office, "alice", app="aegis"), live=False)
    demo.close()
    for device in session.devices:
        repr(device)
        app_table(device.app, device.now())
        for entry in device.app.entries:
            if entry.counter_based:
                device.app.next_counter_code(entry)


OUT_OF_RANGE = [
    ("enrolment.locked_out_until", 3e11, False), ("enrolment.locked_out_until", 1e18, False),
    ("enrolment.locked_out_until", 1e300, False), ("enrolment.locked_out_until", LATEST + 200 * DAY, False),
    ("enrolment.locked_out_until", -1, False),
    ("enrolment.enrolled_at", 1e300, False),
    ("enrolment.drift", 2 ** 40, True), ("enrolment.drift", -(2 ** 40), True), ("enrolment.drift", 2 ** 40, False),
    ("enrolment.drift", 10 ** 7, True),
    ("enrolment.last_used_step", 2 ** 40, False),
    ("device.offset", 11 * YEAR, False),
    ("device.offset", 1e300, False), ("device.offset", -1e18, False), ("device.correction", 10 ** 12, False),
    ("user.created_at", 3e11, False),
    ("entry.counter", MAX_COUNTER + 1, False), ("entry.counter", -1, False), ("entry.counter", 0.5, False),
    ("entry.digits", 11, False), ("entry.period", 2 ** 31, False), ("entry.added_at", 1e300, False),
]


@pytest.mark.parametrize("where, value, drift_tracking", OUT_OF_RANGE)
def test_a_value_out_of_its_range_is_refused_by_the_reader(where, value, drift_tracking):
    with pytest.raises(SessionFileError) as caught:
        loads(edited_session(where, value, drift_tracking=drift_tracking))
    assert caught.value.field.endswith(where.split(".")[-1])
    assert caught.value.field.startswith("session.")


IN_RANGE = [
    ("enrolment.locked_out_until", LATEST + 180 * DAY, False), ("enrolment.locked_out_until", 0, False),
    ("enrolment.drift", 3, True), ("enrolment.drift", -40, True), ("enrolment.drift", 170 * DAY // 30, True),
    ("enrolment.drift", -170 * DAY // 30, True),
    ("enrolment.last_used_step", 0, False),
    ("device.offset", 3600.5, False), ("device.offset", -YEAR, False), ("device.correction", -7200, False),
    ("user.created_at", 0, False),
    ("entry.counter", MAX_COUNTER, False), ("entry.counter", 0, False), ("entry.digits", 1, False),
    ("entry.period", APP_PERIODS.stop - 1, False), ("device.correction", 12.345, False),
]


@pytest.mark.parametrize("where, value, drift_tracking", IN_RANGE)
def test_a_file_that_loads_also_works(where, value, drift_tracking):
    works(edited_session(where, value, drift_tracking=drift_tracking))
