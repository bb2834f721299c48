"""``basebench report``: Markdown structure, charts, CSV, self-contained HTML (no Docker).

The run folders are synthetic (``report_sample``), written in the result store's own formats
and read through :func:`basebench.results.load_runs` like real runs.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import report_sample as sample

from basebench import groups, results
from basebench.errors import UserError
from basebench.report import make_report, render_report
from basebench.report.build import run_status
from basebench.report.export import DATA_COLUMNS, read_data_csv
from basebench.report.frame import normalise
from basebench.report.stats import each_value_a_round, mann_whitney_p, ratio_of_medians

CHART_STEMS = (
    "build-time",
    "install-heatmap",
    "runtime-ratio",
    "size",
    "size-app",
    "startup",
    "http",
)
SUMMARY_COLUMNS = [
    "Variant",
    "libc",
    "Base image compressed",
    "Base image uncompressed",
    "Build time (fastest strategy)",
    "Install failures",
    "Runtime vs slim-trixie [summary 95 % CI]",
    "Runtime verdict",
]
SECTIONS = [
    "Recommendation",
    "Summary",
    "Build and install",
    "Runtime",
    "Image size",
    "Start-up",
    "HTTP serving",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One report for the whole module: rendering charts takes seconds."""
    meta = sample.synthetic_meta()
    meta["harness"] = HARNESS
    run_dir = sample.write_run(
        tmp_path_factory.mktemp("results") / "synthetic-1", sample.synthetic_frame(), meta
    )
    return make_report([run_dir]).report_dir


# run.json's harness accounting (basebench.measure._overhead.accounting), two groups.
HARNESS = {
    "build": {"wall_s": 400.0, "timed_s": 360.0, "untimed": {"host probes": 4.0}},
    "size": {
        "wall_s": 90.0,
        "timed_s": 0.0,
        "untimed": {"compressing layers (gzip -6)": 60.0, "docker save": 25.0},
    },
}


def h2(markdown: str) -> list[str]:
    return re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)


def table_after(markdown: str, heading: str) -> list[list[str]]:
    """Rows (header first, separator dropped) of the first table after ``heading``."""
    text = markdown.split(f"\n{heading}\n", 1)[1]
    first_block: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            first_block.append(line)
        elif first_block:
            break
    rows = [[c.strip() for c in ln.strip("|").split(" | ")] for ln in first_block]
    return [rows[0], *rows[2:]]


def test_markdown_headings_in_order(report: Path) -> None:
    markdown = (report / "report.md").read_text()
    assert markdown.startswith("# basebench report: synthetic-1")
    assert h2(markdown) == [*SECTIONS, "Conditions", "Harness overhead"]


def test_harness_overhead_per_group_is_wall_minus_timed_as_a_share(report: Path) -> None:
    rows = table_after((report / "report.md").read_text(), "## Harness overhead")
    assert rows[0] == ["Group", "Wall", "Timed", "Overhead", "Share", "Where it is known to go"]
    assert rows[1] == [
        "build",
        "400 s",
        "360 s",
        "40 s",
        "10%",
        "host probes 4 s; not attributed 36 s",
    ]
    assert rows[2][:5] == ["size", "90 s", "0 s", "90 s", "100%"]
    assert rows[2][5].startswith("compressing layers (gzip -6) 60 s; docker save 25 s")
    assert rows[3][:5] == ["**all groups**", "490 s", "360 s", "130 s", "27%"]


def test_summary_table_columns_and_rows(report: Path) -> None:
    rows = table_after((report / "report.md").read_text(), "## Summary")
    assert rows[0] == SUMMARY_COLUMNS
    assert [r[0] for r in rows[1:]] == ["slim-trixie", "trixie", "alpine3.23"]
    by_variant = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert by_variant["slim-trixie"]["Runtime verdict"] == "reference"
    # The synthetic musl malloc penalty is significant; trixie's ~1.0 must be marked n.s.
    assert "slower" in by_variant["alpine3.23"]["Runtime verdict"]
    assert by_variant["trixie"]["Runtime verdict"].startswith("n.s.")
    assert "pyarrow" in by_variant["alpine3.23"]["Install failures"]
    assert re.match(r"\d.*MB", by_variant["alpine3.23"]["Base image compressed"])


def test_recommendation_in_plain_words(report: Path) -> None:
    markdown = (report / "report.md").read_text()
    summary = markdown.split("## Recommendation", 1)[1].split("## Build and install", 1)[0]
    assert "**Recommendation: build with `multistage`, ship on `slim-trixie`**" in summary
    # Its costs against the runner-up, in the units a team pays in, and every strategy defined.
    assert "against the runner-up, multistage on trixie: 302 MB less per pull" in summary
    assert "- `pip-cache-copy`: install on the builder" in summary


