"""The what-if widget: each slider recomputes from the domain; the exact check runs with a
progress bar; errors are shown, never lost."""

from __future__ import annotations

import pytest

from twofa_sim import Policy, TwofaSimError
from twofa_sim.analysis.attacker import HORIZONS
from twofa_sim.analysis import draw_population, simulate_fast, summarise
from twofa_sim.ui.what_if import WhatIf, describe_policy, format_attack, format_summary, what_if_figure


@pytest.fixture(scope="module")
def population():
    return draw_population(3000, days=3, seed=5)


@pytest.fixture
def what_if(population):
    return WhatIf(population, attackers=20_000, exact_users=150, exact_days=2)


def first_code(w: WhatIf) -> float:
    return w.summary.loc["first code accepted", "what if"]


def test_starts_on_the_default_policy(what_if):
    assert what_if.policy() == Policy()
    assert what_if.summary["what if"].equals(what_if.summary["default policy"])
    assert "first code accepted" in what_if.summary_view.value
    assert what_if.figure.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert repr(what_if) == ("WhatIf(3000 users, 3 days; window ±1 step of 30 s, 5 wrong codes lock for 15 min; "
                             "skew spread 15 s)")


def test_window_slider_replays_the_population(what_if):
    before = first_code(what_if)
    what_if.window.value = 0
    assert what_if.run.policy.window == 0
    assert first_code(what_if) < before
    assert what_if.summary.loc["first code accepted", "default policy"] == before
    assert "±0" in what_if.status.value
    assert what_if.attack.loc["ours", ("1 day", "closed form")] < what_if.attack.loc["GitLab", ("1 day", "closed form")]


def test_lockout_sliders_change_our_attacker_row_only(what_if):
    guesses = what_if.attack.loc["ours", ("1 day", "guesses")]
    gitlab = what_if.attack.loc["GitLab"].copy()
    what_if.limit.value = 10
    what_if.lockout_minutes.value = 5
    assert what_if.run.policy.failed_code_limit == 10 and what_if.run.policy.lockout_seconds == 300
    assert what_if.attack.loc["ours", ("1 day", "guesses")] > guesses
    assert what_if.attack.loc["GitLab"].equals(gitlab)
    assert "10 wrong codes lock for 5 min" in what_if.status.value


def test_skew_spread_slider_moves_the_clocks(what_if):
    narrow = first_code(what_if)
    what_if.skew.value = 90.0
    assert what_if.current_population().params.loose_sd == 90.0
    wide = first_code(what_if)
    assert wide < narrow
    assert what_if.summary.loc["first code accepted", "default policy"] == wide, "the baseline uses the same clocks"


def test_exact_check_fills_the_progress_bar_and_agrees(what_if):
    what_if.window.value = 2
    what_if.check_button.click()
    assert what_if.exact_check is not None and what_if.exact_check.empty
    assert what_if.progress.value == what_if.progress.max > 0
    assert what_if.progress.bar_style == "success"
    assert "agree on every login" in what_if.check_result.value


def test_a_failing_recompute_is_shown_not_raised(what_if, monkeypatch):
    def broken():
        raise TwofaSimError("window: broken on purpose")
    monkeypatch.setattr(what_if, "recompute", broken)
    what_if.window.value = 3
    assert "broken on purpose" in what_if.message.value and "tfs-error" in what_if.message.value


def test_tables_and_figure_for_a_notebook(population):
    run = simulate_fast(population, Policy())
    summary = format_summary({"default": summarise(run)})
    assert summary.loc["users", "default"] == "3,000"
    assert summary.loc["first code accepted", "default"].endswith(" %")
    w = WhatIf(population, attackers=10_000, plots=False)
    attack = format_attack(w.attack)
    assert list(attack.columns.get_level_values(0).unique()) == list(HORIZONS)
    assert "±" in attack.loc["ours", ("1 day", "simulated")]
    assert w.figure.value == b""
    fig = what_if_figure(run, w.attack)
    assert len(fig.axes) == 3
    assert describe_policy(Policy(window=2, lockout_seconds=90)) == "window ±2 steps of 30 s, 5 wrong codes lock for 90 s"


def test_set_moves_several_sliders_with_one_recomputation(what_if, monkeypatch):
    calls = []
    original = what_if.recompute
    monkeypatch.setattr(what_if, "recompute", lambda: calls.append(1) or original())
    what_if.set(window=2, limit=8, lockout_minutes=60, skew=30.0)
    assert len(calls) == 1
    assert what_if.run.policy == Policy(window=2, failed_code_limit=8, lockout_seconds=3600)
    assert what_if.current_population().params.loose_sd == 30.0
    with pytest.raises(TwofaSimError, match="no such slider"):
        what_if.set(digits=8)


def test_no_tick_labels_of_the_figure_overlap(population):
    """At the size the widget shows it (80 dpi, 13 inches wide), every axis' tick labels stand
    apart: "1 week" and "30 days" used to run into each other on the attacker's time axis."""
    w = WhatIf(population, attackers=10_000)
    figure = w.plot.fig
    renderer = figure.canvas.get_renderer() if hasattr(figure.canvas, "get_renderer") else None
    if renderer is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        renderer = FigureCanvasAgg(figure).get_renderer()
    figure.set_dpi(80)
    figure.draw(renderer)
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            boxes = [label.get_window_extent(renderer) for label in axis.get_ticklabels()
                     if label.get_text() and label.get_rotation() == 0]  # slanted labels' boxes always touch
            overlaps = [(a, b) for a, b in zip(boxes, boxes[1:]) if a.overlaps(b)]
            assert overlaps == [], f"tick labels overlap on {axes.get_title() or axes.get_xlabel()}"


def test_tables_have_no_index_name_row(what_if):
    for view in (what_if.summary_view, what_if.attack_view):
        assert "<th>per run</th><th>" in view.value or "<th>schedule</th>" in view.value
        assert "<th></th>" not in view.value.split("</tr>")[0], "no empty corner cell above the index"
