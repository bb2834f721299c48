"""data.csv (typed, a status and a unit on every row) and ratios.csv (every ratio stated)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import report_sample as sample

from basebench.report import render_report
from basebench.report.analysis import runtime_ratios
from basebench.report.export import (
    DATA_COLUMNS,
    FAILED,
    MEASURED,
    NOT_APPLICABLE,
    RATIO_COLUMNS,
    STATUSES,
    UNTESTED,
    data_frame,
    read_data_csv,
)
from basebench.report.frame import label_configs, normalise

PYTHON = "3.10"  # what a float would turn into 3.1


def sample_meta(**config: Any) -> dict[str, Any]:
    meta = sample.synthetic_meta(pythons=(PYTHON,))
    meta["config"] |= config
    return meta


def sample_frame() -> pd.DataFrame:
    """The synthetic run at Python 3.10, with a build that does not apply to a base and an
    install whose download failed (no timed attempt), as basebench writes them."""
    frame = sample.synthetic_frame(pythons=(PYTHON,))
    extra = [
        {
            **frame.iloc[0].to_dict(),
            "group": "build",
            "benchmark": "single-slim",
            "variant": "trixie",
            "strategy": "single-slim",
            "metric": NOT_APPLICABLE,
            "value": 1.0,
            "unit": "",
            "sample": 0,
            "round": 0,
            "detail": "trixie is a full image",
        },
        {
            **frame.iloc[0].to_dict(),
            "group": "install",
            "benchmark": "psycopg2",
            "variant": "alpine3.23",
            "libc": "musl",
            "strategy": "",
            "metric": FAILED,
            "value": 1.0,
            "unit": "",
            "sample": 0,
            "round": 0,
            "detail": "failed: download: Error: pg_config executable not found.",
        },
    ]
    trixie_builds = (frame["group"] == "build") & (frame["variant"] == "trixie")
    trixie_builds &= frame["benchmark"] == "single-slim"
    return pd.concat([frame[~trixie_builds], pd.DataFrame(extra)], ignore_index=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    render_report(sample_frame(), [sample_meta(groups=["build", "install"])], out)
    return out


def test_data_csv_reads_back_typed_with_python_as_text(report: Path) -> None:
    data = read_data_csv(report / "data.csv")
    assert list(data.columns) == list(DATA_COLUMNS)
    assert set(data.loc[data["group"] != "calibration", "python"]) == {PYTHON}
    assert data["value"].dtype == "float64" and data["round"].dtype == "int64"
    # A plain read turns the version into a float: the schema beside it says why not to.
    assert pd.read_csv(report / "data.csv")["python"].dropna().iloc[0] == pytest.approx(3.1)
    schema = json.loads((report / "data.schema.json").read_text())
    types = {f["name"]: f["type"] for f in schema["fields"]}
    assert list(types) == list(DATA_COLUMNS)
    assert types["python"] == "string" and types["value"] == "number"
    assert types["round"] == "integer"


def test_every_row_has_a_status_and_a_unit_and_only_measured_rows_a_value(report: Path) -> None:
    data = read_data_csv(report / "data.csv")
    assert set(data["status"]) <= set(STATUSES)
    assert (data["unit"] != "").all()
    measured = data["status"] == MEASURED
    assert data.loc[measured, "value"].notna().all()
    assert data.loc[~measured, "value"].isna().all()
    # The 0/1 flag is the status now, not a value.
    assert not ((data["group"] == "install") & (data["metric"] == FAILED)).any()


def test_failed_and_not_applicable_rows(report: Path) -> None:
    data = read_data_csv(report / "data.csv")

    def rows(group: str, benchmark: str, variant: str) -> pd.DataFrame:
        mask = (data["group"] == group) & (data["benchmark"] == benchmark)
        return data[mask & (data["variant"] == variant)]

    single_slim = rows("build", "single-slim", "trixie")
    assert single_slim[["metric", "status", "unit"]].values.tolist() == [
        ["wall_time", NOT_APPLICABLE, "s"]
    ]
    assert single_slim["detail"].iloc[0] == "trixie is a full image"
    # Tried and failed (a compiler error): its attempts are no install times.
    pyarrow = rows("install", "pyarrow", "alpine3.23")
    assert len(pyarrow) == 3 and set(pyarrow["status"]) == {FAILED}
    assert set(pyarrow["metric"]) == {"wall_time"} and pyarrow["value"].isna().all()
    assert set(rows("install", "pyarrow", "trixie")["status"]) == {MEASURED}
    # Failed before any timed attempt: one row says so.
    psycopg2 = rows("install", "psycopg2", "alpine3.23")
    assert psycopg2[["metric", "status", "unit"]].values.tolist() == [["wall_time", FAILED, "s"]]
    assert "pg_config" in psycopg2["detail"].iloc[0]


def test_untested_is_what_the_run_was_asked_for_and_has_no_row_of(report: Path) -> None:
    data = read_data_csv(report / "data.csv")
    untested = data[data["status"] == UNTESTED]
    # psycopg2 was in this run's package set (it failed on alpine) and never tried elsewhere.
    assert sorted(zip(untested["benchmark"], untested["variant"], strict=True)) == [
        ("psycopg2", "slim-trixie"),
        ("psycopg2", "trixie"),
    ]
    assert set(untested["python"]) == {PYTHON} and untested["value"].isna().all()


def test_untested_follows_the_configured_strategies() -> None:
    frame = normalise(sample.synthetic_frame())
    asked = sample.synthetic_meta()
    asked["config"] |= {"groups": ["build"], "strategies": ["multistage", "custom"]}
    data = data_frame(frame, [asked])
    untested = data[data["status"] == UNTESTED]
    assert set(untested["benchmark"]) == {"custom"} and set(untested["strategy"]) == {"custom"}
    assert set(untested["variant"]) == set(sample.VARIANTS)
    # Without "build" among the run's groups, nothing was asked: nothing is untested.
    asked["config"]["groups"] = ["size"]
    assert not (data_frame(frame, [asked])["status"] == UNTESTED).any()


def test_ratios_csv_has_every_ratio_of_the_report(report: Path) -> None:
    ratios = pd.read_csv(report / "ratios.csv", dtype={"python": str})
    assert list(ratios.columns) == list(RATIO_COLUMNS)
    labelled, configs = label_configs(
        normalise(sample_frame()), [sample_meta(groups=["build", "install"])]
    )
    expected = runtime_ratios(labelled, configs)
    workloads = ratios[ratios["kind"] == "workload"]
    assert len(workloads) == len(expected)
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in d.items()} for d in workloads.to_dict("records")
    ]
    # Each allocator is compared twice (with the baseline's default allocator and with the same
    # one): the baseline's allocator tells the two apart.
    by_key = {
        (d["benchmark"], d["variant"], d["allocator"], d["baseline_allocator"]): d for d in records
    }
    assert len(by_key) == len(records)
    for r in expected:
        row = by_key[(r.benchmark, r.config, r.allocator, r.reference_allocator)]
        assert row["ratio"] == pytest.approx(r.interval.estimate)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((r.interval.low, r.interval.high))
        assert (row["n_rounds"], row["n_rounds_baseline"]) == r.rounds
        assert row["p_holm"] == pytest.approx(r.p_adjusted)
        assert row["baseline"] == "slim-trixie" and row["python"] == PYTHON
    # The verdicts are the runtime table's, row for row.
    markdown = (report / "report.md").read_text()
    per_workload = markdown.split("### Per workload", 1)[1].split("\n### ", 1)[0]
    same_allocator = markdown.split("### The libc under each allocator", 1)[1].split("\n### ", 1)[0]
    for d in records:
        # Against the same allocator: the libc table; against the default: per workload.
        same = d["baseline_allocator"] == d["allocator"] != "pymalloc"
        table = same_allocator if same else per_workload
        line = f"| {d['benchmark']} | {d['variant']} | {d['allocator']} |"
        table_row = next(ln for ln in table.splitlines() if line in ln)
        assert table_row.rstrip(" |").endswith(str(d["verdict"]))
    # A summary per variant other than the reference, with the summary table's interval.
    summaries = {
        str(d["variant"]): d for d in ratios[ratios["kind"] == "summary"].to_dict("records")
    }
    assert set(summaries) == {"trixie", "alpine3.23"}
    alpine = summaries["alpine3.23"]
    shown = f"{alpine['ratio']:.2f}× [{alpine['ci_low']:.2f}–{alpine['ci_high']:.2f}]"
    assert re.search(rf"\| alpine3\.23 \|.*{re.escape(shown)}", markdown)
    assert math.isnan(alpine["p"]) and alpine["test"].startswith("none: a summary")
