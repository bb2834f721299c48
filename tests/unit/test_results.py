import json
import os
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest

from basebench.errors import UserError
from basebench.results import (
    PYPERF_TAG_PREFIX,
    ROUND_RUNS_KEY,
    ROUNDS_KEY,
    TIDY_COLUMNS,
    Measurement,
    ResultExists,
    ResultStore,
    Tags,
    atomic_write_json,
    finish_run,
    load_runs,
    pyperf_run_rounds,
    read_run_meta,
)

TAGS = Tags(variant="slim-trixie", python="3.13", libc="glibc", base_source="local")


@pytest.fixture
def store(tmp_path: Path) -> ResultStore:
    return ResultStore(tmp_path / "results")


def test_run_folder_and_metadata(store: ResultStore):
    run = store.create_run(config={"profile": "quick"}, host={"cores": 2})
    meta = read_run_meta(run.dir)
    assert meta["run_id"] == run.run_id == run.dir.name
    assert meta["status"] == "running" and meta["finished"] is None
    assert meta["config"] == {"profile": "quick"}
    finish_run(run)
    meta = read_run_meta(run.dir)
    assert meta["status"] == "finished" and meta["finished"]


def test_two_runs_never_share_a_folder(store: ResultStore):
    runs = {store.create_run(config={}, host={}).dir for _ in range(5)}
    assert len(runs) == 5
    assert store.runs() == sorted(runs)


