"""The class benchmark runs its whole story (a smoke run with three trainees; figures are not checked,
the benchmark is not a timed test) and counts every code submission it times."""

from __future__ import annotations

import pytest

from twofa_sim.bench.classroom import figures, in_memory, on_sqlite
from twofa_sim.core.policy import Policy


@pytest.mark.parametrize("run", [on_sqlite, in_memory])
def test_every_trainee_does_the_whole_story_and_the_burst(run):
    runs = run(3, 1, 4, 0.0, Policy(kdf_log2_n=4, failed_code_limit=1000))
    assert [len(t.story_codes) for t in runs] == [2, 2, 2]  # enrolment, one login with a code
    assert [len(t.burst_codes) for t in runs] == [4, 4, 4]
    assert [len(t.passwords) for t in runs] == [2, 2, 2]
    found = figures(runs)
    assert found["checks"] == 18
    assert 0 < found["story_p50"] <= found["story_p95"] and found["checks_per_second"] > 0
