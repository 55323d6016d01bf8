"""twofa-sim diff: the steps of the stories that change between two policies (presets or files)."""

from __future__ import annotations

import csv
import io
import pathlib

from twofa_sim.io.cli import main
from twofa_sim.spec.policy_diff import named_policy, step_differences
from twofa_sim.spec.scenario import load_scenario

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "data" / "scenarios"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_default_against_gitlab_changes_steps_of_the_data_scenarios():
    code, out, err = run("diff", str(SCENARIOS), "--policy", "default", "--policy", "gitlab")
    assert code == 0, err
    assert "06_lockout_and_unlock  step 13" in out   # the fifth wrong code locks under ours, not under GitLab's 10
    changed = int(out.strip().splitlines()[-1].split()[0])
    assert changed >= 1


def test_two_identical_policies_print_no_step():
    code, out, _ = run("diff", str(SCENARIOS), "--policy", "gitlab", "--policy", "gitlab")
    assert code == 0
    scenarios = len(list(SCENARIOS.glob("*.yaml")))
    assert out.strip().splitlines()[-1] == f"0 steps differ in 0 of {scenarios} scenarios"
    assert "step " not in out


def test_csv_has_one_row_per_changed_step():
    code, out, _ = run("diff", str(SCENARIOS / "06_lockout_and_unlock.yaml"), "--policy", "default", "--policy",
                       "gitlab", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    first = rows[0]
    assert (first["step"], first["what differs"]) == ("13", "outcome, message, events")
    assert "LOCKED_OUT" in first["outcome A"] and "CODE_REQUIRED" in first["outcome B"]


def test_the_lock_length_shows_in_the_message(tmp_path):
    scenario = load_scenario(SCENARIOS / "03_wrong_password.yaml")
    rows = step_differences(scenario, named_policy("default").policy, named_policy("gitlab").policy)
    assert [r["what differs"] for r in rows] == ["outcome, message", "outcome, message"]
    assert "09:15:00" in rows[0]["message A"] and "09:10:00" in rows[0]["message B"]


def test_a_policy_file_of_knobs(tmp_path):
    file = tmp_path / "strict.yaml"
    file.write_text("failed_code_limit: 3\nlockout_seconds: 600\n")
    code, out, _ = run("diff", str(SCENARIOS / "06_lockout_and_unlock.yaml"), "--policy", "default",
                       "--policy", str(file))
    assert code == 0 and "step 11" in out   # the third wrong code locks now


def test_bad_policies_are_named_and_nothing_runs(tmp_path):
    file = tmp_path / "bad.yaml"
    file.write_text("window: 1\nlockout: 3\n")
    code, out, err = run("diff", str(SCENARIOS), "--policy", "default", "--policy", str(file))
    assert (code, out) == (2, "")
    assert "bad.yaml:2:" in err and "lockout" in err
    code, out, err = run("diff", str(SCENARIOS), "--policy", "default", "--policy", "nosuch")
    assert (code, out) == (2, "") and "keycloak-brute-force" in err
    code, out, err = run("diff", str(SCENARIOS), "--policy", "default")
    assert code == 2 and "exactly twice" in err
