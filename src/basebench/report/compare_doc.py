"""A :class:`~basebench.report.compare.Comparison` in words: the compare-<id>.md page."""

from __future__ import annotations

import math
from collections.abc import Sequence

from basebench.report.compare import (
    IMPROVED,
    NOT_RECORDED,
    NOT_SIGNIFICANT,
    REGRESSED,
    UNCHANGED,
    UNTESTED,
    WITHIN_DRIFT,
    Comparison,
    MetricComparison,
    drift_for,
    is_timing,
    probe_for,
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


#: What every compare table's columns mean; said once, under the last table of the page.
TABLE_NOTE = (
    "n = rounds (baseline vs new): container rounds for runtime, else repetitions. Baseline "
    "and new = median of the round medians. Worse ratio = new / baseline (baseline / new for "
    "bigger-is-better metrics): above 1 is worse. Threshold = the worse ratio beyond which the "
    "metric counts as regressed (then, where it differs, the one below whose inverse it counts "
    "as improved): the factor, widened by a significant host drift in the direction that could "
    "fake the change. p (Welch) = Welch's t-test on log per-round medians; p (Holm) = adjusted "
    f"over the tested metrics. 'untested' = fewer than {MIN_ROUNDS} rounds on a side: never a "
    "regression. 'exact' = not a sample of a noisy process (sizes, counts, failures): decided "
    "by the factor alone. 'within host drift' = significantly beyond the factor, but no "
    "further than the host itself drifted between the runs."
)


def comparison_table(rows: Sequence[MetricComparison], caption: str = "") -> Table:
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
        caption=caption,
    )


def _threshold_text(row: MetricComparison) -> str:
    text = f"{row.threshold:.3f}"
    if not math.isnan(row.improve_threshold) and row.improve_threshold != row.threshold:
        text += f" / {row.improve_threshold:.3f}"
    return text


def drift_lines(comparison: Comparison) -> list[str]:
    """What the host probes say, in words (the thresholds they set are in the summary)."""
    if not comparison.drifts:
        return [
            "Unknown: a run has no host probes, so timings are held to the plain "
            f"{comparison.factor:.2f}× factor; a busier host can look like a regression."
        ]
    lines = [
        "New / baseline median time of the host probes (Mann-Whitney on the probe timings, "
        f"applied to the thresholds only when p < {ALPHA}):",
        "",
    ]
    return lines + [f"- {d.describe()}" for d in comparison.drifts]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def verdict_line(comparison: Comparison) -> str:
    """The page's first line, from the exit code the command returns: PASS or FAIL."""
    c = comparison
    if c.exit_code == 0:
        return f"PASS (exit 0): 0 regressions among {len(c.rows)} compared metrics"
    text = f"FAIL (exit {c.exit_code}): {_plural(len(c.regressions), 'regression')}"
    if c.strict and c.untested_beyond:
        text += f" and {len(c.untested_beyond)} untested beyond the threshold (--strict)"
    return text


def threshold_lines(comparison: Comparison) -> list[str]:
    """The thresholds really used, per kind of metric: the factor, or the factor widened by
    the host drift that bears on that kind (never a single number for the whole page)."""
    kinds: dict[str, list[MetricComparison]] = {}
    for row in comparison.rows:
        if row.exact:
            kind = "exact metrics (sizes, counts, failures)"
        elif is_timing(row.unit):
            kind = f"{row.group} timings"
        else:
            kind = f"{row.group} {row.metric} (sampled, no host probe)"
        kinds.setdefault(kind, []).append(row)
    return [f"{kind}: {_kind_thresholds(rows, comparison)}" for kind, rows in kinds.items()]


def _kind_thresholds(rows: Sequence[MetricComparison], comparison: Comparison) -> str:
    regress = sorted({r.threshold for r in rows})
    improve = sorted({r.improve_threshold for r in rows if not math.isnan(r.improve_threshold)})
    text = "regressed above " + " or ".join(f"{t:.2f}×" for t in regress)
    if improve:
        text += ", improved below " + " or ".join(f"{1.0 / t:.2f}×" for t in improve)
    first = rows[0]
    drift = None if first.exact else drift_for(first.group, first.unit, comparison.drifts)
    factor = comparison.factor
    if first.exact:
        return text + f" (the {factor:.2f}× factor alone)"
    if drift is None and probe_for(first.group, first.unit) is None:
        return text + f" (the {factor:.2f}× factor: no host probe measures this kind of value)"
    if drift is None:
        return text + f" (the {factor:.2f}× factor: a run has no host probes to widen it by)"
    what = "container-start" if drift.probe == CONTAINER_PROBE_METRIC else "CPU"
    where = "its own probes" if drift.group else "the whole run's probes"
    if drift.slower > 1.0 or drift.faster > 1.0:
        return text + (
            f" (the {factor:.2f}× factor widened by the {what} probe's significant drift, "
            f"{drift.ratio:.2f}× from {where})"
        )
    return text + (
        f" (the {factor:.2f}× factor: the {what} probe's drift, {drift.ratio:.2f}× from "
        f"{where}, is not significant, p = {drift.p_value:.2g})"
    )


