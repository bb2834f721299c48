"""Cold image builds timed by pytest-benchmark (pedantic mode): the "build" group.

Not run on its own: ``basebench run`` (src/basebench/measure/builds.py) writes the work list to
a JSON file named by BASEBENCH_BUILD_WORK and runs

    python -m pytest benchmarks/bench_builds.py --benchmark-json=OUT

Each work item is one strategy on one base (src/basebench/measure/_build_work.py defines the
file). Every round is a ``--no-cache`` BuildKit build (the base and builder images are present
already, so the time is the build's own). The benchmark's extra_info carries what
basebench.results reads: group, benchmark (the strategy), the tags, the image id, BuildKit's
per-step timings and ``metrics`` (download_time, install_time). Each item's outcome (image id,
or the failure's message) is appended to the outcomes file so that the parent can report
failures and register the images.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from basebench.engine import BuildResult, Engine
from basebench.errors import BuildFailed
from basebench.measure._build_work import PROGRESS_PREFIX, WORK_ENV, Outcome, WorkFile, WorkItem
from basebench.measure._progress import ConsoleObserver, Progress, build_key, duration
from basebench.measure.builds import GROUP, split_step_timings, step_dicts
from basebench.stopping import install as stop_gracefully

# The parent passes SIGTERM/SIGHUP on: stop the build in progress and clean up, like Ctrl-C.
stop_gracefully()

if not os.environ.get(WORK_ENV):
    pytest.skip(
        f"driven by `basebench run --group build` ({WORK_ENV} not set)", allow_module_level=True
    )

WORK = WorkFile.read(Path(os.environ[WORK_ENV]))
OUTCOMES = Path(WORK.outcomes)


def _to_parent(message: str) -> None:
    """A line for the console: the parent prints it; everything else it keeps in a log."""
    print(PROGRESS_PREFIX + message, flush=True)


PROGRESS = Progress(sink=_to_parent)


@pytest.fixture(scope="module")
def engine() -> Engine:
    engine = WORK.engine()
    # One line per build, printed below: the builds' phases are kept as estimates only.
    engine.observer = ConsoleObserver(PROGRESS, phases=False)
    return engine


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


@pytest.mark.parametrize("item", WORK.items, ids=[i.id for i in WORK.items])
def test_cold_build(benchmark: Any, engine: Engine, item: WorkItem) -> None:
    results: list[BuildResult] = []
    estimate = PROGRESS.estimates.describe(build_key(item.id))

    def build() -> None:
        log_name = f"{item.id}-round{len(results) + 1}"
        results.append(item.build(engine, log_name=log_name, no_cache=True))

    try:
        benchmark.pedantic(build, rounds=item.rounds, iterations=1, warmup_rounds=0)
    except BuildFailed as exc:
        Outcome(item.id, error=str(exc), log=exc.log_path).append_to(OUTCOMES)
        pytest.fail(str(exc), pytrace=False)
    last = results[-1]
    rounds = [split_step_timings(r.steps) for r in results]
    download = _median([d for d, _ in rounds])
    install = _median([i for _, i in rounds])
    benchmark.extra_info.update(
        {
            "group": GROUP,
            "benchmark": item.strategy,
            "metric": "wall_time",
            "round": item.round,
            **item.tags,
            "image": item.tag,
            "image_id": last.image_id,
            "base_image": item.base,
            "builder_image": item.builder,
            "log": str(last.log_path),
            "steps": [step_dicts(r.steps) for r in results],
            "metrics": {
                "download_time": {"value": download, "unit": "s"},
                "install_time": {"value": install, "unit": "s"},
            },
        }
    )
    Outcome(item.id, image_id=last.image_id, log=str(last.log_path)).append_to(OUTCOMES)
    PROGRESS.say(
        f"  build {item.id}: {duration(last.seconds)} (download {download:.1f} s, install "
        f"{install:.1f} s; {estimate}) · log {last.log_path}"
    )
