"""Questions asked of many simulated logins: populations, attackers, the compatibility matrix.

A population (:mod:`.population`) is played by two engines (:mod:`.simulation`) and summed up for a
product owner (:mod:`.summaries`); the names a notebook needs are importable from here."""

from .population import (DATA_FILE, AppBehaviour, CodeKind, LoginOutcome, LogNormal, Population,
                         PopulationParameters, app_behaviour, app_clock_offsets, default_parameters,
                         draw_population, scripted_population, with_app_version)
from .simulation import LOGIN_COLUMNS, SimulationRun, simulate, simulate_exact, simulate_fast
from .summaries import agreement, by_app, compare_policies, enrolment_reach, first_code_by_offset, summarise

__all__ = ["DATA_FILE", "AppBehaviour", "CodeKind", "LoginOutcome", "LogNormal", "Population",
           "PopulationParameters", "app_behaviour", "app_clock_offsets", "default_parameters", "draw_population",
           "scripted_population", "with_app_version", "LOGIN_COLUMNS", "SimulationRun", "simulate", "simulate_exact",
           "simulate_fast", "agreement", "by_app", "compare_policies", "enrolment_reach", "first_code_by_offset",
           "summarise"]
