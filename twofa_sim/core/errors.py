"""One rooted hierarchy for misuse.

Expected outcomes of the flow (a wrong password, a wrong code, a replayed code) are *values*
(see :mod:`twofa_sim.login.flow`); these exceptions are for calls that are wrong in themselves: bad
input, unknown names, a transition the flow does not have. Messages say what and where; they never
repeat a value typed into a password, secret or code field. A lookup by name repeats the name
asked for (cut at 64 characters), as SECURITY.md documents.
"""

from __future__ import annotations

from .messages import Said


def check_display_name(field: str, value: object) -> str:
    """A company or device name: 1 to 64 printable characters, surrounding spaces dropped."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64 or not value.isprintable():
        raise ValidationError(field, "must be 1 to 64 printable characters")
    return value.strip()


def shown(value: object) -> str:
    """A value as an error message may show it: short text and short values as written, anything
    longer only by its kind and length. Passwords (10 characters at least), shared secrets and
    recovery codes are all longer than the 8 characters of text shown, so none reaches a message,
    and neither do megabytes of input."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a whole number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, str):
        return repr(value) if len(value) <= 8 else f"text of {len(value)} characters"
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__} ({len(text)} characters written out)"


class TwofaSimError(Exception):
    """Base of every error this package raises on purpose. Its text is for developers; ``said``,
    where the error can reach a page, is the same in plain words for whoever uses the program: a
    message id with fields, worded in the reader's language by the catalogue (None: the text is
    all there is)."""

    def __init__(self, *args: object, said: Said | None = None) -> None:
        super().__init__(*args)
        self.said = said


class ValidationError(TwofaSimError, ValueError):
    """An input value is malformed; ``field`` names where."""

    def __init__(self, field: str, problem: str, *, said: Said | None = None) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}", said=said)


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


def refusal(action) -> TwofaSimError:
    """The error ``action()`` is refused with.

    A specification says "this is refused" as an assertion, not as a ``try``/``except`` that a
    notebook then checks by hand: an action that goes through raises an ``AssertionError`` naming
    what it returned; an error that is not one of this package's propagates as it is.
    """
    try:
        returned = action()
    except TwofaSimError as error:
        return error
    raise AssertionError(f"expected a refusal, but the action went through and returned {returned!r}")
