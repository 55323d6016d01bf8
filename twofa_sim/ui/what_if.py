"""What-if sliders for product owners: window, lockout and clock-skew spread, and what they do.

:class:`WhatIf` draws a population once (100,000 users by default) and, on every slider change,
replays it with the fast engine under the policy the sliders describe, recomputes the attacker's
odds for that lockout, and redraws the tables and plots. A button checks the fast engine against
the exact one (the real back office and devices) on a smaller sample, with a progress bar.

The tables and the figure are plain functions too (:func:`format_summary`,
:func:`format_attack`, :func:`what_if_figure`), so a notebook can show them without the widget.
"""

from __future__ import annotations

import html
import io
import math
import time

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from ..analysis.attacker import DEFAULT_INTERVAL, HORIZONS, REFERENCE_SCHEDULES, Schedule, attack_table
from ..core.errors import ValidationError
from ..core.policy import Policy
from ..analysis import (Population, SimulationRun, agreement, draw_population, first_code_by_offset, simulate_exact,
                          simulate_fast, summarise)
from .common import SafeCallbacks, message_html, style_sheet, table_html

SHARES = ("first code accepted", "signed in", "users ever locked", "users never enrolled")
SECONDS = ("median s to get in", "95th pct s to get in")


def describe_policy(policy: Policy) -> str:
    """The knobs the sliders move, in words."""
    lock = f"{policy.lockout_seconds // 60} min" if policy.lockout_seconds % 60 == 0 else f"{policy.lockout_seconds} s"
    return (f"window ±{policy.window} step{'s' if policy.window != 1 else ''} of {policy.period} s, "
            f"{policy.failed_code_limit} wrong codes lock for {lock}")


def format_summary(summaries: "dict[str, pd.Series] | pd.DataFrame") -> pd.DataFrame:
    """Summaries side by side, as text for people: a dict of :func:`~twofa_sim.analysis.population.summarise`
    results, a frame with one column per run, or :func:`~twofa_sim.analysis.population.compare_policies`'
    frame (one row per policy)."""
    if isinstance(summaries, pd.DataFrame):
        frame = summaries.T if "first code accepted" in summaries.columns else summaries
        summaries = {name: frame[name] for name in frame.columns}
    columns = {}
    for name, s in summaries.items():
        column = {}
        for key, value in s.items():
            if key in SHARES:
                column[key] = f"{100 * value:.2f} %"
            elif key in SECONDS:
                column[key] = "-" if math.isnan(value) else f"{value:.1f} s"
            else:
                column[key] = f"{int(value):,}"
        columns[name] = column
    return pd.DataFrame(columns).rename_axis("per run")


def _percent(p: float) -> str:
    if p == 0:
        return "0 %"
    if p >= 0.995:
        return f"{100 * p:.2f} %"
    return f"{100 * p:.3g} %"


def format_attack(table: pd.DataFrame) -> pd.DataFrame:
    """The attacker table (:func:`~twofa_sim.analysis.attacker.attack_table`) as text: per horizon the
    guesses, the closed form, and the simulation with its standard error."""
    rows = {}
    for name, row in table.iterrows():
        out = {}
        for label in HORIZONS:
            out[(label, "guesses")] = f"{int(row[(label, 'guesses')]):,}"
            out[(label, "closed form")] = _percent(row[(label, "closed form")])
            out[(label, "simulated")] = (f"{_percent(row[(label, 'simulated')])} "
                                         f"± {_percent(row[(label, 'std error')])}")
        rows[name] = out
    frame = pd.DataFrame(rows).T
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    frame.index.name = "schedule"
    return frame


