"""Which app can enrol under which policy, found by running the real enrolment for every pair.

For each policy (algorithm x digits x period) and each app profile, :func:`enrolment_trial` does
what a user does after the admin ticks "Force 2 factor auth.": a fresh back office with that
policy, a first login with username and password, the second window's page image scanned from
pixels by a device running the app, and the code the app then shows typed into the login. The
enrolment works if the back office signs the user in. Nothing is predicted from the profile
tables: a cell is green only if the whole flow went through.

:func:`compatibility_matrix` pivots the trials into a policy x app table of booleans (reasons in
``.attrs["reasons"]``); :func:`style_matrix` colours it for a notebook, with the reason of each
cell as its tooltip.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Iterable

import pandas as pd

from ..apps.profiles import PROFILES, AppProfile, profile as find_profile, versions_of
from ..login.backoffice import BackOffice
from ..core.clock import Clock, TimeLike
from ..core.errors import ScanError, UriError
from ..login.flow import State
from ..core.policy import ALGORITHMS as POLICY_ALGORITHMS, Policy
from ..core.secret_source import SeededSecretSource
from ..apps.device import Device

ALGORITHMS = tuple(POLICY_ALGORITHMS)
DIGITS = (6, 8)
PERIODS = (30, 60)
START = "2026-01-05T09:00:10Z"
TRIAL_USER = "trial.user"
TRIAL_PASSWORD = "enrolment trial 2026"
POLICY_COLUMNS = ["algorithm", "digits", "period"]
WORKS, FAILS = "#c6efce", "#ffc7ce"


@dataclass(frozen=True)
class Trial:
    """One enrolment: the policy, the app, whether the user got in, and why not."""

    algorithm: str
    digits: int
    period: int
    app: str
    works: bool
    stage: str
    outcome: str
    reason: str
    app_settings: str


def _policy_values(policy: Policy) -> dict:
    return {"algorithm": policy.algorithm, "digits": policy.digits, "period": policy.period}


def enrolment_trial(policy: Policy, app: AppProfile | str, *, start: TimeLike = START, seed: int = 2026,
                    offset: float = 0.0) -> Trial:
    """Run one first login with the app under ``policy`` and report how it ended.

    Password hashing cost is lowered to ``kdf_log2_n=4`` for speed (it has no bearing on the
    second factor); every other knob of ``policy`` is used as given. ``offset`` puts the device's
    clock that many seconds off the back office's.
    """
    app = find_profile(app)
    policy = policy.replace(kdf_log2_n=min(policy.kdf_log2_n, 4))
    office = BackOffice(policy=policy, clock=Clock.at(start), secret_source=SeededSecretSource(seed))
    office.create_company("Trial company")
    office.create_user(TRIAL_USER, TRIAL_PASSWORD, force_2fa=True)
    device = Device.for_user(office, TRIAL_USER, app=app, offset=offset)
    login = office.start_login()
    shown = login.submit_password(TRIAL_USER, TRIAL_PASSWORD)
    values = _policy_values(policy) | {"app": app.title}
    if shown.screen is None:  # pragma: no cover - a forced user without enrolment always sees the QR
        return Trial(**values, works=False, stage="login", outcome=shown.outcome.value, reason=shown.message,
                     app_settings="")
    try:
        scanned = device.scan(shown.screen.page_image())
    except (ScanError, UriError) as error:
        return Trial(**values, works=False, stage="scan", outcome="scan refused", reason=str(error), app_settings="")
    scanned = device.accept(scanned)          # the user says yes to what the app asks
    entry = scanned.entry
    settings = f"{entry.algorithm}/{entry.digits}/{entry.period} s"
    result = login.submit_code(device.code(TRIAL_USER))
    changed = "; ".join(str(a) for a in scanned.adjustments)
    if result.state is State.AUTHENTICATED:
        return Trial(**values, works=True, stage="done", outcome="enrolled", reason=changed or "all settings honoured",
                     app_settings=settings)
    reason = f"the back office rejected the app's code ({result.reason.value})"
    if changed:
        reason += f"; the app changed {changed}"
    elif (entry.algorithm, entry.digits, entry.period) == (policy.algorithm, policy.digits, policy.period):
        reason += "; the app kept every setting (a clock difference?)"
    return Trial(**values, works=False, stage="code", outcome="code rejected", reason=reason, app_settings=settings)


def policies(base: Policy | None = None, algorithms: Iterable[str] = ALGORITHMS, digits: Iterable[int] = DIGITS,
             periods: Iterable[int] = PERIODS) -> list[Policy]:
    """Every combination of the given values on top of ``base`` (the default policy)."""
    base = base or Policy()
    return [base.replace(algorithm=a, digits=d, period=p) for a, d, p in itertools.product(algorithms, digits, periods)]


def enrolment_trials(apps: Iterable[AppProfile | str] | None = None, *, base: Policy | None = None,
                     algorithms: Iterable[str] = ALGORITHMS, digits: Iterable[int] = DIGITS,
                     periods: Iterable[int] = PERIODS, **trial_options) -> pd.DataFrame:
    """One row per (policy, app) with the outcome of a real enrolment (see :func:`enrolment_trial`)."""
    profiles = [find_profile(a) for a in (apps if apps is not None else PROFILES.values())]
    rows = [asdict(enrolment_trial(policy, app, **trial_options))
            for policy in policies(base, algorithms, digits, periods) for app in profiles]
    frame = pd.DataFrame(rows, columns=list(Trial.__dataclass_fields__))
    frame.attrs["apps"] = [p.title for p in profiles]
    return frame


def compatibility_matrix(trials: pd.DataFrame | None = None, **options) -> pd.DataFrame:
    """Policy (algorithm, digits, period) x app: ``True`` where enrolment works.

    Pass the table from :func:`enrolment_trials`, or its options to run the trials here. The
    reason for each cell is in ``matrix.attrs["reasons"]`` (same shape).
    """
    if trials is None:
        trials = enrolment_trials(**options)
    elif options:
        raise TypeError("give either the trials or the options to run them, not both")
    apps = trials.attrs.get("apps") or list(dict.fromkeys(trials["app"]))
    matrix = trials.pivot(index=POLICY_COLUMNS, columns="app", values="works").reindex(columns=apps)
    reasons = trials.pivot(index=POLICY_COLUMNS, columns="app", values="reason").reindex(columns=apps)
    matrix = matrix.astype(bool)
    matrix.columns.name = "app"
    matrix.attrs["reasons"] = reasons
    return matrix


def version_matrix(app: str, **options) -> pd.DataFrame:
    """The matrix for every modelled version of one app, oldest first: does an upgrade (or a user
    who has not upgraded) change who can enrol? ``version_matrix("2fas", periods=(10, 30))``."""
    return compatibility_matrix(apps=versions_of(app), **options)


def style_matrix(matrix: pd.DataFrame):
    """The matrix coloured for a notebook: green "works", red "fails", the reason as a tooltip."""
    styler = (matrix.style
              .format(lambda works: "✓ works" if works else "✗ fails")
              .map(lambda works: f"background-color: {WORKS if works else FAILS}; color: #1f2933")
              .set_caption("Does enrolment work? (real first login: scan the page image, type the app's code)"))
    reasons = matrix.attrs.get("reasons")
    if reasons is not None:
        styler = styler.set_tooltips(reasons.reindex(index=matrix.index, columns=matrix.columns))
    return styler


def summary(matrix: pd.DataFrame) -> pd.DataFrame:
    """Per app: how many of the policies enrol, and which policy values always fail."""
    rows = []
    for app in matrix.columns:
        works = matrix[app]
        rows.append({"app": app, "policies that work": int(works.sum()), "of": len(works),
                     "works for": ", ".join(f"{a}/{d}/{p}s" for (a, d, p), ok in works.items() if ok) or "none"})
    return pd.DataFrame(rows).set_index("app")


__all__ = ["Trial", "enrolment_trial", "enrolment_trials", "policies", "compatibility_matrix", "style_matrix",
           "summary", "version_matrix", "ALGORITHMS", "DIGITS", "PERIODS"]
