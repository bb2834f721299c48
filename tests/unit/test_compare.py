"""``basebench compare``: exit codes, regression ordering, warnings, Python pairing (no Docker)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import report_sample as sample

from basebench import groups
from basebench.commands import compare as command
from basebench.errors import UserError
from basebench.report.compare import (
    IMPROVED,
    NOT_SIGNIFICANT,
    PROBE_METRIC_OF,
    REGRESSED,
    UNCHANGED,
    UNTESTED,
    WITHIN_DRIFT,
    HostDrift,
    compare_frames,
    compare_runs,
    decide,
    host_drifts,
    is_exact,
    parse_pair,
    run_settings,
    setting_text,
    threshold_for,
    thresholds_for,
)
from basebench.report.frame import normalise
from basebench.results import CONTAINER_PROBE_METRIC
from basebench.results import CPU_PROBE_METRIC as PROBE_METRIC
from basebench.results import HOST_PROBE_GROUP as CALIBRATION_GROUP


def make_run(
    root: Path,
    run: str,
    *,
    frame_kwargs: dict[str, Any] | None = None,
    meta_kwargs: dict[str, Any] | None = None,
) -> Path:
    frame_kwargs = frame_kwargs or {}
    meta_kwargs = meta_kwargs or {}
    frame = sample.synthetic_frame(run, **frame_kwargs)
    meta = sample.synthetic_meta(run, pythons=frame_kwargs.get("pythons", ("3.13",)), **meta_kwargs)
    return sample.write_run(root / run, frame, meta)


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return command.run(parser.parse_args(list(argv)))


def test_identical_runs_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = make_run(tmp_path, "base")
    new = sample.write_run(
        tmp_path / "new", sample.synthetic_frame("base"), sample.synthetic_meta("new")
    )
    assert run_cli(str(base), str(new)) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("# PASS (exit 0): 0 regressions")
    assert "warning" not in captured.err


def test_same_distribution_new_noise_exits_zero(tmp_path: Path) -> None:
    base = make_run(tmp_path, "base", frame_kwargs={"seed": 1})
    new = make_run(tmp_path, "new", frame_kwargs={"seed": 2})
    assert run_cli(str(base), str(new)) == 0


def test_regression_exits_one_and_is_listed_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = make_run(tmp_path, "base", frame_kwargs={"seed": 1})
    new = make_run(tmp_path, "new", frame_kwargs={"seed": 2, "slowdown": 1.3})
    assert run_cli(str(base), str(new)) == 1
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| Status |")
    statuses = [line.split(" | ")[0].strip("| ") for line in table[1:]]
    assert statuses[0] == REGRESSED
    assert statuses == sorted(statuses, key=lambda s: s != REGRESSED)
    # requests_per_s is bigger-is-better: fewer requests per second is a regression too.
    assert any("requests_per_s (bigger is better)" in line and REGRESSED in line for line in table)
    report = new / "report"
    for suffix in ("png", "svg", "md"):
        path = report / f"compare-base.{suffix}"
        assert path.stat().st_size > 1_000, path


def test_factor_is_the_threshold(tmp_path: Path) -> None:
    base = make_run(tmp_path, "base", frame_kwargs={"seed": 1})
    new = make_run(tmp_path, "new", frame_kwargs={"seed": 2, "slowdown": 1.3})
    assert run_cli(str(base), str(new), "--fail-on-regression", "1.5") == 0


def test_host_and_source_mismatch_warn_but_compare(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = make_run(tmp_path, "base")
    new = make_run(
        tmp_path,
        "new",
        meta_kwargs={"cpu_model": "Other CPU", "kernel": "6.12.0", "base_source": "official"},
    )
    assert run_cli(str(base), str(new)) == 0
    err = capsys.readouterr().err
    assert "warning: the runs come from different hosts (cpu_model" in err
    assert "kernel" in err
    assert "different base image sources ('local' vs 'official')" in err


def test_pair_python_lines_up_versions(tmp_path: Path) -> None:
    base = sample.synthetic_frame("base", pythons=("3.13",), seed=1)
    new = sample.synthetic_frame("new", pythons=("3.14",), seed=2)
    unpaired, only_b, only_n = compare_frames(base, new)
    assert unpaired == [] and only_b > 0 and only_n > 0
    rows, only_b, only_n = compare_frames(base, new, pair_python=("3.13", "3.14"))
    assert rows and only_b == 0 and only_n == 0
    assert {r.python for r in rows} == {"3.14"}
    # The synthetic 3.14 is 5 % faster: within the default factor, so nothing regressed.
    assert not [r for r in rows if r.status == REGRESSED]


def test_pair_python_via_cli(tmp_path: Path) -> None:
    base = make_run(tmp_path, "base", frame_kwargs={"pythons": ("3.13",)})
    new = make_run(tmp_path, "new", frame_kwargs={"pythons": ("3.14",), "seed": 3})
    assert run_cli(str(base), str(new), "--pair-python", "3.13:3.14") == 0
    with pytest.raises(UserError, match=r"no Python 3\.12"):
        run_cli(str(base), str(new), "--pair-python", "3.12:3.14")
    with pytest.raises(UserError, match="OLD:NEW"):
        parse_pair("3.13")


def test_exact_metrics_are_decided_by_the_factor_alone() -> None:
    # One size per image: not a sample of a noisy process. An image that grew 20 % has grown.
    base = sample.synthetic_frame("base")
    new = base.copy()
    grow = (new["group"] == "size") & (new["metric"] == "compressed")
    new.loc[grow, "value"] *= 1.2
    shrink = (new["group"] == "size") & (new["metric"] == "uncompressed")
    new.loc[shrink, "value"] *= 0.8
    rows, _, _ = compare_frames(base, new)
    by_metric = {(r.metric, r.status) for r in rows if r.group == "size"}
    assert ("compressed", REGRESSED) in by_metric and ("uncompressed", IMPROVED) in by_metric
    sizes = [r for r in rows if r.group == "size"]
    assert all(r.exact and not r.tested and math.isnan(r.p_value) for r in sizes)
    assert {r.status for r in sizes if r.metric == "layers"} == {UNCHANGED}
    # Counts and sizes anywhere are exact; timings of a group with a probe are not.
    assert is_exact("runtime", "bytes") and is_exact("install", "") and is_exact("size", "s")
    assert not is_exact("startup", "s") and not is_exact("http", "req/s")


def test_untested_never_regresses_and_strict_counts_it(tmp_path: Path) -> None:
    # Installs are timed once per package here: 50 % slower, but one value says nothing.
    base_frame = sample.synthetic_frame("base", seed=1)
    new_frame = sample.synthetic_frame("new", seed=1)
    slower = (new_frame["group"] == "install") & (new_frame["metric"] == "wall_time")
    new_frame.loc[slower, "value"] *= 1.5
    keep_one = (base_frame["group"] != "install") | (base_frame["sample"] == 0)
    base = sample.write_run(tmp_path / "base", base_frame[keep_one], sample.synthetic_meta())
    keep_one = (new_frame["group"] != "install") | (new_frame["sample"] == 0)
    new = sample.write_run(tmp_path / "new", new_frame[keep_one], sample.synthetic_meta("new"))
    comparison = compare_runs(base, new)
    installs = [r for r in comparison.rows if r.group == "install" and r.metric == "wall_time"]
    assert installs and {r.status for r in installs} == {UNTESTED}
    assert all(r.rounds == (1, 1) and not r.tested and math.isnan(r.p_adjusted) for r in installs)
    assert not comparison.regressions and comparison.exit_code == 0
    assert len(comparison.untested_beyond) == len(installs)
    assert run_cli(str(base), str(new)) == 0
    assert run_cli(str(base), str(new), "--strict") == 1
    assert compare_runs(base, new, strict=True).exit_code == 1


def test_new_install_failure_is_a_regression() -> None:
    base = sample.synthetic_frame("base")
    new = base.copy()
    broke = (new["group"] == "install") & (new["metric"] == "failed")
    broke &= (new["benchmark"] == "numpy") & (new["variant"] == "alpine3.23")
    new.loc[broke, "value"] = 1.0
    rows, _, _ = compare_frames(base, new)
    assert rows[0].status == REGRESSED and rows[0].benchmark == "numpy"
    assert math.isinf(rows[0].worse_ratio)


def test_decide_needs_significance_and_factor() -> None:
    assert decide(1.5, factor=1.1, p_adjusted=0.001) == REGRESSED
    assert decide(1.5, factor=1.1, p_adjusted=0.4) == NOT_SIGNIFICANT
    assert decide(1.05, factor=1.1, p_adjusted=0.001) == UNCHANGED
    assert decide(0.5, factor=1.1, p_adjusted=0.001) == IMPROVED
    # Untested (no p-value): never a regression, whatever the ratio.
    assert decide(1.5, factor=1.1) == UNTESTED
    assert decide(1.0, factor=1.1) == UNTESTED
    # Exact: the factor alone.
    assert decide(1.2, factor=1.1, exact=True) == REGRESSED
    assert decide(0.8, factor=1.1, exact=True) == IMPROVED
    assert decide(1.05, factor=1.1, exact=True) == UNCHANGED
    # A slower host widened the regression threshold to 1.6: a significant 1.5x is the host's.
    slow_host = (1.6, 1.1)
    assert decide(1.5, factor=1.1, p_adjusted=0.001, thresholds=slow_host) == WITHIN_DRIFT
    assert decide(1.5, factor=1.1, p_adjusted=0.4, thresholds=slow_host) == NOT_SIGNIFICANT
    assert decide(1.7, factor=1.1, p_adjusted=0.001, thresholds=slow_host) == REGRESSED
    # ... but a slower host cannot fake an improvement: that threshold stays at the factor.
    assert decide(0.7, factor=1.1, p_adjusted=0.001, thresholds=slow_host) == IMPROVED
    fast_host = (1.1, 1.6)
    assert decide(0.7, factor=1.1, p_adjusted=0.001, thresholds=fast_host) == WITHIN_DRIFT
    assert decide(1.2, factor=1.1, p_adjusted=0.001, thresholds=fast_host) == REGRESSED


def test_bad_factor_is_a_user_error() -> None:
    frame = pd.DataFrame(sample.synthetic_frame())
    with pytest.raises(UserError, match=r">= 1\.0"):
        compare_frames(frame, frame, factor=0.9)


def test_series_told_apart_by_detail_are_compared_separately():
    def frame(run: str, python_layer: float) -> pd.DataFrame:
        rows = [
            {
                "run": run,
                "group": "size",
                "benchmark": "base",
                "variant": "slim-trixie",
                "python": "3.13",
                "libc": "glibc",
                "base_source": "local",
                "strategy": "",
                "allocator": "",
                "metric": "layer_compressed",
                "value": value,
                "unit": "bytes",
                "sample": 0,
                "detail": kind,
            }
            for kind, value in (("os", 30e6), ("python", python_layer))
        ]
        return pd.DataFrame(rows)

    rows, _, _ = compare_frames(frame("a", 10e6), frame("b", 20e6))
    by_metric = {r.metric: r for r in rows}
    assert by_metric["layer_compressed [os]"].status == UNCHANGED
    assert by_metric["layer_compressed [python]"].status == REGRESSED


# --- host drift: a busier host is not a regression of the images ------------------------------


def test_busier_host_same_images_exits_zero_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every timing 20 % slower, and the host probe 20 % slower too: the machine, not the images.
    base = make_run(tmp_path, "base", frame_kwargs={"seed": 1})
    busy = {"seed": 2, "slowdown": 1.2, "host_slowdown": 1.2}
    new = make_run(tmp_path, "new", frame_kwargs=busy)
    assert run_cli(str(base), str(new)) == 0
    captured = capsys.readouterr()
    assert "the host's CPU ran 1.2" in captured.err and "slower" in captured.err
    assert "container starts ran" in captured.err
    assert "| within host drift |" in captured.out
    assert "Host drift" in captured.out


def test_busier_host_without_probes_cannot_be_told_apart(tmp_path: Path) -> None:
    base = make_run(tmp_path, "base", frame_kwargs={"seed": 1, "host_slowdown": None})
    busy = {"seed": 2, "slowdown": 1.2, "host_slowdown": None}
    new = make_run(tmp_path, "new", frame_kwargs=busy)
    assert run_cli(str(base), str(new)) == 1


def test_regression_beyond_host_drift_still_fails(tmp_path: Path) -> None:
    base = make_run(tmp_path, "base", frame_kwargs={"seed": 1})
    worse = {"seed": 2, "slowdown": 1.2 * 1.4, "host_slowdown": 1.2}
    new = make_run(tmp_path, "new", frame_kwargs=worse)
    assert run_cli(str(base), str(new)) == 1


def test_host_drift_widens_timings_only() -> None:
    base = sample.synthetic_frame("base", seed=1)
    new = sample.synthetic_frame("new", seed=2, host_slowdown=1.3)
    grow = (new["group"] == "size") & (new["metric"] == "compressed")
    new.loc[grow, "value"] *= 1.2
    rows, _, _ = compare_frames(base, new)
    sizes = [r for r in rows if r.group == "size" and r.metric == "compressed"]
    assert sizes and all(r.status == REGRESSED and r.threshold == 1.10 for r in sizes)
    startup = [r for r in rows if r.group == "startup"]
    assert startup and all(r.threshold == pytest.approx(1.1 * 1.3, rel=0.05) for r in startup)
    assert not any(r.group == CALIBRATION_GROUP for r in rows)


def test_drift_per_group_falls_back_to_the_whole_run() -> None:
    base = sample.synthetic_frame("base", seed=1)
    new = sample.synthetic_frame("new", seed=2)
    # Only the start-up group ran on a busy host (both probes, as a busy host would show).
    during_startup = (new["group"] == CALIBRATION_GROUP) & (new["benchmark"] == "startup")
    new.loc[
        during_startup & new["metric"].isin([PROBE_METRIC, CONTAINER_PROBE_METRIC]), "value"
    ] *= 1.5
    drifts = host_drifts(normalise(base), normalise(new))
    cpu = {d.group: d for d in drifts if d.probe == PROBE_METRIC}
    starts = {d.group: d for d in drifts if d.probe == CONTAINER_PROBE_METRIC}
    assert cpu["startup"].ratio == pytest.approx(1.5, rel=0.05) and cpu["startup"].significant
    assert cpu["build"].ratio == pytest.approx(1.0, abs=0.05)
    assert starts["startup"].ratio == pytest.approx(1.5, rel=0.1) and starts["startup"].significant
    # Start-up is judged against container starts during start-up, the others do not move.
    assert threshold_for("startup", "s", 1.1, drifts) == pytest.approx(
        1.1 * starts["startup"].ratio
    )
    assert threshold_for("http", "req/s", 1.1, drifts) < 1.2
    assert threshold_for("size", "bytes", 1.1, drifts) == 1.1
    # A group without probes on both sides takes the run-wide drift of its probe, if significant.
    rest = [d for d in drifts if d.group != "runtime"]
    assert threshold_for("runtime", "s", 1.1, rest) == pytest.approx(1.1 * cpu[""].slower)
    assert threshold_for("runtime", "s", 1.1, []) == 1.1


def test_drift_is_applied_only_when_significant_and_in_the_faking_direction() -> None:
    noisy = HostDrift("", PROBE_METRIC, 1.3, 0.2, 30, 30)
    assert not noisy.significant and (noisy.slower, noisy.faster) == (1.0, 1.0)
    assert thresholds_for("runtime", "s", 1.1, [noisy]) == (1.1, 1.1)
    slower = HostDrift("", PROBE_METRIC, 1.3, 0.001, 30, 30)
    # A slower host fakes regressions: only the regression threshold widens.
    assert thresholds_for("runtime", "s", 1.1, [slower]) == pytest.approx((1.1 * 1.3, 1.1))
    faster = HostDrift("", PROBE_METRIC, 0.8, 0.001, 30, 30)
    assert thresholds_for("runtime", "s", 1.1, [faster]) == pytest.approx((1.1, 1.1 / 0.8))
    # Each group is held to its own probe: start-up to container starts, not the CPU loop.
    assert thresholds_for("startup", "s", 1.1, [slower]) == (1.1, 1.1)
    starts = HostDrift("startup", CONTAINER_PROBE_METRIC, 1.4, 0.001, 20, 20)
    assert threshold_for("startup", "s", 1.1, [slower, starts]) == pytest.approx(1.1 * 1.4)
    assert threshold_for("build", "s", 1.1, [starts]) == 1.1


def test_a_faster_host_cannot_hide_a_regression() -> None:
    # The new run's host was 30 % faster and its images 25 % slower: the host cannot have
    # made them slower, so the regression threshold stays at the factor.
    base = sample.synthetic_frame("base", seed=1)
    new = sample.synthetic_frame("new", seed=2, slowdown=1.25, host_slowdown=0.7)
    rows, _, _ = compare_frames(base, new)
    runtime = [r for r in rows if r.group == "runtime" and r.metric == "time"]
    assert runtime and all(r.threshold == 1.1 for r in runtime)
    assert all(r.improve_threshold == pytest.approx(1.1 / 0.7, rel=0.05) for r in runtime)
    assert all(r.status == REGRESSED for r in runtime)


def test_every_group_names_a_known_probe() -> None:
    # The registry says which probe measures a group's kind of timing; "" = none (exact).
    for entry in groups.GROUPS:
        assert entry.host_probe in ("", *PROBE_METRIC_OF), entry
    startup, size, runtime = groups.group("startup"), groups.group("size"), groups.group("runtime")
    assert startup is not None and PROBE_METRIC_OF[startup.host_probe] == CONTAINER_PROBE_METRIC
    assert runtime is not None and PROBE_METRIC_OF[runtime.host_probe] == PROBE_METRIC
    assert size is not None and size.host_probe == ""
    drifts = [HostDrift("", PROBE_METRIC, 1.3, 0.001, 30, 30)]
    assert threshold_for("http", "req/s", 1.1, drifts) == pytest.approx(1.1 * 1.3)
    assert threshold_for("size", "s", 1.1, drifts) == 1.1
    assert threshold_for("runtime", "bytes", 1.1, drifts) == 1.1


def test_compare_runs_decides_without_writing(tmp_path: Path) -> None:
    base = make_run(tmp_path, "base", frame_kwargs={"seed": 1})
    new = make_run(tmp_path, "new", frame_kwargs={"seed": 2, "slowdown": 1.3})
    comparison = compare_runs(base, new)
    assert (comparison.baseline_id, comparison.new_id) == ("base", "new")
    assert comparison.exit_code == 1 and comparison.regressions
    assert not (new / "report").exists()


def _validation_run(root: Path, cpu_model: str, ratio: float) -> Path:
    """A validate run of a host whose two runs of identical images differed by ``ratio``."""
    meta = sample.synthetic_meta("validate", cpu_model=cpu_model)
    between = {g: {"largest_ratio": ratio, "median_ratio": ratio, "metrics": 3.0} for g in GROUPS}
    meta["validation"] = {"passed": True, "checks": [], "between_runs": between}
    return sample.write_run(root / "validate", sample.synthetic_frame("validate"), meta)


GROUPS = ("build", "install", "startup", "runtime", "http")


def test_the_hosts_validated_between_run_noise_raises_timing_thresholds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = make_run(tmp_path, "base", frame_kwargs={"seed": 1})
    new = make_run(tmp_path, "new", frame_kwargs={"seed": 2, "slowdown": 1.2})
    assert run_cli(str(base), str(new)) == 1
    # This host's validate run saw identical images differ by up to 1.3x between two runs:
    # a 1.2x slowdown is within that noise.
    _validation_run(tmp_path, "Synthetic CPU @ 2.0GHz", 1.3)
    capsys.readouterr()
    assert run_cli(str(base), str(new)) == 0
    assert "between-run noise (validate run validate) exceeds" in capsys.readouterr().err
    comparison = compare_runs(base, new)
    timings = [r for r in comparison.rows if r.unit == "s" and not r.exact]
    assert timings and all(r.threshold >= 1.3 for r in timings)
    assert run_cli(str(base), str(new), "--no-noise-floor") == 1


def test_another_hosts_validation_is_not_used(tmp_path: Path) -> None:
    base = make_run(tmp_path, "base", frame_kwargs={"seed": 1})
    new = make_run(tmp_path, "new", frame_kwargs={"seed": 2, "slowdown": 1.2})
    _validation_run(tmp_path, "Another CPU", 1.3)
    assert compare_runs(base, new).noise_floor is None
    assert run_cli(str(base), str(new)) == 1


def test_thresholds_take_the_noise_floor_of_timings_only() -> None:
    floors = {"startup": 1.15}
    assert thresholds_for("startup", "s", 1.10, [], floors) == (1.15, 1.15)
    assert thresholds_for("startup", "s", 1.25, [], floors) == (1.25, 1.25)
    assert thresholds_for("size", "bytes", 1.10, [], floors) == (1.10, 1.10)
    assert thresholds_for("runtime", "s", 1.10, [], floors) == (1.10, 1.10)


# --- the compare page -------------------------------------------------------------------------


def page_of(new: Path, baseline: str = "base") -> str:
    return (new / "report" / f"compare-{baseline}.md").read_text()


def section(page: str, title: str) -> str:
    """The text of the ``## title`` section (up to the next level-2 heading)."""
    body = page.split(f"\n## {title}", 1)[1]
    return body.split("\n## ", 1)[0]


