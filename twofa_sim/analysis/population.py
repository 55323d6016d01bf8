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
  its lapse, the code prompt's timeout, a code typed across a step boundary, and what each app made
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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from ..apps.profiles import VERSIONS, AppProfile, TimeRounding, profile as find_profile
from ..apps.authenticator import AuthenticatorApp
from ..core.clock import iso, to_epoch
from ..core.errors import TwofaSimError, ValidationError
from ..core.policy import Policy
from ..apps.qr import provisioning_uri

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
    LOCKED_OUT = "locked by this login"
    REFUSED_LOCKED_OUT = "refused: locked"
    EXPIRED = "code prompt expired"


OUTCOMES = tuple(LoginOutcome)
OUTCOME_INDEX = {o: i for i, o in enumerate(OUTCOMES)}
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


def whole_seconds_vector(nearest: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The apps' clocks in whole seconds, each rounded as its profile says: down (RFC 6238) or
    to the nearest second, halves up (the add-on's ``Math.round``)."""
    return np.where(nearest, np.floor(t + 0.5), np.floor(t))
