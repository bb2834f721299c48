"""``basebench report RUN [RUN...]``: the wiki page (Markdown + HTML), charts and data.csv."""

from __future__ import annotations

import argparse
from pathlib import Path

from basebench.report import make_report
from basebench.report.doc import markdown_table

HELP = "write report.md, report.html, PNG+SVG charts, data.csv and ratios.csv for one or more runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs",
        metavar="RUN",
        nargs="+",
        type=Path,
        help="a results/<run-id>/ folder; with several, the report goes into the last one",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        default=None,
        help="folder to write into (default: <last RUN>/report/)",
    )


def run(args: argparse.Namespace) -> int:
    result = make_report(list(args.runs), args.output)
    print(markdown_table(result.summary))
    print()
    print(f"Report: {result.markdown}")
    print(f"        {result.html}")
    return 0
