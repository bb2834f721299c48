"""``basebench compare BASELINE NEW``: per-metric regressions between two runs (asv-style)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from basebench.report.charts import comparison_chart
from basebench.report.compare import Comparison, check_factor, compare_runs, parse_pair
from basebench.report.compare_doc import comparison_markdown, verdict_line
from basebench.report.stats import MIN_ROUNDS
from basebench.results import atomic_write_bytes

HELP = "compare two runs metric by metric; exit 1 when one regressed beyond a factor"

#: How the exit code counts, for --help.
STRICT_HELP = (
    f"also fail on untested metrics (fewer than {MIN_ROUNDS} rounds on a side) whose ratio is "
    "beyond the "
    "threshold; without it they are listed and counted, but only tested and exact metrics "
    "set the exit code"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("baseline", metavar="BASELINE_RUN", type=Path, help="results/<run-id>/")
    parser.add_argument("new", metavar="NEW_RUN", type=Path, help="results/<run-id>/")
    parser.add_argument(
        "--fail-on-regression",
        metavar="FACTOR",
        type=float,
        default=1.10,
        help="a metric regressed when it is worse by more than this factor (default: "
        "%(default)s, i.e. 10 %%) and, for timings, significantly so (Welch's t on per-round "
        "medians, Holm-corrected); timings' thresholds are widened by a significant host "
        "drift that the runs' host probes measured",
    )
    parser.add_argument(
        "--pair-python",
        metavar="OLD:NEW",
        default=None,
        help="compare Python OLD in the baseline with Python NEW in the new run, e.g. 3.13:3.14",
    )
    parser.add_argument("--strict", action="store_true", help=STRICT_HELP)
    parser.add_argument(
        "--no-noise-floor",
        dest="noise_floor",
        action="store_false",
        help="judge timings by the factor alone, not raised to this host's between-run noise "
        "that its newest `basebench validate` run (in the new run's results folder) measured",
    )


def run(args: argparse.Namespace) -> int:
    check_factor(args.fail_on_regression)  # before reading either run
    comparison = compare_runs(
        args.baseline,
        args.new,
        factor=args.fail_on_regression,
        pair_python=parse_pair(args.pair_python),
        strict=args.strict,
        noise_floor=args.noise_floor,
    )
    markdown = comparison_markdown(comparison)
    md_path = write_comparison(comparison, markdown, Path(args.new) / "report")
    for warning in comparison.warnings:
        print(f"basebench compare: warning: {warning}", file=sys.stderr)
    print(markdown)
    print(f"Comparison: {md_path}")
    # The page's first line and the exit code come from the same Comparison.exit_code.
    print(f"basebench compare: {verdict_line(comparison)}", file=sys.stderr)
    return comparison.exit_code


def write_comparison(comparison: Comparison, markdown: str, report_dir: Path) -> Path:
    """compare-<baseline-id>.{png,svg,md} next to the new run's report; the .md path."""
    # Named after the baseline: one new run can be compared with several baselines.
    stem = f"compare-{comparison.baseline_id}"
    comparison_chart(comparison, report_dir, stem)
    return atomic_write_bytes(report_dir / f"{stem}.md", markdown.encode("utf-8"), overwrite=True)
