"""Compare two runs metric by metric, like ``asv compare``: significant AND beyond a factor.

A metric regressed only when both hold: the Mann-Whitney U test says the two sample sets
differ (p < 0.05; needs >= 3 samples per side) and the ratio of medians is beyond the factor.
The factor alone would flag noise; the test alone would flag 0.5 % changes nobody cares about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from basebench.errors import UserError
from basebench.report.doc import Table, markdown_table
from basebench.report.fmt import quantity
from basebench.report.frame import check_run_dirs, normalise
from basebench.report.stats import ALPHA, bigger_is_better, mann_whitney_p
from basebench.report.style import STYLE, PlotStyle, new_figure, savefig, styled
from basebench.results import load_runs, read_run_meta

KEY = ("group", "benchmark", "variant", "python", "strategy", "allocator", "metric")

REGRESSED = "regressed"
IMPROVED = "improved"
NOT_SIGNIFICANT = "n.s."
UNCHANGED = "unchanged"
#: Regressions first, then what got better, then noise.
STATUS_ORDER = {REGRESSED: 0, IMPROVED: 1, NOT_SIGNIFICANT: 2, UNCHANGED: 3}
#: Ratios drawn beyond this are clamped and labelled with their value.
CLAMP = 4.0
RATIO_TICKS = (0.25, 0.33, 0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0)


@dataclass(frozen=True)
class MetricComparison:
    group: str
    benchmark: str
    variant: str
    python: str
    strategy: str
    allocator: str
    metric: str
    unit: str
    baseline_median: float
    new_median: float
    #: new/baseline, inverted for bigger-is-better metrics: > 1 always means "worse".
    worse_ratio: float
    p_value: float
    tested: bool
    status: str

    @property
    def label(self) -> str:
        parts = [self.group, self.benchmark, f"{self.python}-{self.variant}"]
        # Build rows repeat the strategy in benchmark; say it once.
        parts += [p for p in (self.strategy, self.allocator) if p and p != self.benchmark]
        return " · ".join(parts) + f" · {self.metric}"


@dataclass(frozen=True)
class Comparison:
    baseline_id: str
    new_id: str
    factor: float
    rows: list[MetricComparison]
    only_baseline: int
    only_new: int
    warnings: list[str]

    @property
    def regressions(self) -> list[MetricComparison]:
        return [r for r in self.rows if r.status == REGRESSED]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0


def parse_pair(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    old, sep, new = text.partition(":")
    if not sep or not old or not new:
        raise UserError(f"--pair-python expects OLD:NEW such as 3.13:3.14, got {text!r}")
    return old.strip(), new.strip()


def _worse_ratio(metric: str, base: float, new: float) -> float:
    if bigger_is_better(metric):
        base, new = new, base
    if base == new:
        return 1.0
    if base == 0:
        # From zero to something (e.g. failed 0 -> 1): infinitely worse, or better.
        return math.inf if new > 0 else 0.0
    return new / base


def decide(ratio: float, p_value: float, tested: bool, factor: float) -> str:
    beyond_worse = ratio > factor
    beyond_better = ratio < 1.0 / factor
    significant = (not tested) or p_value < ALPHA
    if beyond_worse and significant:
        return REGRESSED
    if beyond_better and significant:
        return IMPROVED
    if beyond_worse or beyond_better:
        return NOT_SIGNIFICANT
    return UNCHANGED


def _split_series(frame: pd.DataFrame) -> pd.DataFrame:
    """Where ``detail`` tells apart several series of one metric (per-layer sizes of the OS
    and Python layers, say), make it part of the metric's name so each is compared with its
    own counterpart; where it is just a note on a single series (a wheel tag), leave it."""
    keys = [k for k in KEY if k != "metric"] + ["metric", "run"]
    varies = frame.groupby(keys)["detail"].transform("nunique") > 1
    out = frame.copy()
    out.loc[varies, "metric"] = [
        f"{metric} [{detail[:40]}]"
        for metric, detail in zip(out.loc[varies, "metric"], out.loc[varies, "detail"], strict=True)
    ]
    return out


def compare_frames(
    baseline: pd.DataFrame,
    new: pd.DataFrame,
    *,
    factor: float = 1.10,
    pair_python: tuple[str, str] | None = None,
) -> tuple[list[MetricComparison], int, int]:
    """Line up identical keys in both frames and decide each; returns (rows, only_b, only_n)."""
    if factor < 1.0:
        raise UserError(f"--fail-on-regression must be >= 1.0 (a ratio), got {factor}")
    base = normalise(baseline)
    fresh = normalise(new)
    if pair_python is not None:
        old, new_py = pair_python
        if old not in set(base["python"].tolist()):
            raise UserError(f"--pair-python: the baseline run has no Python {old}")
        if new_py not in set(fresh["python"].tolist()):
            raise UserError(f"--pair-python: the new run has no Python {new_py}")
        # Relabel the baseline's OLD as NEW so that "3.13 then" lines up with "3.14 now".
        base = base[base["python"] == old].copy()
        base["python"] = new_py
        fresh = fresh[fresh["python"] == new_py]
    base, fresh = _split_series(base), _split_series(fresh)
    base_groups = {tuple(str(x) for x in k): g for k, g in base.groupby(list(KEY), sort=True)}
    new_groups = {tuple(str(x) for x in k): g for k, g in fresh.groupby(list(KEY), sort=True)}
    rows = []
    for key in sorted(set(base_groups) & set(new_groups)):
        b_vals = base_groups[key]["value"].to_numpy(dtype=np.float64)
        n_vals = new_groups[key]["value"].to_numpy(dtype=np.float64)
        b_vals, n_vals = b_vals[np.isfinite(b_vals)], n_vals[np.isfinite(n_vals)]
        if not b_vals.size or not n_vals.size:
            continue
        b_med, n_med = float(np.median(b_vals)), float(np.median(n_vals))
        metric = key[KEY.index("metric")]
        ratio = _worse_ratio(metric, b_med, n_med)
        p_value = mann_whitney_p(b_vals, n_vals)
        tested = not math.isnan(p_value)
        group, benchmark, variant, python, strategy, allocator, _ = key
        rows.append(
            MetricComparison(
                group=group,
                benchmark=benchmark,
                variant=variant,
                python=python,
                strategy=strategy,
                allocator=allocator,
                metric=metric,
                unit=str(new_groups[key]["unit"].iloc[0]),
                baseline_median=b_med,
                new_median=n_med,
                worse_ratio=ratio,
                p_value=p_value,
                tested=tested,
                status=decide(ratio, p_value, tested, factor),
            )
        )
    rows.sort(key=lambda r: (STATUS_ORDER[r.status], -_finite(r.worse_ratio), r.label))
    only_b = len(set(base_groups) - set(new_groups))
    only_n = len(set(new_groups) - set(base_groups))
    return rows, only_b, only_n


def _finite(x: float) -> float:
    return 1e300 if math.isinf(x) and x > 0 else x


def condition_warnings(base_meta: Mapping[str, Any], new_meta: Mapping[str, Any]) -> list[str]:
    """Differences that make absolute comparisons doubtful (allowed, but said out loud)."""
    warnings = []
    b_host, n_host = base_meta.get("host") or {}, new_meta.get("host") or {}
    for field_name in ("cpu_model", "kernel"):
        b, n = b_host.get(field_name), n_host.get(field_name)
        if b != n:
            warnings.append(
                f"the runs come from different hosts ({field_name}: {b!r} vs {n!r}); "
                "timings are not directly comparable"
            )
    b_src, n_src = base_meta.get("base_source"), new_meta.get("base_source")
    if b_src != n_src:
        warnings.append(
            f"the runs use different base image sources ({b_src!r} vs {n_src!r}); "
            "sizes and CPython builds differ between them"
        )
    return warnings


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
            "p (Mann-Whitney)",
        ],
        body,
        align=["l"] * 7 + ["r"] * 4,
        caption="worse ratio = new / baseline median (baseline / new for bigger-is-better "
        "metrics): above 1 is worse. 'no test' = fewer than 3 samples on a side, decided by "
        "the factor alone.",
    )


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
    lines += ["", markdown_table(comparison_table(comparison.rows))]
    return "\n".join(lines) + "\n"


def comparison_chart(
    comparison: Comparison, out: Path, stem: str, style: PlotStyle = STYLE, limit: int = 30
) -> list[Path]:
    """Worse-ratio per metric on a log axis; the most changed ``limit`` metrics are shown."""
    rows = sorted(
        comparison.rows, key=lambda r: -abs(math.log(max(min(r.worse_ratio, 1e6), 1e-6)))
    )[:limit]
    rows.sort(key=lambda r: (STATUS_ORDER[r.status], -_finite(r.worse_ratio)))
    colours = {
        REGRESSED: "#D55E00",
        IMPROVED: "#009E73",
        NOT_SIGNIFICANT: style.not_significant_color,
        UNCHANGED: "#0072B2",
    }
    with styled(style):
        fig, axes = new_figure(style.height_for_rows(max(len(rows), 1), extra=1.8), style=style)
        ax = axes[0][0]
        if not rows:
            ax.text(
                0.5, 0.5, "no metric in common", ha="center", va="center", transform=ax.transAxes
            )
        # A new failure is an infinite ratio and huge ratios squash the rest: draw finite
        # ratios to scale up to CLAMP and pin anything beyond to the edge, labelled.
        finite = [r.worse_ratio for r in rows if 0 < r.worse_ratio < math.inf]
        high = min(max([*finite, comparison.factor]), CLAMP) * 1.08
        low = max(min([*finite, 1.0 / comparison.factor]), 1.0 / CLAMP) / 1.08
        for y, r in enumerate(rows):
            ratio = min(max(r.worse_ratio, low), high)
            ax.plot([1.0, ratio], [y, y], color=colours[r.status], linewidth=2)
            ax.plot(
                ratio,
                y,
                "o",
                color=colours[r.status],
                markerfacecolor=colours[r.status] if r.tested else "white",
                clip_on=False,
            )
            if ratio != r.worse_ratio:
                ax.annotate(
                    "∞" if math.isinf(r.worse_ratio) else f"{r.worse_ratio:.3g}×",
                    (ratio, y),
                    xytext=(-8 if ratio >= 1 else 8, 6),
                    textcoords="offset points",
                    ha="right" if ratio >= 1 else "left",
                    va="bottom",
                    fontsize=style.font_size - 1,
                )
        ax.axvline(1.0, color=style.reference_color, linewidth=1)
        for x in (comparison.factor, 1.0 / comparison.factor):
            ax.axvline(x, color=colours[REGRESSED], linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        ax.set_xlim(low, high)
        # Plain "1.1×" ticks ("10^0" says nothing to a reader), thinned so they never collide.
        ticks: list[float] = []
        min_gap = math.log(high / low) / 7
        for tick in sorted({*RATIO_TICKS, comparison.factor, 1.0 / comparison.factor}):
            if low <= tick <= high and (not ticks or math.log(tick / ticks[-1]) >= min_gap):
                ticks.append(tick)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}×"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_yticks(range(len(rows)), [r.label for r in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        # Long text goes in the figure-wide label: the axes are narrow beside long names.
        fig.supxlabel(
            f"new / baseline median, >1 = worse (inverted for bigger-is-better metrics); "
            f"dashed = {comparison.factor:g}× threshold",
            fontsize=style.font_size,
        )
        fig.suptitle(
            f"{comparison.new_id} vs {comparison.baseline_id}"
            + (f" (the {len(rows)} largest changes)" if len(comparison.rows) > len(rows) else "")
        )
        ax.grid(axis="y", visible=False)
        handles = [
            ax.plot([], [], "o", color=c, label=s)[0]
            for s, c in colours.items()
            if any(r.status == s for r in rows)
        ]
        if handles:
            handles.append(
                ax.plot([], [], "o", color="#555555", markerfacecolor="white", label="no test")[0]
            )
            # Above the axes (constrained layout makes room for it); the bottom holds the
            # figure-wide axis label.
            ax.legend(
                handles=handles,
                loc="lower left",
                bbox_to_anchor=(0.0, 1.0),
                ncols=len(handles),
                frameon=False,
            )
        return savefig(fig, out, stem, style)


def _run_id(meta: Mapping[str, Any], run_dir: Path) -> str:
    return str(meta.get("run_id") or run_dir.name)


def compare_runs(
    baseline_dir: Path,
    new_dir: Path,
    *,
    factor: float = 1.10,
    pair_python: tuple[str, str] | None = None,
    style: PlotStyle = STYLE,
) -> tuple[Comparison, Path]:
    """Compare two run folders; write compare-<baseline-id>.{md,png,svg} into new/report/.

    Returns the comparison and the Markdown path. ``comparison.exit_code`` is what the CLI
    returns: 1 when any metric regressed beyond ``factor``.
    """
    base_dir, new_dir = check_run_dirs([baseline_dir, new_dir])
    # Through the module so that tests (and previews) can substitute the loaders.
    base_meta, new_meta = read_run_meta(base_dir), read_run_meta(new_dir)
    base_frame, new_frame = load_runs([base_dir]), load_runs([new_dir])
    rows, only_b, only_n = compare_frames(
        base_frame, new_frame, factor=factor, pair_python=pair_python
    )
    comparison = Comparison(
        baseline_id=_run_id(base_meta, base_dir),
        new_id=_run_id(new_meta, new_dir),
        factor=factor,
        rows=rows,
        only_baseline=only_b,
        only_new=only_n,
        warnings=condition_warnings(base_meta, new_meta),
    )
    out = new_dir / "report"
    stem = f"compare-{comparison.baseline_id}"
    comparison_chart(comparison, out, stem, style)
    md_path = out / f"{stem}.md"
    md_path.write_text(comparison_markdown(comparison), encoding="utf-8")
    return comparison, md_path