def statuses_in(text: str) -> list[str]:
    rows = [
        line for line in text.splitlines() if line.startswith("| ") and "| Status |" not in line
    ]
    return [line.split(" | ")[0].strip("| ") for line in rows]


@pytest.mark.parametrize(
    ("frame_kwargs", "flags"),
    [
        ({"seed": 2}, ()),
        ({"seed": 2, "slowdown": 1.3}, ()),
        ({"seed": 2, "slowdown": 1.3}, ("--fail-on-regression", "1.5")),
    ],
)
def test_first_line_of_the_page_is_the_exit_code(
    tmp_path: Path, frame_kwargs: dict[str, Any], flags: tuple[str, ...]
) -> None:
    base = make_run(tmp_path, "base", frame_kwargs={"seed": 1})
    new = make_run(tmp_path, "new", frame_kwargs=frame_kwargs)
    code = run_cli(str(base), str(new), *flags)
    page = page_of(new)
    first = page.splitlines()[0]
    regressed = statuses_in(page).count(REGRESSED)
    if code == 0:
        assert first.startswith("# PASS (exit 0)") and regressed == 0
    else:
        assert code == 1 and regressed > 0
        assert first == f"# FAIL (exit 1): {regressed} regressions"
    assert f"exit code {code}." in page


def test_strict_failure_names_the_untested_in_the_first_line(tmp_path: Path) -> None:
    base_frame = sample.synthetic_frame("base", seed=1)
    new_frame = sample.synthetic_frame("new", seed=1)
    slower = (new_frame["group"] == "install") & (new_frame["metric"] == "wall_time")
    new_frame.loc[slower, "value"] *= 1.5
    one_round = {
        name: frame[(frame["group"] != "install") | (frame["sample"] == 0)]
        for name, frame in (("base", base_frame), ("new", new_frame))
    }
    base = sample.write_run(tmp_path / "base", one_round["base"], sample.synthetic_meta())
    new = sample.write_run(tmp_path / "new", one_round["new"], sample.synthetic_meta("new"))
    assert run_cli(str(base), str(new), "--strict") == 1
    first = page_of(new).splitlines()[0]
    assert first.startswith("# FAIL (exit 1): 0 regressions and ")
    assert first.endswith("untested beyond the threshold (--strict)")


