"""Runtime and HTTP groups against the real Docker engine, on the glibc slim stand-in.

Every manifest workload runs once (pyperf --debug-single-value) inside a container of the
workload image; the pyperf JSON files must carry the basebench tags, the pinning and the fixed
hostname, and `python -m pyperf compare_to` must read them. Then the sample app is served by
uWSGI in a container and loaded from the host with a small number of requests.
"""

import os
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest

from basebench.bases import BaseImage, ensure_local
from basebench.config import Config
from basebench.cpus import parse_cpus
from basebench.engine import Engine
from basebench.measure._context import RunContext
from basebench.measure.http import run_http
from basebench.measure.runtime import run_runtime, workload_cpuset
from basebench.results import RUNTIME_CPUS_KEY, ResultStore, load_runs
from basebench.runtime_manifest import load_manifest
from basebench.variants import load_catalogue

PYTHON = "3.13"
VARIANT = "slim-trixie"


def _cpuset() -> str:
    # One CPU the test process may use: the last one (CI machines have 2).
    return str(max(os.sched_getaffinity(0)))


#: Every container of one variant has this hostname, so that its pyperf runs merge.
HOSTNAME = f"basebench-{PYTHON}-{VARIANT}"


@pytest.fixture(scope="module")
def base(engine: Engine) -> BaseImage:
    return ensure_local(engine, load_catalogue().get(VARIANT), PYTHON)


@pytest.fixture
def ctx(engine: Engine, base: BaseImage, tmp_path: Path) -> RunContext:
    run = ResultStore(tmp_path / "results").create_run(config={}, host={})
    config = Config(cpuset=_cpuset(), mem_limit="2g", pids_limit=256, variants=[VARIANT])
    return RunContext(engine, run, config, load_catalogue(), [base])


def _suite(path: Path) -> tuple[pyperf.Benchmark, dict[str, object]]:
    suite = pyperf.BenchmarkSuite.load(str(path))
    (bench,) = suite.get_benchmarks()
    return bench, bench.get_metadata()


def test_every_workload_runs_once_in_a_container(ctx: RunContext) -> None:
    workloads = load_manifest()
    files = run_runtime(ctx, mode="debug", workloads=workloads, allocators={"pymalloc"})
    assert not ctx.failures, ctx.failures
    assert len(files) == len(workloads)
    needs = {w.name: w.cpus for w in workloads}
    engine_cpus = ctx.engine.cpu_count()
    by_name = {}
    for path in files:
        bench, meta = _suite(path)
        by_name[bench.get_name()] = path
        cpuset = workload_cpuset(ctx.config.cpuset, needs[bench.get_name()], engine_cpus)
        assert meta["basebench_variant"] == VARIANT
        assert meta["basebench_python"] == PYTHON
        assert meta["basebench_libc"] == "glibc"
        assert meta["basebench_base_source"] == "local"
        assert meta["basebench_allocator"] == "pymalloc"
        assert meta["basebench_group"] == "runtime"
        assert meta["basebench_pyperf_mode"] == "debug"
        # pinning: the container's CPU set and pyperf's own affinity, the same CPUs, one per
        # worker (the 2-thread and 2-process workloads get 2 CPUs)
        assert meta["basebench_cpuset"] == cpuset
        # (pyperf leaves its cpu_affinity out when the workers may use every CPU)
        pinned = meta.get("cpu_affinity", ",".join(map(str, range(engine_cpus))))
        assert parse_cpus(str(pinned)) == parse_cpus(cpuset)
        assert meta["basebench_worker_cpus"] == cpuset
        assert meta["basebench_worker_cpu_count"] == needs[bench.get_name()]
        assert meta["hostname"] == HOSTNAME
        # the compile flags travel with the result (same-flags vs as-shipped comparisons)
        assert "basebench_cflags" in meta and "basebench_configure_args" in meta
        assert "-O2" in str(meta["basebench_cflags"])
        runs = [r for r in bench.get_runs() if r.values]
        assert runs and all(r.get_metadata().get("mem_max_rss") for r in runs)
    assert set(by_name) == {w.name for w in workloads}
    frame = load_runs([ctx.run.dir])
    runtime = frame[frame["group"] == "runtime"]
    assert set(runtime["benchmark"]) == set(by_name)
    assert set(runtime["metric"]) == {"time", "mem_max_rss"}
    assert set(runtime["allocator"]) == {"pymalloc"}
    assert ctx.run.meta()[RUNTIME_CPUS_KEY]["medium_threads_2"]["cpus"] == 2


