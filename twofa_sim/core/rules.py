"""The login's arithmetic rules, once: pure functions every engine calls.

The exact engine (:mod:`twofa_sim.login.enrolment`), the numpy engine
(:mod:`twofa_sim.analysis.simulation`), the attacker model (:mod:`twofa_sim.analysis.attacker`) and a
class's progress all ask these functions, so a rule cannot drift between them. Each works on plain
numbers (``None``: no lock, no step) and, unchanged, on numpy arrays (``NaN``: no lock; a step
before every real one: none used), because it uses only comparisons and arithmetic that numpy
broadcasts.
"""

from __future__ import annotations

from typing import Any


def lock_lapsed(now: Any, locked_until: Any) -> Any:
    """A lock has run out: ``now`` is at or after its end. No lock (``None``, ``NaN``) has not lapsed."""
    return locked_until is not None and now >= locked_until


def lock_holds(now: Any, locked_until: Any) -> Any:
    """A lock refuses at ``now``: it exists and has not run out."""
    return locked_until is not None and now < locked_until


def lock_standing(failures: int, locked_until: float | None, now: float) -> tuple[int, float | None]:
    """(failed codes that count, lock end) at ``now``: a lock that has run out is gone and wipes the
    count with it, whether or not that was written back."""
    if lock_lapsed(now, locked_until):
        return 0, None
    return failures, locked_until


def reaches_limit(counted: Any, limit: int) -> Any:
    """``counted`` failures (this one included) reach the failed-code limit: this failure locks."""
    return counted >= limit


def lock_end(now: Any, lock_seconds: float) -> Any:
    """When a lock set at ``now`` ends."""
    return now + lock_seconds


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


__all__ = ["lock_lapsed", "lock_holds", "lock_standing", "reaches_limit", "lock_end", "in_window", "window_steps", "is_replay",
           "prompt_timed_out"]
