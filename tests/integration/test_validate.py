"""``basebench validate`` end to end on the real engine: twins of one image, a known slowdown,
cross-checks, and a run folder holding every check.

Short on purpose (one workload, one run): the statistics behind each check are unit-tested; this
proves that the pieces meet on a real engine and that the big, known effect is found.
"""

from __future__ import annotations

import json
from pathlib import Path

from basebench.cli import main
from basebench.engine import Engine


def test_validate_finds_the_injected_slowdown(engine: Engine, tmp_path: Path) -> None:
    results = tmp_path / "results"
    code = main(
        [
            "validate",
            "--results",
            str(results),
            "--workload",
            "small_objects",
            "--no-second-run",
        ]
    )
    [run_dir] = [p for p in results.iterdir() if (p / "run.json").is_file()]
    meta = json.loads((run_dir / "run.json").read_text())
    validation = meta["validation"]
    checks = {c["name"]: c for c in validation["checks"]}
    # The exit code is the verdict of the checks, all of which are in run.json.
    assert code == (0 if all(c["passed"] for c in checks.values()) else 1)
    assert validation["passed"] == (code == 0)
    # A 1.25x slowdown of every loop, and 2 s added to a build of a few seconds, are far beyond
    # this host's noise: they must be found, at their size.
    for name in ("known effect small_objects time", "known effect custom wall_time"):
        assert checks[name]["passed"], checks[name]
    # Sizes: the suite's uncompressed bytes are docker's own figure, exactly.
    assert checks["uncompressed vs docker image inspect"]["passed"]
    # The A/A twin and the slowed twin were measured under their own names.
    assert {"slim-trixie-aa", "slim-trixie-slow"} <= set(meta["validate"].values())
    assert "startup" in validation["noise_floor"]
    assert (run_dir / "report" / "report.md").is_file()
