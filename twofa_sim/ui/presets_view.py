"""Two real systems' policies side by side, in one widget: pick preset A and preset B.

The product owner sees, for the two chosen presets, the knobs that differ (with where each value is
documented), the population's numbers and the attacker's odds, and the steps of the stories
(scenario files) that change outcome, message or events. The population numbers for every preset
are computed once when the widget is made; each story is played once per preset and kept (a
:class:`~twofa_sim.spec.policy_diff.StoryRuns` may be shared with the notebook).
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from ..analysis.population import Population
from ..analysis.presets_compared import presets_side_by_side
from ..core.presets import PRESETS, preset
from ..render.tables import diff_table, presets_table
from ..spec.policy_diff import StoryRuns
from ..spec.scenario_file import Scenario
from .common import style_sheet, table_html

#: The columns of the side-by-side numbers the widget shows, with how each is printed.
SHOWN = {"first code accepted": "{:.1%}", "signed in": "{:.1%}", "lockouts": "{:,.0f}",
         "users ever locked": "{:.2%}", "median s to get in": "{:.1f}", "attacker in within 1 day": "{:.4%}",
         "attacker in within 30 days": "{:.3%}"}


def _heading(text: str) -> str:
    return f'<div class="tfs-header">{html.escape(text)}</div>'


class PresetsView(widgets.VBox):
    """Dropdowns for A and B, then what differs between them: knobs, numbers, stories."""

    def __init__(self, numbers: Population | pd.DataFrame, scenarios: list[Scenario] | StoryRuns,
                 a: str = "default", b: str = "gitlab") -> None:
        self.stories = scenarios if isinstance(scenarios, StoryRuns) else StoryRuns(scenarios)
        # the population's numbers under every preset (presets_side_by_side), or the population to compute them
        self.numbers = numbers if isinstance(numbers, pd.DataFrame) else presets_side_by_side(numbers)
        self.knobs = presets_table()
        self._quiet = False
        names = list(PRESETS)
        self.a = widgets.Dropdown(options=names, value=a, description="policy A")
        self.b = widgets.Dropdown(options=names, value=b, description="policy B")
        self.view = widgets.HTML()
        self.view.add_class("tfs-table")
        for dropdown in (self.a, self.b):
            dropdown.observe(lambda change: None if self._quiet else self.refresh(), names="value")
        super().__init__([style_sheet(), widgets.HBox([self.a, self.b]), self.view])
        self.add_class("tfs-root")
        self.refresh()

    def set(self, a: str | None = None, b: str | None = None) -> None:
        """Choose the presets as the dropdowns would (an unknown name is refused, naming the known ones)."""
        for name in (a, b):
            if name is not None:
                preset(name)
        self._quiet = True
        try:
            if a is not None:
                self.a.value = a
            if b is not None:
                self.b.value = b
        finally:
            self._quiet = False
        self.refresh()

    def changed_steps(self) -> pd.DataFrame:
        """The steps of the stories that change between A and B."""
        return diff_table(self.stories.diff(preset(self.a.value).policy, preset(self.b.value).policy))

    def differing_knobs(self) -> pd.DataFrame:
        """The knobs whose value differs between A and B (brackets: the project's value, *: a stand-in)."""
        a, b = preset(self.a.value).policy.snapshot(), preset(self.b.value).policy.snapshot()
        knobs = self.knobs[[self.a.value]].join(self.knobs[[self.b.value]], lsuffix=" (A)", rsuffix=" (B)")
        return knobs[[a[setting] != b[setting] for setting in knobs.index]]

    def shown_steps(self) -> pd.DataFrame:
        """The changed steps as the widget lists them: after a story stopped under one policy, its
        remaining steps are one line ("not run from here on"), not one line each."""
        steps = self.changed_steps().reset_index()
        not_run = (steps["outcome A"] == "not run") | (steps["outcome B"] == "not run")
        first = not_run & ~steps["scenario"].where(not_run).duplicated()
        keep = steps[~not_run | first].copy()
        for side in ("outcome A", "outcome B"):
            last = steps[not_run].groupby("scenario")["step"].max()
            tail = keep[side] == "not run"
            keep.loc[tail, side] = [f"not run from here on (steps {step} to {last[name]})"
                                    for name, step in zip(keep.loc[tail, "scenario"], keep.loc[tail, "step"])]
        return keep[["scenario", "step", "action", "outcome A", "outcome B"]]

    def side_by_side(self) -> pd.DataFrame:
        rows = self.numbers.loc[[self.a.value, self.b.value], list(SHOWN)]
        return pd.DataFrame({column: rows[column].map(form.format) for column, form in SHOWN.items()},
                            index=rows.index)

    def refresh(self) -> None:
        steps = self.changed_steps()
        a, b = self.a.value, self.b.value
        self.view.value = (
            _heading(f"Knobs that differ: {preset(a).title} and {preset(b).title}")
            + table_html(self.differing_knobs(), "The two policies set every knob alike.")
            + _heading("The same users and the same attacker")
            + table_html(self.side_by_side(), "")
            + _heading(f"Steps of the stories that change ({len(steps)})")
            + table_html(self.shown_steps(), "No step of any story changes."))


__all__ = ["PresetsView"]
