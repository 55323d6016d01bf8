"""A device's own clock against the back office's window, and the app's clock correction.

Each row is a whole accept/reject vector: a device enrolled by scanning the page image, its clock
then put ``offset`` seconds off, logs in at seven instants within one 30 s step (seconds after
the step starts). The reference app counts whole seconds down (RFC 6238); the add-on rounds to
the nearest second, so its codes turn over half a second early and its vectors differ at the
edges.
"""

from __future__ import annotations

import math

import pytest

from twofa_sim import ClockError, EventKind, NotFoundError, Outcome, State, ValidationError
from twofa_sim.apps.device import Device

from conftest import PASSWORD, make_office
from helpers import at_code_prompt
from twofa_sim.render.tables import device_table, events_table

BASE = 1_767_607_200            # 2026-01-05 10:00:00 UTC, the start of a 30 s step
PHASES = (0, 4.9, 5, 14.5, 24.9, 25, 29.9)


def enrolled(app: str = "reference", **policy):
    """A back office and a device that enrolled by scanning the second window's page image."""
    office = make_office(**policy)
    office.create_user("alice", PASSWORD, force_2fa=True)
    device = Device.for_user(office, "alice", app=app)
    login = office.start_login()
    shown = login.submit_password("alice", PASSWORD)
    device.scan(shown.screen.page_image())
    assert login.submit_code(device.code()).state is State.AUTHENTICATED
    return office, device


def logs_in(app: str, offset: float, phase: float, **policy) -> bool:
    office, device = enrolled(app, **policy)
    office.clock.set(BASE + phase)
    device.set_offset(offset)
    result = at_code_prompt(office, "alice").submit_code(device.code())
    return result.outcome is Outcome.ACCEPTED


# (app, window, offset in seconds, accepted at each phase: "✓" or "✗")
VECTORS = [
    ("reference", 1, 0, "✓✓✓✓✓✓✓"),
    ("reference", 1, +25, "✓✓✓✓✓✓✓"),
    ("reference", 1, +35, "✓✓✓✓✓✗✗"),
    ("reference", 1, +65, "✗✗✗✗✗✗✗"),
    ("reference", 1, +95, "✗✗✗✗✗✗✗"),
    ("reference", 1, -25, "✓✓✓✓✓✓✓"),
    ("reference", 1, -35, "✗✗✓✓✓✓✓"),
    ("reference", 1, -65, "✗✗✗✗✗✗✗"),
    ("reference", 1, -95, "✗✗✗✗✗✗✗"),
    ("reference", 0, +25, "✓✓✗✗✗✗✗"),
    ("reference", 0, -25, "✗✗✗✗✗✓✓"),
    ("reference", 2, +65, "✓✓✓✓✓✗✗"),
    ("authenticator-addon", 1, 0, "✓✓✓✓✓✓✓"),
    ("authenticator-addon", 1, +25, "✓✓✓✓✓✓✓"),
    ("authenticator-addon", 1, +35, "✓✓✓✓✗✗✗"),     # 24.9 + 35 rounds up to the second step ahead
    ("authenticator-addon", 1, +95, "✗✗✗✗✗✗✗"),
    ("authenticator-addon", 1, -35, "✗✓✓✓✓✓✓"),     # 4.9 - 35 rounds up into the step before
    ("authenticator-addon", 1, -95, "✗✗✗✗✗✗✗"),
    ("authenticator-addon", 0, 0, "✓✓✓✓✓✓✗"),       # at 29.9 s the add-on already shows the next code
]


@pytest.mark.parametrize("app, window, offset, expected", VECTORS)
def test_a_device_off_by_offset_logs_in_exactly_where_the_window_allows(app, window, offset, expected):
    got = "".join("✓" if logs_in(app, offset, phase, window=window) else "✗" for phase in PHASES)
    assert got == expected


@pytest.mark.parametrize("app, window, offset, expected", VECTORS)
def test_the_vectors_follow_from_the_step_arithmetic(app, window, offset, expected):
    """The same vectors, from first principles: the device's step may differ by at most the window."""
    early = 0.5 if app == "authenticator-addon" else 0.0
    steps = [math.floor(math.floor(BASE + p + offset + early) / 30) - math.floor((BASE + p) / 30) for p in PHASES]
    assert "".join("✓" if abs(s) <= window else "✗" for s in steps) == expected


def test_25_seconds_ahead_logs_in_95_fails_and_the_addons_correction_repairs_it():
    office, device = enrolled("authenticator-addon")
    office.clock.set(BASE + 14.5)
    device.set_offset(25)
    assert at_code_prompt(office, "alice").submit_code(device.code()).outcome is Outcome.ACCEPTED

    office.clock.advance(60)
    device.set_offset(95)
    refused = at_code_prompt(office, "alice").submit_code(device.code())
    assert refused.outcome is Outcome.REJECTED and refused.reason.value == "wrong code"

    correction = device.correct_clock()
    assert correction.applied and correction.offset == -95 and correction.measured == -95.5
    assert device.app.correction == -95 and device.offset == 95       # the device clock itself is unchanged
    login = at_code_prompt(office, "alice")
    assert login.submit_code(device.code()).state is State.AUTHENTICATED
    event = office.events.of_kind(EventKind.CLOCK_CORRECTED)[-1]
    assert (event.outcome, event.detail, event.actor) == ("corrected", "clock corrected by -95 s",
                                                          "device:alice's Authenticator (browser add-on)")


