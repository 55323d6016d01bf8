"""Population simulation: many users with their devices and habits, logging in day after day.

A :class:`Population` is drawn once from the distributions in ``data/population.yaml`` (each
with its source): per user a device clock offset and an authenticator app, per login the instant
of the password, how long the user takes to open the app, to type each code and to look again
after a refusal, and whether a code is mistyped. Two engines then play the same population under
a :class:`~twofa_sim.core.policy.Policy`:

* the **exact** engine (:func:`simulate_exact`) drives the real
  :class:`~twofa_sim.login.backoffice.BackOffice`: every user is created, every login goes through
  :class:`~twofa_sim.login.attempt.LoginAttempt`, every code is a real HMAC code computed by the user's
  app from the QR it scanned and its own (skewed) clock;
* the **fast** engine (:func:`simulate_fast`) computes the same outcomes with numpy on time steps:
  the app's step ``floor(whole_seconds(t + offset) / period)`` (the add-on rounds to the nearest
  second) against the server's window (centred on the drift when drift tracking is on), replay of
  a step not later than the last accepted one, failed codes counted across logins, the lock and
  its lapse, the code step's timeout, a code typed across a step boundary, and what each app made
  of the QR code (:func:`app_behaviour` lets the real app import it: kept, changed or refused).

The users behave the same in both: a login starts with the password (refused while locked); the
user reads the app's code ``open_delay`` later and the server receives it ``typing`` seconds after
that. After a refused code the user looks again after a ``pause``; after "already used" they wait
for the app's next code first; after ``attempts_per_login`` refused codes they give up until the
next login. A second login the same day starts a drawn gap after the first one ended.

Both return one row per login (:data:`LOGIN_COLUMNS`); :func:`summarise` turns a run into the
numbers a product owner asks for (first-try success, retries, lockouts, replays, time to get in).

The fast engine is exact up to HMAC coincidences it cannot see: a mistyped code (or an app's
code under the wrong algorithm) that happens to equal another code of the window, about one
chance in a million per such code.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import pathlib
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from ..apps.profiles import VERSIONS, AppProfile, TimeRounding, profile as find_profile
from ..apps.authenticator import AuthenticatorApp
from ..login.backoffice import BackOffice
from ..core.clock import Clock, iso, to_epoch
from ..apps.device import Device
from ..core.errors import TwofaSimError, ValidationError
from ..login.flow import Outcome, Reason
from ..core.policy import Policy
from ..apps.qr import provisioning_uri
from ..core.secret_source import SeededSecretSource

DATA_FILE = pathlib.Path(__file__).resolve().parents[2] / "data" / "population.yaml"
PASSWORD = "population pass 2026"
DAY = 86400.0
NO_STEP = np.iinfo(np.int64).min
POSITIONS = 840
"""Typo positions are drawn from ``0..839`` and taken modulo the code's length: uniform for codes
of 1 to 8 and 10 digits (840 is a multiple of each)."""


class LoginOutcome(enum.Enum):
    """How one login ended."""

    SIGNED_IN = "signed in"
    GAVE_UP = "gave up"
    LOCKED = "locked by this login"
    REFUSED_LOCKED = "refused: locked"
    EXPIRED = "code step expired"


OUTCOMES = tuple(LoginOutcome)
_OUT = {o: i for i, o in enumerate(OUTCOMES)}
PHASES = ("enrolment", "code")


class CodeKind(enum.IntEnum):
    """What an app's codes are to the server, before the window is looked at. A code whose
    length differs from the policy's digits is refused as malformed (not counted) either way."""

    MATCH = 0       # same algorithm, digits and period: right if its step is in the window
    WRONG = 1       # another algorithm, period or number of digits: never the server's code
    REFUSED = 2     # the app refuses the QR code: no entry, no code


# -- parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogNormal:
    """A positive delay: ``median * exp(sigma * Z)`` with Z standard normal."""

    median: float
    sigma: float

    def draw(self, rng: np.random.Generator, size) -> np.ndarray:
        return self.median * np.exp(self.sigma * rng.standard_normal(size))


