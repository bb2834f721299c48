"""``basebench run`` then ``basebench compare`` on the real engine (issue: the default factor
must pass two runs of the same images and fail a run made slower on purpose).

Three start-up runs of the same local slim-trixie base: two as they are, one with the measured
containers held to a quarter of a CPU (``--cpus 0.25``).
"""

from pathlib import Path

import pytest

from basebench.cli import main
from basebench.engine import Engine
from basebench.results import CONTAINER_PROBE_METRIC, load_runs
from basebench.results import CPU_PROBE_METRIC as PROBE_METRIC
from basebench.results import HOST_PROBE_GROUP as GROUP


def _run(results: Path, *extra: str) -> Path:
    before = set(results.iterdir())
    argv = ["run", "--profile", "sizes", "--group", "startup", "--variant", "slim-trixie"]
    argv += ["--python", "3.13", "--base-source", "local", "--results", str(results)]
    assert main([*argv, "--no-report", *extra]) == 0
    (run_dir,) = set(results.iterdir()) - before
    return run_dir


@pytest.fixture(scope="module")
def runs(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    results = tmp_path_factory.mktemp("results")
    return {
        "first": _run(results),
        "second": _run(results),
        "slowed": _run(results, "--cpus", "0.25"),
    }


def test_runs_carry_both_host_probes(runs: dict[str, Path]) -> None:
    frame = load_runs([runs["first"]])
    probes = frame[frame["group"] == GROUP]
    counts = probes.groupby("metric")["value"].count()
    # One probe per start-up round (15 in this profile) plus the step's start and end.
    assert counts[CONTAINER_PROBE_METRIC] == 17
    assert counts[PROBE_METRIC] == 17 * 3
    assert (probes["value"] > 0).all()


def test_same_images_pass_at_the_default_factor(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["compare", str(runs["first"]), str(runs["second"])])
    out = capsys.readouterr().out
    assert code == 0, out
    # The page's first line is the verdict, with the exit code the command returned.
    assert out.startswith("# PASS (exit 0): 0 regressions"), out
    # Start-up repeats every measurement 15 times: each metric is tested, none left untested.
    assert "\n- 0 untested:" in out and "Correction: Holm over the" in out
    assert "Host drift" in out and "container starts ran" in out
    # The thresholds actually used, per kind, and the probe that could widen them.
    assert "- startup timings: regressed above" in out and "container-start probe" in out


def test_a_slowed_run_fails(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compare", str(runs["first"]), str(runs["slowed"])])
    out = capsys.readouterr().out
    assert code == 1, out
    regressed = [line for line in out.splitlines() if line.startswith("| regressed |")]
    assert any("import stdlib" in line for line in regressed), out
    # Decided by the round test, corrected: a p-value in both columns, not "untested".
    assert all("untested" not in line for line in regressed), out
    # The chart and the Markdown go next to the new run's report.
    report = runs["slowed"] / "report"
    assert (report / f"compare-{runs['first'].name}.png").stat().st_size > 1_000


def test_report_states_the_host_probes(runs: dict[str, Path]) -> None:
    assert main(["report", str(runs["second"])]) == 0
    conditions = (runs["second"] / "report" / "report.md").read_text().split("## Conditions")[1]
    assert "Host probe (" in conditions and "container start of the host's `true`" in conditions
