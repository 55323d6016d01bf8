"""How codes rotate: the server's code at given instants, and what apps on devices show over time.

A TOTP code is a function of the secret and the time step ``floor(t / period)`` (RFC 6238), so
the tables here are pure functions of a secret (or of devices that scanned it) and instants; they
change nothing. Chapter 4 of the specification draws its rotation tables from these functions.
The codes shown come from demonstration secrets; no table of the back office shows a code.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import pandas as pd

from ..apps.device import Device
from ..core.clock import iso
from ..core.errors import ValidationError
from ..core.otp import code_at, step_of


def _period(period: int) -> int:
    if not isinstance(period, int) or isinstance(period, bool) or period < 1:
        raise ValidationError("period", f"must be a whole number of seconds, at least 1, got {period!r}")
    return period


def code_table(secret: str, instants: Iterable[float], *, algorithm: str = "SHA1", digits: int = 6,
               period: int = 30) -> pd.DataFrame:
    """One row per instant: its time, its time step, the seconds left in the step and the code."""
    period = _period(period)
    instants = list(instants)
    return pd.DataFrame({"time": [iso(t) for t in instants],
                         "step": [step_of(t, period) for t in instants],
                         "seconds left": [period - int(t) % period for t in instants],
                         "code": [code_at(secret, t, algorithm=algorithm, digits=digits, period=period)
                                  for t in instants]})


def turnovers(devices: Sequence[Device], start: float, seconds: float) -> dict[str, list[float]]:
    """Per device: how many seconds after ``start`` the code on its screen changes, up to
    ``start + seconds`` later, by the device's own clock (the app's rounding of time included)."""
    if not seconds > 0:
        raise ValidationError("seconds", f"must be more than 0, got {seconds!r}")
    changes = {}
    for device in devices:
        local = start + device.offset     # the device's own clock at the back office's ``start``
        changes[device.name] = [reading.at - local
                                for reading in device.app.changes(device.entry(), local, local + seconds)][1:]
    return changes


def shown_codes(secret: str, devices: Sequence[Device], start: float, seconds: int = 60, every: int = 10, *,
                algorithm: str = "SHA1", digits: int = 6, period: int = 30) -> pd.DataFrame:
    """Every ``every`` seconds from ``start``: the server's step, the code it expects and the code
    each device's app shows at that instant (a column per device)."""
    every = _period(every)
    rows = []
    for offset in range(0, seconds, every):
        t = start + offset
        rows.append({"time": iso(t), "server step": step_of(t, period),
                     "expected": code_at(secret, t, algorithm=algorithm, digits=digits, period=period),
                     **{device.name: device.app.reading(device.entry(), t + device.offset).code for device in devices}})
    return pd.DataFrame(rows)


__all__ = ["code_table", "turnovers", "shown_codes"]
