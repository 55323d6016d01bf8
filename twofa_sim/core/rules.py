"""The login's arithmetic rules, once: pure functions every engine calls.

The exact engine (:mod:`twofa_sim.login.enrolment`), the numpy engine
(:mod:`twofa_sim.analysis.simulation`), the attacker model (:mod:`twofa_sim.analysis.attacker`) and a
class's progress all ask these functions, so a rule cannot drift between them. Each works on plain
numbers (``None``: no lockout, no step) and, unchanged, on numpy arrays (``NaN``: no lockout; a step
before every real one: none used), because it uses only comparisons and arithmetic that numpy
broadcasts.
"""

from __future__ import annotations

from typing import Any


def lockout_lapsed(now: Any, locked_out_until: Any) -> Any:
    """A lockout has run out: ``now`` is at or after its end. No lockout (``None``, ``NaN``) has not lapsed."""
    return locked_out_until is not None and now >= locked_out_until


def lockout_holds(now: Any, locked_out_until: Any) -> Any:
    """A lockout refuses at ``now``: it exists and has not run out."""
    return locked_out_until is not None and now < locked_out_until


def lockout_standing(failures: int, locked_out_until: float | None, now: float) -> tuple[int, float | None]:
    """(failed codes that count, lockout end) at ``now``: a lockout that has run out is gone and wipes the
    count with it, whether or not that was written back."""
    if lockout_lapsed(now, locked_out_until):
        return 0, None
    return failures, locked_out_until


def reaches_limit(counted: Any, limit: int) -> Any:
    """``counted`` failures (this one included) reach the failed-code limit: this failure locks."""
    return counted >= limit


def lockout_end(now: Any, lockout_seconds: float) -> Any:
    """When a lockout set at ``now`` ends."""
    return now + lockout_seconds


def in_window(step: Any, present: Any, window: int) -> Any:
    """``step`` lies within ``window`` steps either side of the server's ``present`` step."""
    return abs(step - present) <= window


def window_steps(present: int, window: int) -> range:
    """Every step of the window around ``present``, earliest first (none before step 0, 1970)."""
    return range(max(0, present - window), present + window + 1)


def is_replay(step: Any, last_used: Any, replay_protection: bool = True) -> Any:
    """``step`` was already used: it is not later than the last accepted step (RFC 6238 5.2). A
    used step is skipped and the search goes on to later matching steps (django-otp)."""
    return replay_protection and last_used is not None and step <= last_used


def prompt_timed_out(now: Any, deadline: Any) -> Any:
    """An open code prompt's time is up at ``now``; a login with no open prompt (``None``) has none."""
    return deadline is not None and now >= deadline


__all__ = ["lockout_lapsed", "lockout_holds", "lockout_standing", "reaches_limit", "lockout_end", "in_window", "window_steps", "is_replay",
           "prompt_timed_out"]
