"""What a product owner asks of a :class:`~twofa_sim.analysis.simulation.SimulationRun`: first-try success,
retries, lockouts, replays, time to get in; by clock offset, by app, side by side for policies, and
how far the two engines agree."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..apps.profiles import profile as find_profile
from ..core.errors import ValidationError
from ..core.policy import Policy

from .population import OUTCOME_INDEX, OUTCOMES, LoginOutcome, Population, PopulationParameters, default_parameters
from .simulation import LOGIN_COLUMNS, SimulationRun, simulate


# -- summaries --------------------------------------------------------------------------------


def summarise(run: SimulationRun) -> pd.Series:
    """The numbers a product owner asks for, for one run.

    ``first code accepted`` is the share of logins that reached the code prompt whose first code
    got in; ``retries`` counts codes typed after the first in a login; ``lockouts`` counts logins
    that set a lock, ``refused while locked`` those turned away at the password because of one.
    """
    f = run.logins
    out = f["outcome"].cat.codes.to_numpy()
    codes = f["codes"].to_numpy()
    tried = codes > 0
    signed = out == OUTCOME_INDEX[LoginOutcome.SIGNED_IN]
    locked = out == OUTCOME_INDEX[LoginOutcome.LOCKED_OUT]
    first = signed & (codes == 1)
    users = f["user"].to_numpy()
    n_users = run.population.n_users
    seconds = f["seconds"].to_numpy()[signed]
    per_outcome = np.bincount(out, minlength=len(OUTCOMES))

    def users_with(mask: np.ndarray) -> int:
        seen = np.zeros(n_users, dtype=bool)
        seen[users[mask]] = True
        return int(seen.sum())

    return pd.Series({
        "users": n_users,
        "logins": len(f),
        "first code accepted": float(first.sum() / max(int(tried.sum()), 1)),
        "signed in": float(signed.mean()) if len(f) else math.nan,
        "retries": int(np.clip(codes - 1, 0, None).sum()),
        "wrong codes": int(f["wrong"].to_numpy().sum()),
        "replays rejected": int(f["replays"].to_numpy().sum()),
        "malformed codes": int(f["malformed"].to_numpy().sum()),
        "gave up": int(per_outcome[OUTCOME_INDEX[LoginOutcome.GAVE_UP]]),
        "lockouts": int(per_outcome[OUTCOME_INDEX[LoginOutcome.LOCKED_OUT]]),
        "refused while locked": int(per_outcome[OUTCOME_INDEX[LoginOutcome.REFUSED_LOCKED_OUT]]),
        "expired": int(per_outcome[OUTCOME_INDEX[LoginOutcome.EXPIRED]]),
        "users ever locked": users_with(locked) / n_users,
        "users never enrolled": 1 - users_with(signed) / n_users,
        "median s to get in": float(np.median(seconds)) if seconds.size else math.nan,
        "95th pct s to get in": float(np.percentile(seconds, 95)) if seconds.size else math.nan,
    }, dtype=object, name=run.engine)


def compare_policies(population: Population, policies: dict[str, Policy], engine: str = "fast") -> pd.DataFrame:
    """One row of :func:`summarise` per named policy, all on the same population."""
    rows = {name: summarise(simulate(population, policy, engine)) for name, policy in policies.items()}
    frame = pd.DataFrame(rows).T.rename_axis("policy")
    return frame.infer_objects()


OFFSET_BINS = (-math.inf, -120, -60, -45, -30, -15, -5, 5, 15, 30, 45, 60, 120, math.inf)


def first_code_by_offset(run: SimulationRun, bins=OFFSET_BINS) -> pd.DataFrame:
    """Share of first codes accepted, by the device's clock offset (logins that reached the code prompt)."""
    f = run.logins
    tried = f["codes"].to_numpy() > 0
    offsets = run.population.offsets[f["user"].to_numpy()][tried]
    first = ((f["outcome"] == LoginOutcome.SIGNED_IN.value).to_numpy() & (f["codes"].to_numpy() == 1))[tried]
    labels = [_bin_label(lo, hi) for lo, hi in zip(bins[:-1], bins[1:])]
    which = pd.cut(offsets, bins=list(bins), labels=labels, right=False)
    g = pd.DataFrame({"offset": which, "first": first}).groupby("offset", observed=False)["first"]
    return pd.DataFrame({"logins": g.size(), "first code accepted": g.mean()}).rename_axis("clock offset (s)")


def _bin_label(lo: float, hi: float) -> str:
    if math.isinf(lo):
        return f"< {hi:g}"
    if math.isinf(hi):
        return f">= {lo:g}"
    return f"{lo:g} to {hi:g}"


def by_app(run: SimulationRun) -> pd.DataFrame:
    """Per authenticator app: users, first codes accepted, sign-ins, users who never enrolled."""
    f = run.logins
    users = run.population.users_frame()
    app = users["app"].to_numpy()[f["user"].to_numpy()]
    signed = (f["outcome"] == LoginOutcome.SIGNED_IN.value).to_numpy()
    codes = f["codes"].to_numpy()
    frame = pd.DataFrame({"app": pd.Categorical(app, categories=list(run.population.app_keys)),
                          "first": signed & (codes == 1), "tried": codes > 0, "signed": signed,
                          "user": f["user"].to_numpy()})
    g = frame.groupby("app", observed=False)
    enrolled = frame[frame["signed"]].groupby("app", observed=False)["user"].nunique()
    count = users.groupby("app", observed=False).size()
    return pd.DataFrame({
        "users": count,
        "first code accepted": g["first"].sum() / g["tried"].sum().clip(lower=1),
        "signed in": g["signed"].mean(),
        "never enrolled": 1 - enrolled / count.clip(lower=1),
    })


def enrolment_reach(matrix: pd.DataFrame, params: PopulationParameters | None = None) -> pd.Series:
    """Share of the population whose app enrols, per policy row of a compatibility matrix
    (:func:`twofa_sim.analysis.compatibility.compatibility_matrix`: policies x app titles, True where a real
    enrolment worked), weighted by the population's app mix."""
    params = params if params is not None else default_parameters()
    reach = pd.Series(0.0, index=matrix.index)
    for key, share in params.app_mix:
        title = find_profile(key).title
        if title not in matrix.columns:
            raise ValidationError("matrix", f"has no column for {title} (the population's app {key})")
        reach += share * matrix[title].astype(float)
    return reach.round(12).rename("users whose app enrols")     # shares of 1 sum to 0.9999999999999999


def agreement(fast: SimulationRun, exact: SimulationRun) -> pd.DataFrame:
    """Logins on which the two engines differ (empty when they agree on every login)."""
    a, b = fast.logins, exact.logins
    if len(a) != len(b):
        raise ValidationError("runs", "the runs are of different populations")
    same = np.ones(len(a), dtype=bool)
    for column in LOGIN_COLUMNS:
        x, y = a[column].to_numpy(), b[column].to_numpy()
        if column in ("seconds", "end"):
            x, y = x.astype(float), y.astype(float)
            same &= (x == y) | (np.isnan(x) & np.isnan(y))
        else:
            same &= x == y
    return pd.merge(a[~same], b[~same], left_index=True, right_index=True, suffixes=(" (fast)", " (exact)"))


__all__ = ["summarise", "compare_policies", "first_code_by_offset", "by_app", "enrolment_reach", "agreement"]
