"""Cold image builds timed by pytest-benchmark (pedantic mode): the "build" group.

Not run on its own: ``basebench run`` (src/basebench/measure/builds.py) writes the work list to
a JSON file named by BASEBENCH_BUILD_WORK and runs

    python -m pytest benchmarks/bench_builds.py --benchmark-json=OUT

Each work item is one strategy on one base. Every round is a ``--no-cache`` BuildKit build
(the base and builder images are present already, so the time is the build's own). The
benchmark's extra_info carries what basebench.results reads: group, benchmark (the strategy),
the tags, the image id, BuildKit's per-step timings and ``metrics`` (download_time,
install_time). Each item's outcome (image id, or the failure's message) is appended to the
outcomes file so that the parent can report failures and register the images.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

WORK_ENV = "BASEBENCH_BUILD_WORK"

if not os.environ.get(WORK_ENV):
    pytest.skip(
        f"driven by `basebench run --group build` ({WORK_ENV} not set)", allow_module_level=True
    )

WORK: dict[str, Any] = json.loads(Path(os.environ[WORK_ENV]).read_text())
ITEMS: list[dict[str, Any]] = WORK["items"]


@pytest.fixture(scope="module")
def engine() -> Any:
    from basebench.engine import Engine
    from basebench.netconf import CABundle, NetworkSettings, detect_proxies

    bundle = CABundle(Path(WORK["ca_bundle"]), WORK["ca_origin"]) if WORK["ca_bundle"] else None
    network = NetworkSettings(mode=WORK["network"], ca_bundle=bundle, proxies=detect_proxies())
    return Engine(network=network, run_id=WORK["run_id"], log_dir=Path(WORK["log_dir"]))


def _record(outcome: dict[str, Any]) -> None:
    with open(WORK["outcomes"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps(outcome) + "\n")


@pytest.mark.parametrize("item", ITEMS, ids=[i["id"] for i in ITEMS])
def test_cold_build(benchmark: Any, engine: Any, item: dict[str, Any]) -> None:
    from basebench.errors import BuildFailed
    from basebench.measure.builds import split_step_timings, step_dicts

    results: list[Any] = []
    round_no = [0]

    def build() -> None:
        round_no[0] += 1
        results.append(
            engine.build(
                Path(item["context"]),
                tag=item["tag"],
                kind="app",
                dockerfile=Path(item["dockerfile"]),
                build_args=item["build_args"],
                labels={"org.basebench.strategy": item["strategy"]},
                no_cache=True,
                log_name=f"{item['id']}-round{round_no[0]}",
            )
        )

    try:
        benchmark.pedantic(build, rounds=item["rounds"], iterations=1, warmup_rounds=0)
    except BuildFailed as exc:
        _record({"id": item["id"], "error": str(exc), "log": exc.log_path})
        pytest.fail(str(exc), pytrace=False)
    last = results[-1]
    rounds = [split_step_timings(r.steps) for r in results]
    download = sorted(d for d, _ in rounds)[len(rounds) // 2]
    install = sorted(i for _, i in rounds)[len(rounds) // 2]
    benchmark.extra_info.update(
        {
            "group": "build",
            "benchmark": item["strategy"],
            "metric": "wall_time",
            **item["tags"],
            "image": item["tag"],
            "image_id": last.image_id,
            "base_image": item["base"],
            "builder_image": item["builder"],
            "log": str(last.log_path),
            "steps": [step_dicts(r.steps) for r in results],
            "metrics": {
                "download_time": {"value": download, "unit": "s"},
                "install_time": {"value": install, "unit": "s"},
            },
        }
    )
    _record({"id": item["id"], "image_id": last.image_id, "log": str(last.log_path)})
    print(
        f"\nbuild {item['id']}: {last.seconds:.1f} s "
        f"(download {download:.1f} s, install {install:.1f} s)",
        flush=True,
    )
