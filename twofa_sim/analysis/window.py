"""The accepted window, asked of real first logins: which codes around "now" get a user in, and
which device clocks stay inside the window.

Nothing is read off the policy's numbers: every cell is a fresh user of a fresh back office who
types a code into a real login, so a change to the flow, the window rule or replay protection
shows here as it would for a user. Chapter 4 of the specification draws its tables from these
functions.
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from ..apps.device import Device
from ..apps.profiles import AppProfile
from ..core.clock import Clock, TimeLike
from ..core.errors import ValidationError
from ..core.otp import code_at
from ..core.policy import Policy
from ..core.secret_source import SeededSecretSource
from ..login.backoffice import BackOffice
from ..login.flow import Outcome, State

START = "2026-01-05T09:00:10Z"     # 10 s into a step, so "ahead" and "behind" are not symmetric
PASSWORD = "correct horse 42"
COMPANY = "ACME Publishing"


def _whole_numbers(field: str, values: Iterable) -> list[int]:
    values = list(values)
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValidationError(field, f"must be a non-empty list of whole numbers, got {values!r}")
    return values


def _office(policy: Policy, start: TimeLike, seed: int) -> BackOffice:
    office = BackOffice(policy=policy.replace(kdf_log2_n=min(policy.kdf_log2_n, 4)), clock=Clock.at(start),
                        secret_source=SeededSecretSource(seed))
    office.create_company(COMPANY)
    return office


def window_acceptance(windows: Iterable[int] = (0, 1, 2), offsets: Iterable[int] = range(-3, 4), *,
                      base: Policy | None = None, start: TimeLike = START, seed: int = 4) -> pd.DataFrame:
    """Window setting x step offset: ``True`` where a fresh user's first login accepts the code of
    the step that many steps from the server's "now".

    One back office per window (``base`` with that window; password hashing made cheap, it has no
    bearing on codes), one new user per offset, so no code is refused as a replay of another.
    """
    windows, offsets = _whole_numbers("windows", windows), _whole_numbers("offsets", offsets)
    base = base or Policy()
    rows = {}
    for window in windows:
        office = _office(base.replace(window=window), start, seed + window)
        policy = office.policy
        accepted = []
        for number, offset in enumerate(offsets):
            name = f"user{number}"
            office.create_user(name, PASSWORD, company=COMPANY, force_2fa=True)
            login = office.start_login()
            secret = login.submit_password(name, PASSWORD).screen.secret
            code = code_at(secret, office.clock.now() + policy.period * offset, algorithm=policy.algorithm,
                           digits=policy.digits, period=policy.period)
            accepted.append(login.submit_code(code).outcome is Outcome.ACCEPTED)
        rows[f"window {window}"] = accepted
    table = pd.DataFrame(rows, index=[f"{o:+d}" for o in offsets]).T
    table.columns.name = "step offset"
    return table


def skew_acceptance(skews: Iterable[int], *, app: AppProfile | str = "reference", base: Policy | None = None,
                    start: TimeLike = START, seed: int = 9) -> pd.Series:
    """Device clock offset (seconds, + ahead) -> does the user get in? Each offset is a fresh user
    whose device, that far off the back office's clock, scans the QR page from pixels and types
    the code its app shows."""
    skews = _whole_numbers("skews", skews)
    office = _office(base or Policy(), start, seed)
    inside = {}
    for number, skew in enumerate(skews):
        name = f"skew{number}"
        office.create_user(name, PASSWORD, company=COMPANY, force_2fa=True)
        device = Device.for_user(office, name, app=app, offset=skew)
        login = office.start_login()
        device.scan(login.submit_password(name, PASSWORD).screen.page_image())
        inside[skew] = login.submit_code(device.code()).state is State.AUTHENTICATED
    return pd.Series(inside, name="signed in").rename_axis("device clock offset (s)")


__all__ = ["window_acceptance", "skew_acceptance"]
