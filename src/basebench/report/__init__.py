"""Reports and comparisons of basebench runs: report.md/.html, charts, data.csv, compare.

Public entry points (what ``basebench report``/``compare`` and ``tox -e bench`` call):

- :func:`make_report` (run folders -> report folder; returns its paths and summary table)
- :func:`render_report` (a results frame + run metadata -> report folder; no run folders needed)
- :func:`compare_runs` (two run folders -> :class:`Comparison`, nothing written)
- :func:`compare_frames` (two results frames -> per-metric decisions)
- :func:`comparison_markdown` and :func:`comparison_chart` (a :class:`Comparison` -> the
  compare page and its chart)

Layout: ``build`` assembles the report from the sections in ``sections`` (one per measurement
group, named by :mod:`basebench.groups`), drawn by ``charts``; ``compare`` decides a
comparison and ``compare_doc`` words it. None of it needs Docker.
"""

from basebench.report.build import ReportResult, make_report, render_report
from basebench.report.charts import comparison_chart
from basebench.report.compare import Comparison, compare_frames, compare_runs
from basebench.report.compare_doc import comparison_markdown
from basebench.report.style import STYLE, PlotStyle

__all__ = [
    "STYLE",
    "Comparison",
    "PlotStyle",
    "ReportResult",
    "compare_frames",
    "compare_runs",
    "comparison_chart",
    "comparison_markdown",
    "make_report",
    "render_report",
]
