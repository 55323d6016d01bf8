"""Running scenarios: each step kind does what it says, checks compare what happened, failures name the step."""

from __future__ import annotations

import csv
import textwrap

from PIL import Image

from twofa_sim import EventKind, FlowEvent, Outcome, Policy, SeededSecretSource, State
from twofa_sim.core.clock import to_epoch
from twofa_sim.login.screen import EnrolmentScreen
from twofa_sim.spec.scenario import StepRecord, parse_scenario, run_scenario

from helpers import independent_totp, parse_key_uri
from twofa_sim.render.tables import events_table


def run(text: str, path: str = "s.yaml", **kwargs):
    return run_scenario(parse_scenario(textwrap.dedent(text), path), **kwargs)


LOCKOUT = """\
    name: five wrong codes lock alice for 15 minutes
    start: 2026-01-05T09:00:10Z
    users:
      alice: {force_2fa: true}
    devices:
      phone: {owner: alice, app: reference}
    steps:
      - login: alice
      - scan: phone
      - type: {from: phone}
        expect: {state: AUTHENTICATED}
      - wait: 1m
      - login: alice
      - type: {code: "000000"}
      - type: {code: "000000"}
      - type: {code: "000000"}
      - type: {code: "000000"}
      - type: {code: "000000"}
        expect:
          state: LOCKED_OUT
          locked_out_for: 15m
          locked_out_until: 2026-01-05T09:16:10Z
          step_events: [code rejected, locked]
      - wait: 15m
        expect: {locked_out: false, failures: 0}
    """


def test_a_story_that_holds_passes_and_reads_as_a_timeline():
    result = run(LOCKOUT)
    assert result.passed and result.failures() == []
    assert [c.name for c in result.checks] == ["state", "state", "locked_out_for", "locked_out_until", "step_events",
                                               "locked_out", "failures"]
    text = result.timeline()
    lines = text.splitlines()
    assert lines[0] == "== five wrong codes lock alice for 15 minutes (s.yaml)"
    assert lines[2].split() == ["time", "actor", "action", "outcome"]
    assert "  09:01:10  alice           types 000000" in text
    assert "rejected, limit reached (wrong code) -> LOCKED_OUT until 09:16:10" in text
    assert "ok    locked_out_for = 15m" in text
    assert lines[-1] == "PASS s.yaml: 11 steps, 7 checks"


def test_a_wrong_expectation_fails_naming_the_step_and_what_differed():
    result = run(LOCKOUT.replace("locked_out_for: 15m", "locked_out_for: 10m").replace("failures: 0}", "failures: 2}"))
    assert not result.passed
    assert result.failures() == [
        "s.yaml: step 10 (line 18: types 000000): locked_out_for: expected 10m, got 15m (line 21)",
        "s.yaml: step 11 (line 24: 15m pass): failures: expected 2, got 0 (line 25)",
    ]
    assert "FAIL  locked_out_for: expected 10m, got 15m" in result.timeline()
    assert result.timeline().splitlines()[-1] == "FAIL s.yaml: 11 steps, 7 checks, 2 failed"


def test_a_step_that_cannot_be_carried_out_stops_the_scenario():
    result = run("""\
        name: typing with no login open
        users: {alice: {force_2fa: true}}
        steps:
          - type: {code: "123456"}
          - login: alice
        """)
    assert not result.passed and result.not_run == 1
    assert result.failures() == [
        "s.yaml: step 1 (line 4: types 123456): error: alice has no open login: add a 'login: alice' step first",
        "s.yaml: 1 later step(s) not run",
    ]


def test_an_error_the_file_expects_is_an_outcome_and_the_story_goes_on():
    result = run("""\
        name: no log out before logging in
        users: {alice: {}}
        steps:
          - login: {user: alice, password: wrong password 1}
          - log_out: alice
            expect: {error: "no 'log out' in state 'entering credentials'", state: CREDENTIALS}
          - login: alice
            expect: {state: AUTHENTICATED}
          - log_out: alice
            expect: {error: anything}
        """)
    assert [c.ok for c in result.checks] == [True, True, True, False]
    assert result.failures() == ["s.yaml: step 4 (line 9: logs out): error: expected 'anything', got 'no error' (line 10)"]


