"""Every rule of the transition table is told by a story: coverage by the data scenarios, the
table check for rows out of reach, and the stories ``twofa-sim cover --generate`` writes."""

from __future__ import annotations

import copy
import dataclasses
import io
import pathlib
import re
import shutil
import threading

import nbformat
import pytest

from twofa_sim import BackOffice, Clock
from twofa_sim.apps.entry import Entry
from twofa_sim.core import observers
from twofa_sim.core.passwords import PasswordHash
from twofa_sim.core.policy import Policy
from twofa_sim.io.cli import main
from twofa_sim.login.flow import FLOW, FlowTable, Outcome, Reason, State
from twofa_sim.login.screen import EnrolmentScreen
from twofa_sim.render import told_by_markdown, told_by_table
from twofa_sim.spec.records import QrShown
from twofa_sim.spec.scenario_file import DeviceSpec
from twofa_sim.spec.coverage import FlowCoverage, cover_scenarios, describe_row, never_deciding, table_check
from twofa_sim.spec.scenario import load_scenario
from twofa_sim.spec.story_search import Played, Situation, StorySearch, generate_stories

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "scenarios"
SCENARIOS = sorted(DATA.glob("*.yaml"))


def assert_every_row_told(paths: list[pathlib.Path] | FlowCoverage) -> FlowCoverage:
    """The test CI runs on data/scenarios, as a function so that it can be run on fewer files too
    (or on their coverage, when another test has it already)."""
    coverage = paths if isinstance(paths, FlowCoverage) else cover_scenarios(paths)
    assert not coverage.not_counted, coverage.not_counted
    untold = [f"#{n} {describe_row(coverage.row(n))}: {coverage.row(n).rule}" for n in coverage.untold]
    assert untold == [], "rules no data scenario tells (write the story in data/scenarios):\n" + "\n".join(untold)
    return coverage


@pytest.fixture(scope="module")
def data_coverage() -> FlowCoverage:
    return cover_scenarios(SCENARIOS)


def test_every_row_of_the_table_is_told_by_a_data_scenario(data_coverage):
    assert data_coverage.sources == [str(p) for p in SCENARIOS]
    assert_every_row_told(data_coverage)


def row_of(rule_start: str) -> int:
    """The number (from 1) of the row whose rule begins so: numbers move when rows are added."""
    found = [n for n, row in enumerate(FLOW.rows, start=1) if row.rule.startswith(rule_start)]
    assert len(found) == 1, (rule_start, found)
    return found[0]


REPLAY_AT_LIMIT = row_of("a replay at the limit locks like a wrong code")

# A story taken away, and the row only it tells.
ONLY_STORY = {"21_replay_at_the_limit_locks.yaml": REPLAY_AT_LIMIT,
              "22_recovery_code_that_cannot_be_one.yaml": row_of("a recovery code that cannot be one"),
              "18_server_clock_set_back.yaml": row_of("a right code whose step the server already accepted, while")}


@pytest.mark.parametrize("file", ONLY_STORY)
def test_without_its_only_story_the_coverage_test_fails_and_names_the_row(file):
    with pytest.raises(AssertionError) as failure:
        assert_every_row_told([p for p in SCENARIOS if p.name != file])
    message = str(failure.value)
    row = ONLY_STORY[file]
    assert set(re.findall(r"#(\d+) [A-Z_]+ --", message)) == {str(row)} and FLOW.rows[row - 1].rule in message


def test_a_row_is_credited_to_the_step_that_takes_it_with_file_and_line(data_coverage):
    path = DATA / "21_replay_at_the_limit_locks.yaml"
    lines = path.read_text().splitlines()
    last_type = max(i for i, text in enumerate(lines, start=1) if text.strip().startswith("- type: {from"))
    places = [p for p in data_coverage.rows_taken[REPLAY_AT_LIMIT] if pathlib.Path(p.source).name == path.name]
    assert [(p.line, str(p).split("/")[-1]) for p in places] == [
        (last_type, f"{path.name}:{last_type} (step {places[0].step})")]
    assert load_scenario(path).steps[places[0].step - 1].line == last_type


