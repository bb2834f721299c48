"""The runtime group's planning: which (workload, variant, allocator) series run, in what order."""

from __future__ import annotations

from pathlib import Path

from fakes import FakeEngine, allocator, base_image, make_context, said, workload, workload_image

from basebench.measure.runtime import GROUP, Job, interleaved, plan_jobs

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
