"""``basebench validate``'s verdicts on its own run: the decision rule held against known truth.

The validate run measures one image under three variant names: the variant itself, an A/A
twin (the same image: every difference is noise) and a twin with a slowdown of known size
(runtime workloads doing a known multiple of their work, start-up commands spinning a known
time first, builds with a RUN step sleeping a known time). Each twin is compared with the
variant through ``compare_frames``, the very rule ``basebench compare`` applies to two runs,
with the twin relabelled as the variant; both sides come from one run, so there is no host drift
to allow for. Then:

- A/A: every timing must come out not significant after the correction;
- known effect: every timing must come out significant, and the injected ratio ±10 % must meet
  the measured ratio's 95 % interval (runtime: the work really done, after pyperf's loops were
  rounded; start-up and builds: the variant's own median plus the delay, over that median).
  The interval, not the point estimate alone: the expected ratio is itself built from the
  variant's noisy median, so a point estimate just outside ±10 % with an interval reaching
  inside it is a measurement that agrees with the truth, not a miss.

The A/A ratios are this host's noise floor, kept in run.json for every later report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from basebench.report.compare import IMPROVED, REGRESSED, MetricComparison, compare_frames

#: A known effect counts as recovered when measured/expected is within this.
EFFECT_TOLERANCE = 0.10
#: What validate judges: the timings whose statistics the rule is about.
TIMED = {("runtime", "time"), ("startup", "wall_time"), ("build", "wall_time")}


@dataclass(frozen=True)
class Check:
    """One validation check: what was compared, what was found, and whether it passed."""

    group: str
    name: str
    passed: bool
    measured: str
    expected: str

    def as_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "name": self.name,
            "passed": self.passed,
            "measured": self.measured,
            "expected": self.expected,
        }


def _timed(frame: pd.DataFrame) -> pd.DataFrame:
    keys = list(zip(frame["group"], frame["metric"], strict=True))
    return frame[[key in TIMED for key in keys]]


def twin_comparisons(frame: pd.DataFrame, variant: str, twin: str) -> list[MetricComparison]:
    """Each timed metric of ``twin`` against ``variant``'s, decided as ``compare`` would
    (factor 1.0: the test alone decides)."""
    timed = _timed(frame)
    base = timed[timed["variant"] == variant]
    other = timed[timed["variant"] == twin].copy()
    other["variant"] = variant
    rows, _, _ = compare_frames(base, other, factor=1.0, drifts=[])
    return rows


#: (group, benchmark, strategy): one timed series of a variant (a start-up command runs on the
#: base image and on each app image, told apart by the strategy).
SeriesKey = tuple[str, str, str]


def _series(row: MetricComparison) -> SeriesKey:
    return (row.group, row.benchmark, row.strategy)


def _name(row: MetricComparison) -> str:
    suffix = f" ({row.strategy})" if row.strategy and row.strategy != row.benchmark else ""
    return f"{row.benchmark} {row.metric}{suffix}"


def _ratio_text(row: MetricComparison) -> str:
    if not row.tested:
        return "untested"
    low, high = row.ci
    interval = f" [{low:.3f}-{high:.3f}]" if math.isfinite(low) and math.isfinite(high) else ""
    return f"{row.worse_ratio:.3f}x{interval} (Holm p = {row.p_adjusted:.2g})"


def agrees_with(row: MetricComparison, want: float) -> bool:
    """Whether ``want`` ±EFFECT_TOLERANCE meets the row's ratio or its 95 % interval."""
    if not math.isfinite(row.worse_ratio):
        return False
    low, high = row.ci
    if not (math.isfinite(low) and math.isfinite(high)):
        low = high = row.worse_ratio
    return low <= want * (1.0 + EFFECT_TOLERANCE) and high >= want * (1.0 - EFFECT_TOLERANCE)


def aa_checks(rows: Sequence[MetricComparison]) -> list[Check]:
    """The A/A twin: no timing may differ significantly (one check per metric)."""
    checks = []
    for row in rows:
        significant = row.status in (REGRESSED, IMPROVED)
        checks.append(
            Check(
                row.group,
                f"A/A {_name(row)}",
                row.tested and not significant,
                _ratio_text(row),
                "tested, not significant after correction",
            )
        )
    return checks


def effect_checks(
    rows: Sequence[MetricComparison], expected: Mapping[SeriesKey, float]
) -> list[Check]:
    """The slowed twin: every timing found slower, by the injected ratio ±10 %.

    ``expected`` maps each series to the ratio the injection must produce; an expected effect
    with nothing measured fails (a twin whose build failed proves nothing).
    """
    checks = []
    found = {_series(row): row for row in rows}
    for key, want in sorted(expected.items()):
        row = found.get(key)
        if row is None:
            group, benchmark, _ = key
            checks.append(
                Check(group, f"known effect {benchmark}", False, "not measured", "measured")
            )
            continue
        checks.append(
            Check(
                row.group,
                f"known effect {_name(row)}",
                row.tested and row.status == REGRESSED and agrees_with(row, want),
                _ratio_text(row) + ("" if row.status == REGRESSED else f", {row.status}"),
                f"significant, {want:.3f}x ± {EFFECT_TOLERANCE:.0%} within the 95 % interval",
            )
        )
    return checks


def failure_checks(failures: Sequence[Mapping[str, Any]], run_id: str) -> list[Check]:
    """A failure in a validation run (a twin's build, a workload) leaves a check unproven."""
    checks = []
    for failure in failures:
        first_line = (str(failure.get("message", "")).splitlines() or [""])[0][:200]
        what = f"{run_id}: {failure.get('what', '?')}"
        checks.append(
            Check(str(failure.get("group", "?")), what, False, f"failed: {first_line}", "none")
        )
    return checks


def delay_expectations(
    frame: pd.DataFrame, variant: str, group: str, delay_s: float
) -> dict[SeriesKey, float]:
    """Each series -> (median + delay) / median of ``variant``'s own wall times: what an added
    delay of ``delay_s`` must turn into (start-up commands, builds)."""
    timed = frame[
        (frame["group"] == group) & (frame["variant"] == variant) & (frame["metric"] == "wall_time")
    ]
    out = {}
    for (benchmark, strategy), sub in timed.groupby(["benchmark", "strategy"]):
        median = float(sub["value"].median())
        out[(group, str(benchmark), str(strategy))] = (median + delay_s) / median
    return out


def noise_floor(rows: Sequence[MetricComparison]) -> dict[str, dict[str, float]]:
    """Per group: how far the A/A ratios strayed from 1 (the largest, and the median)."""
    by_group: dict[str, list[float]] = {}
    for row in rows:
        if row.tested and math.isfinite(row.worse_ratio) and row.worse_ratio > 0:
            by_group.setdefault(row.group, []).append(abs(math.log(row.worse_ratio)))
    return {
        group: {
            "metrics": float(len(logs)),
            "largest_ratio": math.exp(max(logs)),
            "median_ratio": math.exp(sorted(logs)[len(logs) // 2]),
        }
        for group, logs in by_group.items()
    }
