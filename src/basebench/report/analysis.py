"""From the tidy frame to the figures the report states: summaries and ratios (the
recommendation built on them is report/recommend.py)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache

import numpy as np
import pandas as pd

from basebench.errors import ConfigError
from basebench.report.frame import DEFAULT_ALLOCATORS, Configs, default_allocator, reference_config
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
from basebench.runtime_manifest import EMPTY_MANIFEST, UNCLASSIFIED, Manifest, read_manifest

#: A variant counts as "slower" in the recommendation only beyond this (and significant):
#: 5 % is about what a team would notice and what repeated runs on shared machines resolve.
RUNTIME_TOLERANCE = 1.05
RUNTIME_METRIC = "time"
#: A runtime ratio against the reference variant under its default allocator (pymalloc):
#: what a team gets by switching base image and allocator together.
VS_DEFAULT = "default"
#: A runtime ratio against the reference variant under the same allocator: the libc's effect
#: with the allocator held equal.
VS_SAME_ALLOCATOR = "same-allocator"


@cache
def workload_manifest() -> Manifest:
    """The runtime manifest, where the report looks workloads' mechanisms up by name.

    A report drawn where the manifest is missing or broken still renders, every workload
    "unclassified".
    """
    try:
        return read_manifest()
    except ConfigError:
        return EMPTY_MANIFEST


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
    #: VS_DEFAULT (against the reference's default allocator) or VS_SAME_ALLOCATOR.
    basis: str = VS_DEFAULT
    #: The manifest's mechanism of the workload (UNCLASSIFIED's name for unknown names).
    mechanism: str = UNCLASSIFIED.name

    @property
    def tested(self) -> bool:
        return not math.isnan(self.p_value)

    @property
    def significant(self) -> bool:
        return self.tested and self.p_adjusted < ALPHA

    @property
    def least_rounds(self) -> int:
        return min(self.rounds)


def runtime_ratios(
    frame: pd.DataFrame, configs: Configs, manifest: Manifest | None = None
) -> list[RuntimeRatio]:
    """Every (workload, config, allocator) time against the baseline variant, twice.

    VS_DEFAULT: against the baseline variant with CPython's default allocator, at the same
    Python: "alpine + mimalloc" is then read directly against what a team ships today, which is
    the question; the baseline's own allocator rows show what the allocator alone buys on
    glibc. VS_SAME_ALLOCATOR: against the baseline variant under the same allocator (where it
    has it), so "alpine + mimalloc vs slim + mimalloc" is the libc's effect with the allocator
    held equal; for the default allocator the two are one comparison, listed once.
    All the ratios of one report are one family: their p-values are Holm-adjusted together.
    """
    manifest = manifest or workload_manifest()
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
            bases = [(VS_DEFAULT, ref_alloc), (VS_SAME_ALLOCATOR, str(allocator))]
            for basis, den_alloc in bases:
                if den_alloc == ref_alloc and basis == VS_SAME_ALLOCATOR:
                    continue  # the same comparison as VS_DEFAULT
                if label == ref_label and allocator == den_alloc:
                    continue  # the reference against itself is 1.0 by construction
                den = ref_rows[
                    (ref_rows["benchmark"] == benchmark) & (ref_rows["allocator"] == den_alloc)
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
                        reference_allocator=den_alloc,
                        median=round_spread(num_rounds),
                        unit=str(sub["unit"].iloc[0]),
                        interval=ratio_of_medians([(num_rounds, den_rounds)]),
                        p_value=round_test(num_rounds, den_rounds),
                        rounds=(len(num_rounds), len(den_rounds)),
                        warnings=warnings_of(sub),
                        basis=basis,
                        mechanism=manifest.mechanism_of(str(benchmark)).name,
                    )
                )
    adjusted = holm([r.p_value for r in out])
    return [replace(r, p_adjusted=float(p)) for r, p in zip(out, adjusted, strict=True)]


def _series(runtime: pd.DataFrame, config: str, benchmark: str, allocator: str) -> list[FloatArray]:
    return rounds_of(
        runtime[
            (runtime["config"] == config)
            & (runtime["benchmark"] == benchmark)
            & (runtime["allocator"] == allocator)
        ]
    )


def _pair(runtime: pd.DataFrame, r: RuntimeRatio) -> tuple[list[FloatArray], list[FloatArray]]:
    """The rounds of a ratio's two series (numerator, denominator)."""
    return (
        _series(runtime, r.config, r.benchmark, r.allocator),
        _series(runtime, r.reference, r.benchmark, r.reference_allocator),
    )