def test_runs_are_deterministic_and_the_seed_chooses_the_secret():
    first, again = run(LOCKOUT), run(LOCKOUT)
    other = run(LOCKOUT.replace("start:", "seed: 99\n    start:"))
    assert first.timeline() == again.timeline()
    assert first.qrs[0].screen.uri == again.qrs[0].screen.uri != other.qrs[0].screen.uri


def test_start_and_secret_source_can_be_replaced():
    result = run(LOCKOUT, start=to_epoch("2030-06-01T12:00:10Z"), secret_source=SeededSecretSource(5))
    assert result.passed is False  # locked_out_until names 2026 on purpose
    assert result.records[0].time == to_epoch("2030-06-01T12:00:10Z")


def test_on_record_sees_each_line_as_it_happens():
    seen: list[StepRecord] = []
    result = run(LOCKOUT, on_record=seen.append)
    assert seen == result.records
    assert [r.number for r in seen] == [0, 0, 0] + list(range(1, 12))


# -- what each kind of step does ---------------------------------------------------------------------

def test_waiting_lets_open_screens_notice_the_deadline_unless_told_not_to():
    result = run("""\
        name: expiry
        users: {alice: {force_2fa: true}, bob: {force_2fa: true}}
        steps:
          - login: alice
          - login: bob
          - wait: {for: 5m, poll: false}
            expect: {user: alice, state: ENROLMENT}
          - wait: 0s
            expect: {user: alice, state: EXPIRED, reason: step expired}
          - expect: {user: bob, state: EXPIRED}
        """)
    assert result.passed, result.failures()
    assert result.records[-2].outcome == "now 09:05:00; open prompt expired for alice, bob"
    assert result.transitions[-2:] == [(State.ENROLMENT, FlowEvent.TIME_PASSES, Outcome.TIMED_OUT)] * 2


def test_setting_the_clock_back_is_said_in_the_timeline():
    result = run("""\
        name: clock
        users: {alice: {}}
        steps:
          - clock: {set: 2026-01-05T08:00:00Z}
        """)
    assert result.records[-1].outcome == "now 08:00:00 (the clock went back 1h)"


def test_admin_steps_and_their_events():
    result = run("""\
        name: admin
        companies: {ACME: {}, Globex: {force_2fa_for_all: true}}
        users:
          alice: {company: ACME}
        steps:
          - tick: alice
            expect: {needs_2fa: true, step_events: [force flag changed]}
          - untick: alice
            expect: {needs_2fa: false}
          - create_user: {name: zoe, company: Globex, password: long winter evenings}
            expect: {needs_2fa: true, step_events: [user created]}
          - company_setting: {company: Globex, force_2fa_for_all: false}
            expect: {needs_2fa: false}
          - policy: {window: 3, lockout_seconds: 60}
            expect: {step_events: [policy changed]}
          - login: {user: zoe, password: long winter evenings}
            expect: {state: AUTHENTICATED}
          - reset: zoe
            expect: {enrolled: false, step_events: [2FA reset]}
          - unlock: zoe
            expect: {step_events: [unlocked]}
        """)
    assert result.passed, result.failures()
    assert result.office.policy.window == 3
    actions = [r.action for r in result.records if r.number]
    assert actions == ['ticks "Force 2 factor auth." for alice', 'unticks "Force 2 factor auth." for alice',
                       "creates user zoe (Force 2 factor auth. not ticked)",
                       "turns 2FA for all users of Globex off", "changes the policy: window=3, lockout_seconds=60",
                       "logs in with the password given in the step", "resets 2FA of zoe (lost phone)",
                       "unlocks zoe"]
    assert all(r.actor == "admin" for r in result.records if r.number in (1, 2, 3, 4, 5, 7, 8))


