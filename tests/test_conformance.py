"""Conformance: the scenario files played on django-two-factor-auth, compared with the spec step by step.

The django-two-factor-auth tests need the ``peers`` extra (``make install`` installs it); where it
cannot be installed they are skipped with that reason. The tests of the spec's own target run
everywhere.
"""

from __future__ import annotations

import base64
import io
import pathlib

import pytest

from twofa_sim import load_scenario, run_scenario
from twofa_sim.conformance import MESSAGE_CLASSES, STATES, conform, play
from twofa_sim.conformance.django_target import classify, extra_missing
from twofa_sim.conformance.explain import explain
from twofa_sim.conformance.report import NOT_EXPRESSIBLE, SAME, spec_target
from twofa_sim.io.cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA_SCENARIOS = sorted((ROOT / "data" / "scenarios").glob("*.yaml"))
HERE = ROOT / "data" / "conformance"
MISSING = extra_missing()
needs_peers = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
COMPARED = {"outcome", "message", "state"}


# -- the spec's own target plays the scenarios as the scenario runner does ----------------------------

@pytest.mark.parametrize("path", DATA_SCENARIOS, ids=lambda p: p.stem)
def test_the_spec_played_through_the_contract_reaches_the_runners_states(path):
    scenario = load_scenario(path)
    runner = {r.number: r.result.state.name for r in run_scenario(scenario).records
              if r.number and r.result is not None}
    played = {s.number: s.observation.state for s in play(scenario, spec_target)
              if s.number in runner and s.observation is not None}
    assert played == runner


@pytest.mark.parametrize("path", DATA_SCENARIOS[:4], ids=lambda p: p.stem)
def test_the_spec_conforms_to_itself(path):
    result = conform(load_scenario(path), "twofa-sim")
    assert result.rows and result.conforms


# -- every data scenario on django-two-factor-auth ----------------------------------------------------

@needs_peers
@pytest.mark.parametrize("path", DATA_SCENARIOS, ids=lambda p: p.stem)
def test_every_data_scenario_runs_against_django_two_factor_auth(path):
    result = conform(load_scenario(path), "django-two-factor-auth")
    assert result.rows, "nothing was compared"
    for row in result.rows:
        if row.differs.startswith(NOT_EXPRESSIBLE):
            assert row.target or row.spec, f"line {row.line}: not expressible without a reason"
        elif row.differs != SAME:
            assert set(row.differs.split(", ")) <= COMPARED
    # the login steps are expressible on the target: only admin and policy steps may not be
    logins = [r for r in result.rows if r.action.startswith("logs in with")]
    assert logins and all(not r.differs.startswith(NOT_EXPRESSIBLE) for r in logins)


@needs_peers
def test_a_valid_code_is_accepted_and_a_replay_refused_on_both():
    scenario = load_scenario(HERE / "valid_code_then_replay.yaml")
    assert run_scenario(scenario).passed  # the file states the spec's replay refusal
    result = conform(scenario)
    valid, replay = result.row_at(22), result.row_at(27)
    assert (valid.spec, valid.target, valid.differs) == (
        "accepted · accepted · AUTHENTICATED", "accepted · accepted · AUTHENTICATED", SAME)
    # both refuse the replay and stay at the code prompt; only the spec says why
    assert (replay.spec, replay.target) == ("refused · replay · CODE_REQUIRED", "refused · wrong · CODE_REQUIRED")
    assert replay.differs == "message"
    assert [r.line for r in result.differing] == [27]
    assert explain(replay)[0] == "a replay called wrong"


@needs_peers
def test_the_specs_lock_after_five_wrong_codes_is_reported_as_a_difference():
    scenario = load_scenario(HERE / "lock_after_five_wrong_codes.yaml")
    assert run_scenario(scenario).passed  # the file states the spec's lock
    result = conform(scenario)
    first_four = [result.row_at(line) for line in (20, 22, 24, 26)]
    assert all(r.differs == SAME for r in first_four)
    fifth = result.row_at(28)
    assert (fifth.spec, fifth.target) == ("refused · locked · LOCKED_OUT", "refused · wrong · CODE_REQUIRED")
    assert fifth.differs == "message, state"
    later = result.row_at(33)  # the spec keeps her out; the target asks for a code as usual
    assert (later.spec, later.target) == ("refused · locked · LOCKED_OUT", "accepted · CODE_REQUIRED")
    assert not result.conforms
    assert [explain(r)[0] for r in result.differing] == ["no lock", "no lock at the password"]