def summary_lines(comparison: Comparison) -> list[str]:
    """The counts at the top of the page: regressions, what was tested, what could not be."""
    c = comparison

    def counts(rows: Sequence[MetricComparison]) -> str:
        regressed = sum(r.status == REGRESSED for r in rows)
        improved = sum(r.status == IMPROVED for r in rows)
        return f"{regressed} regressed, {improved} improved"

    counted = "counted by --strict" if c.strict else "not counted without --strict"
    return [
        f"{_plural(len(c.regressions), 'regression')} among {len(c.rows)} compared metrics"
        f"{' (--strict)' if c.strict else ''}:",
        "",
        f"- {len(c.tested)} tested: Welch's t-test on log per-round medians, significant at "
        f"Holm-adjusted p < {ALPHA} ({counts(c.tested)})",
        f"- {len(c.exact)} exact (sizes, counts, failures: not samples of a noisy process), "
        f"decided by the factor alone ({counts(c.exact)})",
        f"- {len(c.untested)} untested: fewer than {MIN_ROUNDS} rounds on a side, never a "
        f"regression; {len(c.untested_beyond)} of them beyond the threshold, {counted}",
        "",
        "Thresholds of the worse ratio (significant and beyond it: regressed):",
        "",
        *[f"- {line}" for line in threshold_lines(c)],
        "",
        f"Correction: Holm over the {len(c.tested)} tested metrics, so that the chance of even "
        f"one false regression or improvement among them stays below {ALPHA}.",
    ]


#: Settings named on the page even when both runs agree: what a reader checks first.
KEY_SETTINGS = (
    "cpus",
    "cpuset",
    "memory",
    "profile",
    "Python",
    "opt level",
    "base source",
    "host CPU model",
)


def settings_lines(comparison: Comparison) -> list[str]:
    """What differs between the two runs' configurations (``name old -> new``), then what
    does not."""
    changed = comparison.changed_settings
    if changed:
        lines = ["What differs between the two runs (baseline -> new), from their run.json:", ""]
        lines += [f"- {s.name} {s.baseline} -> {s.new}" for s in changed]
    else:
        lines = ["The two runs' configurations, hosts and base images are the same."]
    same = [s for s in comparison.settings if not s.changed and s.baseline != NOT_RECORDED]
    key = [s for s in same if s.name in KEY_SETTINGS]
    if key:
        rest = len(same) - len(key)
        lines += [
            "",
            "Same in both: "
            + "; ".join(f"{s.name} {s.baseline}" for s in key)
            + (f"; and {_plural(rest, 'other setting')} (image IDs among them)" if rest else ""),
        ]
    return lines


def _rows_section(title: str, rows: Sequence[MetricComparison], note: str = "") -> list[str]:
    if not rows:
        return []
    lines = [f"## {title} ({len(rows)})", ""]
    if note:
        lines += [note, ""]
    return [*lines, markdown_table(comparison_table(rows)), ""]


def _folded(title: str, summary: str, rows: Sequence[MetricComparison]) -> list[str]:
    """A section whose table is folded: GitHub and GitLab render <details> in Markdown (the
    blank lines around the table let them parse it as Markdown)."""
    if not rows:
        return []
    return [
        f"## {title} ({len(rows)})",
        "",
        "<details>",
        f"<summary>{summary}</summary>",
        "",
        markdown_table(comparison_table(rows)),
        "",
        "</details>",
        "",
    ]


def comparison_markdown(comparison: Comparison) -> str:
    """The page: the verdict first, then counts and thresholds, warnings, what differs between
    the runs, host drift, and the rows by what was decided (unchanged ones folded)."""
    c = comparison
    lines = [
        f"# {verdict_line(c)}",
        "",
        f"`basebench compare` of `{c.baseline_id}` (baseline) → `{c.new_id}` (new), factor "
        f"{c.factor:.2f}{', --strict' if c.strict else ''}: exit code {c.exit_code}.",
        "",
        "## Summary",
        "",
        *summary_lines(c),
    ]
    if c.only_baseline or c.only_new:
        lines += [
            "",
            f"{c.only_baseline} metric(s) only in the baseline and {c.only_new} only in the new "
            "run were not compared.",
        ]
    if c.warnings:
        lines += ["", "## Warnings", "", *[f"- {w}" for w in c.warnings]]
    lines += ["", "## Configuration", "", *settings_lines(c)]
    lines += ["", "## Host drift", "", *drift_lines(c), ""]
    decided = [r for r in c.rows if r.status in (REGRESSED, IMPROVED, WITHIN_DRIFT)]
    if decided:
        lines += _rows_section("Changes", decided)
    else:
        lines += ["## Changes (0)", "", "_No metric changed beyond its threshold._", ""]
    lines += _rows_section(
        "Not significant",
        [r for r in c.rows if r.status == NOT_SIGNIFICANT],
        "Beyond the factor, but the test does not tell the runs apart after Holm's correction.",
    )
    untested = [r for r in c.rows if r.status == UNTESTED]
    lines += _rows_section(
        "Untested, beyond the threshold",
        [r for r in untested if r.beyond_threshold],
        f"Fewer than {MIN_ROUNDS} rounds on a side: nothing can be said, and "
        + ("--strict counts these." if c.strict else "the exit code does not count them."),
    )
    within = [r for r in untested if not r.beyond_threshold]
    lines += _folded(
        "Untested, within the threshold",
        f"{_plural(len(within), 'untested metric')} within the threshold (show them)",
        within,
    )
    unchanged = [r for r in c.rows if r.status == UNCHANGED]
    lines += _folded(
        "Unchanged", f"{_plural(len(unchanged), 'metric')} within the factor (show them)", unchanged
    )
    lines += [f"_{TABLE_NOTE}_"]
    return "\n".join(lines) + "\n"
