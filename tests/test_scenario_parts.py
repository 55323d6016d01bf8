"""The scenario format's parts: a step type is one class, an expectation one table entry, the built-in
back office one file, and the lapse rule the enrolment's own."""

from __future__ import annotations

import pathlib
import tomllib
from dataclasses import dataclass
from typing import Any

import pytest

from twofa_sim.login.enrolment import Enrolment
from twofa_sim.spec.backoffice_file import DEFAULT_BACKOFFICE_YAML, read_backoffice
from twofa_sim.spec.expectations import EXPECTATIONS, USER, ExpectationKey, read_count
from twofa_sim.spec.scenario import ACTIONS, EXPECT_KEYS, ScenarioError, parse_scenario, run_scenario
from twofa_sim.spec.steps import STEP_TYPES, Step

ROOT = pathlib.Path(__file__).resolve().parent.parent

STORY = """\
name: a wrong code
users:
  alice: {force_2fa: true}
devices:
  alice-phone: {owner: alice, app: aegis}
steps:
  - login: alice
  - scan: alice-phone
  - type: {code: "000000"}
    expect: {CHECK}
"""


# -- a step type is one class ------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(STEP_TYPES))
def test_each_action_key_is_one_class_that_parses_describes_and_runs_itself(key):
    step_type = STEP_TYPES[key]
    assert step_type.key == key
    for method in ("parse", "describe", "run"):
        assert getattr(step_type, method) is not getattr(Step, method), f"{step_type.__name__}.{method}"


def test_the_actions_are_the_registered_step_types():
    assert ACTIONS == list(STEP_TYPES)


def test_adding_a_step_type_is_one_class():
    @dataclass(frozen=True, kw_only=True)
    class ShoutStep(Step, key="shout"):
        words: str

        @classmethod
        def parse(cls, node, parser, common):
            return cls(words=parser.reader.text(node, "shout"), **common)

        def describe(self) -> str:
            return f"shouts {self.words!r}"

        def run(self, run, record) -> None:
            record.actor = "admin"
            record.outcome = self.words.upper()

    try:
        result = run_scenario(parse_scenario("name: x\nusers: {alice: {}}\nsteps:\n  - shout: hello\n"
                                             "    expect: {user: alice, enrolled: false}\n", "s.yaml"))
        assert result.passed
        assert "shouts 'hello'" in result.timeline() and "HELLO" in result.timeline()
        with pytest.raises(TypeError, match="two step types for the key 'shout'"):
            type("Again", (Step,), {}, key="shout")
    finally:
        del STEP_TYPES["shout"]
    with pytest.raises(ScenarioError, match="step 1 has no setting 'shout'"):
        parse_scenario("name: x\nsteps:\n  - shout: hello\n", "s.yaml")


# -- an expectation is one table entry ---------------------------------------------------------------

def test_adding_an_expectation_is_one_entry_in_a_copy_of_the_table():
    def codes_left_before_lockout(after) -> int:
        return after.office.policy.failed_code_limit - after.user.enrolment.failures_at(after.now)

    table = EXPECTATIONS | {"tries_left": ExpectationKey(USER, read_count, codes_left_before_lockout)}
    scenario = parse_scenario(STORY.replace("CHECK", "tries_left: 4"), "s.yaml", expectations=table)
    result = run_scenario(scenario)
    assert result.passed, result.failures()
    assert "ok    tries_left = 4" in result.timeline()

    failing = run_scenario(parse_scenario(STORY.replace("CHECK", "tries_left: 5"), "s.yaml", expectations=table))
    assert failing.failures() == ["s.yaml: step 3 (line 9: types 000000): tries_left: expected 5, got 4 (line 10)"]
    with pytest.raises(ScenarioError, match="s.yaml:10: expect has no setting 'tries_left'"):
        parse_scenario(STORY.replace("CHECK", "tries_left: 4"), "s.yaml")


def test_the_expect_keys_are_the_focus_keys_and_the_table():
    assert EXPECT_KEYS == ["user", "tab", "device", *EXPECTATIONS]


@pytest.mark.parametrize("key", sorted(EXPECTATIONS))
def test_each_expectation_says_what_it_is_about(key):
    assert EXPECTATIONS[key].about in ("user", "device", "run")


# -- one lapse rule ----------------------------------------------------------------------------------

def test_the_runner_asks_the_enrolment_for_failures_and_lock(monkeypatch):
    """Change the enrolment's rule and every expectation about the lock follows it: the runner
    has no copy of its own."""
    def rule(self: Enrolment, now: float) -> tuple[int, Any]:
        return 3, now + 60.0

    monkeypatch.setattr(Enrolment, "standing", rule)
    result = run_scenario(parse_scenario(
        "name: x\nusers: {alice: {}}\nsteps:\n  - expect: {user: alice, failures: 3, locked_out: true, "
        "locked_out_for: 1m, locked_out_until: 2026-01-05T09:01:00Z}\n", "s.yaml"))
    assert [c.ok for c in result.checks] == [True] * 4, result.failures()


# -- the built-in back office ------------------------------------------------------------------------

def test_the_built_in_back_office_is_package_data_and_the_data_file():
    shipped = ROOT / "twofa_sim" / "spec" / "backoffice.yaml"
    assert shipped.read_bytes() == (ROOT / "data" / "backoffice.yaml").read_bytes()
    assert DEFAULT_BACKOFFICE_YAML == shipped.read_text(encoding="utf-8")
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "spec/backoffice.yaml" in package_data["twofa_sim"]


def test_the_built_in_back_office_needs_no_file_outside_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = read_backoffice()
    assert [u.name for u in spec.users] == ["alice", "bob", "carol", "dave"]
    assert spec.path == "data/backoffice.yaml"