def test_conditions_section_says_which_world(report: Path) -> None:
    conditions = (report / "report.md").read_text().split("## Conditions", 1)[1]
    assert "Base images: **local**" in conditions
    for expected in (
        "Synthetic CPU @ 2.0GHz",
        "Docker server 20.10.24",
        "overlay2",
        "6.1.0-synthetic",
        "Profile: **quick**",
        "--enable-optimizations --with-lto",
        "musl 1.2.5",
        "glibc 2.41",
        "Host probe (cpus 1, 120000 iterations; 72 timings",
        "1-minute load average",
    ):
        assert expected in conditions, expected
    # The probes are conditions, not a configuration of their own.
    assert "calibration" not in (report / "report.md").read_text().split("## Conditions")[0]


def test_not_significant_runtime_is_not_ranked(report: Path) -> None:
    runtime = (report / "report.md").read_text().split("## Runtime", 1)[1].split("## Image", 1)[0]
    assert "n.s. (same within noise)" in runtime
    ranked = runtime.split("Significantly slower", 1)[1].split("Not significant", 1)[0]
    assert "trixie+pymalloc" not in ranked  # n.s. in the synthetic data
    assert "slowest first: alpine3.23+pymalloc on medium_threads_2 (1.6" in ranked


@pytest.mark.parametrize("stem", CHART_STEMS)
def test_chart_per_question_as_png_and_svg(report: Path, stem: str) -> None:
    png, svg = report / f"{stem}.png", report / f"{stem}.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 5_000
    assert "<svg" in svg.read_text()[:2000]
    assert f"]({stem}.png)" in (report / "report.md").read_text()


def without_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """The tidy frame without the installs' 0/1 ``failed`` flags: data.csv has a status."""
    return frame[(frame["group"] != "install") | (frame["metric"] != "failed")]


def test_csv_is_the_tidy_table(report: Path) -> None:
    data = read_data_csv(report / "data.csv")
    assert list(data.columns) == list(DATA_COLUMNS)
    assert len(data) == len(without_flags(sample.synthetic_frame()))


def test_html_is_self_contained(report: Path) -> None:
    page = (report / "report.html").read_text()
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == len(CHART_STEMS)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<link" not in page and "@import" not in page and "http://" not in page
    assert "<h2>Conditions</h2>" in page and "<table>" in page


def test_python_becomes_an_axis_when_a_run_spans_versions(tmp_path: Path) -> None:
    pythons = ("3.13", "3.14")
    result = render_report(
        sample.synthetic_frame(pythons=pythons),
        [sample.synthetic_meta(pythons=pythons)],
        tmp_path / "report",
    )
    rows = table_after(result.markdown.read_text(), "## Summary")
    assert [r[0] for r in rows[1:]][:3] == ["3.13-slim-trixie", "3.13-trixie", "3.13-alpine3.23"]
    assert "3.14-alpine3.23" in [r[0] for r in rows[1:]]
    # Each Python's variants are measured against that Python's baseline.
    assert rows[0][6] == "Runtime vs 3.13-slim-trixie, 3.14-slim-trixie [summary 95 % CI]"
    markdown = result.markdown.read_text()
    runtime = markdown.split("## Runtime", 1)[1]
    assert "3.14-alpine3.23" in runtime
    assert "Reference: **3.13-slim-trixie, 3.14-slim-trixie**" in runtime
    # One recommendation per Python version: the version is a separate decision.
    for python in ("3.13", "3.14"):
        assert (
            f"**Python {python}: Recommendation: build with `multistage`, ship on "
            f"`{python}-slim-trixie`**"
        ) in markdown


def test_sections_without_data_are_omitted_with_a_note(tmp_path: Path) -> None:
    data = sample.synthetic_frame()
    data = data[~data["group"].isin(["startup", "http", "runtime"])]
    result = render_report(data, [sample.synthetic_meta()], tmp_path / "report")
    markdown = result.markdown.read_text()
    assert h2(markdown) == [
        "Recommendation",
        "Summary",
        "Build and install",
        "Image size",
        "Conditions",
    ]
    assert "_Start-up: no data in this run; section omitted._" in markdown
    assert "_Runtime: no data in this run; section omitted._" in markdown
    assert "HTTP" not in markdown  # optional by profile: no note either
    assert not (tmp_path / "report" / "startup.png").exists()


def test_new_groups_and_metrics_appear_without_new_code(tmp_path: Path) -> None:
    data = sample.synthetic_frame()
    extra = data[data["group"] == "startup"].copy()
    extra["group"], extra["metric"] = "gc", "pause_time"
    result = render_report(pd.concat([data, extra]), [sample.synthetic_meta()], tmp_path / "r")
    markdown = result.markdown.read_text()
    assert "## Other measurements: gc" in markdown
    assert "pause_time" in markdown


