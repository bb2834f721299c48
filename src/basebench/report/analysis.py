"""From the tidy frame to the figures the report states: summaries and ratios (the
recommendation built on them is report/recommend.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from basebench.report.frame import Configs, default_allocator, reference_config
from basebench.report.stats import (
    ALPHA,
    MIN_ROUNDS,
    FloatArray,
    Interval,
    Spread,
    holm,
    ratio_of_medians,
    round_spread,
    round_test,
)

#: A variant counts as "slower" in the recommendation only beyond this (and significant):
#: 5 % is about what a team would notice and what repeated runs on shared machines resolve.
RUNTIME_TOLERANCE = 1.05
RUNTIME_METRIC = "time"


def values(frame: pd.DataFrame) -> np.ndarray:
    return frame["value"].to_numpy(dtype=np.float64)


def rounds_of(frame: pd.DataFrame) -> list[FloatArray]:
    """A series' values per round: the unit of replication (see :mod:`basebench.report.stats`).

    Rounds are numbered within a run, so the run is part of the round's identity.
    """
    out = []
    for _, sub in frame.groupby(["run", "round"], sort=True):
        vals = values(sub)
        vals = vals[np.isfinite(vals)]
        if vals.size:
            out.append(vals)
    return out


def series_spread(frame: pd.DataFrame) -> Spread:
    """Median and IQR over a series' rounds (of their medians), with n = rounds and values."""
    return round_spread(rounds_of(frame))


def select(frame: pd.DataFrame, **equals: str) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for column, wanted in equals.items():
        mask &= frame[column] == wanted
    return frame[mask]


def warnings_of(frame: pd.DataFrame) -> str:
    """pyperf's stability warnings on a runtime series ("" when it had none)."""
    notes = [d for d in dict.fromkeys(frame["detail"].tolist()) if d]
    return " | ".join(notes)


@dataclass(frozen=True)
class RuntimeRatio:
    benchmark: str
    config: str
    allocator: str
    reference: str
    reference_allocator: str
    median: Spread
    unit: str
    #: Hierarchical bootstrap, per comparison (not corrected for the family).
    interval: Interval
    #: Welch's t on log per-round medians; NaN = untested (fewer than MIN_ROUNDS rounds).
    p_value: float = math.nan
    #: Holm-adjusted over every runtime ratio of the report: this decides "significant".
    p_adjusted: float = math.nan
    #: Rounds of (this series, the reference's series).
    rounds: tuple[int, int] = (0, 0)
    #: pyperf's stability warnings on this series ("" when none).
    warnings: str = ""

    @property
    def tested(self) -> bool:
        return not math.isnan(self.p_value)

    @property
    def significant(self) -> bool:
        return self.tested and self.p_adjusted < ALPHA

    @property
    def least_rounds(self) -> int:
        return min(self.rounds)


def runtime_ratios(frame: pd.DataFrame, configs: Configs) -> list[RuntimeRatio]:
    """Every (workload, config, allocator) time against the baseline variant's default allocator.

    The reference is the baseline variant with CPython's default allocator, at the same Python:
    "alpine + mimalloc" is then read directly against what a team ships today, which is the
    question; the baseline's own allocator rows show what the allocator alone buys on glibc.
    All the ratios of one report are one family: their p-values are Holm-adjusted together.
    """
    runtime = select(frame, group="runtime", metric=RUNTIME_METRIC)
    out: list[RuntimeRatio] = []
    if runtime.empty:
        return out
    for label in configs.order:
        ref_label = reference_config(configs, label)
        if ref_label is None:
            continue
        ref_rows = runtime[runtime["config"] == ref_label]
        ref_alloc = default_allocator(ref_rows["allocator"].tolist())
        rows = runtime[runtime["config"] == label]
        for (benchmark, allocator), sub in rows.groupby(["benchmark", "allocator"], sort=True):
            if label == ref_label and allocator == ref_alloc:
                continue  # the reference against itself is 1.0 by construction
            den = ref_rows[
                (ref_rows["benchmark"] == benchmark) & (ref_rows["allocator"] == ref_alloc)
            ]
            if den.empty:
                continue
            num_rounds, den_rounds = rounds_of(sub), rounds_of(den)
            out.append(
                RuntimeRatio(
                    benchmark=str(benchmark),
                    config=label,
                    allocator=str(allocator),
                    reference=ref_label,
                    reference_allocator=ref_alloc,
                    median=round_spread(num_rounds),
                    unit=str(sub["unit"].iloc[0]),
                    interval=ratio_of_medians([(num_rounds, den_rounds)]),
                    p_value=round_test(num_rounds, den_rounds),
                    rounds=(len(num_rounds), len(den_rounds)),
                    warnings=warnings_of(sub),
                )
            )
    adjusted = holm([r.p_value for r in out])
    return [replace(r, p_adjusted=float(p)) for r, p in zip(out, adjusted, strict=True)]


