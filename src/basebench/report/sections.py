"""The report section of each measurement group, as :mod:`basebench.groups` names them.

Every section has one signature, ``section(ctx: ReportContext) -> list[Block]``, so that the
report can call whatever the registry names without knowing the group. A section decides
itself what it says without data: most say that they were omitted; HTTP, which only some
profiles measure, says nothing at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from basebench.report import charts
from basebench.report.analysis import (
    RUNTIME_METRIC,
    RuntimeRatio,
    install_outcomes,
    runtime_ratios,
    select,
    series_spread,
    warnings_of,
)
from basebench.report.doc import Block, Bullets, Heading, Para, Table
from basebench.report.fmt import (
    interval_text,
    n_text,
    p_text,
    ratio,
    spread_text,
    verdict,
)
from basebench.report.frame import DEFAULT_ALLOCATORS, Configs
from basebench.report.stats import ALPHA, MIN_ROUNDS, Spread
from basebench.report.style import STYLE, PlotStyle


@dataclass(frozen=True, eq=False)
class ReportContext:
    """What every section reads: the labelled frame (no host probes), where charts go."""

    frame: pd.DataFrame
    configs: Configs
    out: Path
    style: PlotStyle = STYLE

    @cached_property
    def ratios(self) -> list[RuntimeRatio]:
        # Bootstrapped intervals are the slow part of a report: computed once, when asked.
        return runtime_ratios(self.frame, self.configs)

    def group(self, name: str) -> pd.DataFrame:
        return select(self.frame, group=name)


# --- shared tables --------------------------------------------------------------------------


def metric_table(frame: pd.DataFrame, configs: Configs, caption: str = "") -> Table:
    """benchmark × metric rows, one column per config, cells ``median ± half-IQR unit``.

    The median and the quartiles are over rounds (of their medians where a round holds several
    values); the n column says how many rounds (and values) each config had.
    """
    cfgs = [c for c in configs.order if c in set(frame["config"].tolist())]
    # Build rows repeat the strategy as the benchmark name: show the column only if it adds.
    extra = [
        c
        for c in ("strategy", "allocator")
        if (frame[c] != "").any() and not (frame[c] == frame["benchmark"]).all()
    ]
    keys = ["benchmark", "metric", *extra]
    body = []
    for key, sub in frame.groupby(keys, sort=False):
        key_values = [str(k) for k in (key if isinstance(key, tuple) else (key,))]
        unit = str(sub["unit"].iloc[0])
        spreads = [series_spread(sub[sub["config"] == cfg]) for cfg in cfgs]
        cells = [spread_text(sp, unit) for sp in spreads]
        body.append([*key_values, n_column(spreads), *cells])
    columns = [k.capitalize() for k in keys] + ["n", *cfgs]
    align = ["l"] * len(keys) + ["r"] * (len(cfgs) + 1)
    return Table(
        columns,
        body,
        align=align,
        caption=caption
        or "median ± half the interquartile range over repeated rounds (a single round: its "
        "value alone); n = rounds per variant, in the column order when they differ",
    )


def n_column(spreads: Sequence[Spread]) -> str:
    """One n for a row when every config has the same, else each config's in column order."""
    texts = [n_text(sp) for sp in spreads]
    present = [t for t in texts if t != "–"]
    if present and len(set(present)) == 1:
        return present[0]
    return " / ".join(texts)


def _omitted(name: str) -> Para:
    return Para(f"_{name}: no data in this run; section omitted._")


# --- build and install ----------------------------------------------------------------------


def build_and_install(ctx: ReportContext) -> list[Block]:
    build, install = ctx.group("build"), ctx.group("install")
    if build.empty and install.empty:
        return [_omitted("Build and install")]
    blocks: list[Block] = [Heading("Build and install")]
    if build.empty:
        blocks.append(_omitted("Build time"))
    else:
        blocks += [Heading("Build time per strategy", 3), metric_table(build, ctx.configs)]
        blocks += charts.build_time_charts(ctx.frame, ctx.configs, ctx.out, ctx.style)
    if install.empty:
        blocks.append(_omitted("C-extension installs"))
        return blocks
    blocks += [Heading("C-extension installs", 3), _install_table(install, ctx.configs)]
    blocks += charts.install_heatmaps(ctx.frame, ctx.configs, ctx.out, ctx.style)
    failures = _install_failures(install)
    if failures:
        blocks += [Para("Failed installs (last compiler line):"), Bullets(failures)]
    return blocks