@dataclass(frozen=True)
class PopulationParameters:
    """The distributions a population is drawn from (``data/population.yaml``)."""

    synced_share: float = 0.90
    synced_sd: float = 0.5
    loose_share: float = 0.09
    loose_sd: float = 15.0
    far_share: float = 0.01
    far_offset: float = 3600.0
    far_sd: float = 0.5
    open_app: LogNormal = LogNormal(8.0, 0.5)
    typing: LogNormal = LogNormal(5.0, 0.4)
    retry_pause: LogNormal = LogNormal(3.0, 0.5)
    substitution: float = 0.02
    omission: float = 0.005
    attempts_per_login: int = 3
    relogin_share: float = 0.03
    relogin_gap: LogNormal = LogNormal(40.0, 0.6)
    start_hour: float = 8.0
    end_hour: float = 18.0
    app_mix: tuple[tuple[str, float], ...] = (("reference", 1.0),)
    sources: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, problem: str) -> None:
            if not ok:
                raise ValidationError(f"population.{name}", problem)

        for name in ("synced_share", "loose_share", "far_share", "substitution", "omission", "relogin_share"):
            value = getattr(self, name)
            need(isinstance(value, (int, float)) and 0 <= value <= 1, name,
                 f"must be a share from 0 to 1, got {value!r}")
        need(abs(self.synced_share + self.loose_share + self.far_share - 1) < 1e-9, "clock_offset",
             "the shares of synced, loose and far devices must add up to 1")
        need(self.substitution + self.omission <= 1, "typos", "substitution and omission together exceed 1")
        for name in ("synced_sd", "loose_sd", "far_sd", "far_offset"):
            value = getattr(self, name)
            need(isinstance(value, (int, float)) and math.isfinite(value) and value >= 0, name,
                 f"must be a finite number of seconds, at least 0, got {value!r}")
        for name in ("open_app", "typing", "retry_pause", "relogin_gap"):
            d = getattr(self, name)
            need(d.median > 0 and d.sigma >= 0 and math.isfinite(d.median) and math.isfinite(d.sigma), name,
                 f"needs a positive median and a sigma of at least 0, got {d}")
        need(isinstance(self.attempts_per_login, int) and 1 <= self.attempts_per_login <= 20, "attempts_per_login",
             f"must be a whole number from 1 to 20, got {self.attempts_per_login!r}")
        need(0 <= self.start_hour < self.end_hour <= 24, "working_hours", "need 0 <= start_hour < end_hour <= 24")
        need(len(self.app_mix) > 0, "app_mix", "needs at least one app")
        for key, share in self.app_mix:
            need(key in VERSIONS, "app_mix", f"no app profile {key!r} (known: {', '.join(VERSIONS)})")
            need(share >= 0, "app_mix", f"share of {key} must be at least 0")
        need(abs(sum(s for _, s in self.app_mix) - 1) < 1e-9, "app_mix", "the app shares must add up to 1")

    @classmethod
    def load(cls, path: str | pathlib.Path | None = None) -> "PopulationParameters":
        """The parameters in ``data/population.yaml`` (or another file of the same shape)."""
        path = pathlib.Path(path) if path is not None else DATA_FILE
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            c = data["clock_offset"]
            relogin = data["relogin"]
            return cls(
                synced_share=c["synced"]["share"], synced_sd=c["synced"]["sd_seconds"],
                loose_share=c["loose"]["share"], loose_sd=c["loose"]["sd_seconds"],
                far_share=c["far"]["share"], far_offset=c["far"]["offset_seconds"], far_sd=c["far"]["sd_seconds"],
                open_app=_lognormal(data["open_app_delay"]), typing=_lognormal(data["typing_delay"]),
                retry_pause=_lognormal(data["retry_pause"]),
                substitution=data["typos"]["substitution"], omission=data["typos"]["omission"],
                attempts_per_login=data["attempts_per_login"]["value"],
                relogin_share=relogin["share"],
                relogin_gap=LogNormal(relogin["gap_median_seconds"], relogin["gap_sigma"]),
                start_hour=data["working_hours"]["start_hour"], end_hour=data["working_hours"]["end_hour"],
                app_mix=tuple(data["app_mix"]["shares"].items()),
                sources=tuple(_sources(data)),
            )
        except (KeyError, TypeError) as error:
            raise ValidationError(str(path.name), f"missing or malformed entry: {error}") from None

    def replace(self, **changes) -> "PopulationParameters":
        """A copy with some parameters changed (``loose_sd`` is the skew spread)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValidationError(f"population.{unknown[0]}", f"no such parameter (known: {', '.join(sorted(known))})")
        return dataclasses.replace(self, **changes)

    def to_frame(self) -> pd.DataFrame:
        """The parameters as a table, with where each comes from."""
        sources = dict(self.sources)
        rows = [
            ("clock offset: synced devices", f"{self.synced_share:.0%}, normal sd {self.synced_sd:g} s",
             "clock_offset.synced"),
            ("clock offset: loose devices", f"{self.loose_share:.0%}, normal sd {self.loose_sd:g} s",
             "clock_offset.loose"),
            ("clock offset: far off", f"{self.far_share:.0%}, ±{self.far_offset:g} s (sd {self.far_sd:g} s)",
             "clock_offset.far"),
            ("password to reading the code", _describe(self.open_app), "open_app_delay"),
            ("reading to the server receiving it", _describe(self.typing), "typing_delay"),
            ("pause after a refused code", _describe(self.retry_pause), "retry_pause"),
            ("typos per code", f"substituted digit {self.substitution:.1%}, dropped digit {self.omission:.1%}",
             "typos"),
            ("codes tried per login", f"{self.attempts_per_login}", "attempts_per_login"),
            ("second login the same day",
             f"{self.relogin_share:.0%}, {_describe(self.relogin_gap)} after the first ends", "relogin"),
            ("time of the daily login", f"uniform {self.start_hour:g}:00 to {self.end_hour:g}:00 UTC", "working_hours"),
            ("authenticator apps", ", ".join(f"{k} {s:.0%}" for k, s in self.app_mix), "app_mix"),
        ]
        return pd.DataFrame([{"parameter": p, "value": v, "source": sources.get(k, "")} for p, v, k in rows]
                            ).set_index("parameter")


def _lognormal(entry: dict) -> LogNormal:
    return LogNormal(float(entry["median_seconds"]), float(entry["sigma"]))


def _describe(d: LogNormal) -> str:
    low, high = d.median / math.exp(2 * d.sigma), d.median * math.exp(2 * d.sigma)
    return f"log-normal, median {d.median:g} s (95 % within {low:.1f} to {high:.1f} s)"


def _sources(data: dict):
    for key, entry in data.items():
        if isinstance(entry, dict):
            if "source" in entry:
                yield key, " ".join(str(entry["source"]).split())
            for sub, inner in entry.items():
                if isinstance(inner, dict) and "source" in inner:
                    yield f"{key}.{sub}", " ".join(str(inner["source"]).split())


def default_parameters() -> PopulationParameters:
    """The parameters of ``data/population.yaml``."""
    return PopulationParameters.load()


# -- the drawn population ---------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Population:
    """Users and their logins, drawn once; both engines play exactly these draws.

    Logins are stored flat in round order (round = day * 2 + slot; slot 0 is the daily login,
    slot 1 a second login the same day) and ``round_bounds[r]:round_bounds[r + 1]`` is round r.
    ``when`` is the password instant of a daily login, and for a second login the gap after the
    first one ended. Per login and attempt: ``typing`` (reading to submitting), ``pause`` (refusal
    to looking again), ``typo`` (0 none, 1 substituted digit, 2 dropped digit) with ``typo_pos``
    and ``typo_shift`` saying which digit and by how much.
    """

    params: PopulationParameters
    seed: int
    days: int
    start: float
    component: np.ndarray
    offset_z: np.ndarray
    far_sign: np.ndarray
    app: np.ndarray
    app_keys: tuple[str, ...]
    login_user: np.ndarray
    login_day: np.ndarray
    login_slot: np.ndarray
    round_bounds: np.ndarray
    when: np.ndarray
    open_delay: np.ndarray
    typing: np.ndarray
    pause: np.ndarray
    typo: np.ndarray
    typo_pos: np.ndarray
    typo_shift: np.ndarray
    fixed_offsets: np.ndarray | None = None

    @property
    def n_users(self) -> int:
        return len(self.app)

    @property
    def n_logins(self) -> int:
        return len(self.login_user)

    @property
    def offsets(self) -> np.ndarray:
        """Device clock minus server clock, seconds, per user (from the current parameters)."""
        if self.fixed_offsets is not None:
            return self.fixed_offsets
        p = self.params
        synced = self.offset_z * p.synced_sd
        loose = self.offset_z * p.loose_sd
        far = self.far_sign * p.far_offset + self.offset_z * p.far_sd
        return np.where(self.component == 0, synced, np.where(self.component == 1, loose, far))

    def with_parameters(self, **changes) -> "Population":
        """The same draws under changed clock-offset parameters (``loose_sd`` is the skew spread).

        Offsets are stored as standard normal draws and a mixture component, so a new spread is
        a multiplication, not a new population. Parameters that shape the other draws (delays,
        typos, shares) need a new :func:`draw_population`.
        """
        allowed = {"synced_sd", "loose_sd", "far_offset", "far_sd"}
        other = sorted(set(changes) - allowed)
        if other:
            raise ValidationError(f"population.{other[0]}", f"only {', '.join(sorted(allowed))} can change "
                                  "without drawing a new population")
        return dataclasses.replace(self, params=self.params.replace(**changes))

    def users_frame(self) -> pd.DataFrame:
        """One row per user: the app and the device clock offset."""
        return pd.DataFrame({"user": np.arange(self.n_users),
                             "app": pd.Categorical.from_codes(self.app, categories=list(self.app_keys)),
                             "clock offset (s)": self.offsets,
                             "device": pd.Categorical.from_codes(self.component.astype(np.int8),
                                                                 categories=["synced", "loose", "far"])}
                            ).set_index("user")

    def __repr__(self) -> str:
        return (f"Population({self.n_users} users, {self.days} days, {self.n_logins} logins, "
                f"from {iso(self.start)} UTC, seed {self.seed})")


def draw_population(n_users: int, days: int = 5, params: PopulationParameters | None = None, *,
                    seed: int = 0, start: str | float = "2026-01-05T00:00:00Z") -> Population:
    """Draw ``n_users`` users and their logins over ``days`` days (day 0 is their first login)."""
    if not isinstance(n_users, int) or isinstance(n_users, bool) or n_users < 1:
        raise ValidationError("n_users", f"must be a positive whole number, got {n_users!r}")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
        raise ValidationError("days", f"must be a whole number from 1 to 3650, got {days!r}")
    p = params if params is not None else default_parameters()
    rng = np.random.default_rng(seed)
    origin = to_epoch(start, field="start")
    n = n_users

    component = rng.choice(3, size=n, p=[p.synced_share, p.loose_share, p.far_share]).astype(np.int8)
    offset_z = rng.standard_normal(n)
    far_sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    keys = tuple(k for k, _ in p.app_mix)
    app = rng.choice(len(keys), size=n, p=[s for _, s in p.app_mix]).astype(np.int16)

    relogin = rng.random((days, n)) < p.relogin_share
    counts = np.where(np.arange(2 * days) % 2 == 0, n, 0)
    counts[1::2] = relogin.sum(axis=1)
    bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    total = int(bounds[-1])
    login_user = np.empty(total, dtype=np.int64)
    when = np.empty(total)
    everyone = np.arange(n, dtype=np.int64)
    hours = (p.end_hour - p.start_hour) * 3600.0
    for d in range(days):
        a, b, c = bounds[2 * d], bounds[2 * d + 1], bounds[2 * d + 2]
        login_user[a:b] = everyone
        when[a:b] = origin + d * DAY + p.start_hour * 3600.0 + rng.random(n) * hours
        login_user[b:c] = np.flatnonzero(relogin[d])
        when[b:c] = p.relogin_gap.draw(rng, c - b)
    rounds = np.repeat(np.arange(2 * days), counts)
    attempts = p.attempts_per_login
    open_delay = p.open_app.draw(rng, total)
    typing = p.typing.draw(rng, (total, attempts))
    pause = p.retry_pause.draw(rng, (total, attempts))
    u = rng.random((total, attempts))
    typo = np.where(u < p.substitution, 1, np.where(u < p.substitution + p.omission, 2, 0)).astype(np.int8)
    typo_pos = rng.integers(0, POSITIONS, size=(total, attempts), dtype=np.int16)
    typo_shift = rng.integers(1, 10, size=(total, attempts), dtype=np.int8)
    return Population(p, seed, days, origin, component, offset_z, far_sign, app, keys, login_user,
                      (rounds // 2).astype(np.int32), (rounds % 2).astype(np.int8), bounds, when, open_delay,
                      typing, pause, typo, typo_pos, typo_shift)


def scripted_population(offsets, apps, password_at, *, users=None, read_after=5.0, typing=2.0, pause=3.0,
                        typos=0, attempts: int = 3, start: str | float = "2026-01-05T00:00:00Z") -> Population:
    """A population written by hand, for stating a rule with chosen instants (tests, notebooks).

    User ``i`` has clock offset ``offsets[i]`` and app ``apps[i]``. Login ``j`` is at
    ``password_at[j]`` seconds after ``start``, by user ``users[j]`` (default: login ``i`` is
    user ``i``'s only login); logins are played in the order given. ``read_after``, ``typing``,
    ``pause`` and ``typos`` are one number for all, one value per login, or one row of
    ``attempts`` values per login.
    """
    offsets = np.asarray(offsets, dtype=float)
    n = len(offsets)
    apps = list(apps)
    when = np.atleast_1d(np.asarray(password_at, dtype=float))
    count = len(when)
    who = np.arange(count) if users is None else np.asarray(users, dtype=np.int64)
    if len(apps) != n or len(who) != count or (who.size and (who.min() < 0 or who.max() >= n)):
        raise ValidationError("population", "need one offset and app per user, and one user per login")
    keys = tuple(dict.fromkeys(apps))
    for key in keys:
        find_profile(key)
    origin = to_epoch(start, field="start")

    def per_attempt(value, dtype):
        value = np.asarray(value, dtype=dtype)
        return np.broadcast_to(value.reshape(-1, 1) if value.ndim == 1 else value, (count, attempts)).copy()

    params = PopulationParameters(attempts_per_login=attempts, app_mix=tuple((k, 1 / len(keys)) for k in keys))
    bounds = np.repeat(np.arange(count + 1, dtype=np.int64), 2)[1:]       # one day per login, no second logins
    return Population(
        params, 0, count, origin, np.zeros(n, dtype=np.int8), np.zeros(n), np.ones(n),
        np.array([keys.index(a) for a in apps], dtype=np.int16), keys,
        who.astype(np.int64), np.arange(count, dtype=np.int32), np.zeros(count, dtype=np.int8), bounds,
        origin + when, np.broadcast_to(np.asarray(read_after, dtype=float), (count,)).copy(),
        per_attempt(typing, float), per_attempt(pause, float), per_attempt(typos, np.int8),
        np.zeros((count, attempts), dtype=np.int16), np.ones((count, attempts), dtype=np.int8), offsets)


# -- what an app makes of the policy's QR -------------------------------------------------------


def app_clock_offsets(population: Population) -> np.ndarray:
    """How far each user's app is off the reference clock: the device's offset, except for apps
    that set their clock by NTP whenever they start (2FAS), which run on the right time (within a
    millisecond, taken as 0 so that both engines play exactly the same clocks)."""
    ntp = np.array([find_profile(k).corrects_automatically for k in population.app_keys], dtype=bool)
    return np.where(ntp[population.app], 0.0, population.offsets)


def with_app_version(params: "PopulationParameters", app: str, version: str) -> "PopulationParameters":
    """The same parameters with every user of one app on another version of it
    (``with_app_version(params, "2fas", "2fas@5.0")``): compare versions in the what-ifs."""
    target = find_profile(version)
    if find_profile(app).app != target.app:
        raise ValidationError("version", f"{target.title} is not a version of {find_profile(app).name}")
    if app not in dict(params.app_mix):
        raise ValidationError("app", f"{app!r} is not in the app mix ({', '.join(k for k, _ in params.app_mix)})")
    mix = tuple((target.key if key == app else key, share) for key, share in params.app_mix)
    return dataclasses.replace(params, app_mix=mix)


@dataclass(frozen=True)
class AppBehaviour:
    """What one app does with the policy's QR code, as the fast engine needs it."""

    key: str
    kind: CodeKind
    digits: int
    period: int
    nearest: bool
    detail: str = ""


def app_behaviour(app: str | AppProfile, policy: Policy) -> AppBehaviour:
    """Let the real app import the Key URI the back office shows under ``policy``: the entry it
    makes says which algorithm, digits and period its codes will really have."""
    prof = find_profile(app)
    nearest = prof.time_rounding is TimeRounding.NEAREST
    uri = provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "someone", policy)
    try:
        app = AuthenticatorApp(prof)
        imported = app.accept(app.scan_uri(uri, 0.0))
    except TwofaSimError as error:
        return AppBehaviour(prof.key, CodeKind.REFUSED, policy.digits, policy.period, nearest, str(error))
    e = imported.entry
    same = (e.algorithm, e.digits, e.period) == (policy.algorithm, policy.digits, policy.period)
    detail = "; ".join(str(a) for a in imported.adjustments)
    return AppBehaviour(prof.key, CodeKind.MATCH if same else CodeKind.WRONG, e.digits, e.period, nearest, detail)