def test_report_command_prints_path_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from basebench.commands import report as command

    run_dir = sample.write_run(
        tmp_path / "run-a", sample.synthetic_frame(), sample.synthetic_meta("run-a")
    )
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    assert command.run(parser.parse_args([str(run_dir)])) == 0
    out = capsys.readouterr().out
    assert f"Report: {run_dir / 'report' / 'report.md'}" in out
    assert "| Variant | libc |" in out


def test_missing_run_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a run folder"):
        make_report([tmp_path / "nope"])
    with pytest.raises(UserError, match="lacks the columns"):
        normalise(pd.DataFrame({"run": ["x"]}))


def test_ratio_interval_and_rank_test() -> None:
    def rounds(values: list[float]) -> list[np.ndarray]:
        return each_value_a_round(values)

    same = ratio_of_medians(
        [(rounds([1.0, 1.01, 0.99, 1.0, 1.02]), rounds([1.0, 0.99, 1.01, 1.0, 0.98]))]
    )
    assert same.has_ci and not same.excludes_one
    slower = ratio_of_medians(
        [(rounds([1.3, 1.31, 1.29, 1.3, 1.32]), rounds([1.0, 0.99, 1.01, 1.0, 0.98]))]
    )
    assert slower.excludes_one and slower.low > 1.2
    few = ratio_of_medians([(rounds([1.3]), rounds([1.0]))])
    assert few.estimate == pytest.approx(1.3) and not few.has_ci and not few.excludes_one
    assert mann_whitney_p([1, 2, 3, 4], [10, 11, 12, 13]) < 0.05
    assert mann_whitney_p([1, 2], [3, 4]) != mann_whitney_p([1, 2], [3, 4])  # NaN: no test


def test_report_from_a_run_folder_written_by_basebench_results(tmp_path: Path) -> None:
    """The run folder is written by basebench.results itself, not by ``sample.write_run``."""
    data = sample.synthetic_frame()
    meta = sample.synthetic_meta()
    run = results.ResultStore(tmp_path / "results").create_run(
        config=meta["config"], host=meta["host"]
    )
    tag_names = ("variant", "python", "libc", "base_source", "strategy", "allocator")
    keys = ["group", "benchmark", "metric", "unit", "detail", *tag_names]
    measurements = []
    for key, sub in data.groupby(keys, sort=False):
        group, benchmark, metric, unit, detail, *tags = (str(k) for k in key)
        measurements.append(
            results.Measurement(
                group=group,
                benchmark=benchmark,
                metric=metric,
                unit=unit,
                detail=detail,
                values=sub.sort_values("sample")["value"].tolist(),
                tags=results.Tags(**dict(zip(tag_names, tags, strict=True))),
            )
        )
    run.write_measurements("synthetic", measurements)
    results.finish_run(run)
    result = make_report([run.dir])
    assert result.markdown == run.dir / "report" / "report.md"
    assert h2(result.markdown.read_text()) == [*SECTIONS, "Conditions"]
    assert len(read_data_csv(result.csv)) == len(without_flags(data))


