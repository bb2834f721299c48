"""``basebench validate``'s verdicts (report/validation.py) on synthetic runs of known truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from basebench.report.frame import normalise
from basebench.report.validation import (
    aa_checks,
    delay_expectations,
    effect_checks,
    noise_floor,
    twin_comparisons,
)
from basebench.results import TIDY_COLUMNS

V, AA, SLOW = "slim-trixie", "slim-trixie-aa", "slim-trixie-slow"


def _rows(
    variant: str, group: str, benchmark: str, values: list[list[float]]
) -> list[dict[str, object]]:
    metric, unit = ("time", "s") if group == "runtime" else ("wall_time", "s")
    rows: list[dict[str, object]] = []
    sample = 0
    for round_no, round_values in enumerate(values):
        for value in round_values:
            rows.append(
                {
                    "run": "r",
                    "group": group,
                    "benchmark": benchmark,
                    "variant": variant,
                    "python": "3.13",
                    "libc": "glibc",
                    "base_source": "local",
                    "strategy": "",
                    "allocator": "pymalloc" if group == "runtime" else "",
                    "metric": metric,
                    "value": value,
                    "unit": unit,
                    "sample": sample,
                    "round": round_no,
                    "detail": "",
                }
            )
            sample += 1
    return rows


def _frame(aa_factor: float = 1.0, slow_factor: float = 1.25, delay: float = 0.05) -> pd.DataFrame:
    rng = np.random.default_rng(7)

    def runtime(scale: float) -> list[list[float]]:
        # 5 rounds of 6 values: rounds differ by ~3 %, values within a round by ~1 %
        return [
            list(0.010 * scale * rng.normal(1, 0.03) * rng.normal(1, 0.01, 6)) for _ in range(5)
        ]

    def startup(extra: float) -> list[list[float]]:
        return [[float(0.18 * rng.normal(1, 0.02) + extra)] for _ in range(15)]

    rows: list[dict[str, object]] = []
    for variant, scale, extra in ((V, 1.0, 0.0), (AA, aa_factor, 0.0), (SLOW, slow_factor, delay)):
        rows += _rows(variant, "runtime", "small_objects", runtime(scale))
        rows += _rows(variant, "startup", "python -c pass", startup(extra))
    return normalise(pd.DataFrame(rows, columns=list(TIDY_COLUMNS)))


def test_an_aa_twin_passes_and_a_known_effect_is_recovered() -> None:
    frame = _frame()
    aa = aa_checks(twin_comparisons(frame, V, AA))
    assert [c.passed for c in aa] == [True, True], aa
    expected = delay_expectations(frame, V, "startup", 0.05)
    expected[("runtime", "small_objects", "")] = 1.25
    effect = effect_checks(twin_comparisons(frame, V, SLOW), expected)
    assert len(effect) == 2 and all(c.passed for c in effect), effect
    floor = noise_floor(twin_comparisons(frame, V, AA))
    assert set(floor) == {"runtime", "startup"}
    assert all(1.0 <= f["largest_ratio"] < 1.1 for f in floor.values())


def test_a_twin_that_really_differs_fails_the_aa_check() -> None:
    frame = _frame(aa_factor=1.3)
    checks = {c.name: c for c in aa_checks(twin_comparisons(frame, V, AA))}
    assert not checks["A/A small_objects time"].passed


def test_an_effect_of_the_wrong_size_fails() -> None:
    # Injected 1.25x, but the twin is 1.6x slower: significant, yet not the effect injected.
    frame = _frame(slow_factor=1.6)
    effect = effect_checks(
        twin_comparisons(frame, V, SLOW), {("runtime", "small_objects", ""): 1.25}
    )
    assert [c.passed for c in effect] == [False]


def _startup_pair(base_values: list[float], slow_values: list[float]) -> pd.DataFrame:
    rows = _rows(V, "startup", "python -c pass", [[v] for v in base_values])
    rows += _rows(SLOW, "startup", "python -c pass", [[v] for v in slow_values])
    return normalise(pd.DataFrame(rows, columns=list(TIDY_COLUMNS)))


def test_an_effect_is_judged_by_its_interval_not_its_point_estimate() -> None:
    # The expected ratio rests on the variant's own median: with a noisy variant (±12 %), a
    # point estimate 12 % off the expected one still has an interval that reaches it ...
    rng = np.random.default_rng(3)
    noisy = list(0.18 * rng.normal(1, 0.12, 15))
    slow = float(np.median(noisy)) * 1.25 + 0.25
    frame = _startup_pair(noisy, [slow + float(e) for e in rng.normal(0, 0.005, 15)])
    expected = delay_expectations(frame, V, "startup", 0.25)
    [check] = effect_checks(twin_comparisons(frame, V, SLOW), expected)
    want = expected[("startup", "python -c pass", "")]
    row = twin_comparisons(frame, V, SLOW)[0]
    assert abs(row.worse_ratio / want - 1) > 0.10, (row.worse_ratio, want)
    assert check.passed, check
    # ... while a tight series measured 25 % off cannot pass.
    tight = list(0.18 * rng.normal(1, 0.005, 15))
    frame = _startup_pair(tight, [0.18 + 0.25 * 1.7 + float(e) for e in rng.normal(0, 0.002, 15)])
    expected = delay_expectations(frame, V, "startup", 0.25)
    [check] = effect_checks(twin_comparisons(frame, V, SLOW), expected)
    assert not check.passed, check
    assert "[" in check.measured  # the interval is shown


def test_the_newest_validation_of_the_same_cpu_is_found(tmp_path: Path) -> None:
    import json

    from basebench.results import latest_validation

    root = tmp_path / "results"
    root.mkdir()
    (root / "README.md").write_text("# results\n")  # not a run: skipped
    for run_id, cpu, passed in (
        ("20260101-000000-a", "cpu A", True),
        ("20260102-000000-b", "cpu B", False),
        ("20260103-000000-c", "cpu A", False),
        ("20260104-000000-d", "cpu A", None),  # a run that is not a validation
    ):
        (root / run_id).mkdir()
        meta = {"format": "basebench.run/1", "run_id": run_id, "host": {"cpu_model": cpu}}
        if passed is not None:
            meta["validation"] = {"passed": passed, "checks": [], "noise_floor": {}}
        (root / run_id / "run.json").write_text(json.dumps(meta))
    found = latest_validation(root, "cpu A")
    assert found is not None and found["run_id"] == "20260103-000000-c"
    assert latest_validation(root, "cpu C") is None
    assert latest_validation(tmp_path / "nowhere", "cpu A") is None


def test_an_effect_that_was_not_measured_fails_and_so_does_a_failure() -> None:
    from basebench.report.validation import failure_checks

    frame = _frame()
    rows = twin_comparisons(frame, V, SLOW)
    missing = effect_checks(rows, {("build", "custom", "custom"): 1.5})
    assert [(c.name, c.passed) for c in missing] == [("known effect custom", False)]
    failed = failure_checks([{"group": "build", "what": "custom on x", "message": "boom\n."}], "r")
    assert [(c.passed, c.measured) for c in failed] == [(False, "failed: boom")]
