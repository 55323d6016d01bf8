"""twofa-sim: an executable specification and simulation of two-factor login (TOTP) for the
users of a web back office."""

from .app_profile import PROFILES, AppProfile, DuplicatePolicy, profiles_frame
from .authenticator import AuthenticatorApp, Choice, Entry, ImportResult, Reading
from .attacker import REFERENCE_SCHEDULES, Schedule, attack_table
from .backoffice import BackOffice
from .clock import Clock, OffsetClock
from .company import Company
from .compatibility import compatibility_matrix, style_matrix
from .device import CodeWatcher, Device
from .errors import (AlreadyExistsError, ClockError, NotFoundError, PolicyError, ScanError,
                     TransitionNotAllowed, TwofaSimError, UriError, ValidationError)
from .events import Event, EventKind, EventLog
from .flow import FLOW, Effect, FlowEvent, Outcome, Reason, State, Transition
from .login import LoginAttempt, StepResult
from .otpauth import KeyUri, build_key_uri, parse_key_uri
from .persistence import Session, SessionFileError, load as load_session, save as save_session
from .policy import Policy
from .population import (Population, PopulationParameters, compare_policies, draw_population, simulate,
                         simulate_exact, simulate_fast, summarise)
from .qr import EnrolmentScreen
from .scenario import Scenario, ScenarioError, load_backoffice, load_scenario, run_scenario
from .secret_source import SeededSecretSource, SystemSecretSource
from .user import BackendUser

__all__ = [
    "BackOffice", "Clock", "OffsetClock", "Company", "BackendUser", "Policy", "LoginAttempt", "StepResult",
    "EnrolmentScreen", "FLOW", "State", "FlowEvent", "Outcome", "Reason", "Effect", "Transition",
    "Event", "EventKind", "EventLog", "SeededSecretSource", "SystemSecretSource",
    "TwofaSimError", "ValidationError", "PolicyError", "NotFoundError", "AlreadyExistsError",
    "TransitionNotAllowed", "ClockError", "UriError", "ScanError",
    "AppProfile", "PROFILES", "DuplicatePolicy", "profiles_frame", "AuthenticatorApp", "Entry", "Reading",
    "ImportResult", "Choice", "Device", "CodeWatcher", "KeyUri", "parse_key_uri", "build_key_uri",
    "compatibility_matrix", "style_matrix",
    "Scenario", "ScenarioError", "load_scenario", "run_scenario", "load_backoffice",
    "Population", "PopulationParameters", "draw_population", "simulate", "simulate_fast", "simulate_exact",
    "summarise", "compare_policies", "Schedule", "REFERENCE_SCHEDULES", "attack_table",
    "Session", "SessionFileError", "save_session", "load_session",
]
__version__ = "0.1.0"
