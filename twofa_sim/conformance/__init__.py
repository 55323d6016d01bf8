"""Conformance: the scenario files played on another back office, and the differences as a table.

The target contract (:mod:`.target`), the project's back office as the default target
(:mod:`.project_target`), django-two-factor-auth as the reference target (:mod:`.django_target`,
with its minimal site in :mod:`.django_project`, needing the ``peers`` extra), the play of a
scenario through the contract (:mod:`.play`) and the report (:mod:`.report`).
"""

from .play import PlayedStep, play
from .report import TARGETS, Conformance, Row, as_csv, as_text, conform, summary
from .target import MESSAGE_CLASSES, STATES, NotExpressible, Observation, Screen, Target

__all__ = ["Target", "Observation", "Screen", "NotExpressible", "MESSAGE_CLASSES", "STATES", "PlayedStep", "play",
           "Conformance", "Row", "conform", "summary", "as_text", "as_csv", "TARGETS"]
