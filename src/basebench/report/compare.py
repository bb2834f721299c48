"""Compare two runs metric by metric, like ``asv compare``: significant AND beyond a factor.

Each metric is one of three kinds:

- **tested**: a timing or rate of a group that moves with the host (a noisy process). It
  regressed when the round test (:func:`basebench.report.stats.round_test`: Welch's t on log
  per-round medians) says the runs differ, after Holm's correction over every tested metric of
  this comparison, AND the ratio of medians is beyond the threshold. The factor alone would
  flag noise; the test alone would flag 0.5 % changes nobody cares about.
- **untested**: such a metric with fewer than MIN_ROUNDS rounds on a side. Nothing can be
  said about it: it is never a regression nor significant, and is counted on its own; only
  ``--strict`` makes those beyond the threshold fail the comparison.
- **exact**: not a sample of a noisy process (a size, a count, a failure flag, or any value of
  a group without a host probe). The factor alone decides: an image that grew 20 % has grown.

The test only knows the spread *inside* each run. Between two runs on a shared machine the
host itself may have been busier, and then every timing moves together, significantly, with
no change in the images. Each run therefore carries host probes (see
:mod:`basebench.measure._host_probe`), and each group names the probe that measures its kind
of timing (:attr:`basebench.groups.Group.host_probe`). A timing's threshold is widened by that
probe's drift (the group's own probes where it has enough, else the whole run's), only when the
drift is significant, and only in the direction that could fake the change: a slower host
widens the regression threshold, a faster one the improvement threshold.

This module decides; :mod:`basebench.report.compare_doc` words the decision and
:func:`basebench.report.charts.comparison_chart` draws it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from basebench import groups
from basebench.errors import UserError
from basebench.report.frame import check_run_dirs, normalise
from basebench.report.stats import (
    ALPHA,
    MIN_ROUNDS,
    Rounds,
    bigger_is_better,
    by_round,
    holm,
    mann_whitney_p,
    ratio_of_medians,
    round_medians,
    round_test,
)
from basebench.results import (
    CONTAINER_PROBE_METRIC,
    CPU_PROBE_METRIC,
    HOST_PROBE_GROUP,
    PROBE_METRICS,
    latest_validation,
    load_runs,
    read_run_meta,
)

KEY = ("group", "benchmark", "variant", "python", "strategy", "allocator", "metric")

REGRESSED = "regressed"
IMPROVED = "improved"
NOT_SIGNIFICANT = "n.s."
WITHIN_DRIFT = "within host drift"
UNTESTED = "untested"
UNCHANGED = "unchanged"
#: Regressions first, then what got better, then what cannot be told, then noise.
STATUS_ORDER = {
    REGRESSED: 0,
    IMPROVED: 1,
    WITHIN_DRIFT: 2,
    UNTESTED: 3,
    NOT_SIGNIFICANT: 4,
    UNCHANGED: 5,
}

#: The stored metric of each probe a group can name (:attr:`basebench.groups.Group.host_probe`).
PROBE_METRIC_OF = {
    groups.CPU_PROBE: CPU_PROBE_METRIC,
    groups.CONTAINER_PROBE: CONTAINER_PROBE_METRIC,
}
#: A group's own probes are used when each run has at least this many: fewer cannot reach
#: p < 0.05 in a two-sided rank test (3 vs 3 gives at best p = 0.1).
MIN_PROBES = 4


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
    #: The round test's p-value (NaN when untested or exact).
    p_value: float
    tested: bool
    status: str
    #: The worse ratio beyond which this metric counts as regressed: the factor, times a
    #: significant slowdown of the host for timings.
    threshold: float
    #: Beyond 1 / this it counts as improved: the factor, times a significant speed-up.
    improve_threshold: float = math.nan
    #: Holm-adjusted over the tested metrics of this comparison.
    p_adjusted: float = math.nan
    #: Decided by the factor alone (not a sample of a noisy process).
    exact: bool = False
    #: Rounds of (baseline, new).
    rounds: tuple[int, int] = (0, 0)
    #: Values of (baseline, new) (more than the rounds where a round holds several).
    values: tuple[int, int] = (0, 0)
    #: 95 % hierarchical-bootstrap interval of ``worse_ratio`` (NaN when untested or exact).
    ci: tuple[float, float] = (math.nan, math.nan)

    @property
    def label(self) -> str:
        parts = [self.group, self.benchmark, f"{self.python}-{self.variant}"]
        # Build rows repeat the strategy in benchmark; say it once.
        parts += [p for p in (self.strategy, self.allocator) if p and p != self.benchmark]
        return " · ".join(parts) + f" · {self.metric}"

    @property
    def beyond_threshold(self) -> bool:
        return self.worse_ratio > self.threshold


@dataclass(frozen=True)
class HostDrift:
    """How much slower (> 1) or faster (< 1) the host ran one probe in the new run."""

    group: str  # the group the probes were taken in; "" = all of the run's probes
    probe: str  # CPU_PROBE_METRIC or CONTAINER_PROBE_METRIC (container start)
    ratio: float  # new / baseline median probe time
    p_value: float
    baseline_n: int
    new_n: int

    @property
    def significant(self) -> bool:
        # Probe timings are many and independent: a drift the rank test cannot tell from
        # noise is noise, and widening by it would hide real changes.
        return self.p_value < ALPHA

    @property
    def slower(self) -> float:
        """Widening of the regression threshold: a significantly slower host fakes regressions."""
        return self.ratio if self.significant and self.ratio > 1.0 else 1.0

    @property
    def faster(self) -> float:
        """Widening of the improvement threshold: a significantly faster host fakes gains."""
        return 1.0 / self.ratio if self.significant and self.ratio < 1.0 else 1.0

    def describe(self) -> str:
        where = f"while {self.group} ran" if self.group else "over the whole run"
        what = "container starts" if self.probe == CONTAINER_PROBE_METRIC else "the host's CPU"
        size = max(self.ratio, 1.0 / self.ratio)
        direction = "slower" if self.ratio >= 1.0 else "faster"
        p_text = f"p = {self.p_value:.2g}" if not math.isnan(self.p_value) else "no test"
        verdict = "significant" if self.significant else "not significant, not applied"
        return (
            f"{where}, {what} ran {size:.2f}× {direction} (probe median ratio "
            f"{self.ratio:.3f}, {p_text}, {verdict}; {self.baseline_n} vs {self.new_n} timings)"
        )


#: Units of time; with rates (``.../s``) they are the values a slower host changes.
TIME_UNITS = frozenset({"s", "ms", "us", "ns"})


def is_timing(unit: str) -> bool:
    return unit in TIME_UNITS or unit.endswith("/s")


#: Not timings, yet samples of a noisy process: peak RSS differs between worker processes of
#: one image (arena and GC timing), so it is tested like a timing (without host drift).
SAMPLED_METRICS = frozenset({"mem_max_rss"})


def is_exact(group: str, unit: str, metric: str = "") -> bool:
    """Not a sample of a noisy process: a size, count or flag, or a group without a probe."""
    if metric in SAMPLED_METRICS:
        return False
    entry = groups.group(group)
    return not is_timing(unit) or (entry is not None and not entry.host_probe)


def probe_for(group: str, unit: str) -> str | None:
    """The probe metric whose drift can fake a change in this metric (None: no widening)."""
    entry = groups.group(group)
    if entry is None or is_exact(group, unit):
        return None
    return PROBE_METRIC_OF.get(entry.host_probe)


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
            if group and min(b_vals.size, n_vals.size) < MIN_PROBES:
                continue
            b_med, n_med = float(np.median(b_vals)), float(np.median(n_vals))
            if b_med <= 0 or n_med <= 0:
                continue
            p_value = mann_whitney_p(b_vals, n_vals)
            drifts.append(HostDrift(group, probe, n_med / b_med, p_value, b_vals.size, n_vals.size))
    return drifts


def drift_for(group: str, unit: str, drifts: Sequence[HostDrift]) -> HostDrift | None:
    """The drift that bears on this metric: its probe's, during its group, else the run's."""
    probe = probe_for(group, unit)
    if probe is None:
        return None
    mine = {d.group: d for d in drifts if d.probe == probe}
    return mine.get(group) or mine.get("")


def thresholds_for(
    group: str,
    unit: str,
    factor: float,
    drifts: Sequence[HostDrift],
    floors: Mapping[str, float] | None = None,
) -> tuple[float, float]:
    """(regression, improvement) thresholds of a worse-ratio: the factor, raised to the host's
    validated between-run noise of the group's timings (``floors``, from ``basebench
    validate``), each then widened only by a significant drift in the direction that could fake
    it (:func:`drift_for`)."""
    base = factor
    if floors and is_timing(unit):
        base = max(factor, floors.get(group, 1.0))
    drift = drift_for(group, unit, drifts)
    if drift is None:
        return base, base
    return base * drift.slower, base * drift.faster


def threshold_for(
    group: str,
    unit: str,
    factor: float,
    drifts: Sequence[HostDrift],
    floors: Mapping[str, float] | None = None,
) -> float:
    """The regression threshold alone (see :func:`thresholds_for`)."""
    return thresholds_for(group, unit, factor, drifts, floors)[0]


@dataclass(frozen=True)
class NoiseFloor:
    """This host's between-run noise per group, as its newest ``basebench validate`` measured
    it: two runs of identical images differ by up to this much with no change at all, so a
    threshold below it would call that noise a regression."""

    run_id: str
    #: group -> the largest A/A ratio between two runs of identical images.
    ratios: dict[str, float]

    @classmethod
    def from_validation(cls, validation: Mapping[str, Any] | None) -> NoiseFloor | None:
        between = (validation or {}).get("between_runs") or {}
        ratios = {
            str(group): float(entry.get("largest_ratio", math.nan))
            for group, entry in between.items()
            if isinstance(entry, Mapping)
        }
        ratios = {group: ratio for group, ratio in ratios.items() if math.isfinite(ratio)}
        if not ratios:
            return None
        return cls(str((validation or {}).get("run_id", "?")), ratios)

    def describe(self, factor: float) -> str:
        raised = {g: r for g, r in sorted(self.ratios.items()) if r > factor}
        if not raised:
            return (
                f"this host's validated between-run noise (validate run {self.run_id}) is "
                f"within the factor {factor:.2f}× for every group"
            )
        listed = ", ".join(f"{g} {r:.2f}×" for g, r in raised.items())
        return (
            f"this host's validated between-run noise (validate run {self.run_id}) exceeds the "
            f"factor {factor:.2f}× for {listed}: those timings count as changed only beyond it "
            "(--no-noise-floor to use the factor alone)"
        )


@dataclass(frozen=True)
class Setting:
    """One setting of the two runs (a configuration field, a host fact, an image's ID)."""

    name: str
    baseline: str
    new: str

    @property
    def changed(self) -> bool:
        return self.baseline != self.new


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
    #: ``--strict``: untested metrics beyond their threshold fail the comparison too.
    strict: bool = False
    #: The host's validated between-run noise that raised timing thresholds (None: not used).
    noise_floor: NoiseFloor | None = None
    #: The two runs' settings side by side (:func:`run_settings`), changed or not.
    settings: list[Setting] = field(default_factory=list)

    @property
    def regressions(self) -> list[MetricComparison]:
        """Tested metrics significantly beyond the threshold, and exact ones beyond the factor."""
        return [r for r in self.rows if r.status == REGRESSED]

    @property
    def untested(self) -> list[MetricComparison]:
        return [r for r in self.rows if r.status == UNTESTED]

    @property
    def untested_beyond(self) -> list[MetricComparison]:
        """Untested metrics whose ratio is beyond the regression threshold."""
        return [r for r in self.untested if r.beyond_threshold]

    @property
    def tested(self) -> list[MetricComparison]:
        return [r for r in self.rows if r.tested]

    @property
    def exact(self) -> list[MetricComparison]:
        return [r for r in self.rows if r.exact]

    @property
    def failures(self) -> list[MetricComparison]:
        """What the exit code counts."""
        return self.regressions + (self.untested_beyond if self.strict else [])

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    @property
    def changed_settings(self) -> list[Setting]:
        return [s for s in self.settings if s.changed]


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
    ratio: float,
    *,
    factor: float,
    exact: bool = False,
    p_adjusted: float = math.nan,
    thresholds: tuple[float, float] | None = None,
) -> str:
    """The status of one metric.

    ``thresholds`` are (regression, improvement), the factor widened by host drift (if any);
    ``p_adjusted`` is the Holm-adjusted round test, NaN when untested.
    """
    regress, improve = thresholds or (factor, factor)
    beyond_factor = ratio > factor or ratio < 1.0 / factor
    if exact:
        return REGRESSED if ratio > factor else IMPROVED if ratio < 1.0 / factor else UNCHANGED
    if math.isnan(p_adjusted):
        return UNTESTED
    significant = p_adjusted < ALPHA
    if significant and ratio > regress:
        return REGRESSED
    if significant and ratio < 1.0 / improve:
        return IMPROVED
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
    floors: Mapping[str, float] | None = None,
) -> tuple[list[MetricComparison], int, int]:
    """Line up identical keys in both frames and decide each; returns (rows, only_b, only_n).

    ``drifts`` defaults to what the frames' own host probes say (:func:`host_drifts`). The
    tested metrics are one family: their p-values are Holm-adjusted together.
    """
    check_factor(factor)
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
        row = _compare_one(key, base_groups[key], new_groups[key], factor, drifts, floors)
        if row is not None:
            rows.append(row)
    adjusted = holm([r.p_value if r.tested else math.nan for r in rows])
    rows = [_decided(r, float(p), factor) for r, p in zip(rows, adjusted, strict=True)]
    rows.sort(key=lambda r: (*severity(r), r.label))
    only_b = len(set(base_groups) - set(new_groups))
    only_n = len(set(new_groups) - set(base_groups))
    return rows, only_b, only_n


