"""freezegun's ``freeze_time`` works beside the package: freezing time after ``import twofa_sim``,
and a first table drawn while time is frozen, do not crash the interpreter (pandas' time parts,
imported for the first time while freezegun's ``datetime`` classes stand in, did: a segmentation
fault). Each case runs in a fresh interpreter, where pandas is not loaded yet."""

from __future__ import annotations

import subprocess
import sys

import pytest

CASES = {
    "freeze after import": """
import twofa_sim
from freezegun import freeze_time
with freeze_time("2026-03-01 12:00:00"):
    pass
""",
    "first table while frozen": """
import datetime, sys
import twofa_sim
from freezegun import freeze_time
with freeze_time("2026-03-01 12:00:00"):
    from twofa_sim import BackOffice, Policy
    from twofa_sim.render import events_table
    office = BackOffice(policy=Policy(kdf_log2_n=1))
    office.create_company("Lab")
    table = events_table(office.events)
    assert datetime.datetime.now() == datetime.datetime(2026, 3, 1, 12), "time is still frozen"
    assert "pandas" in sys.modules and len(table) == len(office.events)
assert datetime.datetime is datetime.datetime.now().__class__, "the real classes are back"
""",
}


@pytest.mark.parametrize("case", CASES)
def test_freezing_time_beside_the_package_does_not_crash(case):
    run = subprocess.run([sys.executable, "-c", CASES[case]], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-800:]}"


def test_dir_lists_only_what_is_loaded():
    """freezegun reads every name ``dir()`` lists: a name not loaded yet must not be among them."""
    run = subprocess.run([sys.executable, "-c", "import sys, twofa_sim, twofa_sim.render as r\n"
                          "assert 'users_table' not in dir(r) and 'simulate' not in dir(twofa_sim)\n"
                          "assert 'users_table' in r.__all__ and 'simulate' in twofa_sim.__all__\n"
                          "assert 'pandas' not in sys.modules"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-800:]
