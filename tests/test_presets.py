"""Real systems' policies as presets: every knob set with the system's words and a source, the rest said."""

from __future__ import annotations

import dataclasses

import pytest

from twofa_sim.core.errors import PolicyError
from twofa_sim.core.policy import Policy
from twofa_sim.core.presets import NO_LOCKOUT_LIMIT, PRESETS, preset, preset_rows

KNOBS = {f.name for f in dataclasses.fields(Policy)}

# preset, knob, value: the documented values (and the corrected facts) the presets must keep
DOCUMENTED = [
    ("gitlab", "failed_code_limit", 10),
    ("gitlab", "lockout_seconds", 600),
    ("gitlab", "recovery_code_count", 10),
    ("gitlab", "window", 1),
    ("keycloak", "window", 1),
    ("keycloak", "replay_protection", True),
    ("keycloak-brute-force", "failed_code_limit", 30),
    ("keycloak-brute-force", "lockout_seconds", 60),
    ("authelia", "window", 1),
    ("authelia", "secret_bits", 256),
    ("django-otp", "drift_tracking", True),
    ("django-otp", "code_prompt_timeout", 600),
    ("django-otp", "recovery_code_count", 10),
]


def test_the_named_presets_exist():
    assert list(PRESETS) == ["default", "gitlab", "keycloak", "keycloak-brute-force", "authelia", "django-otp"]


def test_default_is_the_projects_policy():
    assert preset("default").policy == Policy()


@pytest.mark.parametrize("name, knob, value", DOCUMENTED)
def test_documented_values(name, knob, value):
    assert getattr(preset(name).policy, knob) == value


@pytest.mark.parametrize("name", [n for n in PRESETS if n != "default"])
def test_every_knob_set_names_its_source(name):
    for knob in preset(name).knobs:
        assert knob.setting in KNOBS
        assert knob.documented_as.strip()
        assert knob.source is not None and knob.source.repository.count("/") == 1
        assert knob.source.path and knob.source.ref


@pytest.mark.parametrize("name", list(PRESETS))
def test_rows_cover_every_knob_and_say_where_each_value_comes_from(name):
    rows = preset(name).rows()
    assert [r["setting"] for r in rows] == [f.name for f in dataclasses.fields(Policy)]
    set_here = {k.setting for k in preset(name).knobs}
    for row in rows:
        if row["setting"] in set_here:
            assert row["source"]
        else:
            assert row["source"] == "" and "project's value" in row["as documented"]


@pytest.mark.parametrize("name", ["keycloak", "authelia", "django-otp"])
def test_a_system_without_a_lock_on_codes_gets_a_stand_in_said_so(name):
    knob = next(k for k in preset(name).knobs if k.setting == "failed_code_limit")
    assert knob.stand_in and knob.value == NO_LOCKOUT_LIMIT
    row = next(r for r in preset(name).rows() if r["setting"] == "failed_code_limit")
    assert row["as documented"].startswith("stand-in: ")


def test_corrected_facts():
    authelia = next(k for k in preset("authelia").knobs if k.setting == "failed_code_limit")
    assert "password" in authelia.documented_as and "never ban" in authelia.documented_as
    keycloak = next(k for k in preset("keycloak").knobs if k.setting == "replay_protection")
    assert "codes, not steps" in keycloak.documented_as


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(PolicyError, match="gitlab"):
        preset("gitlab2")


def test_preset_rows_of_all():
    assert len(preset_rows()) == len(PRESETS) * len(KNOBS)


# -- the attacker under each preset's own rules ---------------------------------------------------------------

from twofa_sim.analysis.attacker import Schedule, guess_times  # noqa: E402
from twofa_sim.analysis.presets_compared import attacker_odds, preset_schedule  # noqa: E402

KEYCLOAK_WAIT = Schedule("keycloak-brute-force", "stepped-wait",
                         {"failure_factor": 30, "wait_increment": 60.0, "max_wait": 900.0})


# horizon (s), guesses Keycloak's detection checks by then: 30 one second apart (failures 1 to 29 wait
# nothing), then 60 s after each failure from the 30th, 120 s from the 60th..., 900 s from the 450th
@pytest.mark.parametrize("horizon, guesses", [(0, 1), (28, 29), (29, 30), (88, 30), (89, 31), (29 + 60 * 30, 60),
                                              (29 + 60 * 30 + 120, 61)])
def test_keycloak_waits_by_hand(horizon, guesses):
    assert KEYCLOAK_WAIT.guesses_by(horizon) == guesses


@pytest.mark.parametrize("horizon", [100, 3600, 86400, 30 * 86400])
def test_keycloak_closed_form_equals_its_rules_guess_by_guess(horizon):
    assert KEYCLOAK_WAIT.guesses_by(horizon) == len(guess_times(KEYCLOAK_WAIT, horizon))


def test_each_preset_meets_its_own_schedule():
    assert preset_schedule("gitlab").kind == "count-lockout" and preset_schedule("gitlab").params["limit"] == 10
    assert preset_schedule("keycloak").kind == "none" and preset_schedule("authelia").kind == "none"
    assert preset_schedule("django-otp").kind == "doubling"
    assert preset_schedule("default").policy == preset("default").policy   # the real back office


def test_attacker_odds_order():
    month = attacker_odds()["attacker in within 30 days"]
    assert month["keycloak"] > 0.99 and month["keycloak-brute-force"] < 0.01
    assert month.idxmin() == "django-otp" and month["default"] < month["gitlab"]
