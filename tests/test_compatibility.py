"""Which app enrols under which policy, by running the real first login for every pair: the
backend's page image scanned from pixels, the app's code typed into the login."""

from __future__ import annotations

import itertools

import pytest

from twofa_sim import EventKind, Policy, Reason, State
from twofa_sim.apps.profiles import PROFILES
from twofa_sim.analysis.compatibility import (version_matrix, compatibility_matrix, enrolment_trial, enrolment_trials, policies,
                                     style_matrix, summary)
from twofa_sim.apps.device import Device

from conftest import PASSWORD, make_office
from helpers import at_code_prompt

ALL_POLICIES = list(itertools.product(("SHA1", "SHA256", "SHA512"), (6, 8), (30, 60)))


@pytest.mark.parametrize("algorithm, digits, period", ALL_POLICIES)
def test_round_trip_for_every_supported_policy(algorithm, digits, period):
    """The backend's QR image, scanned by the reference app, gives codes the backend accepts:
    at enrolment, and again at a later login."""
    office = make_office(algorithm=algorithm, digits=digits, period=period)
    office.create_user("alice", PASSWORD, force_2fa=True)
    device = Device.for_user(office, "alice")
    login = office.start_login()
    shown = login.submit_password("alice", PASSWORD)
    scanned = device.scan(shown.screen.page_image())
    assert (scanned.entry.algorithm, scanned.entry.digits, scanned.entry.period) == (algorithm, digits, period)
    assert not scanned.adjustments
    assert login.submit_code(device.code()).state is State.AUTHENTICATED
    office.clock.advance(3600 + 7)
    later = at_code_prompt(office, "alice").submit_code(device.code())
    assert later.state is State.AUTHENTICATED and len(device.code()) == digits


@pytest.mark.parametrize("algorithm, period, works", [
    ("SHA1", 30, True), ("SHA256", 30, False), ("SHA512", 30, False), ("SHA1", 60, False), ("SHA256", 60, False),
])
def test_the_article_app_breaks_sha256_and_60_second_policies_silently(algorithm, period, works):
    office = make_office(algorithm=algorithm, period=period)
    office.create_user("alice", PASSWORD, force_2fa=True)
    device = Device.for_user(office, "alice", app="authenticator-addon")
    login = office.start_login()
    scanned = device.scan(login.submit_password("alice", PASSWORD).screen.page_image())
    assert scanned.added                     # the scan itself looks fine to the user
    result = login.submit_code(device.code())
    assert (result.state is State.AUTHENTICATED) is works
    added = office.events.of_kind(EventKind.ENTRY_ADDED)[-1].detail
    if works:
        assert not scanned.adjustments and "->" not in added
    else:
        assert result.state is State.ENROLMENT and result.reason is Reason.WRONG_CODE
        assert office.events.of_kind(EventKind.CODE_REJECTED)[-1].reason == "wrong code"
        changed = {"SHA1": "", "SHA256": "algorithm SHA256 -> SHA1", "SHA512": "algorithm SHA512 -> SHA1"}[algorithm]
        for words in filter(None, [changed, "period 60 -> 30" if period == 60 else ""]):
            assert words in added and words in scanned.describe()
        assert "ignores it on scan" in added


def test_eight_digits_survive_the_addon():
    trial = enrolment_trial(Policy(digits=8), "authenticator-addon")
    assert trial.works and trial.app_settings == "SHA1/8/30 s"


@pytest.fixture(scope="module")
def matrix():
    return compatibility_matrix()


EXPECTED = {
    "Reference app 1.0": set(ALL_POLICIES),
    "Authenticator (browser add-on) 8.0.x": {("SHA1", 6, 30), ("SHA1", 8, 30)},
    "Aegis 3.4": set(ALL_POLICIES),
    "FreeOTP 2.x": set(ALL_POLICIES),
    "2FAS 5.3.5+": set(ALL_POLICIES),
    "Google Authenticator 5.00 (open source)": {("SHA1", 6, 30)},
}


def test_the_compatibility_matrix(matrix):
    assert list(matrix.columns) == [p.title for p in PROFILES.values()] == list(EXPECTED)
    assert list(matrix.index) == ALL_POLICIES
    assert list(matrix.index.names) == ["algorithm", "digits", "period"]
    assert matrix.dtypes.eq(bool).all()
    for app, works in EXPECTED.items():
        assert {policy for policy, ok in matrix[app].items() if ok} == works, app