def test_report_and_compare_import_no_docker() -> None:
    """Reports are made where no Docker SDK is installed (a laptop, a docs job)."""
    # A fresh interpreter: this one may have imported docker through another test already.
    code = (
        "import sys, basebench.report, basebench.commands.compare, basebench.commands.report; "
        "assert 'docker' not in sys.modules, sorted(m for m in sys.modules if 'docker' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_registered_group_has_its_section() -> None:
    for entry in groups.GROUPS:
        assert entry.section.startswith("basebench.report.sections:"), entry
        assert callable(groups.load(entry.section)), entry


# --- rounds, tests and corrections in the report ----------------------------------------------


def _runtime_section(markdown: str) -> str:
    return markdown.split("## Runtime", 1)[1].split("## Image size", 1)[0]


def test_runtime_table_shows_rounds_and_the_corrected_test(report: Path) -> None:
    markdown = (report / "report.md").read_text()
    rows = table_after(markdown, "### Per workload")
    header = rows[0]
    assert header[:2] == ["Mechanism", "Workload"]
    assert header[4:] == ["n (rounds)", "Median time", "Ratio [95 % CI]", "p (Holm)", "Verdict"]
    alpine = next(
        r for r in rows if r[:4] == ["medium-objects", "medium_objects", "alpine3.23", "pymalloc"]
    )
    assert alpine[4] == "10" and "slower" in alpine[8] and float(alpine[7]) < 0.05
    runtime = _runtime_section(markdown)
    # 6 workloads x 5 against the reference's default, + 6 x 2 under the same allocator
    assert "Holm-adjusted over the 42 tested comparisons" in runtime


def test_how_to_read_states_unit_n_test_correction_and_drift(report: Path) -> None:
    markdown = (report / "report.md").read_text()
    reading = markdown.split("### How to read this report", 1)[1].split("## Build", 1)[0]
    for expected in (
        "container round",
        "one build, install, start-up or load test",
        "- runtime `time`: 10 repetitions per series",
        "- size: 1 repetition per series",
        "Welch's t-test on the log of the per-round medians",
        "Holm-adjusted",
        "family-wise error",
        "whatever the dependence",
        "only when that drift is itself significant",
        "startup timings against the container start",
    ):
        assert expected in reading, expected


def test_single_values_have_no_spread(report: Path) -> None:
    markdown = (report / "report.md").read_text()
    rows = table_after(markdown, "## Image size")
    assert rows[0][:3] == ["Benchmark", "Metric", "n"]
    assert all(r[2] == "1" and "±" not in " ".join(r) for r in rows[1:])
    startup = table_after(markdown, "## Start-up")
    assert all(r[2] == "20" and "±" in r[3] for r in startup[1:])


def test_too_few_rounds_are_untested_and_never_ranked(tmp_path: Path) -> None:
    data = normalise(sample.synthetic_frame())
    runtime = data["group"] == "runtime"
    # Two containers of five values each: the values are many, the replicates two.
    data.loc[runtime, "round"] = data.loc[runtime, "sample"] % 2
    result = render_report(data, [sample.synthetic_meta()], tmp_path / "report")
    markdown = result.markdown.read_text()
    rows = table_after(markdown, "### Per workload")
    verdicts = {r[8] for r in rows[1:] if r[8] != "reference"}
    assert verdicts == {"untested (n = 2)"}
    assert {r[4] for r in rows[1:]} == {"2 (10 values)"}
    runtime_text = _runtime_section(markdown)
    assert "Significantly slower, slowest first: none." in runtime_text
    assert "Untested (not ranked): 30 of 30 comparisons, with 2 round(s)" in runtime_text
    # Mechanisms and contention claim nothing either.
    by_mechanism = table_after(markdown, "### By mechanism")
    assert {r[-1] for r in by_mechanism[1:]} <= {"untested (n = 2)", "untested (n = 2) · control"}
    summary = {r[0]: r for r in table_after(markdown, "## Summary")[1:]}
    assert summary["alpine3.23"][7] == "untested (n = 2)"


def test_pyperf_warnings_reach_the_runtime_table(tmp_path: Path) -> None:
    data = normalise(sample.synthetic_frame())
    unstable = (
        (data["group"] == "runtime")
        & (data["benchmark"] == "json_roundtrip")
        & (data["variant"] == "trixie")
        & (data["allocator"] == "pymalloc")
    )
    data.loc[unstable, "detail"] = (
        "WARNING: the benchmark result may be unstable | * the standard deviation (1.09 ms) "
        "is 12% of the mean (9.40 ms)"
    )
    result = render_report(data, [sample.synthetic_meta()], tmp_path / "report")
    runtime = _runtime_section(result.markdown.read_text())
    row = next(
        line for line in runtime.splitlines() if "| json_roundtrip | trixie | pymalloc" in line
    )
    assert "⚠1" in row
    assert (
        "- ⚠1 json_roundtrip · trixie · pymalloc: the standard deviation (1.09 ms) is 12% of "
        "the mean (9.40 ms)"
    ) in runtime
    assert "⚠2" not in runtime


def test_header_strip_says_status_and_links_the_data(tmp_path: Path) -> None:
    meta = sample.synthetic_meta()
    meta["failures"] = [{"group": "build", "what": "multistage on 3.13-alpine3.23", "message": "x"}]
    result = render_report(sample.synthetic_frame(), [meta], tmp_path / "report")
    markdown = result.markdown.read_text()
    strip = markdown.split("\n\n")[1]
    assert strip.startswith("| Python | Base images | Profile | Host | Started | Status | Files |")
    assert "1 failure(s) (multistage on 3.13-alpine3.23)" in strip
    assert "[data.csv](data.csv)" in strip
    html_text = result.html.read_text()
    assert '<a href="data.csv">data.csv</a>' in html_text
    # The image labels are reference material: folded, not three screens of table.
    assert "<details><summary>Images: CPython build flags" in markdown
    assert "<details><summary>Images: CPython build flags" in html_text


def test_a_run_that_never_finished_says_so() -> None:
    assert run_status({"status": "running", "finished": None}).startswith("**incomplete**")
    assert run_status({"status": "finished", "finished": "2025-01-01T11:00:00Z"}) == "finished"
