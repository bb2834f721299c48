"""Container limits: the configuration's limits reach every measured container, unchanged.

A limit that reached only some containers would make their timings incomparable, so each
group that starts a measured container is run here against a recording engine.
"""

from __future__ import annotations

from pathlib import Path

import pyperf
import pytest
from fakes import FakeEngine, base_image, make_context, workload, workload_image

from basebench.config import Config
from basebench.limits import Limits
from basebench.measure import _host_probe, http, runtime, startup
from basebench.measure._context import ImageUnderTest
from basebench.measure.runtime import PYPERF_PLANS


@pytest.mark.parametrize(
    ("limits", "kwargs"),
    [
        (Limits(), {}),
        (Limits(cpuset="", cpus=0.0, memory="", pids=0), {}),
        (Limits(cpus=0.5), {"nano_cpus": 500_000_000}),
        (Limits(cpus=2), {"nano_cpus": 2_000_000_000}),
        (Limits(cpuset="0-1"), {"cpuset_cpus": "0-1"}),
        (Limits(memory="4g"), {"mem_limit": "4g", "memswap_limit": "4g"}),
        (Limits(pids=512), {"pids_limit": 512}),
        (
            Limits("1,3", 1.5, "256m", 64),
            {
                "cpuset_cpus": "1,3",
                "nano_cpus": 1_500_000_000,
                "mem_limit": "256m",
                "memswap_limit": "256m",
                "pids_limit": 64,
            },
        ),
        # 2.01 * 1e9 is 2009999999.9999998 in binary floating point: rounded, not truncated
        pytest.param(Limits(cpus=2.01), {"nano_cpus": 2_010_000_000}),
    ],
)
def test_docker_kwargs(limits: Limits, kwargs: dict[str, object]) -> None:
    assert limits.docker_kwargs() == kwargs


def test_describe() -> None:
    assert Limits().describe() == "CPUs any"
    assert Limits("0", 0.5, "4g", 64).describe() == "CPUs 0, CPU quota 0.5, memory 4g, pids 64"


def limited_config() -> Config:
    """A configuration with every limit set, a CPU quota included."""
    return Config(cpuset="0", cpus=0.5, mem_limit="256m", pids_limit=64, startup_rounds=2)


def test_the_context_hands_out_the_configs_limits(tmp_path: Path) -> None:
    config = limited_config()
    assert config.limits == Limits(cpuset="0", cpus=0.5, memory="256m", pids=64)
    assert make_context(tmp_path, FakeEngine(), config).limits == config.limits
    assert config.limits.docker_kwargs()["nano_cpus"] == 500_000_000


def assert_limited(engine: FakeEngine, config: Config, calls: int) -> None:
    """``calls`` containers were asked for, each with exactly the configuration's limits."""
    assert len(engine.calls) == calls, engine.calls
    for call in engine.calls:
        assert call.kwargs.get("limits") == config.limits, call


def test_startup_containers(tmp_path: Path) -> None:
    config = limited_config()
    engine = FakeEngine()
    base = base_image()
    ctx = make_context(tmp_path, engine, config, [base])
    ctx.add_image(ImageUnderTest("app:multistage", "basebench/app:test", base, "multistage"))
    startup.measure(ctx)
    # rounds x (base: pass, import stdlib + app: pass, import stdlib, import app)
    assert_limited(engine, config, calls=2 * (2 + 3))
    assert not ctx.failures


def test_runtime_pyperf_invocation(tmp_path: Path) -> None:
    config = limited_config()
    engine = FakeEngine()
    base = base_image()
    ctx = make_context(tmp_path, engine, config, [base])
    # A one-CPU workload gets the configured cpuset (a workload of N workers gets N CPUs:
    # test_runtime_unit.py).
    (job,) = runtime.plan_jobs(ctx, [workload_image(base)], [workload("small")], tmp_path)
    assert job.cpuset == config.cpuset
    job.log_path = tmp_path / "small.log"
    # What pyperf would have written into the mounted folder: one run of 4 loops.
    run = pyperf.Run([0.001], metadata={"name": "small", "loops": 4}, collect_metadata=False)
    pyperf.BenchmarkSuite([pyperf.Benchmark([run])]).dump(str(job.host_file))
    runtime._run_once(ctx, job, PYPERF_PLANS["fast"])
    assert_limited(engine, config, calls=1)
    command = engine.calls[0].command or []
    assert command[command.index("--affinity") + 1] == config.cpuset
    assert job.rounds_done == 1 and job.loops == 4


def test_http_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = limited_config()
    engine = FakeEngine()
    waited: list[http.Server] = []
    monkeypatch.setattr(http, "wait_healthy", waited.append)
    ctx = make_context(tmp_path, engine, config, [base_image()])
    server = http.Server(base_image(), "basebench/app:multistage", port=8000)
    http.start_server(ctx, server)
    assert_limited(engine, config, calls=1)
    assert engine.calls[0].method == "start" and engine.calls[0].image == server.image
    assert waited == [server] and server.container is not None


def test_container_host_probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = limited_config()
    engine = FakeEngine()
    monkeypatch.setattr(
        _host_probe, "ensure_probe_image", lambda engine: ("basebench/probe:test", "/bin/true")
    )
    ctx = make_context(tmp_path, engine, config)
    ctx.enable_container_probe()
    ctx.probe_host("startup")
    ctx.probe_host("runtime")
    assert_limited(engine, config, calls=2)
    assert {call.kwargs["kind"] for call in engine.calls} == {"probe"}
    assert ctx.host_probe.container_times.keys() == {"startup", "runtime"}
