"""The scenario step that moves every entry of one device's app into another's (``move``)."""

from __future__ import annotations

import pytest

from twofa_sim.spec.scenario import MoveEntriesStep, ScenarioError, parse_scenario, run_scenario

HEADER = """\
name: moving
users:
  alice: {force_2fa: true}
devices:
  alice-browser: {owner: alice, app: authenticator}
  alice-phone: {owner: alice, app: 2fas}
steps:
"""


# (move step, line of the error, words in the message)
BROKEN = [
    ("  - move: {from: alice-browser}\n", 8, "to"),
    ("  - move: {from: alice-browser, to: alice-browser}\n", 8, "two different devices"),
    ("  - move: {from: alice-browser, to: nobody}\n", 8, "nobody"),
    ("  - move: {from: alice-browser, to: alice-phone, via: usb}\n", 8, "via"),
]


@pytest.mark.parametrize("step, line, words", BROKEN)
def test_a_bad_move_step_names_its_line(step, line, words):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(HEADER + step, "broken.yaml")
    assert f"broken.yaml:{line}:" in str(caught.value) and words in str(caught.value)


# (policy period, what the phone's entry signs in with after the move)
@pytest.mark.parametrize("period, state", [(30, "AUTHENTICATED"), (60, "ENROLMENT")])
def test_moved_entries_sign_in_only_where_the_addon_kept_the_settings(period, state):
    text = HEADER.replace("steps:\n", f"policy: {{period: {period}}}\nsteps:\n") + f"""\
  - login: alice
  - scan: {{device: alice-browser, image: qr}}
  - move: {{from: alice-browser, to: alice-phone}}
    expect: {{scan: added, entries: 1, app_changed: []}}
  - type: {{from: alice-phone}}
    expect: {{state: {state}}}
"""
    scenario = parse_scenario(text, "move.yaml")
    assert any(isinstance(s, MoveEntriesStep) and s.describe() == "moves every entry from alice-browser into "
               "alice-phone" for s in scenario.steps)
    assert run_scenario(scenario).passed
