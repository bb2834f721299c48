"""``basebench run --shard 1/2`` and ``--shard 2/2`` on the real engine, merged by
``basebench report``, against the unsharded run of the same matrix: the same cells, the same
columns, every comparison within one machine.

Cheap: the local slim-trixie and musl stand-ins the bases tests build, the size group and three
start-up rounds; the matrix has two units beside the baseline (alpine's size, alpine's
start-up), one per shard.
"""

from pathlib import Path

import pytest

from basebench.cli import main
from basebench.engine import Engine
from basebench.paths import CONFIG_FILE
from basebench.report.export import read_data_csv
from basebench.results import read_run_meta

PROFILE = """
[profiles.shards]
description = "two units beside the baseline: one per shard"
pythons = ["3.13"]
variants = ["slim-trixie", "alpine"]
groups = ["size", "startup"]
startup_rounds = 3
"""


def _run(results: Path, config: Path, *extra: str) -> Path:
    results.mkdir(exist_ok=True)
    before = set(results.iterdir())
    argv = ["run", "--config", str(config), "--profile", "shards", "--base-source", "local"]
    assert main([*argv, "--results", str(results), "--no-report", *extra]) == 0
    (run_dir,) = set(results.iterdir()) - before
    return run_dir


@pytest.fixture(scope="module")
def runs(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("shards")
    config = tmp / "basebench.toml"
    config.write_text(CONFIG_FILE.read_text() + PROFILE)
    return {
        "whole": _run(tmp / "whole", config),
        "1/2": _run(tmp / "sharded", config, "--shard", "1/2"),
        "2/2": _run(tmp / "sharded", config, "--shard", "2/2"),
    }


def test_each_shard_has_its_cells_and_the_baseline(runs: dict[str, Path]) -> None:
    metas = {name: read_run_meta(path) for name, path in runs.items()}
    assert metas["whole"]["shard"] is None and metas["whole"]["cells"] is None
    assert {m["matrix_id"] for m in metas.values()} == {metas["whole"]["matrix_id"]}
    assert {m["machine_id"] for m in metas.values()} == {metas["whole"]["machine_id"]}
    one, two = ({tuple(c) for c in metas[s]["cells"]} for s in ("1/2", "2/2"))
    assert one == {("3.13", "slim-trixie", "size"), ("3.13", "alpine", "size")}
    assert two == {("3.13", "slim-trixie", "startup"), ("3.13", "alpine", "startup")}
    groups = {name: set(_cells(path / "measurements")) for name, path in runs.items()}
    assert groups["1/2"] == {"size"} and groups["2/2"] == {"startup"}


def _cells(measurements: Path) -> list[str]:
    return [path.name.split("-")[0] for path in measurements.glob("*-*.json")]


def _measured(data_csv: Path) -> set[tuple[str, ...]]:
    frame = read_data_csv(data_csv)
    frame = frame[(frame["group"] != "host") & (frame["status"] == "measured")]
    keys = ["python", "variant", "group", "benchmark", "metric"]
    return {tuple(str(v) for v in row) for row in frame[keys].drop_duplicates().to_numpy()}


def test_merged_shards_report_the_unsharded_cells(runs: dict[str, Path], tmp_path: Path) -> None:
    assert main(["report", str(runs["whole"]), "--output", str(tmp_path / "whole")]) == 0
    merged = tmp_path / "merged"
    assert main(["report", str(runs["1/2"]), str(runs["2/2"]), "--output", str(merged)]) == 0
    assert _measured(merged / "data.csv") == _measured(tmp_path / "whole" / "data.csv")
    whole_md = (tmp_path / "whole" / "report.md").read_text()
    merged_md = (merged / "report.md").read_text()
    # The same columns: one per variant, not one per run.
    assert "| slim-trixie | alpine |" in merged_md and "| slim-trixie | alpine |" in whole_md
    assert "**Merged shards**" in merged_md and "on its own machine" in merged_md
    assert "Cross-machine" not in merged_md
    # The same verdict: the recommendation and the summary (sizes and verdicts) read alike.
    assert _verdict(merged_md) == _verdict(whole_md)


def _verdict(report: str) -> str:
    return report.split("## Recommendation", 1)[1].split("### How to read", 1)[0]
