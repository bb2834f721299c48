"""The measuring side of ``basebench validate``: twins of one image and known slowdowns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyperf
import pytest
from fakes import FakeEngine, base_image, make_context, workload, workload_image

from basebench.config import Config, load_config
from basebench.errors import ConfigError
from basebench.measure import runtime, startup
from basebench.measure._context import WORK_FACTOR_ENV, Injection
from basebench.measure.runtime import PYPERF_PLANS, Job
from basebench.paths import BENCHMARKS_DIR
from basebench.variants import load_catalogue


def test_an_alias_is_the_same_image_under_another_name() -> None:
    base = base_image("slim-trixie")
    twin = base.alias("slim-trixie-aa")
    assert (twin.variant, twin.catalogue_name) == ("slim-trixie-aa", "slim-trixie")
    assert (twin.reference, twin.image_id) == (base.reference, base.image_id)
    # An alias of an alias still names the catalogue's variant.
    assert twin.alias("x").catalogue_name == "slim-trixie"
    assert base.catalogue_name == "slim-trixie"


def test_injection_environment() -> None:
    assert Injection().environment() == {}
    assert Injection(work_factor=1.25).environment() == {WORK_FACTOR_ENV: "1.25"}


def test_startup_measures_each_twin_and_delays_only_the_injected_one(tmp_path: Path) -> None:
    engine = FakeEngine()
    base = base_image()
    twins = [base, base.alias("slim-trixie-aa"), base.alias("slim-trixie-slow")]
    ctx = make_context(tmp_path, engine, Config(cpuset="", startup_rounds=2), twins)
    ctx.injections = {"slim-trixie-slow": Injection(startup_delay_s=0.05)}
    startup.measure(ctx)
    # Three names of one reference: 3 images x 2 commands x 2 rounds, none folded together.
    assert len(engine.calls) == 3 * 2 * 2
    delayed = [c for c in engine.calls if "perf_counter() + 0.05" in " ".join(c.command or [])]
    assert len(delayed) == 2 * 2
    written = sorted(p.name for p in ctx.run.measurements_dir.glob("startup-*.json"))
    assert written == [
        "startup-base-3.13-slim-trixie-aa.json",
        "startup-base-3.13-slim-trixie-slow.json",
        "startup-base-3.13-slim-trixie.json",
    ]


def test_the_slowed_twin_gets_the_work_factor_in_its_containers(tmp_path: Path) -> None:
    engine = FakeEngine()
    base = base_image()
    slow = base.alias("slim-trixie-slow")
    ctx = make_context(tmp_path, engine, Config(cpuset=""), [base, slow])
    ctx.injections = {"slim-trixie-slow": Injection(work_factor=1.25)}
    for image in (workload_image(base), workload_image(slow)):
        job = Job(workload("small"), image, image.allocators[0], tmp_path / image.base.variant)
        job.out_dir.mkdir()
        job.log_path = job.out_dir / "small.log"
        run = pyperf.Run([0.001], metadata={"name": "small", "loops": 4}, collect_metadata=False)
        pyperf.BenchmarkSuite([pyperf.Benchmark([run])]).dump(str(job.host_file))
        runtime._run_once(ctx, job, PYPERF_PLANS["fast"])
    plain, slowed = (c.kwargs["environment"] for c in engine.calls)
    assert WORK_FACTOR_ENV not in plain
    assert slowed[WORK_FACTOR_ENV] == "1.25"


def test_unknown_workloads_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown runtime workload.*nope.*small_objects"):
        load_config("quick", {"workloads": ["nope"]}, catalogue=load_catalogue())
    config = load_config("validate", catalogue=load_catalogue())
    assert config.workloads and config.variants == ["slim-trixie"]


def _run_small_objects(tmp_path: Path, factor: str) -> float:
    out = tmp_path / f"small-{factor}.json"
    env = {k: v for k, v in os.environ.items() if k != WORK_FACTOR_ENV}
    env[WORK_FACTOR_ENV] = factor
    script = BENCHMARKS_DIR / "runtime" / "bm_small_objects.py"
    options = ["--worker", "--loops", "4", "--values", "1", "--warmups", "0", "-o", str(out)]
    subprocess.run(
        [sys.executable, str(script), *options],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    bench = pyperf.Benchmark.load(str(out))
    # Only a factor other than 1 is recorded: an ordinary run's metadata stay as they were.
    assert bench.get_metadata().get("basebench_work_factor", 1.0) == float(factor)
    return float(bench.get_values()[0])


def test_the_work_factor_scales_the_loops_a_worker_runs(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS_DIR / "runtime"))
    try:
        from _common import effective_loops
    finally:
        sys.path.pop(0)
    assert effective_loops(4, 1.25) == 5
    assert effective_loops(1, 1.25) == 1  # whole loops only: the effective factor is then 1
    assert effective_loops(8, 1.5) == 12
    # A real worker under the factor reports it in its metadata (checked in the helper).
    _run_small_objects(tmp_path, "2")
    # ... and its time functions are given the scaled loops. Checked by counting the loops
    # they receive, not by timing a worker: a busy machine makes any time ratio unreliable.
    from _common import _scale_work

    asked: list[int] = []

    class Runner:
        def __init__(self) -> None:
            self.metadata: dict[str, object] = {}

        def bench_time_func(self, name: str, time_func: Any, *args: object) -> object:
            return time_func(4, *args)

    runner = Runner()
    _scale_work(runner, 2.0)

    def time_func(loops: int) -> float:
        asked.append(loops)
        return 0.0

    runner.bench_time_func("x", time_func)
    assert asked == [8]
    assert runner.metadata["basebench_work_factor"] == 2.0
