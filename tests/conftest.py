"""Shared fixtures: a deterministic back office (pinned clock, seeded secrets, cheap KDF)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# CI must give the same verdict on every run of the same commit: there the property tests draw
# their examples from a fixed seed (set HYPOTHESIS_EXPLORE=1 to explore anyway). Elsewhere they
# explore freshly each run, and hypothesis prints a blob to reproduce any failure.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") and not os.environ.get("HYPOTHESIS_EXPLORE") else "explore")

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
