"""Renderings of domain state for people: the flow's diagrams drawn from the transition table, and
tables (pandas) drawn from the rows the domain classes hand out. The domain itself knows no pandas."""

from .coverage_table import told_by_markdown, told_by_table
from .diagram import flow_diagrams, to_markdown, to_mermaid
from .tables import app_table, device_table, events_table, flow_table, policy_table, users_table

__all__ = ["flow_diagrams", "to_markdown", "to_mermaid", "app_table", "device_table", "events_table", "flow_table",
           "policy_table", "users_table", "told_by_table", "told_by_markdown"]