# (app, device offset, applied, correction afterwards, logs in afterwards, words in the reason)
CORRECTIONS = [
    ("authenticator-addon", +95, True, -95, True, "corrected by -95 s"),
    ("authenticator-addon", -95, True, +95, True, "corrected by +95 s"),
    ("authenticator-addon", +300, True, -300, True, "corrected by -300 s"),
    ("authenticator-addon", +400, False, 0, False, "clock too far off: -400 s, Authenticator (browser add-on) "
                                                   "8.0.x corrects at most ±300 s"),
    ("authenticator-addon", -1000, False, 0, False, "too far off: +1000 s"),
    ("google-authenticator", +95, True, -120, True, "corrected by -120 s"),       # whole minutes: 25 s behind
    ("google-authenticator", +400, True, -420, True, "corrected by -420 s"),
    ("2fas", +95, True, -95, True, "corrected by -95 s"),                       # NTP: to the millisecond
    ("2fas", +5000.25, True, -5000.25, True, "corrected by -5000.25 s"),         # and without a limit
    ("aegis", +95, False, 0, False, "Aegis 3.4 has no clock correction"),
    ("reference", +95, False, 0, False, "has no clock correction"),
]


@pytest.mark.parametrize("app, offset, applied, correction, works, words", CORRECTIONS)
def test_clock_correction_as_each_app_does_it(app, offset, applied, correction, works, words):
    office, device = enrolled(app)
    office.clock.set(BASE + 14.5)
    device.set_offset(offset)
    result = device.correct_clock()
    assert (result.applied, device.app.correction, result.offset) == (applied, correction, correction)
    assert words in result.reason
    assert logs_in_now(office, device) is works
    event = office.events.of_kind(EventKind.CLOCK_CORRECTED)[-1]
    assert event.outcome == ("corrected" if applied else "not corrected")
    assert event.reason == ("" if applied else result.reason)


def logs_in_now(office, device) -> bool:
    return at_code_prompt(office, "alice").submit_code(device.code()).outcome is Outcome.ACCEPTED


def test_a_later_correction_replaces_the_earlier_one():
    office, device = enrolled("authenticator-addon")
    office.clock.set(BASE)
    device.set_offset(95)
    device.correct_clock()
    device.set_offset(-20)
    assert device.correct_clock().offset == 20 and device.app.correction == 20


@pytest.mark.parametrize("offset", [float("nan"), float("inf"), "ahead", None])
def test_device_offsets_must_be_finite_seconds(offset):
    office, device = enrolled()
    with pytest.raises(ClockError, match="offset"):
        device.set_offset(offset)
    with pytest.raises(ClockError, match="offset"):
        Device("phone", "alice", office.clock, offset=offset)
    assert device.offset == 0


@pytest.mark.parametrize("kwargs, error, words", [
    ({"name": ""}, ValidationError, "name: must be 1 to 64"),
    ({"owner": "x" * 65}, ValidationError, "owner: must be 1 to 64"),
    ({"reference": 1_767_607_200}, ValidationError, "reference: must be a Clock"),
    ({"app": "authy"}, NotFoundError, "no app profile 'authy'"),
])
def test_devices_refuse_bad_arguments(kwargs, error, words):
    office = make_office()
    args = {"name": "phone", "owner": "alice", "reference": office.clock} | kwargs
    with pytest.raises(error, match=words):
        Device(args.pop("name"), args.pop("owner"), args.pop("reference"), **args)


def test_a_device_for_an_unknown_user_is_refused():
    with pytest.raises(NotFoundError, match="no user named 'nobody'"):
        Device.for_user(make_office(), "nobody")


def test_a_device_shows_itself_without_secrets():
    office, device = enrolled("authenticator-addon")
    device.set_offset(25)
    secret = office.user("alice").enrolment.secret
    assert repr(device) == ("Device(\"alice's Authenticator (browser add-on)\", owner='alice', "
                            "Authenticator (browser add-on) 8.0.x, clock +25 s, 1 entries)")
    for text in (repr(device), device_table(device).to_html(), device_table(device).to_csv(), events_table(office.events).to_csv()):
        assert secret not in text
    assert office.events.of_kind(EventKind.DEVICE_ADDED)[0].detail == "Authenticator (browser add-on) 8.0.x, clock +0 s"


# (app, device offset, logs in without the user asking for a correction)
WITHOUT_ASKING = [
    ("2fas", +95, True),                    # 2FAS sets its clock by NTP whenever it starts
    ("2fas@5.0", -400, True),
    ("authenticator-addon", +95, False),    # the add-on corrects only when the user starts it from its menu
    ("google-authenticator", +95, False),
    ("aegis", +95, False),
]


@pytest.mark.parametrize("app, offset, works", WITHOUT_ASKING)
def test_only_an_app_with_ntp_corrects_its_clock_by_itself(app, offset, works):
    office, device = enrolled(app)
    office.clock.set(BASE + 14.5)
    device.set_offset(offset)
    assert logs_in_now(office, device) is works
    assert bool(office.events.of_kind(EventKind.CLOCK_CORRECTED)) is works
