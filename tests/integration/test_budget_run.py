"""``basebench run --time-budget`` on the real engine: the rounds it decides are the rounds
measured, run.json says why each group stopped, and a group that cannot fit is not measured
(and said so) while the decisive ones still run their least."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from basebench.measure.startup import LEAST_ROUNDS
from integration.cli_runs import child_environment, slim_run


def _run(tmp_path: Path, *args: str) -> tuple[int, str, dict[str, Any], Path]:
    results = tmp_path / "results"
    cmd = slim_run(results, *args)
    env = child_environment()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800, check=False)
    (run_dir,) = [p for p in results.iterdir() if (p / "run.json").is_file()]
    return (
        out.returncode,
        out.stdout + out.stderr,
        json.loads((run_dir / "run.json").read_text()),
        run_dir,
    )


def _startup_values(run_dir: Path) -> list[int]:
    counts = []
    for path in (run_dir / "measurements").glob("startup-*.json"):
        for row in json.loads(path.read_text())["rows"]:
            counts.append(len(row["values"]))
    return counts


def test_a_tight_budget_skips_installs_and_keeps_start_up_at_its_least(tmp_path: Path) -> None:
    code, output, meta, run_dir = _run(
        tmp_path, "--group", "install", "--group", "startup", "--time-budget", "1s"
    )
    assert code == 0, output
    groups = meta["budget"]["groups"]
    assert groups["install"]["rounds"] == 0
    assert groups["install"]["stopped"].startswith("not measured: its least")
    assert "install: not measured" in output
    # Start-up is decisive: its least rounds run whatever the budget, and no more.
    assert groups["startup"]["rounds"] == LEAST_ROUNDS
    assert groups["startup"]["stopped"].startswith("the budget")
    assert set(_startup_values(run_dir)) == {LEAST_ROUNDS}
    assert not list((run_dir / "measurements").glob("install*"))


def test_a_roomy_budget_stops_start_up_on_precision_or_its_most(tmp_path: Path) -> None:
    code, output, meta, run_dir = _run(
        tmp_path, "--group", "startup", "--time-budget", "10m", "--profile", "quick"
    )
    assert code == 0, output
    entry = meta["budget"]["groups"]["startup"]
    most = meta["config"]["startup_rounds"]
    assert LEAST_ROUNDS <= entry["rounds"] <= most
    assert entry["stopped"].startswith("precise enough") or entry["stopped"] == (
        f"its most rounds ({most})"
    )
    # Every round the budget decided is in the results, and nothing else.
    assert set(_startup_values(run_dir)) == {entry["rounds"]}
    assert len(entry["round_s"]) == entry["rounds"]
    assert meta["budget"]["time_budget_s"] == 600
