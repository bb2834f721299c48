"""A :class:`~basebench.report.compare.Comparison` in words: the compare-<id>.md page."""

from __future__ import annotations

import math
from collections.abc import Sequence

from basebench.report.compare import (
    IMPROVED,
    REGRESSED,
    Comparison,
    HostDrift,
    MetricComparison,
    drift_for,
)
from basebench.report.doc import Table, markdown_table
from basebench.report.fmt import quantity
from basebench.report.stats import ALPHA, MIN_ROUNDS, bigger_is_better
from basebench.results import CONTAINER_PROBE_METRIC


def _n_text(row: MetricComparison) -> str:
    text = f"{row.rounds[0]} vs {row.rounds[1]}"
    if row.values[0] > row.rounds[0] or row.values[1] > row.rounds[1]:
        text += f" ({row.values[0]} vs {row.values[1]} values)"
    return text


def _p_cells(row: MetricComparison) -> list[str]:
    if row.exact:
        return ["exact", "exact"]
    if not row.tested:
        return [f"untested (n = {min(row.rounds)})", "–"]
    return [f"{row.p_value:.3g}", f"{row.p_adjusted:.3g}"]


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
                _n_text(r),
                quantity(r.baseline_median, r.unit),
                quantity(r.new_median, r.unit),
                "∞" if math.isinf(r.worse_ratio) else f"{r.worse_ratio:.3f}",
                _threshold_text(r),
                *_p_cells(r),
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
            "n (rounds)",
            "Baseline",
            "New",
            "Worse ratio",
            "Threshold",
            "p (Welch)",
            "p (Holm)",
        ],
        body,
        align=["l"] * 7 + ["r"] * 7,
        caption="n = rounds (baseline vs new): container rounds for runtime, else "
        "repetitions. Baseline and new = median of the round medians. Worse ratio = new / "
        "baseline (baseline / new for bigger-is-better metrics): above 1 is worse. Threshold "
        "= the factor, widened by a significant host drift in the direction that could fake "
        "the change (regression threshold, then improvement threshold where they differ). "
        "p (Welch) = Welch's t-test on log per-round medians; p (Holm) = adjusted over the "
        f"tested metrics. 'untested' = fewer than {MIN_ROUNDS} rounds on a side: never a "
        "regression. 'exact' = not a sample of a noisy process (sizes, counts, failures): "
        "decided by the factor alone. 'within host drift' = significantly beyond the factor, "
        "but no further than the host itself drifted between the runs.",
    )


def _threshold_text(row: MetricComparison) -> str:
    text = f"{row.threshold:.3f}"
    if not math.isnan(row.improve_threshold) and row.improve_threshold != row.threshold:
        text += f" / {row.improve_threshold:.3f}"
    return text


def drift_lines(comparison: Comparison) -> list[str]:
    """What the host probes say, in words, and which drift was applied to what."""
    if not comparison.drifts:
        return [
            "Host drift: unknown (a run has no host probes), so timings are held to the plain "
            f"{comparison.factor:.2f}× factor; a busier host can look like a regression."
        ]
    lines = [
        "Host drift (new / baseline median time of the host probes; Mann-Whitney on the "
        f"probe timings, applied only when p < {ALPHA}):"
    ]
    lines += [f"- {d.describe()}" for d in comparison.drifts]
    lines += ["", "Applied to:"]
    lines += [f"- {line}" for line in _applied_lines(comparison)]
    return lines


def _applied_lines(comparison: Comparison) -> list[str]:
    """Per group of compared timings: the drift it was judged against and what it did."""
    # Every timing of a group is judged against the same probe: one line per group.
    by_group: dict[str, HostDrift | None] = {}
    for row in comparison.rows:
        if not row.exact and row.group not in by_group:
            by_group[row.group] = drift_for(row.group, row.unit, comparison.drifts)
    lines = []
    factor = comparison.factor
    for group, drift in by_group.items():
        if drift is None:
            lines.append(f"{group} timings: no probe for this group; the plain factor")
            continue
        where = "its own probes" if drift.group else "the whole run's probes"
        what = "container-start" if drift.probe == CONTAINER_PROBE_METRIC else "CPU"
        if drift.slower > 1.0:
            effect = f"regression threshold {factor:.2f}× → {factor * drift.slower:.2f}×"
        elif drift.faster > 1.0:
            effect = f"improvement threshold {factor:.2f}× → {factor * drift.faster:.2f}×"
        else:
            effect = f"not significant (p = {drift.p_value:.2g}): the plain factor"
        lines.append(f"{group} timings: {what} probe drift ({where}), {effect}")
    exact = sorted({r.group for r in comparison.rows if r.exact})
    if exact:
        lines.append(
            f"exact metrics ({', '.join(exact)}: sizes, counts, failures...): no drift, "
            "the factor alone"
        )
    return lines


def summary_lines(comparison: Comparison) -> list[str]:
    """The counts at the top of the page: regressions, what was tested, what could not be."""
    c = comparison

    def counts(rows: Sequence[MetricComparison]) -> str:
        regressed = sum(r.status == REGRESSED for r in rows)
        improved = sum(r.status == IMPROVED for r in rows)
        return f"{regressed} regressed, {improved} improved"

    counted = "counted by --strict" if c.strict else "not counted without --strict"
    return [
        f"{len(c.regressions)} regression(s) beyond {c.factor:.2f}× among {len(c.rows)} "
        f"compared metrics{' (--strict)' if c.strict else ''}:",
        "",
        f"- {len(c.tested)} tested: Welch's t-test on log per-round medians, significant at "
        f"Holm-adjusted p < {ALPHA} ({counts(c.tested)})",
        f"- {len(c.exact)} exact (sizes, counts, failures: not samples of a noisy process), "
        f"decided by the factor alone ({counts(c.exact)})",
        f"- {len(c.untested)} untested: fewer than {MIN_ROUNDS} rounds on a side, never a "
        f"regression; {len(c.untested_beyond)} of them beyond the threshold, {counted}",
        "",
        f"Correction: Holm over the {len(c.tested)} tested metrics, so that the chance of even "
        f"one false regression or improvement among them stays below {ALPHA}.",
    ]


def comparison_markdown(comparison: Comparison) -> str:
    lines = [
        f"## basebench compare: {comparison.baseline_id} → {comparison.new_id}",
        "",
        *summary_lines(comparison),
    ]
    if comparison.only_baseline or comparison.only_new:
        lines.append("")
        lines.append(
            f"{comparison.only_baseline} metric(s) only in the baseline and "
            f"{comparison.only_new} only in the new run were not compared."
        )
    lines += ["", *drift_lines(comparison)]
    lines += ["", markdown_table(comparison_table(comparison.rows))]
    return "\n".join(lines) + "\n"
