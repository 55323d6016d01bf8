"""How far an attacker who knows a user's password gets by guessing codes, per lockout schedule.

The attacker types a random code every ``interval`` seconds, as fast as the schedule lets them.
Each guess succeeds with probability ``p = (2 * window + 1) / 10**digits`` (the accepted window
holds ``2 * window + 1`` codes; two of them coinciding, about one chance in a million, is ignored).
Two independent answers stand side by side:

* **closed form**: a formula per schedule for the number of guesses ``n(T)`` possible by time
  ``T``, and ``P(T) = 1 - (1 - p) ** n(T)``;
* **simulation**: a rules engine enacts the schedule guess by guess (for our policy, the real
  :class:`~twofa_sim.login.backoffice.BackOffice`: logins, code checks, locks and their lapse), and
  a population of attackers, each of whose guesses succeeds at random, is followed to its first
  success. The share that got in by ``T`` is reported with its standard error.

The schedules of the reference systems are taken from the product brief: django-otp doubles a
delay after each failure, Authelia bans for 5 min after 3 failures in 2 min, GitLab locks for
10 min after 10 failed attempts, Keycloak's brute-force detection is off by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Hashable, Protocol

import numpy as np
import pandas as pd

from ..login.backoffice import BackOffice
from ..core.clock import Clock
from ..core.errors import ValidationError
from ..login.flow import Outcome, State
from ..core.otp import a_code_outside_window, code_at
from ..core.rules import lockout_end, lockout_holds, lockout_standing, reaches_limit
from ..core.policy import Policy
from ..core.secret_source import SeededSecretSource

HOUR, DAY = 3600.0, 86400.0
HORIZONS: dict[str, float] = {"1 hour": HOUR, "1 day": DAY, "30 days": 30 * DAY}
DEFAULT_INTERVAL = 1.0
"""Seconds between two guesses of one attacker: one request a second (an assumption: a script
against a web login; the password's KDF and the network make it hard to go much faster)."""


def success_probability(window: int, digits: int) -> float:
    """The chance that one random guess is accepted: ``2 * window + 1`` codes out of ``10**digits``."""
    return (2 * window + 1) / 10 ** digits


# -- the rules engines (simulation side) -------------------------------------------------------


def _rel(seconds: float) -> float:
    """A time difference for a snapshot, to the microsecond (epoch floats carry rounding noise)."""
    return round(seconds, 6)


class Throttle(Protocol):
    """A schedule's rules, enacted one failed guess at a time."""

    def earliest(self, t: float) -> float:
        """The earliest instant at or after ``t`` at which a guess is checked."""

    def fail(self, t: float) -> None:
        """A guess at ``t`` was wrong."""

    def snapshot(self, t: float) -> Hashable:
        """Everything that decides the future, relative to ``t`` (equal snapshots: same future)."""


class NoThrottleRules:
    """Every guess is checked (Keycloak with brute-force detection off, its default)."""

    def earliest(self, t: float) -> float:
        return t

    def fail(self, t: float) -> None:
        pass

    def snapshot(self, t: float) -> Hashable:
        return ()


class CountLockoutRules:
    """``limit`` failures lock for ``lockout_seconds``; the count restarts when the lock has lapsed
    (GitLab via Devise's lockable: ``maximum_attempts``, ``unlock_in``)."""

    def __init__(self, limit: int, lockout_seconds: float) -> None:
        self.limit, self.lockout_seconds = limit, lockout_seconds
        self.failures, self.locked_out_until = 0, None

    def earliest(self, t: float) -> float:
        if self.locked_out_until is not None:
            t = max(t, self.locked_out_until)
            self.failures, self.locked_out_until = lockout_standing(self.failures, self.locked_out_until, t)
        return t

    def fail(self, t: float) -> None:
        self.failures += 1
        if reaches_limit(self.failures, self.limit):
            self.locked_out_until = lockout_end(t, self.lockout_seconds)

    def snapshot(self, t: float) -> Hashable:
        return self.failures, None if self.locked_out_until is None else _rel(self.locked_out_until - t)


class RegulationRules:
    """``max_retries`` failures within ``find_time`` seconds ban for ``ban_time`` seconds from the
    last one (Authelia's regulation: 3, 2 min, 5 min by default)."""

    def __init__(self, max_retries: int, find_time: float, ban_time: float) -> None:
        self.max_retries, self.find_time, self.ban_time = max_retries, find_time, ban_time
        self.failures: list[float] = []
        self.banned_until: float | None = None

    def earliest(self, t: float) -> float:
        if self.banned_until is not None and t < self.banned_until:
            t = self.banned_until
        return t

    def fail(self, t: float) -> None:
        self.failures = [f for f in self.failures if f > t - self.find_time] + [t]
        if len(self.failures) >= self.max_retries:
            self.banned_until = t + self.ban_time

    def snapshot(self, t: float) -> Hashable:
        recent = tuple(_rel(f - t) for f in self.failures if f > t - self.find_time)
        ban = None if self.banned_until is None or self.banned_until <= t else _rel(self.banned_until - t)
        return recent, ban


class DoublingDelayRules:
    """After the n-th failure in a row the next check waits ``factor * 2**(n-1)`` seconds from it
    (django-otp's throttling, ``OTP_TOTP_THROTTLE_FACTOR`` = 1 by default); only a success resets it."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.failures, self.last = 0, None

    def earliest(self, t: float) -> float:
        if self.failures:
            t = max(t, self.last + self.factor * 2 ** (self.failures - 1))
        return t

    def fail(self, t: float) -> None:
        self.failures, self.last = self.failures + 1, t

    def snapshot(self, t: float) -> Hashable:
        return self.failures, None if self.last is None else _rel(self.last - t)


class SteppedWaitRules:
    """After the n-th failure the next check waits ``wait_increment * (n // failure_factor)`` seconds,
    at most ``max_wait`` (Keycloak's brute-force detection, strategy MULTIPLE: 30 failures, 60 s,
    900 s when turned on); only a success resets the count."""

    def __init__(self, failure_factor: int, wait_increment: float, max_wait: float) -> None:
        self.factor, self.increment, self.max_wait = int(failure_factor), wait_increment, max_wait
        self.failures, self.not_before = 0, None
        # from this many failures on the wait is max_wait for ever: the count no longer matters
        self.saturated = self.factor * math.ceil(max_wait / wait_increment)

    def wait(self, failures: int) -> float:
        return min(self.max_wait, self.increment * (failures // self.factor))

    def earliest(self, t: float) -> float:
        if self.not_before is not None:
            t = max(t, self.not_before)
        return t

    def fail(self, t: float) -> None:
        self.failures += 1
        wait = self.wait(self.failures)
        if wait > 0:
            self.not_before = t + wait

    def snapshot(self, t: float) -> Hashable:
        ahead = None if self.not_before is None or self.not_before <= t else _rel(self.not_before - t)
        return min(self.failures, self.saturated), ahead


class BackendRules:
    """Our schedule, enacted by the real back office: the attacker logs in with the password and
    types wrong codes; locks, their lapse, expired code prompts and new logins are the backend's."""

    PASSWORD = "known password 42"

    def __init__(self, policy: Policy) -> None:
        # The password KDF's cost is a setting that does not change the schedule: keep it cheap.
        policy = policy.replace(kdf_log2_n=min(policy.kdf_log2_n, 4))
        self.office = BackOffice(policy, Clock.at("2026-01-05T09:00:00Z"), SeededSecretSource(4226))
        self.office.create_company("Target")
        self.office.create_user("victim", self.PASSWORD, force_2fa=True)
        login = self.office.start_login()
        secret = login.submit_password("victim", self.PASSWORD).screen.secret
        p = policy
        login.submit_code(code_at(secret, self.office.clock.now(), algorithm=p.algorithm, digits=p.digits,
                                  period=p.period))
        assert login.state is State.AUTHENTICATED, "the victim enrols with a valid code"
        self._secret, self.origin = secret, self.office.clock.now() + 3600.0
        self.login = None
        self.locked_out_until: float | None = None

    def _at(self, t: float) -> None:
        self.office.clock.set(self.origin + t)

    def earliest(self, t: float) -> float:
        if lockout_holds(t, self.locked_out_until):
            t = self.locked_out_until
        return t

    def _wrong_code(self) -> str:
        """A code that is certainly not in the accepted window now."""
        p = self.office.policy
        return a_code_outside_window(self._secret, self.office.clock.now(), window=p.window, algorithm=p.algorithm,
                                     digits=p.digits, period=p.period)

    def fail(self, t: float) -> None:
        self._at(t)
        for _ in range(3):
            if self.login is None or self.login.state is not State.CODE_REQUIRED:
                self.login = self.office.start_login()
                result = self.login.submit_password("victim", self.PASSWORD)
                if result.outcome is Outcome.IS_LOCKED_OUT:
                    raise AssertionError("the rules let the attacker guess while the backend says locked")
            result = self.login.submit_code(self._wrong_code())
            if result.outcome is Outcome.TIMED_OUT:
                continue  # the open code prompt expired: start a new login, same instant
            if result.outcome is Outcome.LOCKS_OUT:
                self.locked_out_until = result.locked_out_until - self.origin
            elif result.outcome is not Outcome.REJECTED:
                raise AssertionError(f"a wrong code gave {result.outcome}")
            return
        raise AssertionError("could not place a guess")

    def snapshot(self, t: float) -> Hashable:
        e = self.office.user("victim").enrolment
        now = self.origin + t
        locked = None if e.locked_out_until is None else _rel(e.locked_out_until - now)
        open_prompt = None if self.login is None or self.login.deadline is None else _rel(self.login.deadline - now)
        state = None if self.login is None else self.login.state
        return e.failures, locked, state, open_prompt


# -- schedules: rules, closed form, defaults --------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """A lockout schedule: its parameters, the system it comes from, and its window and digits."""

    name: str
    kind: str
    params: dict = field(default_factory=dict)
    window: int = 1
    digits: int = 6
    source: str = ""
    policy: Policy | None = field(default=None, repr=False)

    @classmethod
    def ours(cls, policy: Policy | None = None) -> "Schedule":
        policy = policy or Policy()
        return cls("ours", "count-lockout", {"limit": policy.failed_code_limit, "lockout_seconds": policy.lockout_seconds},
                   policy.window, policy.digits,
                   "our policy: failed_code_limit wrong codes lock for lockout_seconds; counts across logins",
                   policy)

    @property
    def p(self) -> float:
        return success_probability(self.window, self.digits)

    def rules(self) -> Throttle:
        """A fresh rules engine for the simulation (the real backend for ours)."""
        if self.policy is not None:
            return BackendRules(self.policy)
        if self.kind == "none":
            return NoThrottleRules()
        if self.kind == "count-lockout":
            return CountLockoutRules(self.params["limit"], self.params["lockout_seconds"])
        if self.kind == "regulation":
            return RegulationRules(self.params["max_retries"], self.params["find_time"], self.params["ban_time"])
        if self.kind == "doubling":
            return DoublingDelayRules(self.params["factor"])
        if self.kind == "stepped-wait":
            return SteppedWaitRules(self.params["failure_factor"], self.params["wait_increment"],
                                    self.params["max_wait"])
        raise ValidationError("schedule.kind", f"unknown kind {self.kind!r}")

    def guesses_by(self, horizon: float, interval: float = DEFAULT_INTERVAL) -> int:
        """Closed form: how many guesses the schedule checks in ``[0, horizon]`` (first at 0)."""
        _check_interval(interval)
        if horizon < 0:
            return 0
        g = interval
        if self.kind == "none":
            return math.floor(horizon / g) + 1
        if self.kind == "count-lockout":
            return _cycles(horizon, g, self.params["limit"], self.params["lockout_seconds"])
        if self.kind == "regulation":
            m, find, ban = self.params["max_retries"], self.params["find_time"], self.params["ban_time"]
            if (m - 1) * g >= find:          # too slow: never m failures inside the find window
                return math.floor(horizon / g) + 1
            if ban < find:
                raise ValidationError("schedule.ban_time", "the closed form needs ban_time >= find_time")
            return _cycles(horizon, g, m, ban)
        if self.kind == "doubling":
            return _doubling(horizon, g, self.params["factor"])
        if self.kind == "stepped-wait":
            return _stepped(horizon, g, SteppedWaitRules(self.params["failure_factor"], self.params["wait_increment"],
                                                         self.params["max_wait"]))
        raise ValidationError("schedule.kind", f"unknown kind {self.kind!r}")

    def probability_by(self, horizon: float, interval: float = DEFAULT_INTERVAL) -> float:
        """Closed form: ``1 - (1 - p) ** n(T)``."""
        return -math.expm1(self.guesses_by(horizon, interval) * math.log1p(-self.p))


def _check_interval(interval: float) -> None:
    if not (isinstance(interval, (int, float)) and math.isfinite(interval) and interval > 0):
        raise ValidationError("interval", f"must be a positive number of seconds, got {interval!r}")


def _cycles(horizon: float, g: float, limit: int, lock: float) -> int:
    """``limit`` guesses ``g`` apart, then the lock: a cycle of ``(limit - 1) g + max(g, lock)``."""
    cycle = (limit - 1) * g + max(g, lock)
    full, rest = divmod(horizon, cycle)
    return int(full) * limit + min(limit, math.floor(rest / g) + 1)


def _doubling(horizon: float, g: float, factor: float) -> int:
    """Guess k+1 comes ``max(g, factor 2**(k-1))`` after guess k. While the delay is shorter than
    ``g`` (the first ``m`` gaps) guesses are ``g`` apart; after that
    ``t_k = g m + factor (2**(k-1) - 2**m)``."""
    m = 0
    while factor * 2 ** m <= g:   # gap j (j = 1, 2, ...) is factor * 2**(j-1); count those <= g
        m += 1
    if horizon < g * m:
        return math.floor(horizon / g) + 1
    k = 1 + m + max(0, math.floor(math.log2((horizon - g * m) / factor + 2 ** m)) - m)
    while g * m + factor * (2 ** k - 2 ** m) <= horizon:      # t_{k+1} <= T: one more
        k += 1
    while k - 1 > m and g * m + factor * (2 ** (k - 1) - 2 ** m) > horizon:
        k -= 1
    return k


def _stepped(horizon: float, g: float, rules: SteppedWaitRules) -> int:
    """Guess k+1 comes ``max(g, wait(k))`` after guess k; from ``saturated`` failures on every gap is
    ``max(g, max_wait)``, counted at once."""
    t, n = 0.0, 1                      # the first guess at 0
    while n < rules.saturated:
        t += max(g, rules.wait(n))
        if t > horizon:
            return n
        n += 1
    return n + math.floor((horizon - t) / max(g, rules.max_wait))


REFERENCE_SCHEDULES: tuple[Schedule, ...] = (
    Schedule("django-otp", "doubling", {"factor": 1.0}, 1, 6,
             "delay doubles after each failure (1, 2, 4, 8 s and so on); tolerance 1 step"),
    Schedule("Authelia", "none", {}, 1, 6,
             "no ban for codes: its regulation (3 failures in 2 min ban for 5 min) counts password failures "
             "only (internal/regulation/regulator.go, v4.39.20); skew 1 step"),
    Schedule("GitLab", "count-lockout", {"limit": 10, "lockout_seconds": 600.0}, 1, 6,
             "lock 10 min after 10 failed attempts; 30 s drift either side"),
    Schedule("Keycloak (default)", "none", {}, 1, 6,
             "brute-force detection off by default; look-around 1 step"),
)


# -- the simulation ---------------------------------------------------------------------------


def guess_times(schedule: Schedule, horizon: float, interval: float = DEFAULT_INTERVAL) -> np.ndarray:
    """Instants (seconds from the first guess) at which the schedule's rules engine checks a guess
    of an attacker who never succeeds, up to ``horizon``.

    The engine runs guess by guess until its state, seen relative to the current instant,
    repeats; from there the gaps repeat too and are tiled with numpy.
    """
    _check_interval(interval)
    rules = schedule.rules()
    times: list[float] = []
    seen: dict[Hashable, int] = {}
    t = rules.earliest(0.0)
    while t <= horizon:
        times.append(t)
        rules.fail(t)
        key = rules.snapshot(t)
        if key in seen:
            start = seen[key]
            gaps = np.diff(np.asarray(times[start:], dtype=float))
            return _tile(np.asarray(times, dtype=float), gaps, horizon)
        seen[key] = len(times) - 1
        t = rules.earliest(t + interval)
    return np.asarray(times, dtype=float)


def _tile(times: np.ndarray, gaps: np.ndarray, horizon: float) -> np.ndarray:
    period = gaps.sum()
    last = times[-1]
    repeats = int((horizon - last) // period) + 1
    extra = last + np.cumsum(np.tile(gaps, repeats))
    return np.concatenate([times, extra[extra <= horizon]])


@dataclass(frozen=True)
class SimulatedAttack:
    """Monte Carlo result for one schedule: guesses made and share of attackers in by each horizon."""

    schedule: Schedule
    guesses: dict[str, int]
    probability: dict[str, float]
    standard_error: dict[str, float]
    attackers: int


def simulate_attack(schedule: Schedule, *, interval: float = DEFAULT_INTERVAL,
                    horizons: dict[str, float] = HORIZONS, attackers: int = 1_000_000,
                    seed: int = 0) -> SimulatedAttack:
    """Follow ``attackers`` attackers through the schedule's rules until their first success.

    Every guess is an independent trial with success probability ``p``, so the number of guesses
    up to and including the first success is geometric; an attacker is in by ``T`` when that
    guess comes no later than ``T`` in the rules engine's sequence.
    """
    if not isinstance(attackers, int) or attackers < 1:
        raise ValidationError("attackers", f"must be a positive whole number, got {attackers!r}")
    times = guess_times(schedule, max(horizons.values()), interval)
    first_success = np.random.default_rng(seed).geometric(schedule.p, size=attackers)
    guesses, probability, error = {}, {}, {}
    for label, horizon in horizons.items():
        n = int(np.searchsorted(times, horizon, side="right"))
        share = float(np.count_nonzero(first_success <= n)) / attackers
        guesses[label], probability[label] = n, share
        error[label] = math.sqrt(max(share * (1 - share), 1.0 / attackers) / attackers)
    return SimulatedAttack(schedule, guesses, probability, error, attackers)


def attack_table(policy: Policy | None = None, *, interval: float = DEFAULT_INTERVAL,
                 horizons: dict[str, float] = HORIZONS, attackers: int = 1_000_000, seed: int = 0,
                 schedules: tuple[Schedule, ...] | None = None) -> pd.DataFrame:
    """Closed form and simulation side by side, one row per schedule (ours first).

    Columns per horizon: guesses checked (closed form), success probability closed form and
    simulated, the simulation's standard error, and ``z`` = their difference in standard errors.
    """
    schedules = schedules if schedules is not None else (Schedule.ours(policy),) + REFERENCE_SCHEDULES
    rows = []
    for i, schedule in enumerate(schedules):
        sim = simulate_attack(schedule, interval=interval, horizons=horizons, attackers=attackers, seed=seed + i)
        row = {"schedule": schedule.name, "codes in window": 2 * schedule.window + 1, "digits": schedule.digits}
        for label, horizon in horizons.items():
            closed = schedule.probability_by(horizon, interval)
            row[(label, "guesses")] = schedule.guesses_by(horizon, interval)
            row[(label, "closed form")] = closed
            row[(label, "simulated")] = sim.probability[label]
            row[(label, "std error")] = sim.standard_error[label]
            row[(label, "z")] = (sim.probability[label] - closed) / sim.standard_error[label]
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("schedule")
    frame.columns = pd.MultiIndex.from_tuples(
        [c if isinstance(c, tuple) else ("", c) for c in frame.columns])
    return frame


def lockout_odds(limits=(3, 5, 10), lockout_minutes=(5, 15, 60), horizon: float = DAY, policy: Policy | None = None,
                 interval: float = DEFAULT_INTERVAL) -> pd.DataFrame:
    """Closed form: the attacker's chance to be in by ``horizon`` under our lockout, for each number of
    wrong codes that locks (rows) and each lock length (columns), the other knobs from ``policy``."""
    base = policy or Policy()
    return pd.DataFrame({f"{minutes} min lockout": {
        f"{limit} wrong codes": Schedule.ours(base.replace(failed_code_limit=limit, lockout_seconds=60 * minutes))
        .probability_by(horizon, interval) for limit in limits} for minutes in lockout_minutes})


def time_to_probability(schedule: Schedule, probability: float, interval: float = DEFAULT_INTERVAL,
                        limit: float = 10 * 365 * DAY) -> float:
    """Closed form: the shortest time after which the attacker is in with at least ``probability``
    (``inf`` if not within ``limit``); the guesses needed are ``log(1 - P) / log(1 - p)``."""
    if not 0 < probability < 1:
        raise ValidationError("probability", f"must be between 0 and 1, got {probability!r}")
    needed = math.ceil(math.log1p(-probability) / math.log1p(-schedule.p))
    low, high = 0.0, limit
    if schedule.guesses_by(high, interval) < needed:
        return math.inf
    for _ in range(200):
        mid = (low + high) / 2
        if schedule.guesses_by(mid, interval) >= needed:
            high = mid
        else:
            low = mid
        if high - low < 1e-3:
            break
    return high


__all__ = ["Schedule", "REFERENCE_SCHEDULES", "HORIZONS", "success_probability", "guess_times",
           "simulate_attack", "SimulatedAttack", "attack_table", "lockout_odds", "time_to_probability",
           "NoThrottleRules", "CountLockoutRules", "RegulationRules", "DoublingDelayRules", "SteppedWaitRules",
           "BackendRules"]