class WhatIfFigure:
    """Three panels: first codes accepted by clock offset, time to get in, the attacker's odds.

    The figure is built once and :meth:`update` only changes the data of its artists: layout and
    ticks are fixed (no constrained layout, no automatic minor ticks on the log axes), so a redraw
    on every slider change costs a fraction of a second.
    """

    BINS = 48
    HORIZON = np.geomspace(60.0, 90 * 86400.0, 60)

    def __init__(self, run: SimulationRun, attack: pd.DataFrame | None = None, *, interval: float = DEFAULT_INTERVAL,
                 width: float = 13.0) -> None:
        self.interval = interval
        self.fig = fig = Figure(figsize=(width, 3.8))
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.3, top=0.91, wspace=0.28)
        self.ax1, self.ax2, self.ax3 = ax1, ax2, ax3 = fig.subplots(1, 3)

        labels = first_code_by_offset(run).index.astype(str)
        self.offset_bars = ax1.bar(range(len(labels)), np.zeros(len(labels)), color="#1d4ed8")
        ax1.set_xticks(range(len(labels)), labels, rotation=60, fontsize=7)
        ax1.set_ylim(0, 100)
        ax1.set_yticks([0, 25, 50, 75, 100])
        ax1.set_ylabel("first code accepted (%)")
        ax1.set_xlabel("device clock offset (s)")

        self.edges = np.linspace(0, 120, self.BINS + 1)
        self.time_bars = ax2.bar(self.edges[:-1], np.zeros(self.BINS), width=self.edges[1] - self.edges[0],
                                 align="edge", color="#0f766e")
        ax2.set_xlim(0, 120)
        ax2.set_xticks([0, 20, 40, 60, 80, 100, 120])
        ax2.set_xlabel("seconds from password to signed in (clipped at 120)")
        ax2.set_ylabel("logins")
        ax2.set_title("Time to get in", fontsize=10)

        days = self.HORIZON / 86400.0
        self.lines = {}
        for schedule in (Schedule.ours(run.policy),) + REFERENCE_SCHEDULES:
            self.lines[schedule.name] = ax3.plot(days, self._odds(schedule), label=schedule.name,
                                                 lw=2.5 if schedule.name == "ours" else 1.2)[0]
        self.simulated = ax3.plot([t / 86400.0 for t in HORIZONS.values()], [np.nan] * len(HORIZONS), "o",
                                  color="black", ms=4, label="ours, simulated")[0]
        ax3.set_xscale("log")
        ax3.set_yscale("log")
        ax3.set_xlim(days[0], days[-1])
        ax3.set_ylim(1e-4, 100)
        # short labels: at notebook width "1 week" and "30 days" ran into each other
        ax3.set_xticks([1 / 24, 1, 7, 30], ["1 h", "1 d", "7 d", "30 d"])
        ax3.set_yticks([1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100], ["0.0001", "0.001", "0.01", "0.1", "1", "10", "100"])
        ax3.xaxis.set_minor_locator(NullLocator())
        ax3.yaxis.set_minor_locator(NullLocator())
        ax3.set_xlabel("time the attacker keeps guessing")
        ax3.set_ylabel("P(attacker in) (%)")
        ax3.set_title("Attacker who has the password", fontsize=10)
        ax3.legend(fontsize=7, loc="lower right")
        self.update(run, attack)

    def _odds(self, schedule: Schedule) -> np.ndarray:
        return 100 * np.asarray([schedule.probability_by(t, self.interval) for t in self.HORIZON])

    def update(self, run: SimulationRun, attack: pd.DataFrame | None = None) -> "WhatIfFigure":
        shares = first_code_by_offset(run)["first code accepted"].fillna(0).to_numpy()
        for bar, share in zip(self.offset_bars, shares):
            bar.set_height(100 * share)
        self.ax1.set_title(f"Window ±{run.policy.window}: first code by clock offset", fontsize=10)
        seconds = run.logins["seconds"].to_numpy()
        counts, _ = np.histogram(np.clip(seconds[~np.isnan(seconds)], 0, 119.9), bins=self.edges)
        for bar, count in zip(self.time_bars, counts):
            bar.set_height(count)
        self.ax2.set_ylim(0, max(1, counts.max()) * 1.05)
        self.lines["ours"].set_ydata(self._odds(Schedule.ours(run.policy)))
        if attack is not None:
            self.simulated.set_ydata([100 * attack.loc["ours", (label, "simulated")] for label in HORIZONS])
        return self

    def png(self, dpi: int = 80) -> bytes:
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=dpi)
        return buffer.getvalue()


def what_if_figure(run: SimulationRun, attack: pd.DataFrame | None = None, **options) -> Figure:
    """The what-if figure for one run (see :class:`WhatIfFigure`), for showing in a notebook."""
    return WhatIfFigure(run, attack, **options).fig