def test_recovery_codes_by_number_or_as_typed():
    result = run("""\
        name: recovery
        users: {alice: {force_2fa: true}}
        devices: {phone: {owner: alice, app: aegis}}
        steps:
          - login: alice
          - scan: phone
          - type: {from: phone}
          - issue_recovery_codes: alice
            expect: {recovery_codes_left: 10}
          - login: alice
          - type: {recovery: 10}
            expect: {state: AUTHENTICATED, recovery_codes_left: 9}
          - login: alice
          - type: {recovery: 3F2A 9C01 7BE4 0D55}
            expect: {state: CODE_REQUIRED, reason: unknown or used recovery code, failures: 1}
          - type: {recovery: 11}
        """)
    assert result.records[-1].error == ("alice was issued 10 recovery codes in this scenario, so there is no #11: "
                                        "add an 'issue_recovery_codes' step")
    assert len(result.checks) == 6 and all(c.ok for c in result.checks)
    assert result.records[-4].action == "types recovery code #10"
    assert result.records[-2].action == "types recovery code (typed)"


def test_a_device_learns_the_secret_only_from_the_pixels_it_scans(tmp_path):
    """Scanning an image of another QR code gives an entry whose codes the login refuses."""
    stranger = EnrolmentScreen.for_user("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "alice", Policy())
    stranger.page_image().save(tmp_path / "other.png")
    Image.new("RGB", (300, 200), "white").save(tmp_path / "blank.png")
    result = run("""\
        name: what the app sees
        users: {alice: {force_2fa: true}}
        devices: {phone: {owner: alice, app: reference}}
        steps:
          - login: alice
          - scan: {device: phone, image: blank.png}
            expect: {scan: failed, entries: 0}
          - scan: {device: phone, image: other.png}
            expect: {scan: added, entries: 1}
          - type: {from: phone}
            expect: {state: ENROLMENT, reason: wrong code}
          - scan: {device: phone, image: qr}
            expect: {scan: not added}
          - scan: {device: phone, image: qr, choice: replace}
            expect: {scan: added, entries: 1}
          - type: {from: phone}
            expect: {state: AUTHENTICATED}
        """, path=str(tmp_path / "s.yaml"))
    assert result.passed, result.failures()
    assert result.records[4].outcome == "scan failed: no QR code found in the image"
    wrong = result.records[6]
    assert wrong.code == independent_totp("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", wrong.time)


def test_scanning_needs_a_qr_on_screen():
    result = run("""\
        name: nothing to scan
        users: {alice: {}}
        devices: {phone: {owner: alice, app: reference}}
        steps:
          - login: alice
          - scan: phone
        """)
    assert result.records[-1].error.startswith("alice's login shows no QR code (state AUTHENTICATED)")


def test_device_codes_follow_the_device_clock():
    result = run("""\
        name: skew
        start: 2026-01-05T09:00:10Z
        users: {alice: {force_2fa: true}}
        devices: {phone: {owner: alice, app: reference, clock_offset: -25s}}
        steps:
          - login: alice
          - scan: phone
          - type: {from: phone}
            expect: {state: AUTHENTICATED}
          - device_clock: {device: phone, offset: +3m}
          - wait: 1m
          - login: alice
          - type: {from: phone}
            expect: {state: CODE_REQUIRED, reason: wrong code}
        """)
    assert result.passed, result.failures()
    secret = parse_key_uri(result.qrs[0].screen.uri)["secret"]
    first, late = result.records[5], result.records[-1]
    assert first.code_time == first.time - 25 and first.code == independent_totp(secret, first.time - 25)
    assert first.code_accepted and not late.code_accepted
    assert late.code_time == late.time + 180 and late.code == independent_totp(secret, late.time + 180)


def test_tabs_are_separate_logins_of_one_user():
    result = run("""\
        name: tabs
        users: {alice: {force_2fa: true}}
        steps:
          - login: alice
          - login: {user: alice, tab: second}
          - type: {tab: second, code: "000000"}
            expect: {state: ENROLMENT, failures: 1}
          - expect: {tab: main, state: ENROLMENT, qr_shown: true}
          - expect: {tab: third, state: ENROLMENT}
        """)
    assert [c.ok for c in result.checks] == [True, True, True, True, False]
    assert result.checks[-1].actual == "nothing (alice has no login [tab third])"
    assert [q.filename for q in result.qrs] == ["qr-alice-1.png", "qr-alice-2.png"]


def test_the_transitions_taken_are_recorded():
    result = run(LOCKOUT)
    assert result.transitions[:3] == [
        (State.CREDENTIALS, FlowEvent.SUBMIT_PASSWORD, Outcome.NEEDS_ENROLMENT),
        (State.ENROLMENT, FlowEvent.SUBMIT_CODE, Outcome.ACCEPTED),
        (State.CREDENTIALS, FlowEvent.SUBMIT_PASSWORD, Outcome.NEEDS_CODE),
    ]
    assert result.transitions[-1] == (State.CODE_REQUIRED, FlowEvent.SUBMIT_CODE, Outcome.LOCKS_OUT)


def test_artifacts_hold_each_qr_shown_and_the_event_log(tmp_path):
    result = run(LOCKOUT.replace("      - wait: 15m", "      - reset: alice\n      - login: alice\n      - wait: 15m"))
    written = result.write_artifacts(tmp_path)
    assert sorted(p.name for p in written) == ["events.csv", "qr-alice-1.png", "qr-alice-2.png"]
    with open(tmp_path / "events.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sum(r["kind"] == EventKind.QR_SHOWN.value for r in rows) == 2
    assert Image.open(tmp_path / "qr-alice-2.png").format == "PNG"


def test_the_timeline_never_shows_a_secret_password_or_recovery_code():
    result = run("""\
        name: secrets
        users: {alice: {force_2fa: true, password: very secret words 9}}
        devices: {phone: {owner: alice, app: reference}}
        steps:
          - login: alice
          - enter_key: phone
          - type: {from: phone}
          - issue_recovery_codes: alice
          - login: alice
          - type: {recovery: 1}
            expect: {state: CODE_REQUIRED}
        """)
    text = result.timeline() + "\n".join(result.failures()) + events_table(result.office.events).to_csv()
    secret = result.qrs[0].screen.secret
    assert secret not in text and result.qrs[0].screen.secret_for_typing not in text
    assert "very secret words 9" not in text
    assert result.records[-1].action == "types recovery code #1"
    assert "issued (shown once to alice)" in text


# -- run time grows with the number of steps, not with its square ----------------------------------------------

def long_story(cycles: int) -> str:
    """Log in, type a code, log out and let 31 s pass, ``cycles`` times, with counts checked each time."""
    cycle = ("  - wait: 31s\n  - login: alice\n  - type: {from: phone}\n"
             "    expect: {state: AUTHENTICATED, events: {authenticated: 1}, user_events: {authenticated: 1}}\n"
             "  - log_out: alice\n")
    return ("name: long\nusers:\n  alice: {force_2fa: true}\ndevices:\n  phone: {owner: alice, app: aegis}\n"
            "steps:\n  - login: alice\n  - scan: phone\n" + cycle * cycles)


def events_read(monkeypatch, cycles: int) -> int:
    """How many events the runner reads out of the log (or copies) while it plays ``long_story``."""
    from twofa_sim.core.events import EventLog
    read = [0]
    original_iter, original_getitem, original_of_kind = EventLog.__iter__, EventLog.__getitem__, EventLog.of_kind

    def counted_iter(self):
        for event in original_iter(self):
            read[0] += 1
            yield event

    def counted_getitem(self, index):
        found = original_getitem(self, index)
        read[0] += len(found) if isinstance(index, slice) else 1
        return found

    def counted_of_kind(self, kind, user=None):
        read[0] += len(self)
        return original_of_kind(self, kind, user)

    monkeypatch.setattr(EventLog, "__iter__", counted_iter)
    monkeypatch.setattr(EventLog, "__getitem__", counted_getitem)
    monkeypatch.setattr(EventLog, "of_kind", counted_of_kind)
    scenario = parse_scenario(long_story(cycles), "long.yaml")
    run_scenario(scenario)
    monkeypatch.undo()
    return read[0]


def test_each_step_reads_only_its_own_events_so_run_time_is_linear_in_the_steps(monkeypatch):
    """A step used to copy the whole event log to find its own events, and a count check to count
    the whole log: 40,000 steps took ten times as long as 10,000. Now four times the steps read
    four times the events."""
    small, large = events_read(monkeypatch, 100), events_read(monkeypatch, 400)
    assert large / small < 4.5, (small, large)