def test_a_failing_scenario_tells_nothing(tmp_path):
    text = (DATA / "21_replay_at_the_limit_locks.yaml").read_text().replace("failures: 5", "failures: 4")
    (tmp_path / "broken.yaml").write_text(text)
    coverage = cover_scenarios([tmp_path / "broken.yaml"])
    assert coverage.not_counted and all(not places for places in coverage.rows_taken.values())


def test_the_guards_of_each_decision_order_are_counted(data_coverage):
    orders = {name for name, _ in data_coverage.guards_taken}
    assert orders == {"password_order", "code_order", "recovery_code_order", "time_passes_order"}
    untold = [key for key, places in data_coverage.guards_taken.items() if not places]
    assert untold == []


# -- the engine's reports ---------------------------------------------------------------------------


def one_login() -> None:
    office = BackOffice(clock=Clock.at("2026-01-05T09:00:00Z"))
    office.create_company("ACME")
    office.create_user("bob", "correct horse 42")
    office.start_login().submit_password("bob", "correct horse 42")


class Notes:
    def __init__(self) -> None:
        self.rows, self.guards = [], []

    def row_taken(self, row):
        self.rows.append(row)

    def guard_taken(self, order, guard):
        self.guards.append((order, guard))


def test_the_engine_reports_the_row_and_the_guard_to_listeners_only_while_they_listen():
    notes = Notes()
    one_login()
    with observers.observing(notes):
        one_login()
    one_login()
    assert [r.outcome for r in notes.rows] == [Outcome.NO_2FA_NEEDED]
    assert [(o is FLOW.password_order, g.outcome) for o, g in notes.guards] == [(True, Outcome.NO_2FA_NEEDED)]


def test_a_listener_hears_only_its_own_thread():
    notes = Notes()
    with observers.observing(notes):
        other = threading.Thread(target=one_login)
        other.start()
        other.join()
    assert notes.rows == []


# -- the table check ----------------------------------------------------------------------------------


def test_every_row_of_the_table_can_be_reached():
    assert table_check(FLOW) == {}


def test_rows_from_a_state_no_row_leads_to_are_out_of_reach_with_the_reason():
    rows = tuple(r for r in FLOW.rows if r.target is not State.EXPIRED)
    copy = FlowTable(rows, FLOW.on_enter, FLOW.password_order, FLOW.code_order, FLOW.time_passes_order)
    found = table_check(copy)
    expired = [n for n, r in enumerate(rows, start=1) if r.source is State.EXPIRED]
    assert list(found) == expired and "no row leads to state EXPIRED" in found[expired[0]]


def test_a_guard_that_never_decides_puts_its_rows_out_of_reach():
    order = list(FLOW.password_order)
    order.insert(2, order.pop())  # "everyone else enrols" before "2FA not required" and "enrolled"
    copy = FlowTable(FLOW.rows, FLOW.on_enter, tuple(order), FLOW.code_order, FLOW.time_passes_order)
    found = table_check(copy)
    assert {FLOW.rows[n - 1].outcome for n in found} == {Outcome.NO_2FA_NEEDED, Outcome.NEEDS_CODE}
    assert all("password_order, which never gives" in why for why in found.values())
    assert never_deciding(tuple(order)) == {4: "every case it holds for is decided by a guard before it",
                                            5: "every case it holds for is decided by a guard before it"}
    assert all(never_deciding(o) == {} for o in (FLOW.password_order, FLOW.code_order, FLOW.time_passes_order))


# -- generated stories -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    return folder, generate_stories(folder)


def test_generated_stories_on_an_empty_set_tell_every_row_and_all_pass(generated):
    folder, result = generated
    assert result.unreachable == {} and result.not_found == []
    assert sorted(result.written) == list(range(1, len(FLOW.rows) + 1))
    out = io.StringIO()
    assert main(["run", "-q", str(folder)], out=out, err=io.StringIO()) == 0, out.getvalue()
    coverage = assert_every_row_told(sorted(folder.glob("*.yaml")))
    for number, path in result.written.items():  # each file tells its own rule at its last step
        places = [p for p in coverage.rows_taken[number] if p.source == str(path)]
        assert places and places[-1].step == len(load_scenario(path).steps), path.name