def _chart(chart: Block | None) -> list[Block]:
    return [chart] if chart else []


def _install_failures(install: pd.DataFrame) -> list[str]:
    failures = []
    for (package, cfg), sub in install.groupby(["benchmark", "config"], sort=True):
        for detail in sorted(set(sub["detail"].tolist())):
            if detail.startswith("failed"):
                reason = detail.partition(":")[2].strip() or "no compiler output recorded"
                failures.append(f"`{package}` on **{cfg}**: `{reason}`")
    return failures


def _install_table(install: pd.DataFrame, configs: Configs) -> Table:
    cfgs = [c for c in configs.order if c in set(install["config"].tolist())]
    packages = sorted(set(install["benchmark"].tolist()))
    outcomes = {cfg: install_outcomes(install[install["config"] == cfg]) for cfg in cfgs}
    body = []
    for package in packages:
        row = [package]
        spreads: list[Spread] = []
        for cfg in cfgs:
            mine = install[(install["config"] == cfg) & (install["benchmark"] == package)]
            wall = mine[mine["metric"] == "wall_time"]
            kind = _short_kind(outcomes[cfg].get(package, ""))
            if kind == "failed" or wall.empty:
                row.append(kind)  # a failure's time is not an install time
                continue
            sp = series_spread(wall)
            spreads.append(sp)
            row.append(f"{spread_text(sp, 's')} · {_compiled(mine) or kind}")
        body.append([row[0], n_column(spreads) if spreads else "–", *row[1:]])
    return Table(
        ["Package", "n", *cfgs],
        body,
        align=["l"] + ["r"] * (len(cfgs) + 1),
        caption="pip install wall time (median over n installs, in a fresh container: what a "
        "Dockerfile RUN step costs) and what pip installed: a wheel with its platform tag, or "
        "a build from the sdist after the build dependencies a team would install on that "
        "base (benchmarks/build-deps.toml; their time and the compile time apart); failures "
        "and their reason below",
    )


def _compiled(rows: pd.DataFrame) -> str:
    """ "compiled from sdist: +N s build deps, +M s compile" where the install built it."""
    details = [d for d in rows["detail"].tolist() if d.startswith("sdist")]
    if not details:
        return ""
    parts = []
    for metric, what in (("deps_time", "build deps"), ("pip_time", "compile")):
        times = rows[rows["metric"] == metric]["value"]
        if not times.empty:
            parts.append(f"+{float(times.median()):.1f} s {what}")
    return "compiled from sdist" + (f": {', '.join(parts)}" if parts else "")


def _short_kind(outcome: str) -> str:
    """ "wheel:musllinux_1_2_x86_64" -> "wheel (musllinux_1_2)": the tag says which libc
    version the wheel needs, which is what differs between bases."""
    if outcome.startswith("wheel:"):
        tag = outcome.split(":", 1)[1].removesuffix("_x86_64").removesuffix("_aarch64")
        return f"wheel ({tag})"
    return outcome or "–"


# --- runtime --------------------------------------------------------------------------------


def runtime(ctx: ReportContext) -> list[Block]:
    data = ctx.group("runtime")
    if data.empty:
        return [_omitted("Runtime")]
    blocks: list[Block] = [Heading("Runtime")]
    ratios = ctx.ratios
    if ratios:
        rows, notes = _runtime_rows(data, ctx.configs, ratios)
        blocks += [
            _reference_sentence(ratios),
            Table(
                [
                    "Workload",
                    "Variant",
                    "Allocator",
                    "n (rounds)",
                    "Median time",
                    "Ratio [95 % CI]",
                    "p (Holm)",
                    "Verdict",
                ],
                rows,
                align=["l", "l", "l", "r", "r", "r", "r", "l"],
                caption=_runtime_caption(ratios),
            ),
        ]
        if notes:
            blocks += [Para("pyperf's own warnings (⚠ in the table):"), Bullets(notes)]
        blocks.append(Bullets(_ranking_lines(ratios)))
        blocks += _chart(charts.runtime_ratio(ratios, ctx.configs, ctx.out, ctx.style))
    else:
        blocks.append(Para("_No reference variant with runtime data, so no ratios; medians only._"))
    # Without ratios the times themselves are "other": only medians can be shown.
    other = data[data["metric"] != RUNTIME_METRIC] if ratios else data
    if not other.empty:
        blocks += [Heading("Other runtime metrics", 3), metric_table(other, ctx.configs)]
    return blocks


