"""The runtime group's planning: which (workload, variant, allocator) series run, in what order."""

from __future__ import annotations

from pathlib import Path

import pyperf
import pytest
from fakes import FakeEngine, allocator, base_image, make_context, said, workload, workload_image

from basebench.config import Config
from basebench.measure import runtime
from basebench.measure.runtime import (
    GROUP,
    PYPERF_PLANS,
    Job,
    interleaved,
    plan_jobs,
    workload_cpuset,
)
from basebench.results import RUNTIME_ALLOCATORS_KEY, RUNTIME_CPUS_KEY

PYMALLOC = allocator("pymalloc")
MALLOC = allocator("malloc", PYTHONMALLOC="malloc")
JEMALLOC = allocator("pymalloc+jemalloc", LD_PRELOAD="/usr/lib/libjemalloc.so.2")


def test_plan_jobs_crosses_workloads_and_allocators_and_skips_what_cannot_run(
    tmp_path: Path,
) -> None:
    glibc, musl, old = base_image(), base_image("alpine", libc="musl"), base_image(python="3.10")
    images = [
        workload_image(glibc, [PYMALLOC, MALLOC], packages=["django", "pyperf"]),
        workload_image(musl, [PYMALLOC, MALLOC, JEMALLOC], packages=["pyperf"]),
        workload_image(old, [PYMALLOC], python_version="3.10.14", packages=["django"]),
    ]
    small, django = workload("small"), workload("django", min_python="3.11", requires=("Django",))
    ctx = make_context(tmp_path, FakeEngine(), bases=[glibc, musl, old])
    out_dir = tmp_path / "out"

    jobs = plan_jobs(ctx, images, [small, django], out_dir)

    assert [(j.workload.name, j.image.base.variant, j.allocator.name) for j in jobs] == [
        ("small", "slim-trixie", "pymalloc"),
        ("small", "slim-trixie", "malloc"),
        ("django", "slim-trixie", "pymalloc"),  # requires are matched case-insensitively
        ("django", "slim-trixie", "malloc"),
        ("small", "alpine", "pymalloc"),
        ("small", "alpine", "malloc"),
        ("small", "alpine", "pymalloc+jemalloc"),
        ("small", "slim-trixie", "pymalloc"),
    ]
    assert jobs[-1].image.base.python == "3.10"
    text = said(ctx)
    assert "skipped django on 3.13-alpine: needs Django, not installed" in text
    assert "skipped django on 3.10-slim-trixie: needs Python >= 3.11, the image has 3.10.14" in text
    # One pyperf file and one log per series, none shared.
    assert len({j.host_file for j in jobs}) == len(jobs)
    assert all(j.host_file.parent == out_dir for j in jobs)
    assert {j.log_path for j in jobs} == {
        ctx.run.logs_dir / GROUP / f"{j.file_name.removesuffix('.json')}.log" for j in jobs
    }
    assert jobs[0].file_name == "small--3.13-slim-trixie--pymalloc.json"
    assert not any(j.failed or j.rounds_done or j.loops for j in jobs)


def test_plan_jobs_without_images_or_workloads_is_empty(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, FakeEngine())
    image = workload_image(base_image())
    assert plan_jobs(ctx, [], [workload("small")], tmp_path) == []
    assert plan_jobs(ctx, [image], [], tmp_path) == []


def _jobs(tmp_path: Path, workloads: dict[str, int]) -> list[Job]:
    """Series of each named workload on that many variants, in plan order."""
    variants = ["slim-trixie", "alpine", "bookworm"]
    return [
        Job(workload(name), workload_image(base_image(variants[i])), PYMALLOC, tmp_path)
        for name, count in workloads.items()
        for i in range(count)
    ]


def _order(jobs: list[Job]) -> list[str]:
    return [f"{j.workload.name}/{j.image.base.variant}" for j in jobs]


def test_interleaved_rotates_the_variants_of_each_workload(tmp_path: Path) -> None:
    jobs = _jobs(tmp_path, {"small": 3, "json": 2})
    assert _order(interleaved(jobs, 0)) == [
        "small/slim-trixie",
        "small/alpine",
        "small/bookworm",
        "json/slim-trixie",
        "json/alpine",
    ]
    assert _order(interleaved(jobs, 1)) == [
        "small/alpine",
        "small/bookworm",
        "small/slim-trixie",
        "json/alpine",
        "json/slim-trixie",
    ]
    assert _order(interleaved(jobs, 2))[:3] == [
        "small/bookworm",
        "small/slim-trixie",
        "small/alpine",
    ]
    # Back to the start after as many rounds as a workload has series.
    assert _order(interleaved(jobs, 3))[:3] == _order(interleaved(jobs, 0))[:3]
    assert _order(interleaved(jobs, 2))[3:] == _order(interleaved(jobs, 0))[3:]


def test_interleaved_runs_every_series_once_per_round_and_no_variant_always_first(
    tmp_path: Path,
) -> None:
    jobs = _jobs(tmp_path, {"small": 3, "json": 1, "resize": 2})
    firsts = set()
    for round_index in range(6):
        order = interleaved(jobs, round_index)
        assert sorted(map(id, order)) == sorted(map(id, jobs))
        # Workloads stay together, in plan order: a round is workload by workload.
        names = [j.workload.name for j in order]
        assert names == ["small"] * 3 + ["json"] + ["resize"] * 2
        firsts.add(order[0].image.base.variant)
    assert firsts == {"slim-trixie", "alpine", "bookworm"}