@dataclass
class SummaryRow:
    config: str
    variant: str
    python: str
    libc: str
    is_reference: bool
    compressed: float = math.nan
    uncompressed: float = math.nan
    size_role: str = ""
    build: Spread | None = None
    build_strategy: str = ""
    installs: int = 0
    failed: list[str] = field(default_factory=list)
    sdist: list[str] = field(default_factory=list)
    #: The headline: geometric mean over workloads, with a (summary) bootstrap interval.
    runtime: Interval = field(default_factory=lambda: Interval(math.nan, math.nan, math.nan))
    workloads: int = 0
    #: The fewest rounds of any series in the headline (below MIN_ROUNDS it has no interval).
    runtime_rounds: int = 0

    @property
    def runtime_untested(self) -> bool:
        return not self.is_reference and self.workloads > 0 and self.runtime_rounds < MIN_ROUNDS


def _size(frame: pd.DataFrame, metric: str) -> tuple[float, str]:
    # The base image is what every variant has and what the choice is about; app images add
    # the same application on top and are shown in the size section.
    sizes = select(frame, group="size", metric=metric)
    if sizes.empty:
        return math.nan, ""
    roles = list(dict.fromkeys(sizes["benchmark"].tolist()))
    role = "base" if "base" in roles else roles[0]
    return float(np.median(values(sizes[sizes["benchmark"] == role]))), role


def install_outcomes(frame: pd.DataFrame) -> dict[str, str]:
    """package -> "failed" / "sdist" / "wheel" (with tag) for one config's install rows."""
    installs = select(frame, group="install")
    out: dict[str, str] = {}
    for package, sub in installs.groupby("benchmark", sort=True):
        failed = sub[(sub["metric"] == "failed") & (sub["value"] > 0)]
        details = [d for d in sub["detail"].tolist() if d]
        if not failed.empty or any(d.startswith("failed") for d in details):
            out[str(package)] = "failed"
        elif any(d.startswith("sdist") for d in details):
            out[str(package)] = "sdist"
        elif details:
            out[str(package)] = details[0]
        else:
            out[str(package)] = "unknown"
    return out


def summarise(frame: pd.DataFrame, configs: Configs) -> list[SummaryRow]:
    ratios = runtime_ratios(frame, configs)
    runtime = select(frame, group="runtime", metric=RUNTIME_METRIC)
    rows = []
    for label in configs.order:
        _run, python, variant = configs.keys[label]
        sub = frame[frame["config"] == label]
        ref = reference_config(configs, label)
        row = SummaryRow(
            config=label,
            variant=variant,
            python=python,
            libc=str(sub["libc"].iloc[0]) if not sub.empty else "",
            is_reference=ref == label,
        )
        row.compressed, row.size_role = _size(sub, "compressed")
        row.uncompressed, _ = _size(sub, "uncompressed")
        builds = select(sub, group="build", metric="wall_time")
        if not builds.empty:
            # Build rows name the strategy in ``benchmark``. The fastest strategy is the one a
            # team would pick; the build section shows them all.
            spreads = {str(name): series_spread(g) for name, g in builds.groupby("benchmark")}
            best = min(spreads, key=lambda k: spreads[k].median)
            row.build, row.build_strategy = spreads[best], best
        outcomes = install_outcomes(sub)
        row.installs = len(outcomes)
        row.failed = [p for p, o in outcomes.items() if o == "failed"]
        row.sdist = [p for p, o in outcomes.items() if o == "sdist"]
        if row.is_reference:
            row.runtime = Interval(1.0, 1.0, 1.0)
        elif ref is not None:
            _headline(row, [r for r in ratios if r.config == label], runtime)
        rows.append(row)
    return rows


def _headline(row: SummaryRow, mine: Sequence[RuntimeRatio], runtime: pd.DataFrame) -> None:
    """The variant as shipped (its default allocator) vs the reference, over all workloads."""
    if not mine:
        return
    alloc = default_allocator([r.allocator for r in mine])
    pairs = _headline_pairs(row.config, alloc, mine, runtime)
    row.runtime = ratio_of_medians(pairs)
    row.workloads = len(pairs)
    row.runtime_rounds = min((min(len(a), len(b)) for a, b in pairs), default=0)


def _headline_pairs(
    config: str, allocator: str, mine: Sequence[RuntimeRatio], runtime: pd.DataFrame
) -> list[tuple[list[FloatArray], list[FloatArray]]]:
    """(this config + allocator, the reference) rounds per workload, for a headline."""
    ref, ref_alloc = mine[0].reference, mine[0].reference_allocator
    ref_rows = runtime[(runtime["config"] == ref) & (runtime["allocator"] == ref_alloc)]
    own_rows = runtime[(runtime["config"] == config) & (runtime["allocator"] == allocator)]
    return [
        (
            rounds_of(own_rows[own_rows["benchmark"] == r.benchmark]),
            rounds_of(ref_rows[ref_rows["benchmark"] == r.benchmark]),
        )
        for r in mine
        if r.allocator == allocator
    ]


def allocator_headlines(frame: pd.DataFrame, configs: Configs) -> dict[tuple[str, str], Interval]:
    """(config, allocator) -> its headline against the reference's default allocator, for
    every allocator a config was measured with (what switching allocator buys)."""
    runtime = select(frame, group="runtime", metric=RUNTIME_METRIC)
    ratios = runtime_ratios(frame, configs)
    out = {}
    for label in configs.order:
        mine = [r for r in ratios if r.config == label]
        for allocator in dict.fromkeys(r.allocator for r in mine):
            out[(label, allocator)] = ratio_of_medians(
                _headline_pairs(label, allocator, mine, runtime)
            )
    return out
