"""Shared fixtures: a deterministic back office (pinned clock, seeded secrets, cheap KDF)."""

from __future__ import annotations

import pytest

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
