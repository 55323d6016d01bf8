"""The two engines that play a :class:`~twofa_sim.analysis.population.Population` under a policy.

The **exact** engine (:func:`simulate_exact`) drives the real back office, login attempts and apps;
the **fast** engine (:func:`simulate_fast`) computes the same outcomes with numpy on time steps. Both
return a :class:`SimulationRun`: one row per login (:data:`LOGIN_COLUMNS`). The module docstring of
:mod:`twofa_sim.analysis.population` says how the users behave in both.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd

from ..login.backoffice import BackOffice
from ..core.clock import Clock
from ..apps.device import Device
from ..core.errors import TwofaSimError, ValidationError
from ..login.flow import Outcome, Reason
from ..core.policy import Policy
from ..core.rules import in_window, is_replay, lockout_end, lockout_holds, lockout_lapsed, reaches_limit, prompt_timed_out
from ..core.secret_source import SeededSecretSource

from .population import (NO_STEP, OUTCOMES, OUTCOME_INDEX, PASSWORD, PHASES, CodeKind, LoginOutcome, Population,
                         app_behaviour, app_clock_offsets, whole_seconds_vector)


# -- the fast engine --------------------------------------------------------------------------


LOGIN_COLUMNS = ["user", "day", "slot", "phase", "outcome", "codes", "wrong", "replays", "malformed",
                 "step", "seconds", "end"]


@dataclass
class SimulationRun:
    """One engine's play of a population under a policy."""

    engine: str
    policy: Policy
    population: Population
    logins: pd.DataFrame
    seconds: float
    code_checks: int = 0
    code_check_seconds: float = 0.0
    office: BackOffice | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"SimulationRun({self.engine}, {len(self.logins)} logins, {self.population.n_users} users)"


def simulate_fast(population: Population, policy: Policy | None = None) -> SimulationRun:
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
    limit, lockout_s, timeout = policy.failed_code_limit, float(policy.lockout_seconds), float(policy.code_prompt_timeout)
    replay_on, drift_on = policy.replay_protection, policy.drift_tracking

    enrolled = np.zeros(n, dtype=bool)
    failures = np.zeros(n, dtype=np.int64)
    locked_out_until = np.full(n, np.nan)
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
        lu = locked_out_until[users]
        refused = lockout_holds(tpw, lu)                          # NaN compares False: not locked
        out_phase[a:b] = np.where(enrolled[users], 1, 0)
        out_outcome[a:b] = np.where(refused, OUTCOME_INDEX[LoginOutcome.REFUSED_LOCKED_OUT], -1)
        out_end[a:b] = tpw
        live = np.flatnonzero(~refused)                        # positions within the round
        deadline = tpw + timeout
        t_read = tpw + pop.open_delay[a:b]
        # an app that refused the QR gives nothing to type: the user gives up at once
        no_app = kind_of[users[live]] == CodeKind.REFUSED
        gone = live[no_app]
        out_outcome[a + gone] = OUTCOME_INDEX[LoginOutcome.GAVE_UP]
        out_end[a + gone] = t_read[gone]
        live = live[~no_app]
        for k in range(A):
            if live.size == 0:
                break
            rows = a + live
            u = users[live]
            tr = t_read[live]
            ts = tr + pop.typing[rows, k]
            timed = prompt_timed_out(ts, deadline[live])
            if timed.any():
                out_outcome[rows[timed]] = OUTCOME_INDEX[LoginOutcome.EXPIRED]
                out_end[rows[timed]] = ts[timed]
                keep = ~timed
                live, rows, u, tr, ts = live[keep], rows[keep], u[keep], tr[keep], ts[keep]
            out_codes[rows] += 1
            lu = locked_out_until[u]
            lapsed = lockout_lapsed(ts, lu)
            if lapsed.any():
                failures[u[lapsed]] = 0
                locked_out_until[u[lapsed]] = np.nan
            kind = kind_of[u]
            typo = pop.typo[rows, k]
            malformed = digits_of[u] - (typo == 2) != policy.digits
            candidate = (kind == CodeKind.MATCH) & (typo == 0)
            s_app = np.floor_divide(whole_seconds_vector(nearest_of[u], tr + offset[u]), period_of[u]).astype(np.int64)
            centre = drift[u] if drift_on else 0
            s_server = np.floor(ts).astype(np.int64) // P + centre
            match = candidate & in_window(s_app, s_server, w)
            replay = match & is_replay(s_app, last_used[u], replay_on)
            accept = match & ~replay
            failed = ~accept & ~malformed
            out_malformed[rows] += malformed
            out_replays[rows] += replay
            out_wrong[rows] += failed & ~replay
            # failures and locks
            fu = u[failed]
            failures[fu] += 1
            locks = np.zeros_like(failed)
            locks[failed] = reaches_limit(failures[fu], limit)
            if locks.any():
                locked_out_until[u[locks]] = lockout_end(ts[locks], lockout_s)
                out_outcome[rows[locks]] = OUTCOME_INDEX[LoginOutcome.LOCKED_OUT]
                out_end[rows[locks]] = ts[locks]
            # accepted codes
            if accept.any():
                au, arows = u[accept], rows[accept]
                last_used[au] = s_app[accept]
                failures[au] = 0
                if drift_on:
                    drift[au] = s_app[accept] - np.floor(ts[accept]).astype(np.int64) // P
                enrolled[au] = True
                out_outcome[arows] = OUTCOME_INDEX[LoginOutcome.SIGNED_IN]
                out_step[arows] = s_app[accept]
                out_seconds[arows] = ts[accept] - tpw[live[accept]]
                out_end[arows] = ts[accept]
            # refused but not locked: look again, or give up after the last attempt
            again = ~accept & ~locks
            if k == A - 1:
                out_outcome[rows[again]] = OUTCOME_INDEX[LoginOutcome.GAVE_UP]
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
    return SimulationRun("fast", policy, pop, frame, time.perf_counter() - started)


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


