"""The statistics: the round as the unit of replication, the round test, Holm (no Docker).

The clustered data mimic the committed runtime series: a few container rounds of several
values, where rounds differ far more (sd 10 %) than values inside one round (sd 2 %).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from basebench.report.stats import (
    MIN_ROUNDS,
    FloatArray,
    by_round,
    each_value_a_round,
    holm,
    mann_whitney_p,
    ratio_of_medians,
    round_medians,
    round_spread,
    round_test,
)

#: A/A pairs: 400 gives a false-positive rate to about ±1 % (binomial sd at 5 %).
PAIRS = 400
#: Replicates for the many intervals of the A/A test: enough for a 95 % bound, and fast.
N_BOOT = 400


def clustered(
    rng: np.random.Generator, rounds: int, *, scale: float = 1.0, values: int = 10
) -> list[FloatArray]:
    """One series: each round has its own level (sd 10 %), its values a little noise (sd 2 %)."""
    return [
        scale * (1.0 + rng.normal(0.0, 0.10)) * (1.0 + rng.normal(0.0, 0.02, values))
        for _ in range(rounds)
    ]


def test_pooled_values_make_noise_significant_and_rounds_do_not() -> None:
    """A/A pairs (the same process on both sides): the old pooled statistics call a large
    share of them different; the round test keeps its 5 % false-positive rate."""
    rng = np.random.default_rng(20261129)
    old_test = old_interval = new_test = 0
    for _ in range(PAIRS):
        a = clustered(rng, int(rng.integers(4, 7)))
        b = clustered(rng, int(rng.integers(4, 7)))
        pooled_a, pooled_b = np.concatenate(a), np.concatenate(b)
        # Today's method: every value counted as independent (one value = one "round").
        old_test += mann_whitney_p(pooled_a, pooled_b) < 0.05
        pooled = [(each_value_a_round(pooled_a), each_value_a_round(pooled_b))]
        old_interval += ratio_of_medians(pooled, n_boot=N_BOOT).excludes_one
        new_test += round_test(a, b) < 0.05
    assert old_test / PAIRS > 0.30, old_test
    assert old_interval / PAIRS > 0.30, old_interval
    # 5 % by construction; 7 % leaves room for the sampling error of 400 pairs.
    assert new_test / PAIRS <= 0.07, new_test


def test_a_known_effect_is_recovered_and_significant() -> None:
    rng = np.random.default_rng(5)
    base = clustered(rng, 8)
    slower = [r * 1.25 for r in clustered(rng, 8)]
    interval = ratio_of_medians([(slower, base)])
    assert interval.estimate == pytest.approx(1.25, rel=0.10)
    assert interval.has_ci and interval.low > 1.0
    p = round_test(slower, base)
    # Significant, and still so after Holm in a family of 20 with 19 true nulls.
    nulls = [round_test(clustered(rng, 8), clustered(rng, 8)) for _ in range(19)]
    assert holm([p, *nulls])[0] < 0.05


def test_hierarchical_interval_is_wider_than_the_pooled_one() -> None:
    rng = np.random.default_rng(11)
    a, b = clustered(rng, 5), clustered(rng, 5)
    rounds = ratio_of_medians([(a, b)])
    pooled = ratio_of_medians(
        [(each_value_a_round(np.concatenate(a)), each_value_a_round(np.concatenate(b)))]
    )
    assert (rounds.high - rounds.low) > 2 * (pooled.high - pooled.low)
    # Same seed, same data: the same interval (reports are reproducible).
    assert ratio_of_medians([(a, b)]) == rounds


def test_rounds_of_different_sizes() -> None:
    rng = np.random.default_rng(3)
    uneven = [np.array([1.0, 1.1, 0.9]), np.array([1.2]), np.array([0.95, 1.05])]
    interval = ratio_of_medians([(uneven, clustered(rng, 4, values=3))])
    assert interval.has_ci and interval.low < interval.estimate < interval.high
    spread = round_spread(uneven)
    assert (spread.n, spread.values, spread.median) == (3, 6, 1.0)


def test_too_few_rounds_is_untested() -> None:
    two = [np.array([1.0, 1.01, 0.99]), np.array([1.02, 1.0, 1.03])]
    three = [*two, np.array([1.01, 1.0, 1.02])]
    assert math.isnan(round_test(two, three))
    assert not math.isnan(round_test(three, three))
    interval = ratio_of_medians([(two, three)])
    assert interval.estimate == pytest.approx(1.0, abs=0.02) and not interval.has_ci
    assert MIN_ROUNDS == 3


def test_constant_series() -> None:
    same = each_value_a_round([5.0] * 4)
    assert round_test(same, same) == 1.0
    assert round_test(same, each_value_a_round([6.0] * 4)) == 0.0


def test_round_medians_and_grouping() -> None:
    values = [1.0, 3.0, 2.0, 10.0, 12.0, math.nan]
    rounds = by_round(values, [0, 0, 0, 1, 1, 2])
    assert [r.tolist() for r in rounds] == [[1.0, 3.0, 2.0], [10.0, 12.0]]
    assert round_medians(rounds).tolist() == [2.0, 11.0]


def test_holm_against_hand_computed_values() -> None:
    # Sorted: 0.005 x4 = 0.02; 0.01 x3 = 0.03; 0.03 x2 = 0.06; 0.04 x1 = 0.04 -> raised to
    # 0.06 (never below a smaller p's adjusted value). NaN = untested, outside the family.
    adjusted = holm([0.01, 0.04, 0.03, math.nan, 0.005])
    assert adjusted[:3].tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(adjusted[3])
    assert adjusted[4] == pytest.approx(0.02)
    assert holm([0.5, 0.9]).tolist() == pytest.approx([1.0, 1.0])
    assert holm([]).size == 0
    assert np.isnan(holm([math.nan, math.nan])).all()
