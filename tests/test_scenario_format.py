"""The scenario format: what the loader accepts, and every way a file can be wrong, with its line."""

from __future__ import annotations

import pathlib
import textwrap

import pytest
from hypothesis import given, strategies as st

from twofa_sim import EventKind, Outcome, Reason, State
from twofa_sim.core.clock import to_epoch
from twofa_sim.spec.scenario import (DEFAULT_BACKOFFICE_YAML, DEFAULT_START, SCENARIO_KDF_LOG2_N, AdminStep, CheckStep,
                                ScenarioError, TypeStep, format_duration, load_backoffice, load_scenario,
                                parse_backoffice, parse_duration, parse_scenario, read_backoffice)
from twofa_sim.render.tables import users_table

ROOT = pathlib.Path(__file__).resolve().parent.parent

HEADER = """\
name: a scenario
users:
  alice: {force_2fa: true}
  bob: {}
"""


def scenario(body: str, header: str = HEADER):
    return parse_scenario(header + textwrap.dedent(body), "s.yaml")


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "broken.yaml")
    return caught.value


# -- every problem names the file and the line ------------------------------------------------------

BROKEN = [
    # (text, line, words in the message)
    ("", 1, "empty"),
    ("- just\n- a list\n", 1, "must be a mapping"),
    ("name: x\nsteps:\n  - login: alice\n    expect: {state: [\n", 5, "not valid YAML"),
    ("name: x\nsteps:\n - login: alice\n  tick: alice\n", 4, "not valid YAML"),
    ("name: x\nstpes: []\n", 2, "did you mean 'steps'"),
    ("steps:\n  - wait: 1\n", 1, "needs 'name'"),
    ("name: x\nname: y\nsteps: []\n", 2, "'name' twice (first at line 1)"),
    ("name: x\nsteps: []\n", 2, "at least one step"),
    ("name: x\nstart: yesterday\nsteps:\n  - wait: 1\n", 2, "ISO 8601"),
    ("name: x\nseed: -1\nsteps:\n  - wait: 1\n", 2, "seed must be at least 0"),
    ("name: x\npolicy:\n  window: 99\nsteps:\n  - wait: 1\n", 3, "policy.window: must be between 0 and 10"),
    ("name: x\npolicy:\n  windw: 2\nsteps:\n  - wait: 1\n", 3, "did you mean 'window'"),
    ("name: x\npolicy:\n  algorithm: MD5\nsteps:\n  - wait: 1\n", 3, "policy.algorithm"),
    ("name: x\nusers:\n  al: {}\nsteps:\n  - wait: 1\n", 3, "user 'al': must be 3 to 64"),
    ("name: x\nusers:\n  alice: {password: short}\nsteps:\n  - wait: 1\n", 3, "password must have at least 10"),
    ("name: x\nusers:\n  alice: {force_2fa: maybe}\nsteps:\n  - wait: 1\n", 3, "true or false"),
    ("name: x\nusers:\n  alice: {}\n  ALICE: {}\nsteps:\n  - wait: 1\n", 4, "declared twice"),
    ("name: x\ncompanies:\n  A1: {}\n  B2: {}\nusers:\n  alice: {}\nsteps:\n  - wait: 1\n", 6, "name the company"),
    ("name: x\nusers:\n  alice: {company: Nowhere}\nsteps:\n  - wait: 1\n", 3, "no company 'Nowhere'"),
    ("name: x\ndevices:\n  p: {owner: zed, app: aegis}\nsteps:\n  - wait: 1\n", 3, "owner 'zed' is not a user"),
    ("name: x\nusers: {alice: {}}\ndevices:\n  p: {owner: alice, app: nokia}\nsteps:\n  - wait: 1\n", 4,
     "app 'nokia' is not known"),
    ("name: x\nusers: {alice: {}}\ndevices:\n  p: {owner: alice}\nsteps:\n  - wait: 1\n", 4, "needs 'app'"),
    ("name: x\nsteps:\n  - logn: alice\n", 3, "did you mean 'login'"),
    ("name: x\nsteps:\n  - login\n", 3, "must be a mapping such as 'login: alice'"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - login: alice\n    tick: alice\n", 5, "two actions"),
    ("name: x\nsteps:\n  - tick: zed\n", 3, "no user 'zed' declared before this step"),
    ("name: x\nsteps:\n  - login: mallory\n", 3, "say which password"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - wait: soon\n", 4, "duration"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - wait: -5m\n", 4, "must not be negative"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - clock: {set: noon}\n", 4, "ISO 8601"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - type: {code: '123456', recovery: 1}\n", 4, "exactly one of"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - type: {from: phone}\n", 4, "no device 'phone'"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - type: {recovery: 0}\n", 4, "between 1 and 100"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - type: {code: '1', entry: 2}\n", 4, "entry only goes with"),
    ("name: x\nusers: {alice: {}, bob: {}}\nsteps:\n  - type: {code: '123456'}\n", 4, "say whose login"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - login: alice\n    expect: {state: logged in}\n", 5,
     "state text of 9 characters is not known"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - login: alice\n    expect: {reason: typo}\n", 5, "reason 'typo'"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - login: alice\n    expect:\n      events: {code typed: 1}\n", 6,
     "event kind text of 10 characters is not known"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - login: alice\n    expect: {failures: many}\n", 5, "whole number"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - login: alice\n    expect: {qr_shwn: true}\n", 5,
     "did you mean 'qr_shown'"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - login: alice\n    expect: {}\n", 5, "at least one check"),
    ("name: x\nusers: {alice: {}, bob: {}}\nsteps:\n  - wait: 1m\n    expect: {state: EXPIRED}\n", 5,
     "is about a user: add 'user: NAME'"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - login: alice\n    expect: {entries: 1}\n", 5,
     "is about a device"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - login: alice\n    expect: {user: zed, enrolled: true}\n", 5,
     "no user 'zed'"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - policy: {window: -1}\n", 4, "policy.window"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - create_user: {name: alice}\n", 4, "already exists"),
    ("name: x\ncompanies: {A1: {}, B2: {}}\nusers: {alice: {company: A1}}\nsteps:\n"
     "  - company_setting: {force_2fa_for_all: true}\n", 5, "name the company"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - note: fine\n  - {}\n", 5, "step 2 is empty"),
    ("name: x\nusers: {alice: {}}\nsteps:\n  - expect: {enrolled: true}\n    expect: {enrolled: false}\n", 5,
     "'expect' twice"),
    ("name: x\nbackoffice: missing.yaml\nsteps:\n  - wait: 1\n", 2, "cannot read the file"),
]


@pytest.mark.parametrize("text, line, words", BROKEN, ids=[f"{i:02d}-{w[:24]}" for i, (_, _, w) in enumerate(BROKEN)])
def test_each_problem_is_reported_with_its_line(text, line, words):
    error = error_of(text)
    assert (error.path, error.line) == ("broken.yaml", line), str(error)
    assert words in error.problem, str(error)
    assert str(error).startswith(f"broken.yaml:{line}: ")


def test_device_step_problems_have_lines():
    header = "name: x\nusers: {alice: {}}\ndevices:\n  phone: {owner: alice, app: aegis}\nsteps:\n"
    cases = [
        ("  - scan: {device: phone, rect: [1, 2, 3]}\n", "rect must be [left, top, right, bottom]"),
        ("  - scan: {device: phone, rect: [10, 10, 5, 20]}\n", "right > left"),
        ("  - scan: {device: phone, image: nowhere.png}\n", "no file 'nowhere.png'"),
        ("  - scan: {user: alice}\n", "needs 'device'"),
        ("  - device_clock: {device: phone, offset: a lot}\n", "duration"),
        ("  - enter_key: tablet\n", "no device 'tablet'"),
        ("  - type: {from: phone, entry: 0}\n", "between 1 and 1000"),
    ]
    for step, words in cases:
        error = error_of(header + step)
        assert error.line == 6 and words in error.problem, (step, str(error))


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: x\nsteps:\n  - note: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.line == 3 and "UTF-8" in caught.value.problem


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ScenarioError, match="nothing.yaml:1: cannot read the file"):
        load_scenario(tmp_path / "nothing.yaml")


def test_an_image_file_next_to_the_scenario_must_be_an_image(tmp_path):
    (tmp_path / "shot.png").write_text("not a png")
    (tmp_path / "s.yaml").write_text("name: x\nusers: {alice: {}}\ndevices:\n  phone: {owner: alice, app: aegis}\n"
                                     "steps:\n  - scan: {device: phone, image: shot.png}\n")
    with pytest.raises(ScenarioError, match=r"s.yaml:6: 'shot.png' is not an image file"):
        load_scenario(tmp_path / "s.yaml")


# -- what a valid file means ------------------------------------------------------------------------

def test_defaults_fill_what_a_file_leaves_out():
    s = scenario("steps:\n  - login: alice\n")
    assert s.start == to_epoch(DEFAULT_START) and s.seed == 1
    assert s.policy.kdf_log2_n == SCENARIO_KDF_LOG2_N and s.policy.window == 1
    assert [c.name for c in s.companies] == ["ACME"] and s.companies[0].force_2fa_for_all is False
    assert [(u.name, u.force_2fa, u.company) for u in s.users] == [("alice", True, None), ("bob", False, None)]
    assert s.steps[0].password == "correct horse 42" and s.steps[0].tab == "main"


def test_the_policy_can_override_the_scenario_kdf_cost():
    s = scenario("policy: {kdf_log2_n: 6, window: 2}\nsteps:\n  - login: alice\n")
    assert (s.policy.kdf_log2_n, s.policy.window) == (6, 2)
    assert s.policy_overrides == (("kdf_log2_n", 6), ("window", 2))


def test_codes_are_read_exactly_as_written():
    s = scenario("""\
        steps:
          - type: {user: alice, code: 000000}
          - type: {user: alice, code: 012345}
          - type: {user: alice, code: "123 456"}
          - type: {user: alice, recovery: 2}
          - type: {user: alice, recovery: 3f2a-9c01-7be4-0d55}
        """)
    assert [st.code for st in s.steps[:3]] == ["000000", "012345", "123 456"]
    assert s.steps[3].recovery == 2 and s.steps[4].recovery == "3f2a-9c01-7be4-0d55"
    assert all(isinstance(st, TypeStep) for st in s.steps)


@pytest.mark.parametrize("written, state", [
    ("AUTHENTICATED", State.AUTHENTICATED), ("authenticated", State.AUTHENTICATED),
    ("code required", State.CODE_REQUIRED), ("CODE_REQUIRED", State.CODE_REQUIRED),
    ("code-required", State.CODE_REQUIRED), ("enrolment (QR shown)", State.ENROLMENT), ("Enrolment", State.ENROLMENT),
])
def test_states_by_name_or_by_the_words_the_flow_uses(written, state):
    s = scenario(f"steps:\n  - login: alice\n    expect: {{state: {written}}}\n")
    assert s.steps[0].expect.items == (("state", state, 7),)


def test_reasons_outcomes_and_event_kinds_by_name_or_words():
    s = scenario("""\
        steps:
          - login: alice
            expect:
              reason: code already used
              outcome: rejected, limit reached
              events: {QR shown: 1, CODE_REJECTED: 2, login refused (locked): 0}
              step_events: [password accepted, qr_shown]
        """)
    items = {k: v for k, v, _ in s.steps[0].expect.items}
    assert items["reason"] is Reason.REPLAY and items["outcome"] is Outcome.LOCKS_OUT
    assert items["events"] == ((EventKind.QR_SHOWN, 1), (EventKind.CODE_REJECTED, 2),
                               (EventKind.LOGIN_REFUSED_LOCKED_OUT, 0))
    assert items["step_events"] == (EventKind.PASSWORD_ACCEPTED, EventKind.QR_SHOWN)


def test_expectations_default_to_the_user_of_the_step_or_the_last_one_named():
    s = scenario("""\
        steps:
          - tick: bob
            expect: {needs_2fa: true}
          - wait: 10s
            expect: {failures: 0}
          - expect: {user: alice, enrolled: false}
          - expect: {locked_out: false}
        """)
    assert [st.expect.user for st in s.steps] == ["bob", "bob", "alice", "alice"]
    assert isinstance(s.steps[0], AdminStep) and isinstance(s.steps[2], CheckStep)


def test_anchors_aliases_and_merge_keys_work():
    s = scenario("""\
        steps:
          - login: alice
            expect: &enrolling {state: ENROLMENT, qr_shown: true}
          - login: {user: alice, tab: second}
            expect:
              <<: *enrolling
              failures: 0
        """)
    assert [k for k, _, _ in s.steps[0].expect.items] == ["state", "qr_shown"]
    assert [k for k, _, _ in s.steps[1].expect.items] == ["state", "qr_shown", "failures"]
    assert s.steps[1].tab == "second"


def test_a_device_may_belong_to_a_user_the_story_creates():
    s = parse_scenario("name: x\ndevices:\n  phone: {owner: dave, app: Aegis, clock_offset: -45s}\nsteps:\n"
                       "  - create_user: {name: dave, force_2fa: true}\n  - scan: phone\n", "s.yaml")
    assert (s.devices[0].owner, s.devices[0].app, s.devices[0].clock_offset) == ("dave", "aegis", -45.0)
    assert s.steps[1].user == "dave" and s.steps[1].image == "page"


@pytest.mark.parametrize("written, key", [
    ("authenticator", "authenticator-addon"), ("Authenticator (browser add-on)", "authenticator-addon"),
    ("aegis", "aegis"), ("FreeOTP", "freeotp"), ("2fas", "2fas"), ("Google Authenticator", "google-authenticator"),
    ("reference", "reference"),
])
def test_app_profiles_by_key_name_or_alias(written, key):
    s = parse_scenario(f"name: x\nusers: {{alice: {{}}}}\ndevices:\n  d: {{owner: alice, app: {written}}}\n"
                       "steps:\n  - wait: 1\n", "s.yaml")
    assert s.devices[0].app == key


@pytest.mark.parametrize("text, seconds", [
    ("90", 90), ("90s", 90), ("15m", 900), ("15 min", 900), ("1h 30m", 5400), ("1h30m", 5400), ("2d", 172800),
    ("-45s", -45), ("+2m", 120), ("0.5s", 0.5), ("1 hour, 2 minutes", 3720),
])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5 weeks", "1h x", "--5s", "m"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@given(st.integers(min_value=-10 * 86400, max_value=10 * 86400))
def test_format_duration_reads_back(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


# -- the back office the notebooks start from -------------------------------------------------------

def test_data_backoffice_yaml_is_the_built_in_default():
    assert (ROOT / "data" / "backoffice.yaml").read_text(encoding="utf-8") == DEFAULT_BACKOFFICE_YAML


def test_load_backoffice_builds_the_companies_and_users():
    office = load_backoffice()
    frame = users_table(office)
    assert list(frame.index) == ["alice", "bob", "carol", "dave"]
    assert frame.loc["alice", "needs 2FA"] and not frame.loc["bob", "needs 2FA"]
    assert frame.loc["carol", "company 2FA"] and frame.loc["carol", "needs 2FA"] and not frame.loc["carol", "force 2FA"]
    assert office.clock.is_pinned and office.clock.now() == to_epoch("2026-01-05T09:00:00Z")
    spec = read_backoffice()
    login = office.start_login()
    assert login.submit_password("bob", spec.password("bob")).state is State.AUTHENTICATED


def test_load_backoffice_is_deterministic_and_reads_a_file(tmp_path):
    def first_secret(office):
        return office.start_login().submit_password("alice", "correct horse 42").screen.secret
    assert first_secret(load_backoffice()) == first_secret(load_backoffice(ROOT / "data" / "backoffice.yaml"))
    path = tmp_path / "bo.yaml"
    path.write_text("users:\n  zoe: {force_2fa: true}\npolicy: {window: 2}\n")
    office = load_backoffice(path)
    assert [u.username for u in office.users] == ["zoe"] and office.policy.window == 2
    assert [c.name for c in office.companies] == ["ACME"]


def test_backoffice_files_are_validated_too():
    with pytest.raises(ScenarioError, match=r"bo.yaml:2: user 'zoe' has no setting 'forse_2fa'; did you mean 'force_2fa'"):
        parse_backoffice("users:\n  zoe: {force_2fa: true, forse_2fa: false}\n", "bo.yaml")
    with pytest.raises(ScenarioError, match=r"bo.yaml:1: .*has no setting 'steps'"):
        parse_backoffice("steps: []\nusers: {}\n", "bo.yaml")


def test_a_scenario_can_start_from_the_default_back_office():
    s = parse_scenario("name: x\nbackoffice: default\nusers:\n  erin: {company: Globex Media}\n"
                       "steps:\n  - login: carol\n", "s.yaml")
    assert [u.name for u in s.users] == ["alice", "bob", "carol", "dave", "erin"]
    assert s.steps[0].password == "purple monkey dishwasher"


def test_the_format_reference_names_every_action_and_check():
    from twofa_sim.spec.scenario import ACTIONS, EXPECT_KEYS, SCENARIO_KEYS
    doc = (ROOT / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    missing = [name for name in (*ACTIONS, *EXPECT_KEYS, *SCENARIO_KEYS) if f"`{name}`" not in doc]
    assert missing == []
    example = (ROOT / "data" / "scenarios" / "00_annotated_example.yaml").read_text(encoding="utf-8")
    assert "docs/scenario-format.md" in example