def test_a_generated_story_names_its_rule_and_checks_it_where_it_is_taken(generated):
    folder, result = generated
    path = result.written[REPLAY_AT_LIMIT]
    scenario = load_scenario(path)
    rule = FLOW.rows[REPLAY_AT_LIMIT - 1].rule
    assert rule in scenario.name and rule in scenario.description.replace("\n", " ")
    last = scenario.steps[-1]
    checked = {name: expected for name, expected, _ in last.expect.items}
    assert checked["state"] is State.LOCKED_OUT and checked["reason"] is Reason.REPLAY
    assert all(step.note for step in scenario.steps)


def left_by(played: Played | None) -> tuple | None:
    """Everything a played story leaves behind: the rows and situation of its last step, that
    step's outcome and events, the whole back office (users, second factors, log, clock, the
    secret source's generator, the next login number), each login, the phone, the recovery codes."""
    if played is None:
        return None
    run = played.run
    logins = {key: (login.id, login.state, login.username, login.deadline, login.malformed_codes, login.screen,
                    login.allowed_events) for key, login in run.logins.items()}
    record = played.record
    last_step = None if record is None else (record.outcome, record.transitions, [e.snapshot() for e in record.events])
    return (played.rows, played.situation, played.now, last_step, run.office.snapshot(), logins, run.last,
            {name: device.snapshot() for name, device in run.devices.items()}, run.scan_results,
            [(qr.user, qr.number, qr.step, qr.time, qr.screen) for qr in run.qrs], run.recovery_codes_of("alice"),
            run.count_events())


class ReplayedToo(StorySearch):
    """The search, each candidate it plays on a copy also replayed from a fresh back office, as the
    search did before it copied runs: both must leave the same behind, and the copied run must be
    left as it was."""

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.compared: list[Situation | None] = []

    def play_after(self, played, path, number, *, reuse=False):
        parent = None if reuse else left_by(played)
        on_copy = super().play_after(played, path, number, reuse=reuse)
        counted = self.plays
        replayed = self.play(path + (number,))
        self.plays = counted
        story = [self.moves[n].name for n in path + (number,)]
        assert left_by(on_copy) == left_by(replayed), story
        assert parent is None or left_by(played) == parent, story
        self.compared.append(on_copy.situation if on_copy is not None else None)
        return on_copy


def test_each_story_played_on_a_copy_ends_as_its_replay_from_a_fresh_back_office():
    """Five steps deep with a lock at three failed codes: logins in two tabs, enrolment, locks,
    unlocks, resets, recovery codes, waits and the clock set back."""
    search = ReplayedToo(dataclasses.replace(Policy(), failed_code_limit=3))
    search.search(set(range(1, len(FLOW.rows) + 1)), max_depth=5)
    assert len(search.compared) == search.plays > 500
    reached = [s for s in search.compared if s is not None]
    for what, holds in {"locked out": lambda s: s.locked_out, "enrolled": lambda s: s.enrolled,
                        "recovery codes issued": lambda s: s.recovery_left is not None,
                        "the clock set back": lambda s: s.clock_set_back,
                        "a login in a second tab": lambda s: s.login("alice", "second") is not None,
                        "a prompt timed out": lambda s: s.login("alice", "main") == "EXPIRED"}.items():
        assert any(holds(s) for s in reached), what


# What a copy of a run shares as its own deep copy: frozen, and made of values that cannot change.
VALUE_TYPES = {str, int, float, bool, bytes, "str", "int", "float", "bool", "bytes", "int | None", "tuple[str, ...]",
               "EnrolmentScreen"}


@pytest.mark.parametrize("kind", [PasswordHash, EnrolmentScreen, QrShown, Entry, DeviceSpec])
def test_what_a_copied_run_shares_is_frozen_and_made_of_values(kind):
    assert kind.__dataclass_params__.frozen
    assert {field.type for field in dataclasses.fields(kind)} <= VALUE_TYPES, kind
    value = next(held for held in shared_values() if type(held) is kind)
    assert copy.deepcopy(value) is value


def shared_values() -> list:
    """One of each frozen value a played story holds: the phone's entry, the QR shown and its screen,
    the device's spec, alice's password hash."""
    search = StorySearch(Policy())
    number = {move.name: n for n, move in enumerate(search.moves)}
    played = search.play((number["alice logs in"], number["alice types her key into the app on her phone"]))
    run = played.run
    entries = [entry for device in run.devices.values() for entry in device.app.entries]
    return [*entries, *run.qrs, *(qr.screen for qr in run.qrs), *run.scenario.devices,
            run.office.user("alice").password_hash]


