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


def test_the_arrival_benchmark_measures_every_page_and_sees_closed_pages_give_their_kernels_back(tmp_path):
    """A smoke run of the arrival half (two trainees, server side): every page timed, the kernels
    counted after the rush and after the pages' "tab closed" calls."""
    from twofa_sim.bench.arrival import measure

    found = measure("smoke", f"sqlite:///{tmp_path / 'class.sqlite'}", 2, browser=False, log_dir=tmp_path)
    assert len(found.mask_server) == 2 and all(0 < seconds < 600 for seconds in found.mask_server)
    kernels_after_rush, memory_after_rush = found.server_after_rush
    assert kernels_after_rush >= 2 and memory_after_rush > 0 and 0 < found.idle_kernel_mb < memory_after_rush
    assert found.pages_kernels_after_rush == 2 and found.pages_kernels_after_close == 0  # the pages' kernels ended (warm ones may have started since)
