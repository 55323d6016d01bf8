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
    "explore"), scaled like the profile's ``max_examples`` elsewhere, never fewer than 10 (nor more than ``on_ci``)."""
    return min(on_ci, max(10, round(on_ci * settings.default.max_examples / CI_EXAMPLES)))


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


# The files that take longest, longest first (measured with --durations under make test): xdist's
# --dist loadfile (with --no-loadscope-reorder, scripts/run-tests) hands whole files to the two workers
# in collection order, so started first they end while the short files fill the rest, and both
# workers finish together.
LONGEST_FIRST = ["tests/test_class_server.py", "tests/test_class_browser.py", "tests/test_class_servers_pg.py",
                 "tests/test_flow_coverage.py", "tests/test_browser.py", "tests/test_bench_class.py",
                 "tests/test_make_targets.py", "tests/test_persistence.py", "tests/test_fuzz.py",
                 "tests/test_store_stateful.py", "tests/test_stateful.py", "notebooks/11_conformance.ipynb",
                 "tests/test_notebook_sections.py", "notebooks/10_real_systems.ipynb", "notebooks/08_what_if.ipynb",
                 "tests/test_password_costs.py", "tests/test_population.py", "tests/test_class_pages.py"]


def longest_first(items: list) -> None:
    """Items of the files in LONGEST_FIRST first, in its order; each file's items keep their order."""
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(config, items):
    """A notebook nbval runs whole is checked for "a run changes nothing git keeps" on that run;
    the longest files start first."""
    replace_nbclient_reruns(config, items)
    longest_first(items)