def check_factor(factor: float) -> None:
    if not (math.isfinite(factor) and factor >= 1.0):  # NaN fails every comparison
        raise UserError(
            f"--fail-on-regression {factor}: must be a finite ratio >= 1.0, e.g. 1.10 for 10 %"
        )


def _decided(row: MetricComparison, p_adjusted: float, factor: float) -> MetricComparison:
    status = decide(
        row.worse_ratio,
        factor=factor,
        exact=row.exact,
        p_adjusted=p_adjusted,
        thresholds=(row.threshold, row.improve_threshold),
    )
    return replace(row, p_adjusted=p_adjusted, status=status)


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
    floors: Mapping[str, float] | None = None,
) -> MetricComparison | None:
    """One metric, not yet decided; None when a side has no finite value to compare."""
    b_rounds = by_round(base["value"].to_numpy(dtype=np.float64), base["round"].tolist())
    n_rounds = by_round(new["value"].to_numpy(dtype=np.float64), new["round"].tolist())
    if not b_rounds or not n_rounds:
        return None
    # The median of the round medians: the same statistic the test and the report use.
    b_med = float(np.median(round_medians(b_rounds)))
    n_med = float(np.median(round_medians(n_rounds)))
    group, benchmark, variant, python, strategy, allocator, metric = key
    unit = str(new["unit"].iloc[0])
    exact = is_exact(group, unit, metric)
    p_value = math.nan if exact else round_test(b_rounds, n_rounds)
    ci = (math.nan, math.nan) if exact else _worse_interval(metric, b_rounds, n_rounds)
    threshold, improve_threshold = thresholds_for(group, unit, factor, drifts, floors)
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
        worse_ratio=_worse_ratio(metric, b_med, n_med),
        p_value=p_value,
        tested=not math.isnan(p_value),
        status=UNTESTED,
        threshold=threshold,
        improve_threshold=improve_threshold,
        exact=exact,
        rounds=(len(b_rounds), len(n_rounds)),
        values=(sum(r.size for r in b_rounds), sum(r.size for r in n_rounds)),
        ci=ci,
    )


