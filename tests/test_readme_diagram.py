"""The README shows the flow's diagrams exactly as the transition table draws them."""

from __future__ import annotations

import pathlib

from twofa_sim import FLOW
from twofa_sim.render.diagram import to_markdown


def test_the_readme_holds_the_diagrams_the_table_draws():
    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert to_markdown(FLOW) in readme