def test_every_cell_has_its_reason(matrix):
    reasons = matrix.attrs["reasons"]
    assert reasons.shape == matrix.shape
    assert reasons.loc[("SHA1", 6, 30), "Reference app 1.0"] == "all settings honoured"
    addon = reasons.loc[("SHA256", 8, 60), "Authenticator (browser add-on) 8.0.x"]
    assert addon.startswith("the back office rejected the app's code (wrong code); the app changed algorithm SHA256 "
                            "-> SHA1")
    assert "period 60 -> 30" in addon
    google = reasons.loc[("SHA1", 8, 30), "Google Authenticator 5.00 (open source)"]
    assert "(malformed code)" in google and "digits 8 -> 6" in google


def test_the_styled_matrix_is_coloured_with_reasons_as_tooltips(matrix):
    html = style_matrix(matrix).to_html()
    assert html.count("✓ works") == int(matrix.values.sum())
    assert html.count("✗ fails") == int((~matrix.values).sum())
    assert "#c6efce" in html and "#ffc7ce" in html
    assert "the app changed algorithm SHA256 -&gt; SHA1" in html or "the app changed algorithm SHA256 -> SHA1" in html


def test_the_summary_counts_the_policies_that_work(matrix):
    table = summary(matrix)
    assert table["policies that work"].to_dict() == {app: len(works) for app, works in EXPECTED.items()}
    assert table.loc["Google Authenticator 5.00 (open source)", "works for"] == "SHA1/6/30s"


def test_trials_are_real_logins_a_clock_far_off_fails_everywhere():
    trials = enrolment_trials(["reference"], algorithms=["SHA1", "SHA256"], digits=[6], periods=[30], offset=95)
    assert not trials["works"].any()
    assert (trials["stage"] == "code").all()
    assert trials["reason"].str.contains("kept every setting").all()


def test_an_app_that_refuses_the_qr_fails_at_the_scan():
    trials = enrolment_trials(["2fas", "aegis"], digits=[6], algorithms=["SHA1"], periods=[45])
    two_fas, aegis = trials.itertuples(index=False)
    assert (two_fas.works, two_fas.stage, two_fas.outcome) == (False, "scan", "scan refused")
    assert two_fas.reason == "period: 2FAS 5.3.5+ refuses 45: it supports 10, 30, 60 or 90 only"
    assert aegis.works and aegis.app_settings == "SHA1/6/45 s"


def test_the_base_policy_is_used_and_values_combine():
    base = Policy(issuer="ACME", window=0)
    made = policies(base, ["SHA1", "SHA512"], [8], [30, 60])
    assert [(p.algorithm, p.digits, p.period, p.issuer, p.window) for p in made] == [
        ("SHA1", 8, 30, "ACME", 0), ("SHA1", 8, 60, "ACME", 0), ("SHA512", 8, 30, "ACME", 0),
        ("SHA512", 8, 60, "ACME", 0)]
    assert enrolment_trial(base.replace(digits=8), "reference").works


def test_trials_or_options_not_both():
    trials = enrolment_trials(["reference"], algorithms=["SHA1"], digits=[6], periods=[30])
    assert compatibility_matrix(trials).shape == (1, 1)
    with pytest.raises(TypeError, match="not both"):
        compatibility_matrix(trials, algorithms=["SHA1"])


# (policy period, apps: 2FAS 5.0 / 5.1 to 5.3.0 / 5.3.5+, and where each fails)
VERSIONS_AT = [
    (10, (False, False, True), ("scan", "scan", "done")),
    (30, (True, True, True), ("done", "done", "done")),
]


@pytest.mark.parametrize("period, works, stages", VERSIONS_AT)
def test_versions_of_one_app_side_by_side(period, works, stages):
    matrix = version_matrix("2fas", algorithms=["SHA1"], digits=[6], periods=[period])
    assert list(matrix.columns) == ["2FAS 5.0", "2FAS 5.1 to 5.3.0", "2FAS 5.3.5+"]
    assert tuple(matrix.loc[("SHA1", 6, period)]) == works
    trials = enrolment_trials(["2fas@5.0", "2fas@5.1", "2fas"], algorithms=["SHA1"], digits=[6], periods=[period])
    assert tuple(trials["stage"]) == stages
