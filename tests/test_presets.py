"""Real systems' policies as presets: every knob set with the system's words and a source, the rest said."""

from __future__ import annotations

import dataclasses

import pytest

from twofa_sim.core.errors import PolicyError
from twofa_sim.core.policy import Policy
from twofa_sim.core.presets import NO_LOCK_LIMIT, PRESETS, preset, preset_rows

KNOBS = {f.name for f in dataclasses.fields(Policy)}

# preset, knob, value: the documented values (and the corrected facts) the presets must keep
DOCUMENTED = [
    ("gitlab", "failed_code_limit", 10),
    ("gitlab", "lock_seconds", 600),
    ("gitlab", "recovery_code_count", 10),
    ("gitlab", "window", 1),
    ("keycloak", "window", 1),
    ("keycloak", "replay_protection", True),
    ("keycloak-brute-force", "failed_code_limit", 30),
    ("keycloak-brute-force", "lock_seconds", 60),
    ("authelia", "window", 1),
    ("authelia", "secret_bits", 256),
    ("django-otp", "drift_tracking", True),
    ("django-otp", "code_step_timeout", 600),
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
    assert knob.stand_in and knob.value == NO_LOCK_LIMIT
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