def with_meta(run_dir: Path, **config: Any) -> Path:
    """Change the configuration recorded in a run folder's run.json."""
    meta = json.loads((run_dir / "run.json").read_text())
    meta["config"].update(config)
    (run_dir / "run.json").write_text(json.dumps(meta))
    return run_dir


def test_settings_lists_what_differs_old_to_new() -> None:
    base = sample.synthetic_meta("base")
    new = sample.synthetic_meta("new", cpu_model="Other CPU")
    base["config"] |= {"cpus": 0.0, "cpuset": "1", "mem_limit": "4g", "rounds": 3}
    new["config"] |= {"cpus": 0.2, "cpuset": "1", "mem_limit": "4g", "rounds": 3}
    image = "basebench/python:3.13-alpine3.23"
    names = {"python": "3.13", "variant": "alpine3.23"}
    new["images"][image] |= {**names, "image_id": "sha256:" + "b" * 64}
    base["images"][image] |= {**names, "image_id": "sha256:" + "a" * 64}
    changed = {s.name: (s.baseline, s.new) for s in run_settings(base, new) if s.changed}
    assert changed == {
        "cpus": ("0", "0.2"),
        "host CPU model": ("Synthetic CPU @ 2.0GHz", "Other CPU"),
        "3.13-alpine3.23 image ID": ("sha256:" + "a" * 64, "sha256:" + "b" * 64),
    }
    same = {s.name for s in run_settings(base, new) if not s.changed}
    assert {"cpuset", "memory", "profile", "Python", "rounds", "base source"} <= same
    assert setting_text(None) == "(not recorded)" and setting_text(["3.13", "3.14"]) == "3.13, 3.14"


