"""Renderings of domain state for people: the flow's diagrams drawn from the transition table, and
tables (pandas) drawn from the rows the domain classes hand out. The domain itself knows no pandas.

The names are imported on first use (PEP 562): importing the package for its display setting
(``render.display``, applied by ``import twofa_sim``) loads no pandas."""

from ..core.lazy import import_name

_PUBLIC = {
    "told_by_markdown": ".coverage_table", "told_by_table": ".coverage_table",
    "flow_diagrams": ".diagram", "to_markdown": ".diagram", "to_mermaid": ".diagram",
    "app_table": ".tables", "device_table": ".tables", "events_table": ".tables", "flow_table": ".tables",
    "policy_table": ".tables", "users_table": ".tables",
}

__all__ = ["flow_diagrams", "to_markdown", "to_mermaid", "app_table", "device_table", "events_table", "flow_table",
           "policy_table", "users_table", "told_by_table", "told_by_markdown"]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = import_name(_PUBLIC[name], __name__, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """What is loaded (``__all__`` names everything): see :mod:`twofa_sim.core.lazy`."""
    return sorted(globals())
