"""The population simulation: the two engines agree login by login, and each rule they model
shows up where it should."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from twofa_sim import EventKind, Policy, ValidationError
from twofa_sim.analysis import (DATA_FILE, CodeKind, LoginOutcome, LogNormal, PopulationParameters,
                                  agreement, app_behaviour, by_app, compare_policies, default_parameters,
                                  draw_population, enrolment_reach, first_code_by_offset, scripted_population,
                                  simulate, simulate_exact, simulate_fast, summarise, with_app_version)

CHEAP = Policy(kdf_log2_n=1)
STEP = 30 * 2880               # a step boundary, seconds after the populations' start (day 0, 00:00)


def both(population, policy=CHEAP, **options):
    fast, exact = simulate_fast(population, policy), simulate_exact(population, policy, **options)
    return fast, exact


# -- the two engines agree on every login -----------------------------------------------------

def test_engines_agree_on_every_login_of_ten_thousand():
    population = draw_population(1000, days=10, seed=11).with_parameters(loose_sd=30.0)
    fast, exact = both(population)
    assert population.n_logins >= 10_000
    assert len(fast.logins) == len(exact.logins) == population.n_logins
    assert agreement(fast, exact).empty
    outcomes = set(fast.logins["outcome"].astype(str))
    # the sample is not all easy sign-ins: it has refusals, typos, locks and gave-ups
    assert {"signed in", "gave up", "locked by this login"} <= outcomes
    s = summarise(fast)
    assert s["wrong codes"] > 100 and s["malformed codes"] > 10 and s["retries"] > 100
    expired = int((exact.logins["outcome"] == "code prompt expired").sum())
    assert exact.code_checks == int(exact.logins["codes"].sum()) + expired


STRESS = default_parameters().replace(relogin_share=0.5, relogin_gap=LogNormal(4.0, 0.8), substitution=0.15,
                                      omission=0.05)


@pytest.mark.parametrize("changes", [
    {},
    {"algorithm": "SHA256"},
    {"period": 60},
    {"period": 45},
    {"digits": 8},
    {"window": 0},
    {"window": 3},
    {"replay_protection": False},
    {"drift_tracking": True, "window": 0},
    {"failed_code_limit": 1, "lockout_seconds": 20},
    {"lockout_seconds": 1, "failed_code_limit": 2},
    {"lockout_seconds": 3 * 86400, "failed_code_limit": 3},
    {"code_prompt_timeout": 12},
    {"renew_unconfirmed_secret": True, "period": 60},
], ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_engines_agree_under_every_rule(changes):
    population = draw_population(250, days=6, params=STRESS, seed=5).with_parameters(loose_sd=40.0)
    fast, exact = both(population, CHEAP.replace(**changes))
    assert agreement(fast, exact).empty


def test_engines_agree_when_the_device_scans_the_pixels_of_the_page():
    population = draw_population(40, days=3, params=STRESS, seed=9)
    fast, exact = both(population, CHEAP.replace(period=60), scan="pixels")
    assert agreement(fast, exact).empty
    assert exact.office.events.count(EventKind.QR_SCANNED) >= 40


def test_agreement_reports_a_difference():
    population = draw_population(50, days=2, seed=1)
    fast, exact = both(population)
    exact.logins.loc[3, "codes"] += 1
    differences = agreement(fast, exact)
    assert list(differences.index) == [3]


# -- rules, each with chosen instants ---------------------------------------------------------

def test_the_addon_turns_over_half_a_second_early():
    """Read 0.3 s before a boundary: the add-on rounds to the next second and shows the next
    step's code; an app that rounds down still shows this step's."""
    population = scripted_population([0.0, 0.0], ["authenticator-addon", "reference"], [STEP - 5.3] * 2,
                                     read_after=5.0, typing=0.1, attempts=1)
    fast, exact = both(population, CHEAP.replace(window=0))
    assert list(fast.logins["outcome"]) == ["gave up", "signed in"]
    assert list(fast.logins["wrong"]) == [1, 0]
    assert agreement(fast, exact).empty


@pytest.mark.parametrize("window, outcome", [(0, "gave up"), (1, "signed in")])
def test_a_code_typed_across_a_step_boundary_needs_the_window(window, outcome):
    population = scripted_population([0.0], ["reference"], [STEP - 6.0], read_after=5.0, typing=3.0, attempts=1)
    fast, exact = both(population, CHEAP.replace(window=window))
    assert fast.logins["outcome"].iloc[0] == outcome
    assert agreement(fast, exact).empty


@pytest.mark.parametrize("app, offset, window, accepted", [
    ("reference", -31.0, 1, True), ("reference", -61.0, 1, False), ("reference", 61.0, 1, False),
    ("reference", 29.0, 0, False), ("reference", 45.0, 2, True), ("reference", 0.4, 0, True),
    ("2fas", 500.0, 0, True), ("2fas@5.0", -3600.0, 0, True),      # 2FAS sets its clock by NTP
    ("aegis", 500.0, 1, False),
])
def test_clock_offset_against_the_window(app, offset, window, accepted):
    population = scripted_population([offset], [app], [STEP + 10.0], read_after=1.0, typing=1.0, attempts=1)
    fast, exact = both(population, CHEAP.replace(window=window))
    assert (fast.logins["outcome"].iloc[0] == "signed in") is accepted
    assert agreement(fast, exact).empty


def test_a_far_off_device_is_locked_by_failures_counted_across_logins():
    params = default_parameters().replace(synced_share=0.0, loose_share=0.0, far_share=1.0, substitution=0.0,
                                          omission=0.0, relogin_share=0.0)
    population = draw_population(3, days=3, params=params, seed=2)
    fast, exact = both(population, CHEAP.replace(failed_code_limit=5, lockout_seconds=900))
    assert agreement(fast, exact).empty
    day = fast.logins.groupby("day")
    outcomes = list(day["outcome"].agg(lambda o: set(o.astype(str))))
    assert outcomes == [{"gave up"}, {"locked by this login"}, {"gave up"}]
    assert list(day["wrong"].sum()) == [9, 6, 9]       # 3 + 2 wrong codes lock; the next day counts afresh


def test_a_second_login_in_the_same_step_is_a_replay_and_the_user_waits_for_the_next_code():
    population = scripted_population([0.0], ["reference"], [STEP + 1.0, STEP + 13.0], users=[0, 0],
                                     read_after=1.0, typing=1.0, pause=2.0, attempts=2)
    fast, exact = both(population)
    assert agreement(fast, exact).empty
    first, second = fast.logins.iloc[0], fast.logins.iloc[1]
    assert (first["replays"], first["codes"], first["outcome"]) == (0, 1, "signed in")
    assert (second["replays"], second["codes"], second["outcome"]) == (1, 2, "signed in")
    assert second["step"] == first["step"] + 1
    # the user waited for the code to change (at STEP + 30), then 2 s, then typed for 1 s
    assert second["end"] == population.start + STEP + 30 + 2 + 1
    no_replay = simulate_fast(population, CHEAP.replace(replay_protection=False)).logins.iloc[1]
    assert (no_replay["replays"], no_replay["codes"], no_replay["step"]) == (0, 1, first["step"])


def test_a_slow_user_meets_the_code_prompt_timeout():
    population = scripted_population([0.0, 0.0], ["reference"] * 2, [STEP + 1.0, STEP + 1.0], read_after=[5.0, 20.0],
                                     typing=2.0, attempts=1)
    fast, exact = both(population, CHEAP.replace(code_prompt_timeout=15))
    assert list(fast.logins["outcome"]) == ["signed in", "code prompt expired"]
    assert list(fast.logins["codes"]) == [1, 0]
    assert agreement(fast, exact).empty


@pytest.mark.parametrize("typo, reason, counted", [(1, "wrong", True), (2, "malformed", False)])
def test_typos_substituted_digits_count_dropped_digits_do_not(typo, reason, counted):
    population = scripted_population([0.0], ["reference"], [STEP + 1.0], typos=[[typo, typo, typo]], attempts=3)
    fast, exact = both(population, CHEAP.replace(failed_code_limit=3))
    row = fast.logins.iloc[0]
    assert row[reason] == 3
    assert row["outcome"] == ("locked by this login" if counted else "gave up")
    assert agreement(fast, exact).empty


# -- apps and policies ------------------------------------------------------------------------

@pytest.mark.parametrize("changes, app, kind", [
    ({}, "authenticator-addon", CodeKind.MATCH),
    ({"algorithm": "SHA256"}, "authenticator-addon", CodeKind.WRONG),
    ({"algorithm": "SHA256"}, "aegis", CodeKind.MATCH),
    ({"period": 60}, "google-authenticator", CodeKind.WRONG),
    ({"period": 60}, "2fas", CodeKind.MATCH),
    ({"period": 45}, "2fas", CodeKind.REFUSED),
    ({"digits": 8}, "google-authenticator", CodeKind.WRONG),
    ({"digits": 8}, "freeotp", CodeKind.MATCH),
])
def test_app_behaviour_comes_from_the_real_app_import(changes, app, kind):
    assert app_behaviour(app, Policy(**changes)).kind is kind


def test_sha256_breaks_enrolment_for_the_addon_and_google_authenticator_only():
    population = draw_population(2000, days=3, seed=4)
    table = by_app(simulate_fast(population, Policy(algorithm="SHA256")))
    assert table.loc["authenticator-addon", "never enrolled"] == 1.0
    assert table.loc["google-authenticator", "never enrolled"] == 1.0
    assert (table.loc[["aegis", "freeotp", "2fas"], "never enrolled"] < 0.05).all()


def test_eight_digits_give_google_authenticator_users_malformed_codes_that_never_lock():
    population = draw_population(2000, days=3, seed=4)
    run = simulate_fast(population, Policy(digits=8))
    google = population.app_keys.index("google-authenticator")
    logins = run.logins[population.app[run.logins["user"]] == google]
    assert (logins["outcome"] == "gave up").all()
    assert logins["malformed"].sum() == logins["codes"].sum() > 0


def test_an_app_that_refuses_the_qr_gives_nothing_to_type():
    population = scripted_population([0.0], ["2fas"], [STEP + 1.0])
    fast, exact = both(population, CHEAP.replace(period=45))
    assert (fast.logins["outcome"].iloc[0], fast.logins["codes"].iloc[0]) == ("gave up", 0)
    assert agreement(fast, exact).empty


def test_a_wider_window_lets_more_first_codes_in():
    population = draw_population(20_000, days=3, seed=8).with_parameters(loose_sd=45.0)
    table = compare_policies(population, {f"window {w}": Policy(window=w) for w in (0, 1, 2)})
    first = list(table["first code accepted"])
    assert first[0] < first[1] < first[2]


def test_first_code_by_offset_falls_off_beyond_the_window():
    population = draw_population(20_000, days=3, seed=8).with_parameters(loose_sd=45.0)
    table = first_code_by_offset(simulate_fast(population, Policy(window=1)))
    assert table.loc["-5 to 5", "first code accepted"] > 0.95
    assert 0.0 < table.loc[">= 120", "first code accepted"] < 0.15     # only 2FAS (7 %) corrects by itself
    assert table.loc["60 to 120", "first code accepted"] < 0.15      # 2FAS users again
    assert table["logins"].sum() == int((simulate_fast(population, Policy()).logins["codes"] > 0).sum())


def test_summary_counts_match_the_logins():
    population = draw_population(3000, days=4, params=STRESS, seed=3)
    run = simulate(population, Policy(), "fast")
    s, f = summarise(run), run.logins
    assert s["logins"] == len(f) == population.n_logins
    assert s["replays rejected"] == f["replays"].sum() > 0
    assert s["lockouts"] == (f["outcome"] == LoginOutcome.LOCKED_OUT.value).sum()
    assert 0 < s["first code accepted"] < 1 and 0 < s["median s to get in"] < s["95th pct s to get in"]
    assert s["retries"] == (f["codes"] - 1).clip(lower=0).sum()


# -- the population and its parameters ----------------------------------------------------------

def test_every_parameter_group_says_where_it_comes_from():
    data = yaml.safe_load(DATA_FILE.read_text())
    for name, entry in data.items():
        groups = [entry] if "source" in entry else [v for v in entry.values() if isinstance(v, dict)]
        assert groups, name
        for group in groups:
            assert len(group.get("source", "").strip()) > 10, name
    frame = default_parameters().to_frame()
    assert frame["source"].str.len().gt(10).all()


def test_drawing_is_reproducible_and_follows_the_parameters():
    a, b = draw_population(5000, days=4, seed=3), draw_population(5000, days=4, seed=3)
    assert np.array_equal(a.offsets, b.offsets) and np.array_equal(a.typing, b.typing)
    assert not np.array_equal(a.offsets, draw_population(5000, days=4, seed=4).offsets)
    p = a.params
    assert abs(np.mean(a.component == 0) - p.synced_share) < 0.02
    assert abs(np.median(a.typing) - p.typing.median) < 0.2
    assert a.n_logins == 5000 * 4 + int(np.sum(a.login_slot == 1))
    wider = a.with_parameters(loose_sd=60.0)
    loose = a.component == 1
    assert np.allclose(wider.offsets[loose], a.offsets[loose] * 4)
    assert np.array_equal(wider.offsets[~loose], a.offsets[~loose])


@pytest.mark.parametrize("changes, field", [
    ({"synced_share": 0.5}, "clock_offset"),
    ({"substitution": 1.5}, "substitution"),
    ({"attempts_per_login": 0}, "attempts_per_login"),
    ({"typing": LogNormal(-1.0, 0.3)}, "typing"),
    ({"app_mix": (("no-such-app", 1.0),)}, "app_mix"),
    ({"start_hour": 19}, "working_hours"),
])
def test_bad_parameters_are_refused_with_their_name(changes, field):
    with pytest.raises(ValidationError) as error:
        default_parameters().replace(**changes)
    assert field in str(error.value)


def test_misuse_is_refused():
    with pytest.raises(ValidationError, match="n_users"):
        draw_population(0)
    with pytest.raises(ValidationError, match="engine"):
        simulate(draw_population(5, days=1), Policy(), "quick")
    with pytest.raises(ValidationError, match="without drawing"):
        draw_population(5, days=1).with_parameters(typing=LogNormal(1.0, 0.1))
    with pytest.raises(ValidationError, match="no such parameter"):
        PopulationParameters().replace(skew=3)


def test_exact_engine_reports_progress_and_times_the_code_checks_alone():
    population = draw_population(120, days=2, seed=6)
    seen = []
    trace = []
    run = simulate_exact(population, CHEAP, progress=lambda done, total: seen.append((done, total)),
                         progress_every=50, trace=trace)
    assert seen[-1] == (population.n_logins, population.n_logins)
    assert [d for d, _ in seen[:-1]] == list(range(50, population.n_logins, 50))
    typed = [code for login in trace for code, _, _ in login.codes]
    assert len(trace) == population.n_logins and run.code_checks == len(typed) > 0
    assert 0 < run.code_check_seconds < run.seconds
    texts = " ".join(f"{e.outcome} {e.reason} {e.detail}" for e in run.office.events)
    assert not any(code in texts for code in typed)
    assert math.isfinite(run.code_check_seconds / run.code_checks)


def test_enrolment_reach_weights_a_compatibility_matrix_by_the_app_mix():
    import pandas as pd
    from twofa_sim.apps.profiles import PROFILES
    params = default_parameters()
    titles = [PROFILES[key].title for key, _ in params.app_mix]
    index = pd.MultiIndex.from_tuples([("SHA1", 6, 30), ("SHA256", 6, 30)], names=["algorithm", "digits", "period"])
    matrix = pd.DataFrame([[True] * len(titles), [key not in ("authenticator-addon", "google-authenticator")
                                                   for key, _ in params.app_mix]], index=index, columns=titles)
    reach = enrolment_reach(matrix, params)
    shares = dict(params.app_mix)
    assert reach[("SHA1", 6, 30)] == 1.0
    assert reach[("SHA256", 6, 30)] == pytest.approx(1 - shares["authenticator-addon"] - shares["google-authenticator"])
    with pytest.raises(ValidationError, match="no column"):
        enrolment_reach(matrix.drop(columns=titles[0]), params)


def test_benchmark_parts_measure_the_same_codes_and_check_the_engines():
    from twofa_sim.bench import engines as bench
    exact = bench.exact_engine(users=40, days=2, repeats=1)
    assert exact["differ"] == 0 and exact["logins"] >= 80
    assert exact["steps"] >= exact["logins"] * 0.9 and exact["per_step"] > 0 and exact["bare"] > 0
    fast = bench.fast_engine(users=2000, days=2, repeats=1)
    assert fast["logins"] >= 4000 and fast["seconds"] > 0


def test_the_benchmark_takes_the_simulations_code_steps_again_and_stops_where_one_ends_otherwise():
    """The benchmark times the engine on the simulation's own code prompts, taken again on a fresh back
    office: each must end as it did in the simulation, and a trace that says otherwise stops it."""
    from twofa_sim.bench import engines as bench
    from twofa_sim.login.flow import Outcome
    trace: list = []
    run = simulate_exact(draw_population(30, days=2, seed=5), CHEAP, trace=trace)
    assert bench.replay_code_steps(run, trace) > 0
    first = next(i for i, login in enumerate(trace) if login.codes)
    code, instant, outcome = trace[first].codes[0]
    other = Outcome.ACCEPTED if outcome is not Outcome.ACCEPTED else Outcome.REJECTED
    trace[first] = trace[first]._replace(codes=((code, instant, other),) + trace[first].codes[1:])
    with pytest.raises(AssertionError, match=f"code prompt #1 of the replay ended {outcome}, in the simulation {other}"):
        bench.replay_code_steps(run, trace)


def test_one_app_on_another_version():
    params = default_parameters()
    older = with_app_version(params, "2fas", "2fas@5.0")
    assert dict(older.app_mix)["2fas@5.0"] == dict(params.app_mix)["2fas"] and "2fas" not in dict(older.app_mix)
    with pytest.raises(ValidationError, match="2FAS 5.0 is not a version of Aegis"):
        with_app_version(params, "aegis", "2fas@5.0")
    with pytest.raises(ValidationError, match="'2fas@5.1' is not in the app mix"):
        with_app_version(older, "2fas@5.1", "2fas")


def test_beyond_the_window_only_apps_that_set_their_clock_by_ntp_get_in():
    population = draw_population(20_000, days=2, seed=8)
    run = simulate_fast(population, Policy())
    f = run.logins
    far = np.abs(population.offsets[f["user"].to_numpy()]) >= 120
    first = ((f["outcome"] == LoginOutcome.SIGNED_IN.value) & (f["codes"] == 1)).to_numpy()
    apps = np.asarray(population.app_keys)[population.app[f["user"].to_numpy()]]
    assert far.sum() > 100 and (first & far).sum() > 0
    assert set(apps[first & far]) == {"2fas"}


@pytest.mark.parametrize("version, never_enrolled", [("2fas", 0.0), ("2fas@5.1", 1.0), ("2fas@5.0", 1.0)])
def test_a_10_second_period_by_the_version_of_2fas(version, never_enrolled):
    params = with_app_version(default_parameters(), "2fas", version)
    population = draw_population(4000, days=2, seed=5, params=params)
    table = by_app(simulate_fast(population, Policy(period=10)))
    assert table.loc[version, "never enrolled"] == never_enrolled
    assert table.loc["authenticator-addon", "never enrolled"] == 1.0
