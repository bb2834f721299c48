"""Host probes: pinned where the measured containers run, filed by group, stored with the run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from basebench.cpus import parse_cpus, pinned
from basebench.errors import UserError
from basebench.measure import _host_probe as calibration
from basebench.measure._host_probe import REPEAT, HostProbe
from basebench.results import CPU_PROBE_METRIC as PROBE_METRIC
from basebench.results import HOST_PROBE_GROUP as GROUP
from basebench.results import LOAD_METRIC, ResultStore, load_runs


def test_parse_cpus() -> None:
    assert parse_cpus("1") == {1}
    assert parse_cpus("0-2,5") == {0, 1, 2, 5}
    assert parse_cpus(" 0 , 3 ") == {0, 3}
    with pytest.raises(UserError, match="not a CPU set: 'one'"):
        parse_cpus("one")


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux affinity API")
def test_pinned_restores_affinity() -> None:
    before = os.sched_getaffinity(0)
    one = min(before)
    with pinned({one}) as got:
        assert os.sched_getaffinity(0) == {one}
        assert got == str(one)
    assert os.sched_getaffinity(0) == before
    # CPUs this process may not use: the block runs where it is.
    with pinned({10_000}) as got:
        assert os.sched_getaffinity(0) == before


def test_probe_samples_are_filed_by_group_and_stored(tmp_path: Path) -> None:
    probe = HostProbe(cpuset="", iterations=2_000)
    probe.sample("startup")
    probe.sample("startup")
    probe.sample("runtime")
    assert len(probe.times["startup"]) == 2 * REPEAT
    assert all(t > 0 for t in probe.times["runtime"])
    run = ResultStore(tmp_path).create_run(config={}, host={})
    probe.write(run)
    frame = load_runs([run.dir])
    times = frame[(frame["group"] == GROUP) & (frame["metric"] == PROBE_METRIC)]
    assert sorted(set(times["benchmark"])) == ["runtime", "startup"]
    assert (times["unit"] == "s").all() and len(times) == 3 * REPEAT
    assert "2000 iterations" in times["detail"].iloc[0]
    if hasattr(os, "getloadavg"):
        loads = frame[frame["metric"] == LOAD_METRIC]
        assert len(loads) == 3 and (loads["value"] >= 0).all()


def test_no_probe_writes_nothing(tmp_path: Path) -> None:
    run = ResultStore(tmp_path).create_run(config={}, host={})
    HostProbe().write(run)
    assert not list(run.measurements_dir.glob("*.json"))


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux affinity API")
def test_probe_runs_on_the_measured_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CPU probe times its loop where the measured containers run (``cpuset``), and the
    process's own affinity is back afterwards. (Not timed: the host's speed is what it probes.)"""
    seen: list[set[int]] = []

    def workload(iterations: int) -> int:
        seen.append(os.sched_getaffinity(0))
        return iterations

    monkeypatch.setattr(calibration, "probe_workload", workload)
    before = os.sched_getaffinity(0)
    cpu = max(before)
    probe = HostProbe(cpuset=str(cpu))
    probe.sample("runtime")
    assert seen == [{cpu}] * REPEAT
    assert os.sched_getaffinity(0) == before
    assert len(probe.times["runtime"]) == REPEAT


def test_a_failing_container_probe_is_dropped_not_fatal() -> None:
    calls = []

    def broken() -> float:
        calls.append(1)
        raise UserError("the engine went away")

    probe = HostProbe(iterations=1_000, container=broken)
    probe.sample("build")
    probe.sample("build")
    assert len(calls) == 1 and probe.container is None
    assert probe.container_error == "the engine went away"
    assert len(probe.times["build"]) == 2 * REPEAT and not probe.container_times
