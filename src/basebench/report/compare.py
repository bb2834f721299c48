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
comparison says so. Sizes and counts do not depend on the host and keep the plain factor, and
so do the timings of groups that :mod:`basebench.groups` marks as not host-sensitive.

This module decides; :mod:`basebench.report.compare_doc` words the decision and
:func:`basebench.report.charts.comparison_chart` draws it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from basebench import groups
from basebench.errors import UserError
from basebench.report.frame import check_run_dirs, normalise
from basebench.report.stats import ALPHA, MIN_SAMPLES, bigger_is_better, mann_whitney_p
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


#: Units of time; with rates (``.../s``) they are the values a slower host changes.
TIME_UNITS = frozenset({"s", "ms", "us", "ns"})


def is_timing(unit: str) -> bool:
    return unit in TIME_UNITS or unit.endswith("/s")


def moves_with_host(group: str, unit: str) -> bool:
    """Whether host drift widens this metric's threshold: a timing of a group whose timings
    the registry says move with host speed (a group it does not know is not widened)."""
    entry = groups.group(group)
    return entry is not None and entry.host_sensitive and is_timing(unit)


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
    """The factor, widened for host-sensitive timings (:func:`moves_with_host`) by the largest
    drift of any probe during ``group`` (or over the whole run where the group has too few
    probes of that kind)."""
    if not moves_with_host(group, unit):
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
        base, fresh = _pair_pythons(base, fresh, pair_python)
    base_groups = _by_key(_split_series(base))
    new_groups = _by_key(_split_series(fresh))
    rows = []
    for key in sorted(set(base_groups) & set(new_groups)):
        row = _compare_one(key, base_groups[key], new_groups[key], factor, drifts)
        if row is not None:
            rows.append(row)
    rows.sort(key=lambda r: (*severity(r), r.label))
    only_b = len(set(base_groups) - set(new_groups))
    only_n = len(set(new_groups) - set(base_groups))
    return rows, only_b, only_n


def _pair_pythons(
    base: pd.DataFrame, fresh: pd.DataFrame, pair_python: tuple[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    old, new_py = pair_python
    if old not in set(base["python"].tolist()):
        raise UserError(f"--pair-python: the baseline run has no Python {old}")
    if new_py not in set(fresh["python"].tolist()):
        raise UserError(f"--pair-python: the new run has no Python {new_py}")
    # Relabel the baseline's OLD as NEW so that "3.13 then" lines up with "3.14 now".
    base = base[base["python"] == old].copy()
    base["python"] = new_py
    return base, fresh[fresh["python"] == new_py]


def _by_key(frame: pd.DataFrame) -> dict[tuple[str, ...], pd.DataFrame]:
    return {tuple(str(x) for x in k): g for k, g in frame.groupby(list(KEY), sort=True)}


def _compare_one(
    key: tuple[str, ...],
    base: pd.DataFrame,
    new: pd.DataFrame,
    factor: float,
    drifts: Sequence[HostDrift],
) -> MetricComparison | None:
    """The decision on one metric; None when a side has no finite value to compare."""
    b_vals = base["value"].to_numpy(dtype=np.float64)
    n_vals = new["value"].to_numpy(dtype=np.float64)
    b_vals, n_vals = b_vals[np.isfinite(b_vals)], n_vals[np.isfinite(n_vals)]
    if not b_vals.size or not n_vals.size:
        return None
    b_med, n_med = float(np.median(b_vals)), float(np.median(n_vals))
    group, benchmark, variant, python, strategy, allocator, metric = key
    ratio = _worse_ratio(metric, b_med, n_med)
    p_value = mann_whitney_p(b_vals, n_vals)
    tested = not math.isnan(p_value)
    unit = str(new["unit"].iloc[0])
    threshold = threshold_for(group, unit, factor, drifts)
    return MetricComparison(
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


def severity(row: MetricComparison) -> tuple[int, float]:
    """Sort key: by status (regressions first), then the worst ratio first."""
    # An infinite ratio (a new failure, from zero) counts as the largest finite one.
    worse = 1e300 if math.isinf(row.worse_ratio) and row.worse_ratio > 0 else row.worse_ratio
    return STATUS_ORDER[row.status], -worse


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


def _run_id(meta: Mapping[str, Any], run_dir: Path) -> str:
    return str(meta.get("run_id") or run_dir.name)


def compare_runs(
    baseline_dir: Path,
    new_dir: Path,
    *,
    factor: float = 1.10,
    pair_python: tuple[str, str] | None = None,
) -> Comparison:
    """Load two run folders and decide every metric they share.

    ``comparison.exit_code`` is what the CLI returns: 1 when any metric regressed beyond
    ``factor``. Writing it out is :mod:`basebench.commands.compare`'s job.
    """
    base_dir, new_dir = check_run_dirs([baseline_dir, new_dir])
    base_meta, new_meta = read_run_meta(base_dir), read_run_meta(new_dir)
    base_frame, new_frame = load_runs([base_dir]), load_runs([new_dir])
    drifts = host_drifts(normalise(base_frame), normalise(new_frame))
    rows, only_b, only_n = compare_frames(
        base_frame, new_frame, factor=factor, pair_python=pair_python, drifts=drifts
    )
    return Comparison(
        baseline_id=_run_id(base_meta, base_dir),
        new_id=_run_id(new_meta, new_dir),
        factor=factor,
        rows=rows,
        only_baseline=only_b,
        only_new=only_n,
        warnings=condition_warnings(base_meta, new_meta) + drift_warnings(drifts, factor),
        drifts=drifts,
    )