class TracedLogin(NamedTuple):
    """One login as :func:`simulate_exact` played it (``trace=``): who logged in, when the password
    was typed, and each code typed as ``(code, instant, outcome)``; enough to take the same steps
    again on a back office from :func:`population_office` (the benchmark does)."""

    username: str
    password_at: float
    codes: tuple[tuple[str, float, Outcome], ...]


def population_office(population: Population, policy: Policy) -> tuple[BackOffice, Clock, list[str], list[Device]]:
    """The back office :func:`simulate_exact` starts from: its clock, one company, every user of
    ``population`` (names ``user000000`` ...) with "Force 2 factor auth." ticked, and each user's
    device with their app and clock offset. The same population gives the same office."""
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
    return office, clock, names, devices


def simulate_exact(population: Population, policy: Policy | None = None, *, scan: str = "text",
                   progress: Callable[[int, int], None] | None = None, progress_every: int = 500,
                   trace: list | None = None) -> SimulationRun:
    """All logins of ``population`` through the real back office and the users' devices.

    Every user is created with "Force 2 factor auth." ticked and gets a
    :class:`~twofa_sim.apps.device.Device` with their app and clock offset. At an enrolment login the
    device imports the QR code: its text (``scan="text"``, the default) or the pixels of the
    page (``scan="pixels"``, about 5 ms a scan); a duplicate the app asks about is replaced.
    The code typed is the device's code at the moment the user reads it, with the drawn typo.

    ``progress(done, total)`` is called every ``progress_every`` logins and at the end. The time
    spent inside :meth:`~twofa_sim.login.attempt.LoginAttempt.submit_code` is measured on its own
    (``SimulationRun.code_check_seconds``): the password step's cost is the KDF setting (``kdf_log2_n``),
    which large runs lower. ``trace``, when a list, receives one :class:`TracedLogin` per login, in
    order (for benchmarks).
    """
    if scan not in ("text", "pixels"):
        raise ValidationError("scan", f"must be 'text' or 'pixels', got {scan!r}")
    started = time.perf_counter()
    policy = policy or Policy()
    pop = population
    office, clock, names, devices = population_office(pop, policy)
    A = pop.params.attempts_per_login
    L = pop.n_logins
    cols = {c: [0] * L for c in ("phase", "outcome", "codes", "wrong", "replays", "malformed", "step",
                                  "seconds", "end")}
    prev_end = [0.0] * pop.n_users
    code_time, code_checks = 0.0, 0
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
        if result.outcome is Outcome.IS_LOCKED_OUT:
            outcome = LoginOutcome.REFUSED_LOCKED_OUT
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
        k, typed_codes = 0, []
        while outcome is None:
            ts = t_read + float(pop.typing[j, k])
            clock.set(t_read)
            shown = device.code()
            typed = _typed(shown, int(pop.typo[j, k]), int(pop.typo_pos[j, k]), int(pop.typo_shift[j, k]))
            clock.set(ts)
            t0 = perf()
            res = login.submit_code(typed)
            code_time += perf() - t0
            code_checks += 1
            if trace is not None:
                typed_codes.append((typed, ts, res.outcome))
            if res.outcome is Outcome.TIMED_OUT:
                outcome, end = LoginOutcome.EXPIRED, ts
                break
            counts["codes"] += 1
            if res.reason in (Reason.MALFORMED, Reason.MALFORMED_AGAIN):
                counts["malformed"] += 1
            elif res.reason is Reason.REPLAY:
                counts["replays"] += 1
            elif res.reason is Reason.WRONG_CODE:
                counts["wrong"] += 1
            if res.outcome is Outcome.ACCEPTED:
                outcome, step, seconds, end = LoginOutcome.SIGNED_IN, res.time_step, ts - tpw, ts
            elif res.outcome is Outcome.LOCKS_OUT:
                outcome, end = LoginOutcome.LOCKED_OUT, ts
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
        if trace is not None:
            trace.append(TracedLogin(name, tpw, tuple(typed_codes)))
        cols["phase"][j], cols["outcome"][j] = PHASES.index(phase), OUTCOME_INDEX[outcome]
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
    return SimulationRun("exact", policy, pop, frame, time.perf_counter() - started, code_checks, code_time, office)


def simulate(population: Population, policy: Policy | None = None, engine: str = "fast", **options) -> SimulationRun:
    """Play ``population`` under ``policy`` with the ``"fast"`` or the ``"exact"`` engine."""
    if engine == "fast":
        return simulate_fast(population, policy)
    if engine == "exact":
        return simulate_exact(population, policy, **options)
    raise ValidationError("engine", f"must be 'fast' or 'exact', got {engine!r}")