def test_page_shows_the_configuration_diff_and_the_warnings(tmp_path: Path) -> None:
    base = with_meta(make_run(tmp_path, "base", frame_kwargs={"seed": 1}), cpus=0.0)
    new = with_meta(
        make_run(tmp_path, "new", frame_kwargs={"seed": 2}, meta_kwargs={"kernel": "6.12.0"}),
        cpus=0.2,
    )
    run_cli(str(base), str(new))
    page = page_of(new)
    configuration = section(page, "Configuration")
    assert "\n- cpus 0 -> 0.2\n" in configuration
    assert "- host kernel 6.1.0-synthetic -> 6.12.0" in configuration
    # Settings neither run recorded are not "the same": they are left out.
    assert "memory" not in configuration
    assert "profile quick" in configuration.split("Same in both:", 1)[1]
    # What the command says on stderr is in the page too.
    warnings = section(page, "Warnings")
    assert "different hosts (kernel: '6.1.0-synthetic' vs '6.12.0')" in warnings
    assert "limited the measured containers differently (cpus 0 -> 0.2)" in warnings


def test_untested_rows_apart_and_unchanged_rows_folded(tmp_path: Path) -> None:
    base_frame = sample.synthetic_frame("base", seed=1)
    new_frame = sample.synthetic_frame("new", seed=2)
    keep = {
        name: frame[(frame["group"] != "install") | (frame["sample"] == 0)]
        for name, frame in (("base", base_frame), ("new", new_frame))
    }
    base = sample.write_run(tmp_path / "base", keep["base"], sample.synthetic_meta())
    new = sample.write_run(tmp_path / "new", keep["new"], sample.synthetic_meta("new"))
    comparison = compare_runs(base, new)
    run_cli(str(base), str(new))
    page = page_of(new)
    untested = statuses_in(section(page, "Untested, beyond the threshold")) + statuses_in(
        section(page, "Untested, within the threshold")
    )
    assert untested and set(untested) == {UNTESTED}
    assert len(untested) == len(comparison.untested)
    assert UNTESTED not in statuses_in(section(page, "Changes"))
    unchanged = section(page, "Unchanged")
    assert unchanged.index("<details>") < unchanged.index("| Status |")
    assert unchanged.index("| Status |") < unchanged.index("</details>")
    assert statuses_in(unchanged) == [UNCHANGED] * sum(
        r.status == UNCHANGED for r in comparison.rows
    )
    assert "untested (only 1 round(s) on a side" in section(page, "Warnings")


def test_thresholds_are_stated_as_used_per_kind(tmp_path: Path) -> None:
    # A busier host widens the timings' regression thresholds, not the sizes'.
    base = make_run(tmp_path, "base", frame_kwargs={"seed": 1})
    new = make_run(tmp_path, "new", frame_kwargs={"seed": 2, "host_slowdown": 1.3})
    comparison = compare_runs(base, new)
    run_cli(str(base), str(new))
    summary = section(page_of(new), "Summary")
    startup = {r.threshold for r in comparison.rows if r.group == "startup"}
    assert len(startup) == 1 and startup.pop() > 1.2
    for row in comparison.rows:
        if (row.group in ("startup", "runtime") and row.metric == "time") or row.exact:
            kind = "exact metrics" if row.exact else f"{row.group} timings"
            line = next(ln for ln in summary.splitlines() if ln.startswith(f"- {kind}"))
            assert f"regressed above {row.threshold:.2f}×" in line
    assert "beyond 1.10×" not in page_of(new)
