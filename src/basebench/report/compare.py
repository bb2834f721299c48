"""Compare two runs metric by metric, like ``asv compare``: significant AND beyond a factor.

A metric regressed only when both hold: the Mann-Whitney U test says the two sample sets
differ (p < 0.05; needs >= 3 samples per side) and the ratio of medians is beyond the
threshold. The factor alone would flag noise; the test alone would flag 0.5 % changes nobody
cares about.

The test only knows the spread *inside* each run. Between two runs on a shared machine the
host itself may have been busier, and then every timing moves together, significantly, with
no change in the images. Each run therefore carries host probes (see
:mod:`basebench.measure._host_probe`); for timings, the threshold is the factor times how much
faster or slower the host ran its probe while that group was measured. A quiet host keeps the
threshold at the factor; a host that was 20 % slower widens it to factor x 1.2, and the
comparison says so. Sizes and counts do not depend on the host and keep the plain factor.
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
from basebench.report.stats import ALPHA, MIN_SAMPLES, bigger_is_better, mann_whitney_p
from basebench.report.style import STYLE, PlotStyle, new_figure, savefig, styled
from basebench.results import (
    CONTAINER_PROBE_METRIC,
    HOST_PROBE_GROUP,
    PROBE_METRICS,
    load_runs,
    read_run_meta,
)

KEY = ("group", "benchmark", "variant", "python", "strategy", "allocator", "metric")

REGRESSED = "regressed"
IMPROVED = "improved"
NOT_SIGNIFICANT = "n.s."
WITHIN_DRIFT = "within host drift"
UNCHANGED = "unchanged"
#: Regressions first, then what got better, then noise.
STATUS_ORDER = {REGRESSED: 0, IMPROVED: 1, WITHIN_DRIFT: 2, NOT_SIGNIFICANT: 3, UNCHANGED: 4}
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
    #: The worse ratio beyond which this metric counts: the factor, times the host drift for
    #: timings.
    threshold: float

    @property
    def label(self) -> str:
        parts = [self.group, self.benchmark, f"{self.python}-{self.variant}"]
        # Build rows repeat the strategy in benchmark; say it once.
        parts += [p for p in (self.strategy, self.allocator) if p and p != self.benchmark]
        return " · ".join(parts) + f" · {self.metric}"


@dataclass(frozen=True)
class HostDrift:
    """How much slower (> 1) or faster (< 1) the host ran one probe in the new run."""

    group: str  # the group the probes were taken in; "" = all of the run's probes
    probe: str  # PROBE_METRIC (CPU) or CONTAINER_PROBE_METRIC (container start)
    ratio: float  # new / baseline median probe time
    p_value: float
    baseline_n: int
    new_n: int

    @property
    def allowance(self) -> float:
        # Applied whatever the p-value: widening by a drift that is only noise costs a
        # percent or two of sensitivity, while ignoring a real one fails CI for nothing.
        return max(self.ratio, 1.0 / self.ratio)

    def describe(self) -> str:
        where = f"while {self.group} ran" if self.group else "over the whole run"
        what = "container starts" if self.probe == CONTAINER_PROBE_METRIC else "the host's CPU"
        direction = "slower" if self.ratio >= 1.0 else "faster"
        p_text = f"p = {self.p_value:.2g}" if not math.isnan(self.p_value) else "no test"
        return (
            f"{where}, {what} ran {self.allowance:.2f}× {direction} (probe median "
            f"ratio {self.ratio:.3f}, {p_text}; {self.baseline_n} vs {self.new_n} timings)"
        )


#: Units whose values depend on how fast the host runs (so host drift widens the threshold).
HOST_SENSITIVE_UNITS = frozenset({"s", "ms", "us", "ns"})


def host_sensitive(unit: str) -> bool:
    return unit in HOST_SENSITIVE_UNITS or unit.endswith("/s")


def host_drifts(baseline: pd.DataFrame, new: pd.DataFrame) -> list[HostDrift]:
    """Per probe, for the whole run (group "") and per group: the ratio of median times.

    Empty when either run has no probes (runs from before basebench recorded them).
    """
    drifts = []
    for probe in PROBE_METRICS:
        base = baseline[(baseline["group"] == HOST_PROBE_GROUP) & (baseline["metric"] == probe)]
        fresh = new[(new["group"] == HOST_PROBE_GROUP) & (new["metric"] == probe)]
        if base.empty or fresh.empty:
            continue
        pairs = {"": (base, fresh)}
        # With probes from one group only, that group's drift is the whole run's: say it once.
        if len(set(base["benchmark"]) | set(fresh["benchmark"])) > 1:
            for group in sorted(set(base["benchmark"]) & set(fresh["benchmark"])):
                b_group = base[base["benchmark"] == group]
                pairs[group] = (b_group, fresh[fresh["benchmark"] == group])
        for group, (b, n) in pairs.items():
            b_vals = b["value"].to_numpy(dtype=np.float64)
            n_vals = n["value"].to_numpy(dtype=np.float64)
            # Too few probes (a group of one short step) say less than the whole run's.
            if group and min(b_vals.size, n_vals.size) < MIN_SAMPLES:
                continue
            b_med, n_med = float(np.median(b_vals)), float(np.median(n_vals))
            if b_med <= 0 or n_med <= 0:
                continue
            p_value = mann_whitney_p(b_vals, n_vals)
            drifts.append(HostDrift(group, probe, n_med / b_med, p_value, b_vals.size, n_vals.size))
    return drifts


def threshold_for(group: str, unit: str, factor: float, drifts: Sequence[HostDrift]) -> float:
    """The factor, widened for timings by the largest drift of any probe during ``group``
    (or over the whole run where the group has too few probes of that kind)."""
    if not host_sensitive(unit):
        return factor
    allowance = 1.0
    for probe in PROBE_METRICS:
        mine = {d.group: d for d in drifts if d.probe == probe}
        drift = mine.get(group) or mine.get("")
        if drift is not None:
            allowance = max(allowance, drift.allowance)
    return factor * allowance


@dataclass(frozen=True)
class Comparison:
    baseline_id: str
    new_id: str
    factor: float
    rows: list[MetricComparison]
    only_baseline: int
    only_new: int
    warnings: list[str]
    drifts: list[HostDrift]

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


def decide(
    ratio: float, p_value: float, tested: bool, threshold: float, factor: float | None = None
) -> str:
    """The status of one metric; ``threshold`` is ``factor`` widened by host drift (if any)."""
    factor = threshold if factor is None else factor
    significant = (not tested) or p_value < ALPHA
    if significant and ratio > threshold:
        return REGRESSED
    if significant and ratio < 1.0 / threshold:
        return IMPROVED
    beyond_factor = ratio > factor or ratio < 1.0 / factor
    if significant and beyond_factor:
        # A real change by the test, but no bigger than the host's own drift between the runs.
        return WITHIN_DRIFT
    if beyond_factor:
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
    drifts: Sequence[HostDrift] | None = None,
) -> tuple[list[MetricComparison], int, int]:
    """Line up identical keys in both frames and decide each; returns (rows, only_b, only_n).

    ``drifts`` defaults to what the frames' own host probes say (:func:`host_drifts`).
    """
    if factor < 1.0:
        raise UserError(f"--fail-on-regression must be >= 1.0 (a ratio), got {factor}")
    base = normalise(baseline)
    fresh = normalise(new)
    if drifts is None:
        drifts = host_drifts(base, fresh)
    # The probes describe the host, not the images: they set thresholds, they are not compared.
    base = base[base["group"] != HOST_PROBE_GROUP]
    fresh = fresh[fresh["group"] != HOST_PROBE_GROUP]
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
        unit = str(new_groups[key]["unit"].iloc[0])
        threshold = threshold_for(group, unit, factor, drifts)
        rows.append(
            MetricComparison(
                group=group,
                benchmark=benchmark,
                variant=variant,
                python=python,
                strategy=strategy,
                allocator=allocator,
                metric=metric,
                unit=unit,
                baseline_median=b_med,
                new_median=n_med,
                worse_ratio=ratio,
                p_value=p_value,
                tested=tested,
                status=decide(ratio, p_value, tested, threshold, factor),
                threshold=threshold,
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


#: Host drift beyond this is worth a warning on stderr (below it, it is only in the table).
DRIFT_WARNING = 1.05


def drift_warnings(drifts: Sequence[HostDrift], factor: float) -> list[str]:
    if not drifts:
        return [
            "a run has no host probes (made before basebench recorded them): host drift "
            "cannot be told apart from regressions in timings"
        ]
    warnings = []
    for probe in PROBE_METRICS:
        # The worst drift of each probe says enough; the comparison lists all of them.
        worst = max(
            (d for d in drifts if d.probe == probe), key=lambda d: d.allowance, default=None
        )
        if worst is not None and worst.allowance > DRIFT_WARNING:
            warnings.append(
                f"{worst.describe()}; timing thresholds there are "
                f"{factor * worst.allowance:.2f}× instead of {factor:.2f}× (re-run on a quieter "
                "host for a sharper answer)"
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
        WITHIN_DRIFT: "#CC79A7",
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
        # The axis spans every ratio and every row's threshold (widened ones included).
        thresholds = {comparison.factor, *(r.threshold for r in rows)}
        high = min(max([*finite, *thresholds]), CLAMP) * 1.08
        low = max(min([*finite, *(1.0 / t for t in thresholds)]), 1.0 / CLAMP) / 1.08
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
            if _widened(r, comparison.factor):
                # This row's own threshold, widened by host drift.
                for x in (r.threshold, 1.0 / r.threshold):
                    if low <= x <= high:
                        ax.plot(x, y, "|", color=colours[REGRESSED], markersize=9)
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
        # 1× first, then the factor, then the round ratios: a tick too close to one already
        # chosen is dropped.
        ticks: list[float] = []
        min_gap = math.log(high / low) / 7
        for tick in (1.0, comparison.factor, *RATIO_TICKS):
            if low <= tick <= high and all(abs(math.log(tick / t)) >= min_gap for t in ticks):
                ticks.append(tick)
        ax.xaxis.set_major_locator(FixedLocator(sorted(ticks)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}×"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_yticks(range(len(rows)), [r.label for r in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        # Long text goes in the figure-wide label: the axes are narrow beside long names.
        fig.supxlabel(
            "new / baseline median, >1 = worse (inverted for bigger-is-better metrics)\n"
            f"dashed = the {comparison.factor:g}× factor"
            + (
                "; | = that row's threshold, widened by host drift"
                if any(_widened(r, comparison.factor) for r in rows)
                else ""
            ),
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
        if handles and not all(r.tested for r in rows):
            handles.append(
                ax.plot([], [], "o", color="#555555", markerfacecolor="white", label="no test")[0]
            )
        if handles:
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


def _widened(row: MetricComparison, factor: float) -> bool:
    """Whether host drift widened this row's threshold visibly beyond the factor."""
    return row.threshold > factor * 1.005


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
    drifts = host_drifts(normalise(base_frame), normalise(new_frame))
    rows, only_b, only_n = compare_frames(
        base_frame, new_frame, factor=factor, pair_python=pair_python, drifts=drifts
    )
    comparison = Comparison(
        baseline_id=_run_id(base_meta, base_dir),
        new_id=_run_id(new_meta, new_dir),
        factor=factor,
        rows=rows,
        only_baseline=only_b,
        only_new=only_n,
        warnings=condition_warnings(base_meta, new_meta) + drift_warnings(drifts, factor),
        drifts=drifts,
    )
    out = new_dir / "report"
    stem = f"compare-{comparison.baseline_id}"
    comparison_chart(comparison, out, stem, style)
    md_path = out / f"{stem}.md"
    md_path.write_text(comparison_markdown(comparison), encoding="utf-8")
    return comparison, md_path
