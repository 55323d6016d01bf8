"""The flow's diagrams are drawn from the transition table and stay legible at notebook width:
short labels, one small diagram per phase of a login, looping rows as notes."""

from __future__ import annotations

import re

import pytest

from twofa_sim import FLOW, Outcome, State
from twofa_sim.login.flow import OUTCOME_FACTS, TRANSITIONS
from twofa_sim.render.diagram import PHASES, edge_label, to_markdown, to_mermaid


def test_every_outcome_has_a_short_label_and_a_tone():
    assert set(OUTCOME_FACTS) == set(Outcome)
    assert max(len(facts.label) for facts in OUTCOME_FACTS.values()) <= 16
    assert {facts.tone for facts in OUTCOME_FACTS.values()} <= {"ok", "info", "error"}


def test_every_state_belongs_to_exactly_one_phase():
    listed = [state for states in PHASES.values() for state in states]
    assert sorted(listed, key=lambda s: s.name) == sorted(State, key=lambda s: s.name)


@pytest.mark.parametrize("row", TRANSITIONS, ids=lambda r: f"{r.source.name}-{r.event.name}-{r.outcome.name}")
def test_every_row_is_drawn_in_its_phase(row):
    [title] = [title for title, states in PHASES.items() if row.source in states]
    block = to_markdown(FLOW).split(f"**{title}**")[1].split("```")[1]
    if row.source is row.target:
        drawn = re.search(rf"note left of {row.source.name}: stays here when (.*)", block)
    else:
        drawn = re.search(rf"{row.source.name} --> {row.target.name}: (.*)", block)
    assert drawn and edge_label(row) in drawn.group(1).split(" / ")


def test_no_edge_label_is_long():
    """Edges between two states stay short; a row that stays in its state is drawn as a note beside
    the state in the notebook's diagrams, where its length does not overlap other labels."""
    edges = [line.split(": ", 1) for line in to_mermaid(FLOW).splitlines() if " --> " in line and ": " in line]
    labels = [label for edge, label in edges if edge.split(" --> ")[0].strip() != edge.split(" --> ")[1].strip()]
    assert labels and max(map(len, labels)) <= 24


def test_the_whole_diagram_runs_left_to_right_and_the_notebook_shows_the_phases():
    assert to_mermaid(FLOW).splitlines()[:2] == ["stateDiagram-v2", "    direction LR"]
    assert to_markdown(FLOW).count("```mermaid") == len(PHASES)