def _whole_seconds_vector(nearest: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The apps' clocks in whole seconds, each rounded as its profile says: down (RFC 6238) or
    to the nearest second, halves up (the add-on's ``Math.round``)."""
    return np.where(nearest, np.floor(t + 0.5), np.floor(t))


# -- the fast engine --------------------------------------------------------------------------


LOGIN_COLUMNS = ["user", "day", "slot", "phase", "outcome", "codes", "wrong", "replays", "malformed",
                 "step", "seconds", "end"]


@dataclass
class Run:
    """One engine's play of a population under a policy."""

    engine: str
    policy: Policy
    population: Population
    logins: pd.DataFrame
    seconds: float
    code_steps: int = 0
    code_step_seconds: float = 0.0
    office: BackOffice | None = field(default=None, repr=False)

    def summary(self) -> pd.Series:
        """The numbers of :func:`summarise`."""
        return summarise(self)

    def __repr__(self) -> str:
        return f"Run({self.engine}, {len(self.logins)} logins, {self.population.n_users} users)"


def simulate_fast(population: Population, policy: Policy | None = None) -> Run:
    """All logins of ``population`` under ``policy`` with numpy: one pass per round and attempt."""
    started = time.perf_counter()
    policy = policy or Policy()
    pop = population
    n, A = pop.n_users, pop.params.attempts_per_login
    behaviours = [app_behaviour(k, policy) for k in pop.app_keys]
    kind_of = np.array([b.kind for b in behaviours], dtype=np.int8)[pop.app]
    period_of = np.array([b.period for b in behaviours], dtype=np.int64)[pop.app]
    digits_of = np.array([b.digits for b in behaviours], dtype=np.int64)[pop.app]
    nearest_of = np.array([b.nearest for b in behaviours], dtype=bool)[pop.app]
    offset = app_clock_offsets(pop)
    P, w = policy.period, policy.window
    limit, lock_s, timeout = policy.failed_code_limit, float(policy.lock_seconds), float(policy.code_step_timeout)
    replay_on, drift_on = policy.replay_protection, policy.drift_tracking

    enrolled = np.zeros(n, dtype=bool)
    failures = np.zeros(n, dtype=np.int64)
    locked_until = np.full(n, np.nan)
    last_used = np.full(n, NO_STEP, dtype=np.int64)
    drift = np.zeros(n, dtype=np.int64)
    prev_end = np.zeros(n)

    L = pop.n_logins
    out_outcome = np.empty(L, dtype=np.int8)
    out_phase = np.empty(L, dtype=np.int8)
    out_codes = np.zeros(L, dtype=np.int16)
    out_wrong = np.zeros(L, dtype=np.int16)
    out_replays = np.zeros(L, dtype=np.int16)
    out_malformed = np.zeros(L, dtype=np.int16)
    out_step = np.full(L, -1, dtype=np.int64)
    out_seconds = np.full(L, np.nan)
    out_end = np.empty(L)

    for r in range(len(pop.round_bounds) - 1):
        a, b = int(pop.round_bounds[r]), int(pop.round_bounds[r + 1])
        if a == b:
            continue
        users = pop.login_user[a:b]
        tpw = pop.when[a:b] if r % 2 == 0 else prev_end[users] + pop.when[a:b]
        lu = locked_until[users]
        refused = tpw < lu                                     # NaN compares False: not locked
        out_phase[a:b] = np.where(enrolled[users], 1, 0)
        out_outcome[a:b] = np.where(refused, _OUT[LoginOutcome.REFUSED_LOCKED], -1)
        out_end[a:b] = tpw
        live = np.flatnonzero(~refused)                        # positions within the round
        deadline = tpw + timeout
        t_read = tpw + pop.open_delay[a:b]
        # an app that refused the QR gives nothing to type: the user gives up at once
        no_app = kind_of[users[live]] == CodeKind.REFUSED
        gone = live[no_app]
        out_outcome[a + gone] = _OUT[LoginOutcome.GAVE_UP]
        out_end[a + gone] = t_read[gone]
        live = live[~no_app]
        for k in range(A):
            if live.size == 0:
                break
            rows = a + live
            u = users[live]
            tr = t_read[live]
            ts = tr + pop.typing[rows, k]
            timed = ts >= deadline[live]
            if timed.any():
                out_outcome[rows[timed]] = _OUT[LoginOutcome.EXPIRED]
                out_end[rows[timed]] = ts[timed]
                keep = ~timed
                live, rows, u, tr, ts = live[keep], rows[keep], u[keep], tr[keep], ts[keep]
            out_codes[rows] += 1
            lu = locked_until[u]
            lapsed = ts >= lu
            if lapsed.any():
                failures[u[lapsed]] = 0
                locked_until[u[lapsed]] = np.nan
            kind = kind_of[u]
            typo = pop.typo[rows, k]
            malformed = digits_of[u] - (typo == 2) != policy.digits
            candidate = (kind == CodeKind.MATCH) & (typo == 0)
            s_app = np.floor_divide(_whole_seconds_vector(nearest_of[u], tr + offset[u]), period_of[u]).astype(np.int64)
            centre = drift[u] if drift_on else 0
            s_server = np.floor(ts).astype(np.int64) // P + centre
            match = candidate & (np.abs(s_app - s_server) <= w)
            replay = match & (s_app <= last_used[u]) if replay_on else np.zeros_like(match)
            accept = match & ~replay
            failed = ~accept & ~malformed
            out_malformed[rows] += malformed
            out_replays[rows] += replay
            out_wrong[rows] += failed & ~replay
            # failures and locks
            fu = u[failed]
            failures[fu] += 1
            locks = np.zeros_like(failed)
            locks[failed] = failures[fu] >= limit
            if locks.any():
                locked_until[u[locks]] = ts[locks] + lock_s
                out_outcome[rows[locks]] = _OUT[LoginOutcome.LOCKED]
                out_end[rows[locks]] = ts[locks]
            # accepted codes
            if accept.any():
                au, arows = u[accept], rows[accept]
                last_used[au] = s_app[accept]
                failures[au] = 0
                if drift_on:
                    drift[au] = s_app[accept] - np.floor(ts[accept]).astype(np.int64) // P
                enrolled[au] = True
                out_outcome[arows] = _OUT[LoginOutcome.SIGNED_IN]
                out_step[arows] = s_app[accept]
                out_seconds[arows] = ts[accept] - tpw[live[accept]]
                out_end[arows] = ts[accept]
            # refused but not locked: look again, or give up after the last attempt
            again = ~accept & ~locks
            if k == A - 1:
                out_outcome[rows[again]] = _OUT[LoginOutcome.GAVE_UP]
                out_end[rows[again]] = ts[again]
                break
            nxt = ts + pop.pause[rows, k]
            if replay.any():
                change = (s_app + 1) * period_of[u] - np.where(nearest_of[u], 0.5, 0.0) - offset[u]
                nxt = np.where(replay, np.maximum(ts, change) + pop.pause[rows, k], nxt)
            t_read[live[again]] = nxt[again]
            live = live[again]
        prev_end[users] = out_end[a:b]

    frame = _frame(pop, out_phase, out_outcome, out_codes, out_wrong, out_replays, out_malformed, out_step,
                   out_seconds, out_end)
    return Run("fast", policy, pop, frame, time.perf_counter() - started)


def _frame(pop, phase, outcome, codes, wrong, replays, malformed, step, seconds, end) -> pd.DataFrame:
    return pd.DataFrame({
        "user": pop.login_user, "day": pop.login_day, "slot": pop.login_slot,
        "phase": pd.Categorical.from_codes(phase, categories=list(PHASES)),
        "outcome": pd.Categorical.from_codes(outcome, categories=[o.value for o in OUTCOMES]),
        "codes": codes, "wrong": wrong, "replays": replays, "malformed": malformed,
        "step": step, "seconds": seconds, "end": end,
    })


# -- the exact engine -------------------------------------------------------------------------


def _typed(code: str, typo: int, pos: int, shift: int) -> str:
    """What the user types: the code, or one digit substituted (typo 1) or dropped (typo 2)."""
    if typo == 0:
        return code
    i = pos % len(code)
    if typo == 1:
        return code[:i] + str((int(code[i]) + shift) % 10) + code[i + 1:]
    return code[:i] + code[i + 1:]


def simulate_exact(population: Population, policy: Policy | None = None, *, scan: str = "text",
                   progress: Callable[[int, int], None] | None = None, progress_every: int = 500,
                   trace: list | None = None) -> Run:
    """All logins of ``population`` through the real back office and the users' devices.

    Every user is created with "Force 2 factor auth." ticked and gets a
    :class:`~twofa_sim.apps.device.Device` with their app and clock offset. At an enrolment login the
    device imports the QR code: its text (``scan="text"``, the default) or the pixels of the
    page (``scan="pixels"``, about 5 ms a scan); a duplicate the app asks about is replaced.
    The code typed is the device's code at the moment the user reads it, with the drawn typo.

    ``progress(done, total)`` is called every ``progress_every`` logins and at the end. The time
    spent inside :meth:`~twofa_sim.login.attempt.LoginAttempt.submit_code` is measured on its own
    (``Run.code_step_seconds``): the password step's cost is the KDF setting (``kdf_log2_n``),
    which large runs lower. ``trace``, when a list, receives ``(username, typed code, instant)``
    for every code submitted (for benchmarks).
    """
    if scan not in ("text", "pixels"):
        raise ValidationError("scan", f"must be 'text' or 'pixels', got {scan!r}")
    started = time.perf_counter()
    policy = policy or Policy()
    pop = population
    clock = Clock.at(pop.start)
    office = BackOffice(policy, clock, SeededSecretSource(pop.seed))
    office.create_company("Population")
    names = [f"user{i:06d}" for i in range(pop.n_users)]
    offsets = app_clock_offsets(pop)
    devices = []
    for i, name in enumerate(names):
        office.create_user(name, PASSWORD, force_2fa=True)
        devices.append(Device.for_user(office, name, app=pop.app_keys[pop.app[i]], offset=float(offsets[i])))
    A = pop.params.attempts_per_login
    L = pop.n_logins
    cols = {c: [0] * L for c in ("phase", "outcome", "codes", "wrong", "replays", "malformed", "step",
                                  "seconds", "end")}
    prev_end = [0.0] * pop.n_users
    code_time, code_steps = 0.0, 0
    perf = time.perf_counter

    for j in range(L):
        i = int(pop.login_user[j])
        name, device = names[i], devices[i]
        when = float(pop.when[j])
        tpw = when if pop.login_slot[j] == 0 else prev_end[i] + when
        clock.set(tpw)
        phase = "code" if office.user(name).enrolment.is_enrolled else "enrolment"
        login = office.start_login()
        result = login.submit_password(name, PASSWORD)
        counts = {"codes": 0, "wrong": 0, "replays": 0, "malformed": 0}
        step, seconds, end = -1, math.nan, tpw
        outcome = None
        if result.outcome is Outcome.IS_LOCKED:
            outcome = LoginOutcome.REFUSED_LOCKED
        elif result.outcome not in (Outcome.NEEDS_ENROLMENT, Outcome.NEEDS_CODE):
            raise AssertionError(f"unexpected answer to the password: {result.outcome}")
        t_read = tpw + float(pop.open_delay[j])
        if outcome is None and result.screen is not None:
            try:
                imported = (device.app.scan_uri(result.screen.uri, device.now()) if scan == "text"
                            else device.scan(result.screen.page_image()))
                if imported.needs_confirmation:
                    device.accept(imported)
            except TwofaSimError:
                outcome, end = LoginOutcome.GAVE_UP, t_read
        if outcome is None and not device.app.entries:
            outcome, end = LoginOutcome.GAVE_UP, t_read
        k = 0
        while outcome is None:
            ts = t_read + float(pop.typing[j, k])
            clock.set(t_read)
            shown = device.code()
            typed = _typed(shown, int(pop.typo[j, k]), int(pop.typo_pos[j, k]), int(pop.typo_shift[j, k]))
            clock.set(ts)
            if trace is not None:
                trace.append((name, typed, ts))
            t0 = perf()
            res = login.submit_code(typed)
            code_time += perf() - t0
            code_steps += 1
            if res.outcome is Outcome.TIMED_OUT:
                outcome, end = LoginOutcome.EXPIRED, ts
                break
            counts["codes"] += 1
            if res.reason is Reason.MALFORMED:
                counts["malformed"] += 1
            elif res.reason is Reason.REPLAY:
                counts["replays"] += 1
            elif res.reason is Reason.WRONG_CODE:
                counts["wrong"] += 1
            if res.outcome is Outcome.ACCEPTED:
                outcome, step, seconds, end = LoginOutcome.SIGNED_IN, res.step, ts - tpw, ts
            elif res.outcome is Outcome.LOCKS:
                outcome, end = LoginOutcome.LOCKED, ts
            elif res.outcome is not Outcome.REJECTED:
                raise AssertionError(f"unexpected answer to a code: {res.outcome}")
            elif k == A - 1:
                outcome, end = LoginOutcome.GAVE_UP, ts
            else:
                pause = float(pop.pause[j, k])
                if res.reason is Reason.REPLAY:
                    # "Wait for the next code in your app": the user waits until the app's code changes
                    clock.set(t_read)
                    change = device.app.next_change(device.entry(), device.now()) - device.offset
                    t_read = max(ts, change) + pause
                else:
                    t_read = ts + pause
                k += 1
        prev_end[i] = end
        cols["phase"][j], cols["outcome"][j] = PHASES.index(phase), _OUT[outcome]
        for c, v in counts.items():
            cols[c][j] = v
        cols["step"][j], cols["seconds"][j], cols["end"][j] = step, seconds, end
        if progress is not None and (j + 1) % progress_every == 0:
            progress(j + 1, L)
    if progress is not None:
        progress(L, L)
    frame = _frame(pop, np.array(cols["phase"], dtype=np.int8), np.array(cols["outcome"], dtype=np.int8),
                   np.array(cols["codes"], dtype=np.int16), np.array(cols["wrong"], dtype=np.int16),
                   np.array(cols["replays"], dtype=np.int16), np.array(cols["malformed"], dtype=np.int16),
                   np.array(cols["step"], dtype=np.int64), np.array(cols["seconds"], dtype=float),
                   np.array(cols["end"], dtype=float))
    return Run("exact", policy, pop, frame, time.perf_counter() - started, code_steps, code_time, office)


def simulate(population: Population, policy: Policy | None = None, engine: str = "fast", **options) -> Run:
    """Play ``population`` under ``policy`` with the ``"fast"`` or the ``"exact"`` engine."""
    if engine == "fast":
        return simulate_fast(population, policy)
    if engine == "exact":
        return simulate_exact(population, policy, **options)
    raise ValidationError("engine", f"must be 'fast' or 'exact', got {engine!r}")


# -- summaries --------------------------------------------------------------------------------


def summarise(run: Run) -> pd.Series:
    """The numbers a product owner asks for, for one run.

    ``first code accepted`` is the share of logins that reached the code step whose first code
    got in; ``retries`` counts codes typed after the first in a login; ``lockouts`` counts logins
    that set a lock, ``refused while locked`` those turned away at the password because of one.
    """
    f = run.logins
    out = f["outcome"].cat.codes.to_numpy()
    codes = f["codes"].to_numpy()
    tried = codes > 0
    signed = out == _OUT[LoginOutcome.SIGNED_IN]
    locked = out == _OUT[LoginOutcome.LOCKED]
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
        "gave up": int(per_outcome[_OUT[LoginOutcome.GAVE_UP]]),
        "lockouts": int(per_outcome[_OUT[LoginOutcome.LOCKED]]),
        "refused while locked": int(per_outcome[_OUT[LoginOutcome.REFUSED_LOCKED]]),
        "expired": int(per_outcome[_OUT[LoginOutcome.EXPIRED]]),
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


def first_code_by_offset(run: Run, bins=OFFSET_BINS) -> pd.DataFrame:
    """Share of first codes accepted, by the device's clock offset (logins that reached the code step)."""
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


def by_app(run: Run) -> pd.DataFrame:
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


def agreement(fast: Run, exact: Run) -> pd.DataFrame:
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


__all__ = ["PopulationParameters", "LogNormal", "Population", "draw_population", "scripted_population",
           "default_parameters", "LoginOutcome", "CodeKind", "AppBehaviour", "app_behaviour", "Run", "simulate",
           "simulate_fast", "simulate_exact", "summarise", "compare_policies", "first_code_by_offset", "by_app",
           "enrolment_reach", "agreement", "app_clock_offsets", "with_app_version", "LOGIN_COLUMNS", "DATA_FILE"]