def test_generated_stories_are_the_shortest_with_the_policys_numbers():
    """The lock during enrolment: the login, then exactly the policy's limit of wrong codes."""
    for limit in (3, 5):
        search = StorySearch(dataclasses.replace(Policy(), failed_code_limit=limit))
        (path, _), = search.search({row_of("failed codes count towards the lockout, during enrolment")}).values()
        names = [search.moves[n].name for n in path]
        assert names == ["alice logs in"] + ["alice types a wrong code"] * limit


# -- the command and the README ------------------------------------------------------------------------


def test_cover_lists_every_row_as_told_and_exits_0():
    out = io.StringIO()
    assert main(["cover", str(DATA)], out=out, err=io.StringIO()) == 0
    text = out.getvalue()
    assert f"{len(FLOW.rows)} of {len(FLOW.rows)} rows told" in text and "Every row is told by a story." in text
    assert len(re.findall(r"^#\d+ ", text, re.M)) == len(FLOW.rows) and "NO STORY" not in text


def test_cover_on_a_copy_without_one_story_names_the_row_and_exits_1(tmp_path):
    shutil.copytree(DATA, tmp_path / "scenarios")
    (tmp_path / "scenarios" / "21_replay_at_the_limit_locks.yaml").unlink()
    out = io.StringIO()
    assert main(["cover", str(tmp_path / "scenarios")], out=out, err=io.StringIO()) == 1
    untold = out.getvalue().split("Rows no story tells (1):")[1]
    assert f"#{REPLAY_AT_LIMIT} CODE_REQUIRED" in untold and "a replay at the limit locks like a wrong code" in untold


def test_a_scenario_types_a_recovery_code_as_long_as_the_login_mask_takes(tmp_path):
    story = (DATA / "22_recovery_code_that_cannot_be_one.yaml").read_text()
    pasted = "Here are your recovery codes for the back office; keep them safe, each works once: 3f2a-9c01-7be4-0d55"
    assert 64 < len(pasted) and pasted in story
    (tmp_path / "too_long.yaml").write_text(story.replace(pasted, "x" * 1025, 1))
    err = io.StringIO()
    assert main(["run", str(tmp_path / "too_long.yaml")], out=io.StringIO(), err=err) == 2
    assert "recovery must be at most 1024 characters" in err.getvalue()


def test_cover_refuses_an_invalid_file_and_runs_nothing(tmp_path):
    (tmp_path / "bad.yaml").write_text("name: x\nsteps: [{fly: alice}]\n")
    err = io.StringIO()
    assert main(["cover", str(tmp_path / "bad.yaml")], out=io.StringIO(), err=err) == 2
    assert "bad.yaml" in err.getvalue()


def test_the_readme_shows_the_table_with_who_tells_each_rule(data_coverage):
    readme = (ROOT / "README.md").read_text()
    assert told_by_markdown(data_coverage) in readme


def test_the_told_by_table_for_a_notebook(data_coverage):
    table = told_by_table(data_coverage)
    assert list(table.index) == list(range(1, len(FLOW.rows) + 1))
    assert "no story" not in set(table["told by"])
    assert table.loc[REPLAY_AT_LIMIT, "told by"] == "21_replay_at_the_limit_locks.yaml"


def test_a_notebook_cell_is_credited_with_the_rows_it_takes(tmp_path):
    from twofa_sim.io.notebook_coverage import cover_notebooks

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# A login"), nbformat.v4.new_code_cell("x = 1"),
                      nbformat.v4.new_code_cell(
                          "from twofa_sim import BackOffice, Clock\n"
                          "office = BackOffice(clock=Clock.at('2026-01-05T09:00:00Z'))\n"
                          "office.create_company('ACME')\noffice.create_user('bob', 'correct horse 42')\n"
                          "office.start_login().submit_password('bob', 'nope nope nope')")]
    path = tmp_path / "login.ipynb"
    nbformat.write(notebook, path)
    coverage = cover_notebooks([path], FlowCoverage())
    assert [str(p) for p in coverage.rows_taken[1]] == [f"{path} cell 3"]
    assert [n for n, places in coverage.rows_taken.items() if places] == [1]
