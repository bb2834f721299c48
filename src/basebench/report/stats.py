"""Statistics shared by ``report`` and ``compare``: medians, spreads, ratios and their intervals.

The machines are shared and noisy, so every figure is a median with a spread, and every
comparison is a ratio with a confidence interval (or a rank test), never a single absolute time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as scipy_stats

FloatArray = npt.NDArray[np.float64]

#: Bootstrap replicates: 2000 keeps the 95 % bounds stable to ~0.5 % and costs milliseconds.
N_BOOT = 2000
#: Fixed seed so that the same run always renders the same report (reviewable diffs).
SEED = 20240601
#: Fewer samples than this per side and an interval or a rank test says nothing useful.
MIN_SAMPLES = 3
ALPHA = 0.05

#: Metrics where a larger value is better; everything else (times, sizes, failures) is
#: "smaller is better". The ``_per_s`` suffix catches new throughput metrics without new code.
BIGGER_IS_BETTER = frozenset({"requests_per_s", "throughput", "ops_per_s", "speedup"})


def bigger_is_better(metric: str) -> bool:
    return metric in BIGGER_IS_BETTER or metric.endswith("_per_s")


def as_array(values: Sequence[float] | FloatArray) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    return array[np.isfinite(array)]


@dataclass(frozen=True)
class Spread:
    """Median and interquartile range of one series of samples."""

    median: float
    q25: float
    q75: float
    n: int

    @property
    def half_iqr(self) -> float:
        return (self.q75 - self.q25) / 2.0


def spread(values: Sequence[float] | FloatArray) -> Spread:
    array = as_array(values)
    if array.size == 0:
        return Spread(math.nan, math.nan, math.nan, 0)
    q25, median, q75 = np.percentile(array, [25.0, 50.0, 75.0])
    return Spread(float(median), float(q25), float(q75), int(array.size))


@dataclass(frozen=True)
class Interval:
    """A ratio with its bootstrap confidence interval (``low``/``high`` are NaN without one)."""

    estimate: float
    low: float
    high: float

    @property
    def has_ci(self) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high))

    @property
    def significant(self) -> bool:
        # "Significant" means the whole interval is on one side of 1.0; without an interval we
        # cannot claim anything, so the figure is reported but never ranked.
        return self.has_ci and (self.low > 1.0 or self.high < 1.0)


def _boot_medians(rng: np.random.Generator, values: FloatArray, n_boot: int) -> FloatArray:
    index = rng.integers(0, values.size, size=(n_boot, values.size))
    medians: FloatArray = np.median(values[index], axis=1)
    return medians


def ratio_of_medians(
    pairs: Sequence[tuple[Sequence[float] | FloatArray, Sequence[float] | FloatArray]],
    *,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    level: float = 0.95,
) -> Interval:
    """Geometric mean over ``pairs`` of median(numerator) / median(denominator), with a CI.

    With one pair this is the plain ratio of medians. With several pairs (one per workload) it
    is the summary "how much slower is this variant overall"; the geometric mean is the only
    mean of ratios that does not depend on which side is called the reference. The interval is
    a percentile bootstrap that resamples every series independently, so each workload's own
    noise is carried into the summary.
    """
    cleaned = [(as_array(num), as_array(den)) for num, den in pairs]
    cleaned = [(num, den) for num, den in cleaned if num.size and den.size]
    if not cleaned:
        return Interval(math.nan, math.nan, math.nan)
    logs = []
    for num, den in cleaned:
        num_med, den_med = float(np.median(num)), float(np.median(den))
        if num_med <= 0 or den_med <= 0:
            return Interval(math.nan, math.nan, math.nan)
        logs.append(math.log(num_med / den_med))
    estimate = math.exp(sum(logs) / len(logs))
    if any(num.size < MIN_SAMPLES or den.size < MIN_SAMPLES for num, den in cleaned):
        return Interval(estimate, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    total = np.zeros(n_boot, dtype=np.float64)
    for num, den in cleaned:
        num_boot = _boot_medians(rng, num, n_boot)
        den_boot = _boot_medians(rng, den, n_boot)
        total += np.log(num_boot / den_boot)
    boot = np.exp(total / len(cleaned))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(boot, [tail, 100.0 - tail])
    return Interval(estimate, float(low), float(high))


def mann_whitney_p(a: Sequence[float] | FloatArray, b: Sequence[float] | FloatArray) -> float:
    """Two-sided Mann-Whitney U p-value, NaN when either side has too few samples."""
    left, right = as_array(a), as_array(b)
    if left.size < MIN_SAMPLES or right.size < MIN_SAMPLES:
        return math.nan
    if np.array_equal(np.unique(left), np.unique(right)) and np.unique(left).size == 1:
        # Identical constant series (sizes, counts): the test is undefined but the answer is
        # obvious, and scipy would warn.
        return 1.0
    result = scipy_stats.mannwhitneyu(left, right, alternative="two-sided")
    return float(result.pvalue)
