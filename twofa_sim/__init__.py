"""twofa-sim: an executable specification and simulation of two-factor login (TOTP) for the
users of a web back office."""

from .apps.profiles import PROFILES, AppProfile, DuplicatePolicy, profiles_frame
from .apps.authenticator import AuthenticatorApp, Choice, Entry, ImportResult, Reading
from .analysis.attacker import REFERENCE_SCHEDULES, Schedule, attack_table
from .login.backoffice import BackOffice
from .core.clock import Clock, OffsetClock
from .login.company import Company
from .analysis.compatibility import compatibility_matrix, style_matrix
from .apps.device import Device
from .core.errors import (AlreadyExistsError, ClockError, NotFoundError, PolicyError, ScanError,
                     TransitionNotAllowed, TwofaSimError, UriError, ValidationError)
from .core.events import Event, EventKind, EventLog
from .login.flow import FLOW, Action, FlowEvent, Outcome, Reason, State, StateFacts, Transition
from .login.attempt import LoginAttempt, StepResult
from .apps.otpauth import KeyUri, build_key_uri, parse_key_uri
from .io.persistence import Session, SessionFileError, load as load_session, save as save_session
from .core.policy import Policy
from .analysis import (Population, PopulationParameters, compare_policies, draw_population, simulate,
                         simulate_exact, simulate_fast, summarise)
from .login.screen import EnrolmentScreen
from .spec.scenario import Scenario, ScenarioError, load_backoffice, load_scenario, run_scenario
from .core.secret_source import SeededSecretSource, SystemSecretSource
from .login.user import BackendUser
from .store import MemoryStore, Store, StoreError, open_store
from .render.display import show_in_notebooks

show_in_notebooks()

__all__ = [
    "BackOffice", "Clock", "OffsetClock", "Company", "BackendUser", "Policy", "LoginAttempt", "StepResult",
    "EnrolmentScreen", "FLOW", "State", "FlowEvent", "Outcome", "Reason", "Action", "StateFacts", "Transition",
    "Event", "EventKind", "EventLog", "SeededSecretSource", "SystemSecretSource",
    "TwofaSimError", "ValidationError", "PolicyError", "NotFoundError", "AlreadyExistsError",
    "TransitionNotAllowed", "ClockError", "UriError", "ScanError",
    "AppProfile", "PROFILES", "DuplicatePolicy", "profiles_frame", "AuthenticatorApp", "Entry", "Reading",
    "ImportResult", "Choice", "Device", "KeyUri", "parse_key_uri", "build_key_uri",
    "compatibility_matrix", "style_matrix",
    "Scenario", "ScenarioError", "load_scenario", "run_scenario", "load_backoffice",
    "Population", "PopulationParameters", "draw_population", "simulate", "simulate_fast", "simulate_exact",
    "summarise", "compare_policies", "Schedule", "REFERENCE_SCHEDULES", "attack_table",
    "Session", "SessionFileError", "save_session", "load_session",
    "Store", "MemoryStore", "StoreError", "open_store",
]
__version__ = "0.1.0"
