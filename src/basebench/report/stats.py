"""Statistics shared by ``report`` and ``compare``: rounds, ratios, a test, Holm's correction.

The unit of replication is the *round*, not the value. A runtime series is rounds (one
container each) x processes x values, and values of one container share its state (page
cache, CPU phase on a shared host): on the committed runs round medians differ by > 10 % in
most series while values inside one process differ by 3-6 %. Counting every value as
independent makes noise look significant, so every figure here is built from per-round
statistics. Where a round holds one value (a build, an install, a start-up, a load test), a
value is a round and nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as scipy_stats

FloatArray = npt.NDArray[np.float64]
#: One series as its rounds: one array of values per round.
Rounds = Sequence[FloatArray]

#: Bootstrap replicates: 2000 keeps the 95 % bounds stable to ~0.5 % and costs milliseconds.
N_BOOT = 2000
#: Fixed seed so that the same run always renders the same report (reviewable diffs).
SEED = 20240601
#: Fewer rounds than this on a side and a comparison is "untested": a t-test on two rounds
#: has one degree of freedom, and a bootstrap of two rounds knows only two numbers.
MIN_ROUNDS = 3
#: The host probes are many independent timings; the rank test on them needs at least this.
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


def by_round(values: Sequence[float] | FloatArray, rounds: Sequence[int]) -> list[FloatArray]:
    """A flat series split into its rounds (in round order; non-finite values dropped)."""
    array = np.asarray(values, dtype=np.float64)
    ids = np.asarray(rounds)
    out = [array[ids == r] for r in np.unique(ids)]
    return [r[np.isfinite(r)] for r in out if np.isfinite(r).any()]


def each_value_a_round(values: Sequence[float] | FloatArray) -> list[FloatArray]:
    """A series whose values are independent repetitions: every value its own round."""
    return [np.array([v]) for v in as_array(values)]


def round_medians(rounds: Rounds) -> FloatArray:
    """The per-round statistic: the median of each round's values (robust to one slow value)."""
    return np.array([float(np.median(r)) for r in rounds if r.size], dtype=np.float64)


@dataclass(frozen=True)
class Spread:
    """Median and interquartile range over the rounds of one series (of their medians)."""

    median: float
    q25: float
    q75: float
    #: rounds
    n: int
    #: values (equal to ``n`` where every round is one value)
    values: int = 0

    @property
    def half_iqr(self) -> float:
        return (self.q75 - self.q25) / 2.0


def spread(values: Sequence[float] | FloatArray) -> Spread:
    """The spread of a series whose values are each a round."""
    return round_spread(each_value_a_round(values))


def round_spread(rounds: Rounds) -> Spread:
    medians = round_medians(rounds)
    if medians.size == 0:
        return Spread(math.nan, math.nan, math.nan, 0, 0)
    q25, median, q75 = np.percentile(medians, [25.0, 50.0, 75.0])
    values = sum(int(r.size) for r in rounds)
    return Spread(float(median), float(q25), float(q75), int(medians.size), values)


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
    def excludes_one(self) -> bool:
        # Used for the headline summary only; single comparisons are judged by the test.
        return self.has_ci and (self.low > 1.0 or self.high < 1.0)


def _boot_statistic(rng: np.random.Generator, rounds: Rounds, n_boot: int) -> FloatArray:
    """``n_boot`` replicates of the median of round medians, by a two-level bootstrap.

    Level 1 resamples rounds (the between-container variance, the one that matters); level 2
    resamples values within each drawn round (its within-container noise). Vectorised: rounds
    sit in a NaN-padded matrix, and draws past a round's own length are masked out.
    """
    sizes = np.array([r.size for r in rounds])
    width = int(sizes.max())
    padded = np.full((len(rounds), width), np.nan)
    for i, r in enumerate(rounds):
        padded[i, : r.size] = r
    pick = rng.integers(0, len(rounds), size=(n_boot, len(rounds)))
    n = sizes[pick][..., None]
    position = (rng.random((n_boot, len(rounds), width)) * n).astype(np.int64)
    draws = padded[pick[..., None], position]
    if (sizes == width).all():
        medians = np.median(draws, axis=2)
    else:
        draws[np.arange(width) >= n] = np.nan
        medians = np.nanmedian(draws, axis=2)
    statistic: FloatArray = np.median(medians, axis=1)
    return statistic