def test_allocator_axis_in_one_workload(ctx: RunContext) -> None:
    (large,) = [w for w in load_manifest() if w.name == "large_objects"]
    files = run_runtime(ctx, mode="debug", workloads=[large])
    assert not ctx.failures, ctx.failures
    paths = {str(_suite(p)[1]["basebench_allocator"]): p for p in files}
    allocators = {name: _suite(p)[1] for name, p in paths.items()}
    # CPython 3.13 brings mimalloc; Debian ships jemalloc and mimalloc for LD_PRELOAD.
    assert {"pymalloc", "malloc", "mimalloc", "pymalloc+jemalloc"} <= set(allocators)
    assert allocators["malloc"]["basebench_python_malloc"] == "malloc"
    assert allocators["mimalloc"]["basebench_python_malloc"] == "mimalloc"
    preload = str(allocators["pymalloc+jemalloc"]["basebench_allocator_env"])
    assert preload.startswith("LD_PRELOAD=") and "libjemalloc.so.2" in preload
    # one pyperf file per allocator, and the merge of a variant's runs keeps one hostname
    hosts = {str(meta["hostname"]) for meta in allocators.values()}
    assert hosts == {HOSTNAME}
    frame = load_runs([ctx.run.dir])
    assert set(frame["allocator"]) == set(allocators)
    # the files stay pyperf files: compare_to reads two of them (same benchmark name)
    compared = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", paths["pymalloc"], paths["mimalloc"]],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "large_objects" in compared.stdout, compared.stdout + compared.stderr


def test_rounds_append_into_one_valid_pyperf_file(ctx: RunContext) -> None:
    """The interleaving itself: two rounds appended to one file, loops calibrated once."""
    from basebench.measure import runtime

    (small,) = [w for w in load_manifest() if w.name == "small_objects"]
    plan = runtime.PyperfPlan(
        "test", 2, ("--processes", "1", "--values", "1", "--min-time", "0.01")
    )
    runtime.PYPERF_PLANS["test"] = plan
    try:
        (path,) = run_runtime(ctx, mode="test", workloads=[small], allocators={"pymalloc"})
    finally:
        del runtime.PYPERF_PLANS["test"]
    bench, meta = _suite(path)
    runs = [r for r in bench.get_runs() if r.values]
    assert len(runs) == 2
    assert len({r.get_loops() for r in runs}) == 1
    assert meta["basebench_rounds"] == 2
    assert "basebench_pyperf_warnings" in meta


def test_http_load_against_the_app_in_a_container(ctx: RunContext) -> None:
    files = run_http(ctx, mode="debug")
    assert not ctx.failures, ctx.failures
    assert len(files) == 1
    frame = load_runs([ctx.run.dir])
    http = frame[frame["group"] == "http"]
    assert set(http["benchmark"]) == {"uwsgi"}
    assert set(http["metric"]) == {"requests_per_s", "latency_p50_ms", "latency_p99_ms"}
    assert (http["value"] > 0).all()
    assert set(http["variant"]) == {VARIANT}
    assert set(http["strategy"]) == {"multistage"}
    # no container is left running
    left = ctx.engine.client.containers.list(
        filters={"label": [f"org.basebench.run={ctx.engine.run_id}", "org.basebench.workload"]}
    )
    assert not left