def _worse_interval(metric: str, base: Rounds, new: Rounds) -> tuple[float, float]:
    """The bootstrap interval of the worse ratio: the one the report draws for a ratio."""
    interval = ratio_of_medians([(new, base)])
    if bigger_is_better(metric) and interval.has_ci:
        return 1.0 / interval.high, 1.0 / interval.low
    return interval.low, interval.high


def severity(row: MetricComparison) -> tuple[int, float]:
    """Sort key: by status (regressions first), then the worst ratio first."""
    # An infinite ratio (a new failure, from zero) counts as the largest finite one.
    worse = 1e300 if math.isinf(row.worse_ratio) and row.worse_ratio > 0 else row.worse_ratio
    return STATUS_ORDER[row.status], -worse


#: (run.json's config key, the name a reader knows it by): the settings every compare page
#: states, changed or not; the other configuration keys are listed only where they differ.
CONFIG_SETTINGS = (
    ("cpus", "cpus"),
    ("cpuset", "cpuset"),
    ("mem_limit", "memory"),
    ("pids_limit", "pids limit"),
    ("profile", "profile"),
    ("pythons", "Python"),
    ("opt_level", "opt level"),
)
#: Limits of the measured containers: a change makes the runs' timings differ by construction.
LIMIT_KEYS = ("cpus", "cpuset", "mem_limit", "pids_limit")
HOST_SETTINGS = (
    ("cpu_model", "host CPU model"),
    ("cores", "host cores"),
    ("kernel", "host kernel"),
    ("docker_server_version", "Docker server"),
)
#: What identifies a base image (run.json's "images" entries): its ID, its registry digest
#: (official images), and the CPython and libc it holds.
IMAGE_SETTINGS = (
    ("image_id", "image ID"),
    ("digest", "digest"),
    ("python.version", "CPython"),
    ("libc.version", "libc"),
)
NOT_RECORDED = "(not recorded)"


