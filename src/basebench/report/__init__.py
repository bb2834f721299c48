"""Reports and comparisons of basebench runs: report.md/.html, charts, data.csv, compare.

Public entry points (what ``basebench report``/``compare`` and ``tox -e bench`` call):

- :func:`write_report` (run folders -> report/report.md path)
- :func:`make_report` (same, returning paths and the summary table)
- :func:`render_report` (a results frame + run metadata -> report folder; no run folders needed)
- :func:`compare_runs` (two run folders -> :class:`Comparison` and its Markdown path)
- :func:`compare_frames` (two results frames -> per-metric decisions)
"""

from basebench.report.build import ReportResult, make_report, render_report, write_report
from basebench.report.compare import (
    Comparison,
    MetricComparison,
    compare_frames,
    compare_runs,
    comparison_markdown,
)
from basebench.report.style import STYLE, PlotStyle

__all__ = [
    "STYLE",
    "Comparison",
    "MetricComparison",
    "PlotStyle",
    "ReportResult",
    "compare_frames",
    "compare_runs",
    "comparison_markdown",
    "make_report",
    "render_report",
    "write_report",
]
