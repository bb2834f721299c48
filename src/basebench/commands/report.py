"""``basebench report RUN [RUN...]``: the wiki page (Markdown + HTML), charts and data.csv."""

from __future__ import annotations

import argparse
from pathlib import Path

from basebench.config import PREFERENCES
from basebench.report import make_report
from basebench.report.doc import markdown_table
from basebench.report.history import write_history
from basebench.report.wiki import write_wiki

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
    parser.add_argument(
        "--wiki",
        type=Path,
        default=None,
        metavar="DIR",
        help="write a wiki folder instead: a page per run, Home.md, History.md, images beside "
        "them (relative links: push it to a GitHub or GitLab wiki as it is)",
    )
    parser.add_argument(
        "--prefer",
        choices=PREFERENCES,
        default=None,
        help="the recommendation's rule (default: the run's configured one, else balanced)",
    )


def run(args: argparse.Namespace) -> int:
    if args.wiki is not None:
        wiki = write_wiki(list(args.runs), args.wiki, prefer=args.prefer)
        print(f"Wiki: {wiki.home} ({len(wiki.pages)} pages beside it)")
        return 0
    result = make_report(list(args.runs), args.output, prefer=args.prefer)
    history = write_history(list(args.runs), result.report_dir)
    print(markdown_table(result.summary))
    print()
    print(f"Report: {result.markdown}")
    print(f"        {result.html}")
    if history is not None:
        print(f"History: {history.markdown}")
    return 0