def test_interleaved_of_nothing() -> None:
    assert interleaved([], 5) == []


# --- CPUs: a workload gets one per worker, the same for every variant -------------------------


@pytest.mark.parametrize(
    ("configured", "needed", "engine_cpus", "expected"),
    [
        ("1", 1, 2, "1"),  # the configured CPU, as before
        ("1", 2, 2, "0,1"),  # completed by the engine's other CPU
        ("0-1", 1, 2, "0"),  # exactly as many as needed: the first configured ones
        ("2,5", 3, 8, "0,2,5"),
        ("3", 4, 4, "0,1,2,3"),
        ("", 2, 2, ""),  # "any CPU" stays unpinned
    ],
)
def test_workload_cpuset(configured: str, needed: int, engine_cpus: int, expected: str) -> None:
    assert workload_cpuset(configured, needed, engine_cpus) == expected


def test_each_workload_runs_on_as_many_cpus_as_it_has_workers(tmp_path: Path) -> None:
    engine = FakeEngine(cpus=2)
    glibc, musl = base_image(), base_image("alpine", libc="musl")
    images = [workload_image(glibc, [PYMALLOC, MALLOC]), workload_image(musl, [PYMALLOC])]
    one, two = workload("threads_1"), workload("threads_2", mechanism="threads", cpus=2)
    four = workload("threads_4", mechanism="threads", cpus=4)
    ctx = make_context(tmp_path, engine, Config(cpuset="1"), [glibc, musl])

    jobs = plan_jobs(ctx, images, [one, two, four], tmp_path / "out")

    # 4 workers on 2 CPUs would share them: not run, and said.
    assert {j.workload.name for j in jobs} == {"threads_1", "threads_2"}
    assert "skipped threads_4: needs 4 CPUs (one per worker running at once), the engine has 2" in (
        said(ctx)
    )
    # The same CPU set for every variant and allocator of a workload.
    assert {j.cpuset for j in jobs if j.workload is one} == {"1"}
    assert {j.cpuset for j in jobs if j.workload is two} == {"0,1"}
    for job in jobs:
        job.out_dir.mkdir(exist_ok=True)
        job.log_path = job.out_dir / f"{job.file_name}.log"
        run = pyperf.Run([0.001], metadata={"name": job.workload.name, "loops": 4})
        pyperf.BenchmarkSuite([pyperf.Benchmark([run])]).dump(str(job.host_file))
        runtime._run_once(ctx, job, PYPERF_PLANS["fast"])
    for job, call in zip(jobs, engine.calls, strict=True):
        # The container's CPU set and pyperf's own --affinity are the workload's CPUs.
        assert call.kwargs["limits"].cpuset == job.cpuset
        assert call.kwargs["limits"].memory == ctx.limits.memory
        command = call.command or []
        assert command[command.index("--affinity") + 1] == job.cpuset
    meta = runtime._metadata(ctx, jobs[-1], PYPERF_PLANS["fast"])
    assert (meta["basebench_cpuset"], meta["basebench_workload_cpus"]) == ("0,1", 2)
    assert meta["basebench_configured_cpuset"] == "1"
    assert meta["basebench_mechanism"] == "threads"
    # run.json says which CPUs each workload had: the report reads it there.
    runtime.record_cpusets(ctx, jobs)
    assert ctx.run.meta()[RUNTIME_CPUS_KEY] == {
        "threads_1": {"cpus": 1, "cpuset": "1"},
        "threads_2": {"cpus": 2, "cpuset": "0,1"},
    }
    assert runtime.describe_cpusets(jobs) == "CPUs 1: threads_1; CPUs 0,1: threads_2"


def test_unpinned_runs_pass_no_affinity(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, FakeEngine(), Config(cpuset=""))
    (job,) = plan_jobs(ctx, [workload_image(base_image())], [workload("small")], tmp_path)
    assert job.cpuset == ""
    assert "--affinity" not in runtime._command(job, PYPERF_PLANS["debug"])


def test_the_allocators_of_each_variant_go_to_run_json(tmp_path: Path) -> None:
    glibc, musl = base_image(), base_image("alpine", libc="musl")
    images = [workload_image(glibc, [PYMALLOC, JEMALLOC]), workload_image(musl, [PYMALLOC])]
    images[1].unavailable["pymalloc+jemalloc"] = "not installed"
    ctx = make_context(tmp_path, FakeEngine(), bases=[glibc, musl])
    runtime.record_allocators(ctx, images)
    assert ctx.run.meta()[RUNTIME_ALLOCATORS_KEY] == {
        "3.13-slim-trixie": {
            "available": {
                "pymalloc": "the pymalloc allocator",
                "pymalloc+jemalloc": "the pymalloc+jemalloc allocator "
                "LD_PRELOAD=/usr/lib/libjemalloc.so.2",
            },
            "unavailable": {},
        },
        "3.13-alpine": {
            "available": {"pymalloc": "the pymalloc allocator"},
            "unavailable": {"pymalloc+jemalloc": "not installed"},
        },
    }