@needs_peers
def test_the_qr_django_two_factor_auth_serves_decodes_into_a_key_uri_whose_code_django_otp_accepts():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from twofa_sim import Clock, Device, parse_key_uri
    from twofa_sim.apps.scan import read_qr
    from twofa_sim.conformance.django_target import DjangoTwoFactorTarget

    clock = Clock.at("2026-01-05T09:00:00Z")
    target = DjangoTwoFactorTarget(clock)
    try:
        target.create_user("alice", "correct horse 42", None, True)
        shown = target.submit_password("alice", "main", "alice", "correct horse 42")
        assert (shown.outcome, shown.state) == ("accepted", "ENROLMENT")
        screen = target.enrolment_screen("alice", "main", "qr")
        uri = parse_key_uri(read_qr(screen.image))      # from the PNG's pixels
        assert (uri.label_issuer, uri.issuer_param, uri.account) == ("testserver", "testserver", "alice")
        assert (uri.type, uri.digits, uri.period, uri.algorithm) == ("totp", 6, None, None)  # 30 s, SHA1 by default
        phone = Device("alice-phone", "alice", clock, app="aegis")
        phone.scan(screen.image)
        assert target.submit_code("alice", "main", phone.code()).state == "AUTHENTICATED"
        device = TOTPDevice.objects.get(user__username="alice")
        assert device.bin_key == base64.b32decode(uri.secret)
        clock.advance(60)
        target.time_passed()
        assert device.verify_token(phone.code()) is True   # django-otp's own check, a later step's code
        assert device.verify_token(phone.code()) is False  # and once only
    finally:
        target.close()


@needs_peers
def test_the_installed_target_is_the_release_the_mapping_was_read_in():
    import importlib.metadata

    from twofa_sim.conformance.django_target import READ_AT
    assert {name: importlib.metadata.version(name) for name in READ_AT} == READ_AT


@needs_peers
@pytest.mark.parametrize("seconds, outcome, message, state", [
    (599, "accepted", "accepted", "AUTHENTICATED"),   # inside TWO_FACTOR_LOGIN_TIMEOUT (600 s)
    (601, "refused", "expired", "EXPIRED"),           # past it: the wizard sends the user back to the login form
])
def test_the_target_reads_the_scenarios_clock(seconds, outcome, message, state):
    from twofa_sim import Clock, Device
    from twofa_sim.conformance.django_target import DjangoTwoFactorTarget

    clock = Clock.at("2026-01-05T09:00:00Z")
    target = DjangoTwoFactorTarget(clock)
    try:
        target.create_user("alice", "correct horse 42", None, True)
        target.submit_password("alice", "main", "alice", "correct horse 42")
        phone = Device("alice-phone", "alice", clock, app="aegis")
        phone.scan(target.enrolment_screen("alice", "main", "qr").image)
        assert target.submit_code("alice", "main", phone.code()).state == "AUTHENTICATED"
        clock.advance(3600)
        assert target.submit_password("alice", "main", "alice", "correct horse 42").state == "CODE_REQUIRED"
        clock.advance(seconds)
        shown = target.submit_code("alice", "main", phone.code())
        assert (shown.outcome, shown.message, shown.state) == (outcome, message, state)
    finally:
        target.close()


# -- the adapter's reading of the target's messages -------------------------------------------------------

@pytest.mark.parametrize("message, kind", [
    ("Please enter a correct username and password. Note that both fields may be case-sensitive.", "wrong"),
    ("Invalid token. Please make sure you have entered it correctly.", "wrong"),
    ("Entered token is not valid.", "wrong"),
    ("Verification temporarily disabled because of 3 failed attempts, please try again soon.", "locked"),
    ("Your session has timed out. Please login again.", "expired"),
])
def test_the_targets_messages_map_to_message_classes(message, kind):
    assert classify(message) == kind and kind in MESSAGE_CLASSES


def test_a_message_the_adapter_does_not_know_is_an_error_not_a_guess():
    with pytest.raises(RuntimeError, match="no class for"):
        classify("Something else happened.")


def test_without_the_extra_the_target_says_what_to_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "two_factor", None)  # an import of it now fails
    assert extra_missing() == "the 'peers' extra is not installed (no two_factor): pip install -e '.[peers]'"


def test_states_are_the_flows_state_names():
    from twofa_sim import State
    assert set(STATES) == {s.name for s in State}


# -- the command ---------------------------------------------------------------------------------------------

def test_conform_against_the_spec_itself_exits_0_and_writes_csv():
    out, err = io.StringIO(), io.StringIO()
    code = main(["conform", str(DATA_SCENARIOS[2]), "--target", "twofa-sim", "--format", "csv", "--every"], out=out, err=err)
    lines = out.getvalue().splitlines()
    assert code == 0 and lines[0] == "scenario,step,line,action,spec,target,differs in,target says"
    assert len(lines) > 3 and all(",-," in line for line in lines[1:])


def test_conform_refuses_an_invalid_file_with_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps:\n  - fly: alice\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["conform", str(bad)], out=out, err=err) == 2
    assert "bad.yaml" in err.getvalue() and out.getvalue() == ""


@needs_peers
def test_conform_exits_1_and_names_the_differing_step():
    out, err = io.StringIO(), io.StringIO()
    code = main(["conform", str(HERE / "lock_after_five_wrong_codes.yaml")], out=out, err=err)
    text = out.getvalue()
    assert code == 1
    assert "step 15 (line 28): types 000000" in text and "differs in: message, state" in text
    out = io.StringIO()
    assert main(["conform", str(HERE / "lock_after_five_wrong_codes.yaml"), "--format", "csv"], out=out, err=err) == 1
    assert out.getvalue().splitlines()[1] == (
        "lock_after_five_wrong_codes,15,28,types 000000,refused · locked · LOCKED_OUT,refused · wrong · CODE_REQUIRED,"
        "\"message, state\",Invalid token. Please make sure you have entered it correctly.")
