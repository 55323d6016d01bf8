"""Scenario files: a story and its expected outcomes, written in YAML and run by the engine.

A product owner states an expectation ("after five wrong codes the user is locked for 15
minutes") as a scenario file without writing Python. :func:`load_scenario` reads and validates
it, reporting every problem with the file and line; :func:`run_scenario` plays it against a fresh
:class:`~twofa_sim.login.backoffice.BackOffice` with a pinned clock and seeded secrets, and returns a
:class:`ScenarioResult`: the timeline of steps and the checks made after each. The format is
documented in ``docs/scenario-format.md``; ``data/scenarios/00_annotated_example.yaml`` shows
every part of it with comments.

This module is the format's public face; the parts live next to it, one noun each:

- ``reader``: safe YAML loading and typed field checks (:class:`ScenarioError`, durations);
- ``files``: the files a scenario names, read only when regular, bounded and inside its folder;
- ``backoffice_file``: companies and users, ``data/backoffice.yaml`` (:func:`load_backoffice`);
- ``steps``: the step types, one class each (parse, describe, run), by YAML key;
- ``expectations``: the ``expect`` keys, one table entry each;
- ``scenario_file``: the whole file (:func:`parse_scenario`, :func:`load_scenario`);
- ``records``, ``timeline``, ``runner``: what a run leaves, how it prints, how it runs.
"""

from __future__ import annotations

from .backoffice_file import (DEFAULT_BACKOFFICE_YAML, DEFAULT_COMPANY, DEFAULT_PASSWORD, DEFAULT_SEED, DEFAULT_START,
                              BackOfficeSpec, CompanySpec, UserSpec, load_backoffice, parse_backoffice,
                              read_backoffice)
from .expectations import EXPECTATIONS, Expectation, ExpectationKey, expect_keys
from .files import MAX_FILE_BYTES, MAX_IMAGE_BYTES
from .reader import MAX_WHOLE, MAX_YAML_VALUES, ScenarioError, format_duration, parse_duration
from .records import DEFAULT_TAB, Check, QrShown, StepRecord
from .runner import ScenarioResult, run_scenario
from .scenario_file import (SCENARIO_KDF_LOG2_N, SCENARIO_KEYS, DeviceSpec, Scenario, load_scenario, load_scenario_files,
                            parse_scenario, scenario_paths)
from .steps import (STEP_TYPES, AdminStep, CheckStep, ClockStep, CompanySettingStep, CorrectClockStep, CreateUserStep,
                    DeviceClockStep, EnterKeyStep, InstallStep, IssueRecoveryCodesStep, LoginStep, LogOutStep,
                    MoveEntriesStep, PolicyStep, ResetStep, ScanStep, StartOverStep, Step, TickStep, TypeStep,
                    UnlockStep, UntickStep, WaitStep)
from .timeline import TimelineWriter, format_record, format_timeline, summary_line, timeline_header

#: The action keys of a step, and every key a step may hold.
ACTIONS = list(STEP_TYPES)
STEP_KEYS = ACTIONS + ["expect", "note"]
#: Every key ``expect`` may hold (``user``, ``tab``, ``device``, then the expectation table's).
EXPECT_KEYS = expect_keys()

__all__ = [
    "Scenario", "ScenarioError", "ScenarioResult", "StepRecord", "Check", "QrShown", "BackOfficeSpec",
    "parse_scenario", "load_scenario", "load_scenario_files", "scenario_paths", "run_scenario", "parse_backoffice", "read_backoffice", "load_backoffice",
    "format_timeline", "TimelineWriter", "parse_duration", "format_duration", "DEFAULT_BACKOFFICE_YAML",
    "SCENARIO_KDF_LOG2_N", "EXPECTATIONS", "ExpectationKey", "Expectation", "STEP_TYPES", "Step",
]
