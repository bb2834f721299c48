"""Build rounds are interleaved across variants, and each round's file says which round it is."""

from __future__ import annotations

import json
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest
from fakes import FakeEngine, base_image, make_context

from basebench.config import Config
from basebench.measure import builds
from basebench.measure._app_image import BuildPlan
from basebench.measure._build_work import Outcome, WorkItem
from basebench.measure._context import RunContext
from basebench.measure.startup import NOTHING_TO_IMPORT
from basebench.results import Measurement, ResultStore, load_run_rows
from basebench.stopping import Stopped


def _pytest_benchmark_json(items: Sequence[WorkItem], seconds: float) -> dict[str, object]:
    return {
        "machine_info": {},
        "benchmarks": [
            {
                "name": item.id,
                "stats": {"data": [seconds], "median": seconds},
                "extra_info": {
                    "group": "build",
                    "benchmark": item.strategy,
                    "metric": "wall_time",
                    "round": item.round,
                    **item.tags,
                },
            }
            for item in items
        ],
    }


def test_builds_run_round_by_round_in_a_rotated_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = ResultStore(tmp_path / "results").create_run(config={}, host={})
    bases = [base_image("trixie"), base_image("slim-trixie"), base_image("alpine", libc="musl")]
    ctx = make_context(tmp_path, FakeEngine(), Config(cpuset="", rounds=3), bases)
    ctx.run = run
    plans = [BuildPlan("custom", b, tag=f"app:{b.variant}") for b in bases]
    calls: list[list[tuple[str, int, int]]] = []

    def fake_run_benchmarks(
        ctx: RunContext, items: Sequence[WorkItem], workdir: Path
    ) -> tuple[Path | None, dict[str, Outcome]]:
        calls.append([(i.id, i.round, i.rounds) for i in items])
        out = workdir / "bench.json"
        out.write_text(json.dumps(_pytest_benchmark_json(items, 1.0 + len(calls))))
        # The alpine build fails in the second round: it is not built again.
        failing = {plans[2].id} if len(calls) == 2 else set()
        return out, {
            i.id: Outcome(i.id, error="boom") if i.id in failing else Outcome(i.id, "sha256:x")
            for i in items
        }

    monkeypatch.setattr(builds, "run_benchmarks", fake_run_benchmarks)
    rows: list[Measurement] = []
    builds._time_builds(ctx, plans, tmp_path / "work", rows)

    ids = [p.id for p in plans]
    assert calls[0] == [(ids[0], 0, 1), (ids[1], 0, 1), (ids[2], 0, 1)]
    assert calls[1] == [(ids[1], 1, 1), (ids[2], 1, 1), (ids[0], 1, 1)]  # rotated
    assert calls[2] == [(ids[0], 2, 1), (ids[1], 2, 1)]  # rotated again, alpine left out
    assert [r.metric for r in rows] == ["failed"]
    assert [f.what for f in ctx.failures] == [f"custom on {bases[2].python}-alpine"]
    # Each round's file is kept, and the loader files every value under its round.
    loaded = [r for r in load_run_rows(run.dir) if r["group"] == "build"]
    by_variant: dict[str, list[int]] = {}
    for row in loaded:
        by_variant.setdefault(row["variant"], []).append(row["round"])
    assert sorted(by_variant["trixie"]) == [0, 1, 2]
    assert sorted(by_variant["alpine"]) == [0, 1]


def test_an_app_without_heavy_packages_is_not_timed_on_import_app(tmp_path: Path) -> None:
    from basebench.engine import RunResult
    from basebench.measure import startup
    from basebench.measure._context import ImageUnderTest

    engine = FakeEngine(RunResult(0, NOTHING_TO_IMPORT + "\n", 0.1))
    base = base_image()
    ctx = make_context(tmp_path, engine, Config(cpuset="", startup_rounds=2), [base])
    ctx.add_image(ImageUnderTest("app:custom", "app:custom", base, "custom"))
    startup.measure(ctx)
    assert not ctx.failures
    # "import app" ran once, saw nothing to import, and was not run again.
    import_app = [c for c in engine.calls if "find_spec" in " ".join(c.command or [])]
    assert len(import_app) == 1


def test_a_resumed_build_group_goes_on_after_its_last_finished_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = ResultStore(tmp_path / "results").create_run(config={}, host={})
    bases = [base_image("slim-trixie"), base_image("alpine", libc="musl")]
    ctx = make_context(tmp_path, FakeEngine(), Config(cpuset="", rounds=3), bases)
    ctx.run = run
    plans = [BuildPlan("custom", b, tag=f"app:{b.variant}") for b in bases]
    rounds_run: list[int] = []
    stop_in_round: list[int] = [1]

    def fake_run_benchmarks(
        ctx: RunContext, items: Sequence[WorkItem], workdir: Path
    ) -> tuple[Path | None, dict[str, Outcome]]:
        if items[0].round in stop_in_round:
            raise Stopped(signal.SIGTERM)  # the round in progress is lost, no other
        rounds_run.append(items[0].round)
        out = workdir / "bench.json"
        out.write_text(json.dumps(_pytest_benchmark_json(items, 1.0)))
        return out, {i.id: Outcome(i.id, "sha256:x") for i in items}

    monkeypatch.setattr(builds, "run_benchmarks", fake_run_benchmarks)
    with pytest.raises(Stopped):
        builds._time_builds(ctx, plans, tmp_path / "work", [])
    stop_in_round.clear()
    builds._time_builds(ctx, plans, tmp_path / "work-2", [])
    assert rounds_run == [0, 1, 2]
    # Every variant has each round once: nothing measured twice, nothing lost.
    loaded = [r for r in load_run_rows(run.dir) if r["group"] == "build"]
    for base in bases:
        assert sorted(r["round"] for r in loaded if r["variant"] == base.variant) == [0, 1, 2]
    assert sorted(i.reference for i in ctx.images if i.role != "base") == [
        "app:alpine",
        "app:slim-trixie",
    ]