def _runtime_caption(ratios: Sequence[RuntimeRatio]) -> str:
    tested = sum(r.tested for r in ratios)
    family = f"the {tested} tested comparisons" if tested else "the tested comparisons (none)"
    return (
        "n = container rounds (and the values they hold); median time = median of the round "
        "medians ± half their IQR. Ratio = median / the reference's median, with a 95 % "
        "hierarchical bootstrap interval (rounds, then values in each round) for this "
        f"comparison alone. p = Welch's t-test on log per-round medians, Holm-adjusted over "
        f"{family} of this report; a verdict says faster or slower "
        f"only when that p < {ALPHA}. Untested = fewer than {MIN_ROUNDS} rounds on a side: "
        "never ranked."
    )


def _references(ratios: Sequence[RuntimeRatio]) -> list[str]:
    return list(dict.fromkeys(r.reference for r in ratios))


def _reference_sentence(ratios: Sequence[RuntimeRatio]) -> Para:
    allocator = ratios[0].reference_allocator
    references = _references(ratios)
    alloc_text = f" with the `{allocator}` allocator" if allocator else ""
    return Para(
        f"Reference: **{', '.join(references)}**{alloc_text}"
        + (" (each Python against its own)" if len(references) > 1 else "")
        + ". Each ratio is the median pyperf time of a workload divided by the "
        "reference's median for the same workload; below 1 is faster."
    )


#: (workload, config rank, allocator rank, allocator) orders the runtime rows.
_RowKey = tuple[str, int, int, str]


#: pyperf check's first line on every unstable file.
UNSTABLE = "WARNING: the benchmark result may be unstable"


