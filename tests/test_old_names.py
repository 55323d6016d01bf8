"""Files written with the domain's old words still load, through the loaders only.

A session file of version 3 or older and a scenario file may name a policy knob (or a second
factor's field) by its name from before the rename (:mod:`twofa_sim.core.old_names`); they load as
with the new name. A file naming one thing by both names is refused where it says so. The package
itself knows only the new names.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap

import pytest

from twofa_sim import Policy
from twofa_sim.core import old_names
from twofa_sim.io.persistence import SCHEMA_VERSION, SessionFileError, dumps, loads
from twofa_sim.spec.reader import ScenarioError
from twofa_sim.spec.scenario import parse_scenario, run_scenario

from test_session_snapshots import busy_session

KNOBS = {f.name for f in dataclasses.fields(Policy)}


def old_of(table: dict[str, str]) -> dict[str, str]:
    return {new: old for old, new in table.items()}


STATES: dict[str, str] = {}


def as_version_3(document: dict) -> dict:
    """The document as the version 3 writer wrote it: the old names, no checksum."""
    document.pop("sha256")
    document["schema_version"] = 3
    session = document["session"]
    session["policy"] = {old_of(old_names.POLICY_KNOBS).get(k, k): v for k, v in session["policy"].items()}
    return document


def old_words_in(text: str) -> set[str]:
    """The old names (of the tables above) that ``text`` holds as whole words (JSON keys or values)."""
    tables = (old_names.POLICY_KNOBS,)
    return {old for table in tables for old in table if f'"{old}"' in text}


@pytest.mark.parametrize("old, new", sorted(old_names.POLICY_KNOBS.items()))
def test_each_old_knob_name_is_gone_and_its_new_name_is_a_knob(old, new):
    assert (old in KNOBS, new in KNOBS) == (False, True)
    with pytest.raises(Exception, match=old):
        Policy().replace(**{old: 60})           # the API has the new name alone


def test_a_version_3_session_with_the_old_names_loads_as_it_was():
    office, devices, _ = busy_session()
    office.set_policy(office.policy.replace(code_prompt_timeout=420))
    new = json.loads(dumps(office, devices))
    old = as_version_3(json.loads(dumps(office, devices)))
    every_old_word = {*old_names.POLICY_KNOBS}
    assert old_words_in(json.dumps(old)) == every_old_word, "the file names everything by its old name"
    session = loads(json.dumps(old))
    assert session.schema_version == 3
    assert session.office.policy.code_prompt_timeout == 420
    assert session.snapshot() == loads(json.dumps(new)).snapshot()
    again = dumps(session.office, session.devices).decode()
    assert json.loads(again)["schema_version"] == SCHEMA_VERSION == 4
    assert old_words_in(again) == set(), "saved again with the new names only"


@pytest.mark.parametrize("old, new", sorted(old_names.POLICY_KNOBS.items()))
def test_a_session_naming_a_knob_by_both_names_is_refused(old, new):
    office, devices, _ = busy_session()
    document = as_version_3(json.loads(dumps(office, devices)))
    document["session"]["policy"][new] = document["session"]["policy"][old]
    with pytest.raises(SessionFileError, match=rf"session\.policy.*{new}.*{old}"):
        loads(json.dumps(document))


def test_a_version_4_session_with_an_old_name_is_refused_by_name():
    """Only files written before the rename use the old words; a newer file with one is damaged."""
    office, devices, _ = busy_session()
    document = json.loads(dumps(office, devices))
    document.pop("sha256")
    policy = document["session"]["policy"]
    policy["code_step_timeout"] = policy.pop("code_prompt_timeout")
    with pytest.raises(SessionFileError, match=r"session\.policy\.code_prompt_timeout: is missing"):
        loads(json.dumps(document))


SCENARIO = """\
name: the old knob names
start: 2026-01-05T09:00:00Z
policy: {POLICY}
users:
  alice: {{force_2fa: true}}
steps:
  - login: alice
  - policy: {STEP}
  - wait: 1m
    expect: {{state: ENROLMENT}}
  - wait: 1m
    expect: {{state: EXPIRED}}
"""


@pytest.mark.parametrize("top, step", [
    ("{code_step_timeout: 120}", "{code_step_timeout: 60}"),        # the old name, in both places
    ("{code_prompt_timeout: 120}", "{code_prompt_timeout: 60}"),    # the new name
    ("{code_step_timeout: 120}", "{code_prompt_timeout: 60}"),      # one of each
])
def test_a_scenario_reads_a_knob_by_its_old_or_its_new_name(top, step):
    scenario = parse_scenario(SCENARIO.format(POLICY=top, STEP=step))
    assert scenario.policy.code_prompt_timeout == 120
    result = run_scenario(scenario)
    assert result.passed, result.timeline()


@pytest.mark.parametrize("top", [
    "{code_step_timeout: 120, code_prompt_timeout: 120}",
    "{code_prompt_timeout: 120, code_step_timeout: 120}",
])
def test_a_scenario_naming_a_knob_by_both_names_is_refused_at_its_line(top):
    with pytest.raises(ScenarioError, match=r":3: .*'code_prompt_timeout' and its old name 'code_step_timeout'"):
        parse_scenario(SCENARIO.format(POLICY=top, STEP="{window: 1}"))
