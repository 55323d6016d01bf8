"""Shared fixtures: a deterministic back office (pinned clock, seeded secrets, cheap KDF)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Hypothesis profiles size every property test. "ci" (where CI is set): a fixed seed, so that CI gives
# the same verdict on every run of the same commit, and each test's full count of examples. "dev"
# (make test elsewhere): fresh draws each run, a quarter of the counts, so that feedback comes in
# minutes while run after run explores further; hypothesis prints a blob to reproduce any failure.
# "explore": the full counts, fresh draws (HYPOTHESIS_EXPLORE=1 on CI). HYPOTHESIS_PROFILE names one.
CI_EXAMPLES = 100
settings.register_profile("ci", derandomize=True, print_blob=True, max_examples=CI_EXAMPLES)
settings.register_profile("explore", print_blob=True, max_examples=CI_EXAMPLES)
settings.register_profile("dev", print_blob=True, max_examples=CI_EXAMPLES // 4)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or (
    ("explore" if os.environ.get("HYPOTHESIS_EXPLORE") else "ci") if os.environ.get("CI") else "dev"))


def examples(on_ci: int) -> int:
    """The examples a property test draws under the loaded profile: ``on_ci`` under "ci" (and
    "explore"), scaled like the profile's ``max_examples`` elsewhere, never fewer than 10."""
    return max(10, round(on_ci * settings.default.max_examples / CI_EXAMPLES))


from notebook_rerun import replace_nbclient_reruns
from twofa_sim import BackOffice, Clock, Policy, SeededSecretSource

START = "2026-01-05T09:00:10Z"
PASSWORD = "correct horse 42"
FAST = Policy(kdf_log2_n=4)


def make_office(**policy_changes) -> BackOffice:
    office = BackOffice(policy=FAST.replace(**policy_changes), clock=Clock.at(START),
                        secret_source=SeededSecretSource(2026))
    office.create_company("ACME")
    return office


@pytest.fixture
def office() -> BackOffice:
    return make_office()


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(config, items):
    """A notebook nbval runs whole is checked for "a run changes nothing git keeps" on that run."""
    replace_nbclient_reruns(config, items)