def mechanism_exponents(mechanisms: Sequence[str]) -> list[float]:
    """Exponents that count each mechanism once in a geometric mean over workloads.

    One per workload (``mechanisms[i]`` is workload i's): 1 / (mechanisms x its workloads).
    """
    counts: dict[str, int] = defaultdict(int)
    for m in mechanisms:
        counts[m] += 1
    return [1.0 / (len(counts) * counts[m]) for m in mechanisms]


@dataclass(frozen=True)
class MechanismRatio:
    """One mechanism's ratio for one (config, allocator, basis): the geometric mean of its
    workloads' ratios, with a hierarchical bootstrap interval.

    ``significant``: a mechanism of one workload is that workload's comparison, judged by its
    corrected test; one of several workloads is a summary, judged by its interval (as the
    headline is).
    """

    mechanism: str
    config: str
    allocator: str
    basis: str
    reference: str
    reference_allocator: str
    workloads: tuple[str, ...]
    interval: Interval
    #: The fewest rounds of any series in it (below MIN_ROUNDS it has no interval).
    least_rounds: int
    significant: bool = False


def mechanism_ratios(
    frame: pd.DataFrame, ratios: Sequence[RuntimeRatio], manifest: Manifest | None = None
) -> list[MechanismRatio]:
    """Each mechanism's ratios, in the manifest's order of mechanisms (unclassified last)."""
    manifest = manifest or workload_manifest()
    runtime = select(frame, group="runtime", metric=RUNTIME_METRIC)
    groups: dict[tuple[str, str, str, str], list[RuntimeRatio]] = defaultdict(list)
    for r in ratios:
        groups[(r.mechanism, r.config, r.allocator, r.basis)].append(r)
    out = []
    for (mechanism, config, allocator, basis), members in groups.items():
        pairs = [_pair(runtime, r) for r in members]
        interval = ratio_of_medians(pairs)
        out.append(
            MechanismRatio(
                mechanism=mechanism,
                config=config,
                allocator=allocator,
                basis=basis,
                reference=members[0].reference,
                reference_allocator=members[0].reference_allocator,
                workloads=tuple(r.benchmark for r in members),
                interval=interval,
                least_rounds=min(r.least_rounds for r in members),
                significant=members[0].significant if len(members) == 1 else interval.excludes_one,
            )
        )
    return sorted(out, key=lambda m: manifest.mechanism_rank(m.mechanism))


@dataclass(frozen=True)
class Scaling:
    """How a workload of N workers scales against its 1-worker twin (same loop, same total
    work): t(N) / t(1) within one config and allocator; 1/N is perfect, 1 is no gain."""

    workload: str
    baseline: str
    workers: int
    config: str
    allocator: str
    scaling: Interval
    #: This scaling over the reference variant's under the same allocator: > 1 = this variant
    #: loses more to running its workers at once (contention) than the reference does.
    versus_reference: Interval
    reference: str


def _allocator_order(allocators: set[str]) -> list[str]:
    """CPython's default allocator first, the others by name."""
    first = [a for a in DEFAULT_ALLOCATORS if a in allocators]
    return first + sorted(allocators - set(first))


def scaling_pairs(manifest: Manifest) -> list[tuple[str, str, int]]:
    """(N-worker workload, its 1-worker twin, N): workloads of one script, one needing 1 CPU."""
    out = []
    by_script: dict[str, list[str]] = defaultdict(list)
    for w in manifest.workloads:
        by_script[w.script].append(w.name)
    for names in by_script.values():
        workloads = [manifest.workload(n) for n in names]
        singles = [w for w in workloads if w is not None and w.cpus == 1]
        if len(singles) != 1:
            continue
        out += [(w.name, singles[0].name, w.cpus) for w in workloads if w and w.cpus > 1]
    return out


def scalings(
    frame: pd.DataFrame, configs: Configs, manifest: Manifest | None = None
) -> list[Scaling]:
    """Every thread/process workload's scaling, per config and allocator, and against the
    reference's: contention shown apart from speed."""
    manifest = manifest or workload_manifest()
    runtime = select(frame, group="runtime", metric=RUNTIME_METRIC)
    out: list[Scaling] = []
    for many, one, workers in scaling_pairs(manifest):
        for label in configs.order:
            ref = reference_config(configs, label)
            mine = runtime[runtime["config"] == label]
            present = set(mine[mine["benchmark"] == many]["allocator"].tolist())
            for allocator in _allocator_order(present):
                own = (
                    _series(runtime, label, many, allocator),
                    _series(runtime, label, one, allocator),
                )
                if not own[0] or not own[1]:
                    continue
                theirs = (
                    (_series(runtime, ref, many, allocator), _series(runtime, ref, one, allocator))
                    if ref is not None and ref != label
                    else ([], [])
                )
                versus = (
                    ratio_of_medians([(own[0], theirs[0]), (theirs[1], own[1])], exponents=[1, 1])
                    if theirs[0] and theirs[1]
                    else Interval(math.nan, math.nan, math.nan)
                )
                out.append(
                    Scaling(
                        workload=many,
                        baseline=one,
                        workers=workers,
                        config=label,
                        allocator=allocator,
                        scaling=ratio_of_medians([own]),
                        versus_reference=versus,
                        reference=ref or "",
                    )
                )
    return out


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
    #: The headline: geometric mean over mechanisms (each the geometric mean of its workloads),
    #: with a (summary) bootstrap interval.
    runtime: Interval = field(default_factory=lambda: Interval(math.nan, math.nan, math.nan))
    workloads: int = 0
    mechanisms: int = 0
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