class WhatIf(widgets.VBox):
    """Sliders for window, lockout and skew spread; everything below is recomputed on release."""

    def __init__(self, population: Population | None = None, *, users: int = 100_000, days: int = 5,
                 seed: int = 0, base: Policy | None = None, attackers: int = 200_000,
                 exact_users: int = 1000, exact_days: int = 5, plots: bool = True) -> None:
        self.population = population if population is not None else draw_population(users, days, seed=seed)
        self.base = base or Policy()
        self.attackers, self.seed, self.plots = attackers, seed, plots
        self.exact_users, self.exact_days = exact_users, exact_days
        self.timings: dict[str, float] = {}
        self.run: SimulationRun | None = None
        self.baseline: SimulationRun | None = None
        self.summary: pd.DataFrame | None = None
        self.attack: pd.DataFrame | None = None
        self.exact_check: pd.DataFrame | None = None
        self.plot: WhatIfFigure | None = None
        self._baseline_key = None
        self._holding = False
        self._attack_cache: dict = {}
        self._reference_attack = attack_table(schedules=REFERENCE_SCHEDULES, attackers=attackers, seed=seed + 1)

        self.message = widgets.HTML()
        self.safe = SafeCallbacks(self.show)
        p, pp = self.base, self.population.params
        style = {"description_width": "150px"}
        layout = widgets.Layout(width="420px")
        self.window = widgets.IntSlider(p.window, min=0, max=5, description="window (± steps)",
                                        continuous_update=False, style=style, layout=layout)
        self.limit = widgets.IntSlider(p.failed_code_limit, min=1, max=20, description="wrong codes to lock",
                                       continuous_update=False, style=style, layout=layout)
        self.lockout_minutes = widgets.IntSlider(max(5, p.lockout_seconds // 60), min=5, max=240, step=5,
                                              description="lock (minutes)", continuous_update=False, style=style,
                                              layout=layout)
        self.skew = widgets.FloatSlider(pp.loose_sd, min=0.0, max=120.0, step=5.0, description="skew spread (s)",
                                        continuous_update=False, style=style, layout=layout)
        for slider, name in ((self.window, "window"), (self.limit, "limit"), (self.lockout_minutes, "lock"),
                             (self.skew, "skew")):
            slider.add_class(f"tfs-whatif-{name}")
            slider.observe(self.safe(lambda change: None if self._holding else self.recompute()), "value")

        self.status = widgets.HTML()
        self.status.add_class("tfs-whatif-status")
        self.summary_view = widgets.HTML()
        self.summary_view.add_class("tfs-table")
        self.attack_view = widgets.HTML()
        self.attack_view.add_class("tfs-table")
        self.figure = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
        self.figure.add_class("tfs-whatif-figure")
        self.check_button = widgets.Button(description="Check with the exact engine", icon="check-double")
        self.check_button.add_class("tfs-whatif-check")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="exact run",
                                            layout=widgets.Layout(width="420px"))
        self.progress.add_class("tfs-whatif-progress")
        self.check_result = widgets.HTML()
        self.check_result.add_class("tfs-whatif-check-result")
        self.check_button.on_click(self.safe(lambda _: self.check_exact()))

        header = widgets.HTML('<div class="tfs-brand">What if? Policy knobs and their consequences</div>'
                              f'<div class="tfs-hint">{self.population.n_users:,} users over {self.population.days} '
                              f'days ({self.population.n_logins:,} logins); move a slider and release it.</div>')
        sliders = widgets.VBox([self.window, self.limit, self.lockout_minutes, self.skew])
        tables = widgets.HBox([
            widgets.VBox([widgets.HTML('<div class="tfs-header">Users (fast engine)</div>'), self.summary_view]),
            widgets.VBox([widgets.HTML('<div class="tfs-header">Attacker who knows the password</div>'),
                          self.attack_view])])
        tables.add_class("tfs-whatif-tables")
        check = widgets.VBox([widgets.HTML('<div class="tfs-header">Fast against exact</div>'),
                              widgets.HBox([self.check_button, self.progress]), self.check_result])
        super().__init__([style_sheet(), header, sliders, self.status, tables, self.figure, check,
                          self.message, self.safe.errors])
        self.add_class("tfs-card")
        self.add_class("tfs-whatif")
        self.recompute()

    # -- domain ------------------------------------------------------------------------------------

    def policy(self) -> Policy:
        """The policy the sliders describe (every other knob from ``base``)."""
        return self.base.replace(window=self.window.value, failed_code_limit=self.limit.value,
                                 lockout_seconds=60 * self.lockout_minutes.value)

    def current_population(self) -> Population:
        return self.population.with_parameters(loose_sd=float(self.skew.value))

    def recompute(self) -> None:
        """Replay the population under the sliders' policy; refresh tables, odds and plots."""
        started = time.perf_counter()
        policy, population = self.policy(), self.current_population()
        self.run = simulate_fast(population, policy)
        if self._baseline_key != self.skew.value:
            self.baseline = simulate_fast(population, self.base)
            self._baseline_key = self.skew.value
        simulated = time.perf_counter()
        self.summary = pd.DataFrame({"default policy": summarise(self.baseline), "what if": summarise(self.run)})
        key = (policy.window, policy.digits, policy.failed_code_limit, policy.lockout_seconds)
        if key not in self._attack_cache:
            ours = attack_table(policy, schedules=(Schedule.ours(policy),), attackers=self.attackers, seed=self.seed)
            self._attack_cache = {key: pd.concat([ours, self._reference_attack])}
        self.attack = self._attack_cache[key]
        tabulated = time.perf_counter()
        self.summary_view.value = table_html(format_summary(self.summary), "")
        self.attack_view.value = table_html(format_attack(self.attack), "")
        if self.plots:
            if self.plot is None:
                self.plot = WhatIfFigure(self.run, self.attack)
            else:
                self.plot.update(self.run, self.attack)
            self.figure.value = self.plot.png()
        done = time.perf_counter()
        self.timings = {"simulate": simulated - started, "tables and odds": tabulated - simulated,
                        "plots": done - tabulated, "total": done - started}
        self.status.value = (f'<div class="tfs-hint">{html.escape(describe_policy(policy))}; clock skew spread '
                             f'{self.skew.value:g} s. Recomputed in {self.timings["total"]:.2f} s.</div>')

    def set(self, **values) -> None:
        """Move several sliders at once, with one recomputation (``window=0, skew=60.0``)."""
        sliders = {"window": self.window, "limit": self.limit, "lockout_minutes": self.lockout_minutes, "skew": self.skew}
        unknown = sorted(set(values) - set(sliders))
        if unknown:
            raise ValidationError(unknown[0], f"no such slider (known: {', '.join(sliders)})")
        self._holding = True
        try:
            for name, value in values.items():
                sliders[name].value = value
        finally:
            self._holding = False
        self.recompute()

    def check_exact(self, users: int | None = None, days: int | None = None) -> pd.DataFrame:
        """Play a sample through the real back office and devices and compare login by login.

        The password hash cost is lowered (``kdf_log2_n=1``): it changes no outcome. Returns the
        logins on which the engines differ (empty when they agree)."""
        sample = draw_population(users or self.exact_users, days or self.exact_days,
                                 self.population.params, seed=self.seed + 7
                                 ).with_parameters(loose_sd=float(self.skew.value))
        policy = self.policy().replace(kdf_log2_n=1)
        self.progress.max, self.progress.value = sample.n_logins, 0
        self.progress.bar_style = ""
        self.check_result.value = '<div class="tfs-hint">running...</div>'

        def advance(done: int, total: int) -> None:
            self.progress.value = done

        exact = simulate_exact(sample, policy, progress=advance, progress_every=max(1, sample.n_logins // 100))
        fast = simulate_fast(sample, policy)
        self.exact_check = agreement(fast, exact)
        ok = self.exact_check.empty
        self.progress.bar_style = "success" if ok else "danger"
        verdict = ("agree on every login" if ok else f"differ on {len(self.exact_check)} logins")
        self.check_result.value = message_html(
            f"{sample.n_logins:,} logins of {sample.n_users:,} users: the engines {verdict}. "
            f"Exact engine {exact.seconds:.1f} s, fast engine {fast.seconds * 1000:.0f} ms.", "ok" if ok else "error")
        return self.exact_check

    def show(self, text: str, kind: str = "info") -> None:
        self.message.value = message_html(text, kind)

    def __repr__(self) -> str:
        return (f"WhatIf({self.population.n_users} users, {self.population.days} days; "
                f"{describe_policy(self.policy())}; skew spread {self.skew.value:g} s)")


__all__ = ["WhatIf", "WhatIfFigure", "what_if_figure", "format_summary", "format_attack", "describe_policy"]
