"""One rooted hierarchy for misuse.

Expected outcomes of the flow (a wrong password, a wrong code, a replayed code) are *values*
(see :mod:`twofa_sim.flow`); these exceptions are for calls that are wrong in themselves: bad
input, unknown names, a transition the flow does not have. Messages say what and where and never
contain a secret, password or code.
"""

from __future__ import annotations


class TwofaSimError(Exception):
    """Base of every error this package raises on purpose."""


class ValidationError(TwofaSimError, ValueError):
    """An input value is malformed; ``field`` names where."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class PolicyError(ValidationError):
    """A policy knob has a value the simulation cannot honour."""


class NotFoundError(TwofaSimError, LookupError):
    """A company, user, device or entry of that name does not exist."""


class AlreadyExistsError(TwofaSimError):
    """A name that must be unique is already taken."""


class TransitionNotAllowed(TwofaSimError):
    """The login flow has no row for this (state, event, outcome)."""


class ClockError(ValidationError):
    """A time value is not a finite, non-negative number of seconds."""


class UriError(ValidationError):
    """An ``otpauth://`` URI does not follow the Key URI format."""


class ScanError(TwofaSimError):
    """An image holds no QR code, or one the app cannot import."""