class _Notes:
    """pyperf's warnings numbered as they first appear: ⚠1, ⚠2... beside the median."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def mark(self, warnings: str, where: str) -> str:
        if not warnings:
            return ""
        parts = [w.strip().removeprefix("* ").strip() for w in warnings.split(" | ")]
        # The ⚠ already says "may be unstable"; the details are what differs between series.
        parts = [p for p in parts if p != UNSTABLE] or [UNSTABLE]
        self.lines.append(f"⚠{len(self.lines) + 1} {where}: " + "; ".join(p for p in parts if p))
        return f" ⚠{len(self.lines)}"


def _runtime_rows(
    data: pd.DataFrame, configs: Configs, ratios: Sequence[RuntimeRatio]
) -> tuple[list[list[str]], list[str]]:
    """The reference's own medians and every ratio, in one table, and the warnings' notes.

    A workload's variants read top to bottom as in the summary, the reference first and
    CPython's default allocator before the others.
    """
    keyed = _reference_rows(data, configs, ratios) + _ratio_rows(configs, ratios)
    notes = _Notes()
    rows = []
    for _, row, warnings in sorted(keyed, key=lambda item: item[0]):
        row[4] += notes.mark(warnings, " · ".join(row[:3]))
        rows.append(row)
    return rows, notes.lines


def _reference_rows(
    data: pd.DataFrame, configs: Configs, ratios: Sequence[RuntimeRatio]
) -> list[tuple[_RowKey, list[str], str]]:
    allocator = ratios[0].reference_allocator
    keyed = []
    for reference in _references(ratios):
        ref_rows = data[
            (data["config"] == reference)
            & (data["allocator"] == allocator)
            & (data["metric"] == RUNTIME_METRIC)
        ]
        for benchmark, sub in ref_rows.groupby("benchmark", sort=True):
            key = (str(benchmark), configs.order.index(reference), -1, "")
            sp = series_spread(sub)
            row = [
                str(benchmark),
                reference,
                allocator or "–",
                n_text(sp),
                spread_text(sp, str(sub["unit"].iloc[0])),
                "1.00× (reference)",
                "",
                "reference",
            ]
            keyed.append((key, row, warnings_of(sub)))
    return keyed


def _ratio_rows(
    configs: Configs, ratios: Sequence[RuntimeRatio]
) -> list[tuple[_RowKey, list[str], str]]:
    alloc_rank = {a: i for i, a in enumerate(DEFAULT_ALLOCATORS)}
    keyed = []
    for r in ratios:
        key = (
            r.benchmark,
            configs.order.index(r.config),
            alloc_rank.get(r.allocator, len(alloc_rank)),
            r.allocator,
        )
        row = [
            r.benchmark,
            r.config,
            r.allocator or "–",
            n_text(r.median),
            spread_text(r.median, r.unit),
            interval_text(r.interval),
            p_text(r.p_adjusted),
            verdict(r.interval.estimate, r.significant, rounds=r.least_rounds),
        ]
        keyed.append((key, row, r.warnings))
    return keyed


def _ranking_lines(ratios: Sequence[RuntimeRatio]) -> list[str]:
    """Rank only what is significant after correction; say plainly what is not, or untested."""

    def name(r: RuntimeRatio) -> str:
        alloc = f"+{r.allocator}" if r.allocator else ""
        return f"{r.config}{alloc} on {r.benchmark} ({ratio(r.interval.estimate)})"

    significant = [r for r in ratios if r.significant]
    faster = sorted((r for r in significant if r.interval.estimate < 1), key=_estimate)
    slower = sorted((r for r in significant if r.interval.estimate > 1), key=_estimate)[::-1]
    untested = [r for r in ratios if not r.tested]
    same = [r for r in ratios if r.tested and not r.significant]
    lines = [
        "Significantly slower, slowest first: " + (", ".join(map(name, slower)) or "none") + ".",
        "Significantly faster, fastest first: " + (", ".join(map(name, faster)) or "none") + ".",
        f"Not significant after correction (not ranked): {len(same)} of {len(ratios)} comparisons.",
    ]
    if untested:
        rounds = sorted({r.least_rounds for r in untested})
        lines.append(
            f"Untested (not ranked): {len(untested)} of {len(ratios)} comparisons, with "
            f"{' or '.join(map(str, rounds))} round(s) on a side where a test needs "
            f"{MIN_ROUNDS}."
        )
    return lines


def _estimate(r: RuntimeRatio) -> float:
    return r.interval.estimate


# --- size -----------------------------------------------------------------------------------


def size(ctx: ReportContext) -> list[Block]:
    data = ctx.group("size")
    if data.empty:
        return [_omitted("Image size")]
    # Per-layer rows would flood the table; they are in the chart and in data.csv.
    totals = data[~data["metric"].str.startswith("layer_")]
    blocks: list[Block] = [Heading("Image size")]
    if not totals.empty:
        blocks.append(
            metric_table(
                totals,
                ctx.configs,
                caption="compressed = what a registry stores and a deploy pulls; "
                "uncompressed = disk on the host; wasted = bytes hidden by later layers",
            )
        )
    blocks += charts.size_charts(ctx.frame, ctx.configs, ctx.out, ctx.style)
    return blocks


# --- start-up and HTTP: distributions -------------------------------------------------------


def startup(ctx: ReportContext) -> list[Block]:
    data = ctx.group("startup")
    if data.empty:
        return [_omitted("Start-up")]
    # Base and app images apart: pooled they make one bimodal box.
    blocks: list[Block] = [Heading("Start-up"), metric_table(data, ctx.configs)]
    return blocks + charts.startup_charts(ctx.frame, ctx.configs, ctx.out, ctx.style)


def http(ctx: ReportContext) -> list[Block]:
    data = ctx.group("http")
    if data.empty:
        # HTTP is optional (profile-dependent): no note when a profile does not include it.
        return []
    return _distribution(ctx, data, "HTTP serving", "http", "HTTP load test (uwsgi)")


def _distribution(
    ctx: ReportContext, data: pd.DataFrame, heading: str, stem: str, title: str
) -> list[Block]:
    blocks: list[Block] = [Heading(heading), metric_table(data, ctx.configs)]
    blocks += _chart(charts.distribution_panels(data, ctx.configs, ctx.out, stem, title, ctx.style))
    return blocks