def setting_text(value: Any) -> str:
    """A run.json value as a reader writes it on the command line: 0.0 -> "0", lists joined."""
    if value is None:
        return NOT_RECORDED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(setting_text(v) for v in value) or "(none)"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={setting_text(v)}" for k, v in sorted(value.items())) or "(none)"
    return str(value) if str(value) else "(none)"


def _images_by_name(meta: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """run.json's base images by "<python>-<variant>", the name both runs share."""
    out: dict[str, Mapping[str, Any]] = {}
    for reference, labels in (meta.get("images") or {}).items():
        if isinstance(labels, Mapping):
            known = labels.get("python") and labels.get("variant")
            out[f"{labels['python']}-{labels['variant']}" if known else reference] = labels
    return out


def run_settings(base_meta: Mapping[str, Any], new_meta: Mapping[str, Any]) -> list[Setting]:
    """The two runs' settings side by side: the configuration (limits, profile, Python, opt
    level first, then every other key), the base source, the host, and each base image."""

    def pair(name: str, b: Any, n: Any) -> Setting:
        return Setting(name, setting_text(b), setting_text(n))

    b_conf, n_conf = base_meta.get("config") or {}, new_meta.get("config") or {}
    b_host, n_host = base_meta.get("host") or {}, new_meta.get("host") or {}
    settings = [pair(name, b_conf.get(key), n_conf.get(key)) for key, name in CONFIG_SETTINGS]
    settings.append(pair("base source", base_meta.get("base_source"), new_meta.get("base_source")))
    settings += [pair(name, b_host.get(key), n_host.get(key)) for key, name in HOST_SETTINGS]
    named = {key for key, _ in CONFIG_SETTINGS} | {"description"}
    for key in sorted((set(b_conf) | set(n_conf)) - named):
        settings.append(pair(key, b_conf.get(key), n_conf.get(key)))
    b_images, n_images = _images_by_name(base_meta), _images_by_name(new_meta)
    for image in sorted(set(b_images) | set(n_images)):
        b_labels, n_labels = b_images.get(image, {}), n_images.get(image, {})
        for key, name in IMAGE_SETTINGS:
            if key in b_labels or key in n_labels:
                settings.append(pair(f"{image} {name}", b_labels.get(key), n_labels.get(key)))
    return settings


def condition_warnings(base_meta: Mapping[str, Any], new_meta: Mapping[str, Any]) -> list[str]:
    """Differences that make absolute comparisons doubtful (allowed, but said out loud)."""
    warnings = []
    b_conf, n_conf = base_meta.get("config") or {}, new_meta.get("config") or {}
    limits = [
        f"{key} {setting_text(b_conf.get(key))} -> {setting_text(n_conf.get(key))}"
        for key in LIMIT_KEYS
        if setting_text(b_conf.get(key)) != setting_text(n_conf.get(key))
    ]
    if limits:
        warnings.append(
            f"the runs limited the measured containers differently ({'; '.join(limits)}): "
            "their timings differ by construction, not only by the images"
        )
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
        # The worst significant drift of each probe says enough; the comparison lists all.
        applied = [d for d in drifts if d.probe == probe and d.significant]
        worst = max(applied, key=lambda d: max(d.slower, d.faster), default=None)
        if worst is not None and max(worst.slower, worst.faster) > DRIFT_WARNING:
            which = "regression" if worst.slower > 1.0 else "improvement"
            widened = factor * max(worst.slower, worst.faster)
            warnings.append(
                f"{worst.describe()}; {which} thresholds of the timings it measures are "
                f"{widened:.2f}× instead of {factor:.2f}× (re-run on a quieter host for a "
                "sharper answer)"
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
    strict: bool = False,
    noise_floor: bool = True,
) -> Comparison:
    """Load two run folders and decide every metric they share.

    ``comparison.exit_code`` is what the CLI returns: 1 when any tested or exact metric
    regressed beyond ``factor`` (with ``strict``, or an untested one is beyond it). Writing it
    out is :mod:`basebench.commands.compare`'s job.
    """
    base_dir, new_dir = check_run_dirs([baseline_dir, new_dir])
    base_meta, new_meta = read_run_meta(base_dir), read_run_meta(new_dir)
    base_frame, new_frame = load_runs([base_dir]), load_runs([new_dir])
    drifts = host_drifts(normalise(base_frame), normalise(new_frame))
    floor = _host_noise_floor(new_dir, new_meta) if noise_floor else None
    rows, only_b, only_n = compare_frames(
        base_frame,
        new_frame,
        factor=factor,
        pair_python=pair_python,
        drifts=drifts,
        floors=floor.ratios if floor else None,
    )
    if not rows:
        raise UserError(
            f"no metric in common: the baseline has {only_b} metric(s), the new run {only_n}, "
            "none with the same group, benchmark, variant, Python, strategy and allocator; "
            "compare runs of the same variants and groups (--pair-python OLD:NEW for two Pythons)"
        )
    warnings = condition_warnings(base_meta, new_meta) + drift_warnings(drifts, factor)
    if floor is not None:
        warnings.append(floor.describe(factor))
    return Comparison(
        baseline_id=_run_id(base_meta, base_dir),
        new_id=_run_id(new_meta, new_dir),
        factor=factor,
        rows=rows,
        only_baseline=only_b,
        only_new=only_n,
        warnings=warnings + untested_warnings(rows, strict),
        drifts=drifts,
        strict=strict,
        noise_floor=floor,
        settings=run_settings(base_meta, new_meta),
    )


def _host_noise_floor(new_dir: Path, new_meta: Mapping[str, Any]) -> NoiseFloor | None:
    """The newest validation of the new run's host kept beside it (None: never validated)."""
    cpu_model = str((new_meta.get("host") or {}).get("cpu_model", ""))
    return NoiseFloor.from_validation(latest_validation(new_dir.parent, cpu_model))


def untested_warnings(rows: Sequence[MetricComparison], strict: bool) -> list[str]:
    """Metrics nothing can be said about, and whether the exit code counts them."""
    untested = [r for r in rows if r.status == UNTESTED]
    if not untested:
        return []
    beyond = sum(r.beyond_threshold for r in untested)
    counted = "counted (--strict)" if strict else "not counted without --strict"
    rounds = sorted({min(r.rounds) for r in untested})
    return [
        f"{len(untested)} metric(s) untested (only {' or '.join(map(str, rounds))} round(s) on "
        f"a side where the test needs {MIN_ROUNDS}): {beyond} of them beyond the threshold, "
        f"{counted}"
    ]
