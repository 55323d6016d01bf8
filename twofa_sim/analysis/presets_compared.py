"""Real systems' policies side by side on one population and one attacker.

Every preset (:mod:`twofa_sim.core.presets`) plays the same users with the fast engine, so the
differences come from the policies alone: first codes accepted, sign-ins, lockouts, time to get in.
The attacker who has the password meets each system's own schedule (GitLab's Devise lock,
Keycloak's growing wait, django-otp's doubling delay...), not the engine's stand-in, so the odds
follow the real rules.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from ..core.presets import PRESETS, preset
from .attacker import DEFAULT_INTERVAL, HORIZONS, Schedule
from .population import Population
from .simulation import simulate
from .summaries import summarise

#: The population numbers shown side by side (from :func:`~twofa_sim.analysis.summaries.summarise`).
POPULATION_COLUMNS = ("first code accepted", "signed in", "lockouts", "users ever locked", "users never enrolled",
                      "median s to get in")


def preset_schedule(name: str) -> Schedule:
    """The attacker's schedule under a preset: the system's own rules (ours: the real back office)."""
    chosen = preset(name)
    kind, params = chosen.attacker
    policy = chosen.policy
    if kind == "policy":
        return dataclasses.replace(Schedule.ours(policy), name=name)
    return Schedule(name, kind, dict(params), policy.window, policy.digits, chosen.attacker_note)


def attacker_odds(names=None, *, interval: float = DEFAULT_INTERVAL, horizons: dict[str, float] = HORIZONS
                  ) -> pd.DataFrame:
    """Per preset: the attacker's rule, guesses checked and the chance to be in by each horizon (closed form)."""
    rows = {}
    for name in names or PRESETS:
        schedule = preset_schedule(name)
        row = {"attacker meets": preset(name).attacker_note}
        for label, horizon in horizons.items():
            row[f"guesses in {label}"] = schedule.guesses_by(horizon, interval)
            row[f"attacker in within {label}"] = schedule.probability_by(horizon, interval)
        rows[name] = row
    return pd.DataFrame(rows).T.rename_axis("preset").infer_objects()


def presets_side_by_side(population: Population, names=None, *, interval: float = DEFAULT_INTERVAL,
                         horizons: dict[str, float] = HORIZONS) -> pd.DataFrame:
    """One row per preset: the population's numbers under its policy, then the attacker's odds."""
    names = list(names or PRESETS)
    users = {name: summarise(simulate(population, preset(name).policy, "fast"))[list(POPULATION_COLUMNS)]
             for name in names}
    frame = pd.DataFrame(users).T.rename_axis("preset").infer_objects()
    return frame.join(attacker_odds(names, interval=interval, horizons=horizons))


__all__ = ["preset_schedule", "attacker_odds", "presets_side_by_side", "POPULATION_COLUMNS"]
