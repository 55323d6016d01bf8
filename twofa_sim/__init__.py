"""twofa-sim: an executable specification and simulation of two-factor login (TOTP) for the
users of a web back office."""


from .core.lazy import import_name

_PUBLIC = {  # public name -> (module, name there); imported on first use (PEP 562), so that a
    # kernel that needs the login mask does not load pandas and the analysis engines
    'PROFILES': ('.apps.profiles', 'PROFILES'),
    'AppProfile': ('.apps.profiles', 'AppProfile'),
    'DuplicatePolicy': ('.apps.profiles', 'DuplicatePolicy'),
    'profiles_frame': ('.apps.profiles', 'profiles_frame'),
    'AuthenticatorApp': ('.apps.authenticator', 'AuthenticatorApp'),
    'Choice': ('.apps.authenticator', 'Choice'),
    'Entry': ('.apps.authenticator', 'Entry'),
    'ImportResult': ('.apps.authenticator', 'ImportResult'),
    'Reading': ('.apps.authenticator', 'Reading'),
    'REFERENCE_SCHEDULES': ('.analysis.attacker', 'REFERENCE_SCHEDULES'),
    'Schedule': ('.analysis.attacker', 'Schedule'),
    'attack_table': ('.analysis.attacker', 'attack_table'),
    'BackOffice': ('.login.backoffice', 'BackOffice'),
    'Clock': ('.core.clock', 'Clock'),
    'OffsetClock': ('.core.clock', 'OffsetClock'),
    'Company': ('.login.company', 'Company'),
    'compatibility_matrix': ('.analysis.compatibility', 'compatibility_matrix'),
    'style_matrix': ('.analysis.compatibility', 'style_matrix'),
    'Device': ('.apps.device', 'Device'),
    'AlreadyExistsError': ('.core.errors', 'AlreadyExistsError'),
    'ClockError': ('.core.errors', 'ClockError'),
    'NotFoundError': ('.core.errors', 'NotFoundError'),
    'PolicyError': ('.core.errors', 'PolicyError'),
    'ScanError': ('.core.errors', 'ScanError'),
    'TransitionNotAllowed': ('.core.errors', 'TransitionNotAllowed'),
    'TwofaSimError': ('.core.errors', 'TwofaSimError'),
    'UriError': ('.core.errors', 'UriError'),
    'ValidationError': ('.core.errors', 'ValidationError'),
    'Event': ('.core.events', 'Event'),
    'EventKind': ('.core.events', 'EventKind'),
    'EventLog': ('.core.events', 'EventLog'),
    'FLOW': ('.login.flow', 'FLOW'),
    'Action': ('.login.flow', 'Action'),
    'StateFacts': ('.login.flow', 'StateFacts'),
    'FlowEvent': ('.login.flow', 'FlowEvent'),
    'Outcome': ('.login.flow', 'Outcome'),
    'Reason': ('.login.flow', 'Reason'),
    'State': ('.login.flow', 'State'),
    'Transition': ('.login.flow', 'Transition'),
    'LoginAttempt': ('.login.attempt', 'LoginAttempt'),
    'StepResult': ('.login.attempt', 'StepResult'),
    'KeyUri': ('.apps.otpauth', 'KeyUri'),
    'build_key_uri': ('.apps.otpauth', 'build_key_uri'),
    'parse_key_uri': ('.apps.otpauth', 'parse_key_uri'),
    'Session': ('.io.persistence', 'Session'),
    'SessionFileError': ('.io.persistence', 'SessionFileError'),
    'load_session': ('.io.persistence', 'load'),
    'save_session': ('.io.persistence', 'save'),
    'Policy': ('.core.policy', 'Policy'),
    'Population': ('.analysis', 'Population'),
    'PopulationParameters': ('.analysis', 'PopulationParameters'),
    'compare_policies': ('.analysis', 'compare_policies'),
    'draw_population': ('.analysis', 'draw_population'),
    'simulate': ('.analysis', 'simulate'),
    'simulate_exact': ('.analysis', 'simulate_exact'),
    'simulate_fast': ('.analysis', 'simulate_fast'),
    'summarise': ('.analysis', 'summarise'),
    'EnrolmentScreen': ('.login.screen', 'EnrolmentScreen'),
    'Scenario': ('.spec.scenario', 'Scenario'),
    'ScenarioError': ('.spec.scenario', 'ScenarioError'),
    'load_backoffice': ('.spec.scenario', 'load_backoffice'),
    'load_scenario': ('.spec.scenario', 'load_scenario'),
    'run_scenario': ('.spec.scenario', 'run_scenario'),
    'SeededSecretSource': ('.core.secret_source', 'SeededSecretSource'),
    'SystemSecretSource': ('.core.secret_source', 'SystemSecretSource'),
    'BackendUser': ('.login.user', 'BackendUser'),
    'MemoryStore': ('.store', 'MemoryStore'),
    'Store': ('.store', 'Store'),
    'StoreError': ('.store', 'StoreError'),
    'open_store': ('.store', 'open_store'),
}

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


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = import_name(module, __name__, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """What is loaded (``__all__`` names everything): see :mod:`twofa_sim.core.lazy`."""
    return sorted(globals())


from .render.display import show_in_notebooks as _show_in_notebooks  # noqa: E402  (imports neither pandas nor matplotlib)

_show_in_notebooks()