def test_atomic_write_never_overwrites(tmp_path: Path):
    path = tmp_path / "a.json"
    atomic_write_json(path, {"n": 1})
    with pytest.raises(ResultExists):
        atomic_write_json(path, {"n": 2})
    assert json.loads(path.read_text()) == {"n": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temp file left behind


def test_measurements_get_unique_names(store: ResultStore):
    run = store.create_run(config={}, host={})
    m = Measurement("size", "base", "uncompressed", "bytes", [100.0], TAGS)
    first = run.write_measurements("sizes", [m])
    second = run.write_measurements("sizes", [m])
    assert first != second and first.exists() and second.exists()


def _pyperf_file(tmp_path: Path) -> Path:
    script = tmp_path / "bm.py"
    script.write_text(
        "import pyperf\nrunner = pyperf.Runner()\nrunner.bench_func('tiny', sum, range(10))\n"
    )
    out = tmp_path / "tiny.json"
    subprocess.run(
        [sys.executable, str(script), "--debug-single-value", "-o", str(out)],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return out


def test_loader_returns_one_tidy_frame_from_all_formats(store: ResultStore, tmp_path: Path):
    run = store.create_run(config={}, host={})
    run.write_measurements(
        "sizes",
        [
            Measurement("size", "base", "uncompressed", "bytes", [2.0e8], TAGS),
            Measurement(
                "install",
                "numpy",
                "wall_time",
                "s",
                [3.0, 3.5],
                TAGS,
                detail="wheel:manylinux_2_17_x86_64",
            ),
        ],
    )
    pyperf_path = run.add_pyperf_file(_pyperf_file(tmp_path), "runtime-tiny", TAGS)
    # The file stays a pyperf file, with our tags as metadata.
    suite = pyperf.BenchmarkSuite.load(str(pyperf_path))
    assert suite.get_benchmarks()[0].get_metadata()["basebench_variant"] == "slim-trixie"
    pytest_bench = tmp_path / "pb.json"
    pytest_bench.write_text(
        json.dumps(
            {
                "machine_info": {},
                "benchmarks": [
                    {
                        "name": "test_build[single-full]",
                        "group": None,
                        "stats": {"data": [10.0, 11.0], "median": 10.5},
                        "extra_info": {
                            "group": "build",
                            "benchmark": "single-full",
                            **TAGS.as_dict(),
                            "strategy": "single-full",
                            "metrics": {"image_bytes": {"value": 5.0, "unit": "bytes"}},
                        },
                    }
                ],
            }
        )
    )
    run.add_pytest_benchmark_file(pytest_bench, "build")

    frame = load_runs([run.dir])
    assert list(frame.columns) == list(TIDY_COLUMNS)
    assert set(frame["group"]) == {"size", "install", "runtime", "build"}
    install = frame[frame.group == "install"]
    assert list(install["value"]) == [3.0, 3.5] and list(install["sample"]) == [0, 1]
    # One install, one build, one value: each its own round.
    assert list(install["round"]) == [0, 1]
    assert install["detail"].iloc[0] == "wheel:manylinux_2_17_x86_64"
    runtime = frame[(frame.group == "runtime") & (frame.metric == "time")]
    assert len(runtime) == 1 and runtime["variant"].iloc[0] == "slim-trixie"
    build = frame[frame.group == "build"]
    assert set(build["metric"]) == {"wall_time", "image_bytes"}
    assert build[build.metric == "wall_time"]["strategy"].tolist() == ["single-full"] * 2
    assert build[build.metric == "wall_time"]["round"].tolist() == [0, 1]
    assert (frame["run"] == run.run_id).all()


def test_loader_merges_runs_and_rejects_junk(store: ResultStore):
    runs = [store.create_run(config={}, host={}) for _ in range(2)]
    for run in runs:
        run.write_measurements("s", [Measurement("size", "b", "layers", "count", [3], TAGS)])
    frame = load_runs([r.dir for r in runs])
    assert sorted(frame["run"]) == sorted(r.run_id for r in runs)
    (runs[0].measurements_dir / "junk.json").write_text('{"hello": 1}')
    with pytest.raises(UserError, match="not a measurement format"):
        load_runs([runs[0].dir])
    with pytest.raises(UserError, match="no run.json"):
        load_runs([runs[0].dir.parent])


# --- the round of pyperf values: one container invocation ------------------------------------


def _multi_round_pyperf(tmp_path: Path, metadata: dict[str, object]) -> Path:
    """A pyperf file like the runtime group's: a calibration run (warmups only) and 2 rounds
    of 3 processes x 2 values, made by hand (pyperf itself would take seconds)."""
    base = {"name": "tiny", "unit": "second", **metadata}
    runs = [
        pyperf.Run(
            [], warmups=[(1, 0.5)], metadata={**base, "mem_max_rss": 100}, collect_metadata=False
        )
    ]
    for round_id in range(2):
        for process in range(3):
            level = 1.0 + round_id  # round 0 around 1 s, round 1 around 2 s
            runs.append(
                pyperf.Run(
                    [level + 0.01 * process, level + 0.02 * process],
                    warmups=[(1, level)],
                    metadata={**base, "mem_max_rss": 200 + 10 * round_id + process},
                    collect_metadata=False,
                )
            )
    path = tmp_path / f"tiny-{len(metadata)}-{sorted(metadata)}.json"
    pyperf.BenchmarkSuite([pyperf.Benchmark(runs)]).dump(str(path))
    return path


@pytest.mark.parametrize(
    "metadata",
    [
        # Written by today's runtime group: runs after each round (the calibration counts).
        {f"{PYPERF_TAG_PREFIX}{ROUND_RUNS_KEY}": "4,7", f"{PYPERF_TAG_PREFIX}{ROUNDS_KEY}": 2},
        # Older files (every committed run): only the number of rounds.
        {f"{PYPERF_TAG_PREFIX}{ROUNDS_KEY}": 2},
    ],
    ids=["round_runs", "rounds-only"],
)
def test_pyperf_values_carry_their_container_round(
    store: ResultStore, tmp_path: Path, metadata: dict[str, object]
) -> None:
    run = store.create_run(config={}, host={})
    run.add_pyperf_file(_multi_round_pyperf(tmp_path, metadata), "runtime-tiny", TAGS)
    frame = load_runs([run.dir])
    times = frame[frame.metric == "time"]
    assert times["round"].tolist() == [0] * 6 + [1] * 6
    assert times["sample"].tolist() == list(range(12))
    assert (times.groupby("round")["value"].median() > [1.0, 2.0]).all()
    rss = frame[frame.metric == "mem_max_rss"]
    # The calibration run's peak RSS belongs to the first round, like the runs it calibrated.
    assert rss["round"].tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert rss["value"].tolist() == [100, 200, 201, 202, 210, 211, 212]


def test_pyperf_values_without_round_metadata_are_a_round_per_run(
    store: ResultStore, tmp_path: Path
) -> None:
    run = store.create_run(config={}, host={})
    run.add_pyperf_file(_multi_round_pyperf(tmp_path, {}), "runtime-tiny", TAGS)
    times = load_runs([run.dir]).query("metric == 'time'")
    assert times["round"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]


def test_pyperf_run_rounds() -> None:
    key = f"{PYPERF_TAG_PREFIX}{ROUND_RUNS_KEY}"
    # Uneven rounds, a calibration run in the first: what each round added.
    assert pyperf_run_rounds([False, True, True, True, True], {key: "2,3,5"}) == [0, 0, 1, 2, 2]
    # Runs with values split evenly into the rounds; one without joins the next round.
    rounds = {f"{PYPERF_TAG_PREFIX}{ROUNDS_KEY}": 3}
    assert pyperf_run_rounds([True] * 6, rounds) == [0, 0, 1, 1, 2, 2]
    assert pyperf_run_rounds([False, True, True, False, True], rounds) == [0, 0, 1, 2, 2]
    assert pyperf_run_rounds([True, True, False], {}) == [0, 1, 2]
