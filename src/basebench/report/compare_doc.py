"""A :class:`~basebench.report.compare.Comparison` in words: the compare-<id>.md page."""

from __future__ import annotations

import math
from collections.abc import Sequence

from basebench.report.compare import Comparison, MetricComparison
from basebench.report.doc import Table, markdown_table
from basebench.report.fmt import quantity
from basebench.report.stats import ALPHA, bigger_is_better


def comparison_table(rows: Sequence[MetricComparison]) -> Table:
    body = []
    for r in rows:
        arrow = " (bigger is better)" if bigger_is_better(r.metric) else ""
        body.append(
            [
                r.status,
                r.group,
                r.benchmark,
                f"{r.python}-{r.variant}" if r.python else r.variant,
                r.strategy or "–",
                r.allocator or "–",
                r.metric + arrow,
                quantity(r.baseline_median, r.unit),
                quantity(r.new_median, r.unit),
                "∞" if math.isinf(r.worse_ratio) else f"{r.worse_ratio:.3f}",
                f"{r.threshold:.3f}",
                f"{r.p_value:.3g}" if r.tested else "no test",
            ]
        )
    return Table(
        [
            "Status",
            "Group",
            "Benchmark",
            "Variant",
            "Strategy",
            "Allocator",
            "Metric",
            "Baseline",
            "New",
            "Worse ratio",
            "Threshold",
            "p (Mann-Whitney)",
        ],
        body,
        align=["l"] * 7 + ["r"] * 5,
        caption="worse ratio = new / baseline median (baseline / new for bigger-is-better "
        "metrics): above 1 is worse. Threshold = the factor, times the host drift for "
        "timings. 'within host drift' = significantly beyond the factor, but no further than "
        "the host itself drifted between the runs. 'no test' = fewer than 3 samples on a "
        "side, decided by the threshold alone.",
    )


def drift_lines(comparison: Comparison) -> list[str]:
    """What the host probes say, in words, for the top of the comparison."""
    if not comparison.drifts:
        return [
            "Host drift: unknown (a run has no host probes), so timings are held to the plain "
            f"{comparison.factor:.2f}× factor; a busier host can look like a regression."
        ]
    lines = [
        "Host drift (new / baseline median time of the host probes; timing thresholds "
        "are the factor times the largest drift):"
    ]
    lines += [f"- {d.describe()}" for d in comparison.drifts]
    return lines


def comparison_markdown(comparison: Comparison) -> str:
    lines = [
        f"## basebench compare: {comparison.baseline_id} → {comparison.new_id}",
        "",
        f"{len(comparison.regressions)} regression(s) beyond {comparison.factor:.2f}× "
        f"(significant at p < {ALPHA}) among {len(comparison.rows)} compared metrics.",
    ]
    if comparison.only_baseline or comparison.only_new:
        lines.append(
            f"{comparison.only_baseline} metric(s) only in the baseline and "
            f"{comparison.only_new} only in the new run were not compared."
        )
    lines += ["", *drift_lines(comparison)]
    lines += ["", markdown_table(comparison_table(comparison.rows))]
    return "\n".join(lines) + "\n"