def summarise(
    frame: pd.DataFrame, configs: Configs, ratios: Sequence[RuntimeRatio] | None = None
) -> list[SummaryRow]:
    """A row per config; ``ratios``: :func:`runtime_ratios` when the caller has them already
    (their bootstrap is the slow part of a report)."""
    ratios = runtime_ratios(frame, configs) if ratios is None else ratios
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
    """The variant as shipped (its default allocator) vs the reference, over all workloads,
    each mechanism counted once: four workloads of one mechanism weigh as much as one."""
    mine = [r for r in mine if r.basis == VS_DEFAULT]
    if not mine:
        return
    alloc = default_allocator([r.allocator for r in mine])
    row.runtime, pairs, mechanisms = _allocator_headline(mine, alloc, runtime)
    row.workloads = len(pairs)
    row.mechanisms = len(set(mechanisms))
    row.runtime_rounds = min((min(len(a), len(b)) for a, b in pairs), default=0)


def _allocator_headline(
    mine: Sequence[RuntimeRatio], allocator: str, runtime: pd.DataFrame
) -> tuple[Interval, list[tuple[list[FloatArray], list[FloatArray]]], list[str]]:
    """One config + allocator against the reference's default allocator, each mechanism
    counted once: (the summary interval, the per-workload pairs, their mechanisms)."""
    shipped = [r for r in mine if r.allocator == allocator]
    pairs = [_pair(runtime, r) for r in shipped]
    mechanisms = [r.mechanism for r in shipped]
    return ratio_of_medians(pairs, exponents=mechanism_exponents(mechanisms)), pairs, mechanisms


def allocator_headlines(
    frame: pd.DataFrame, configs: Configs, ratios: Sequence[RuntimeRatio] | None = None
) -> dict[tuple[str, str], Interval]:
    """(config, allocator) -> its headline against the reference's default allocator, for
    every allocator a config was measured with (what switching allocator buys a team)."""
    runtime = select(frame, group="runtime", metric=RUNTIME_METRIC)
    every = runtime_ratios(frame, configs) if ratios is None else ratios
    ratios = [r for r in every if r.basis == VS_DEFAULT]
    out = {}
    for label in configs.order:
        mine = [r for r in ratios if r.config == label]
        for allocator in dict.fromkeys(r.allocator for r in mine):
            out[(label, allocator)] = _allocator_headline(mine, allocator, runtime)[0]
    return out


#: Per workload: (rounds of the numerator's series, rounds of the denominator's).
Pairs = list[tuple[list[FloatArray], list[FloatArray]]]


def shipped_pairs(
    frame: pd.DataFrame, num: tuple[str, str], den: tuple[str, str]
) -> tuple[Pairs, list[str], list[tuple[str, str]]]:
    """Per workload measured on both (python, variant) sides, each with its default allocator:
    (rounds of num, rounds of den), the workload's mechanism, and (workload, num's allocator)."""
    runtime = select(frame, group="runtime", metric=RUNTIME_METRIC)
    manifest = workload_manifest()
    sides = []
    for python, variant in (num, den):
        rows = runtime[(runtime["python"] == python) & (runtime["variant"] == variant)]
        alloc = default_allocator(rows["allocator"].tolist())
        sides.append(rows[rows["allocator"] == alloc])
    pairs: Pairs = []
    mechanisms: list[str] = []
    series: list[tuple[str, str]] = []
    for benchmark in sorted(set(sides[0]["benchmark"]) & set(sides[1]["benchmark"])):
        a, b = (s[s["benchmark"] == benchmark] for s in sides)
        pairs.append((rounds_of(a), rounds_of(b)))
        mechanisms.append(manifest.mechanism_of(str(benchmark)).name)
        series.append((str(benchmark), str(a["allocator"].iloc[0])))
    return pairs, mechanisms, series


def least_rounds(pairs: Pairs) -> int:
    return min((min(len(a), len(b)) for a, b in pairs), default=0)