def ratio_of_medians(
    pairs: Sequence[tuple[Rounds, Rounds]],
    *,
    exponents: Sequence[float] | None = None,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    level: float = 0.95,
) -> Interval:
    """Geometric mean over ``pairs`` of median(numerator) / median(denominator), with a CI.

    A series' median is the median of its round medians. With one pair this is the plain
    ratio; with several (one per workload) it is the summary "how much slower is this variant
    overall": the geometric mean is the only mean of ratios that does not depend on which side
    is called the reference. The interval is a percentile bootstrap of that same statistic,
    hierarchical (:func:`_boot_statistic`) and independent per series, so each workload's
    noise is carried into the summary. No interval below MIN_ROUNDS rounds on any side.

    ``exponents`` (one per pair) generalise the mean to the product of ratio_i ** exponent_i:
    weights summing to 1 give a weighted geometric mean (each mechanism counted once, however
    many workloads it has), and (1, 1) over (a2/b2, b1/a1) gives the ratio of two ratios (a
    scaling on one side over the same scaling on the other). The default is 1/n each.
    """
    if exponents is not None and len(exponents) != len(pairs):
        raise ValueError(f"{len(exponents)} exponents for {len(pairs)} pairs")
    weights = list(exponents) if exponents is not None else [1.0 / max(len(pairs), 1)] * len(pairs)
    cleaned = [
        ([r for r in num if r.size], [r for r in den if r.size], w)
        for (num, den), w in zip(pairs, weights, strict=True)
    ]
    cleaned = [(num, den, w) for num, den, w in cleaned if num and den]
    if not cleaned:
        return Interval(math.nan, math.nan, math.nan)
    if exponents is None:
        # Pairs without data drop out of a plain mean rather than making it NaN.
        cleaned = [(num, den, 1.0 / len(cleaned)) for num, den, _ in cleaned]
    elif len(cleaned) < len(pairs):
        return Interval(math.nan, math.nan, math.nan)
    log_estimate = 0.0
    for num, den, w in cleaned:
        num_med, den_med = np.median(round_medians(num)), np.median(round_medians(den))
        if num_med <= 0 or den_med <= 0:
            return Interval(math.nan, math.nan, math.nan)
        log_estimate += w * math.log(num_med / den_med)
    estimate = math.exp(log_estimate)
    if any(min(len(num), len(den)) < MIN_ROUNDS for num, den, _ in cleaned):
        return Interval(estimate, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    total = np.zeros(n_boot, dtype=np.float64)
    for num, den, w in cleaned:
        total += w * np.log(_boot_statistic(rng, num, n_boot) / _boot_statistic(rng, den, n_boot))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(np.exp(total), [tail, 100.0 - tail])
    return Interval(estimate, float(low), float(high))


def round_test(a: Rounds, b: Rounds) -> float:
    """Two-sided p-value of Welch's t-test on the log of per-round medians; NaN = untested.

    Per-round medians: the rounds are the independent replicates. Log: timings are positive
    and skewed, effects multiplicative, and the test is then about the ratio the report shows.
    Welch's t rather than a rank test: pyperf, too, compares separate processes with a t-test,
    and a rank test cannot reach p < 0.05 below 4 vs 4 rounds, nor survive any correction there.
    Welch rather than Student: the two sides need not share a variance.
    """
    left, right = round_medians(a), round_medians(b)
    if left.size < MIN_ROUNDS or right.size < MIN_ROUNDS:
        return math.nan
    if (left > 0).all() and (right > 0).all():
        left, right = np.log(left), np.log(right)
    # Zero variance on both sides (identical constant series): no t, but the answer is plain.
    if np.ptp(left) == 0 and np.ptp(right) == 0:
        return 1.0 if left[0] == right[0] else 0.0
    return float(scipy_stats.ttest_ind(left, right, equal_var=False).pvalue)


def holm(p_values: Sequence[float] | FloatArray) -> FloatArray:
    """Holm's step-down adjustment of a family of p-values (NaN = untested, stays NaN).

    Holm controls the family-wise error (the chance of even one false "faster"/"slower" among
    all the comparisons of one report) under any dependence between them, and is uniformly
    more powerful than Bonferroni: the k-th smallest p is multiplied by (m - k + 1), and the
    adjusted values are made monotone so that a smaller p never gets a larger adjusted one.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out[order] = np.minimum(adjusted, 1.0)
    return out


def mann_whitney_p(a: Sequence[float] | FloatArray, b: Sequence[float] | FloatArray) -> float:
    """Two-sided Mann-Whitney U p-value, NaN when either side has too few samples.

    For the host probes: each probe is one short independent timing, so the values are the
    replicates there, and a rank test is robust to the odd probe that hit a busy moment.
    """
    left, right = as_array(a), as_array(b)
    if left.size < MIN_SAMPLES or right.size < MIN_SAMPLES:
        return math.nan
    if np.array_equal(np.unique(left), np.unique(right)) and np.unique(left).size == 1:
        # Identical constant series: the test is undefined but the answer is obvious.
        return 1.0
    result = scipy_stats.mannwhitneyu(left, right, alternative="two-sided")
    return float(result.pvalue)
