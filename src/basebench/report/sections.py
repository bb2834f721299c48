"""The report section of each measurement group, as :mod:`basebench.groups` names them.

Every section has one signature, ``section(ctx: ReportContext) -> list[Block]``, so that the
report can call whatever the registry names without knowing the group. A section decides
itself what it says without data: most say that they were omitted; HTTP, which only some
profiles measure, says nothing at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from basebench.measure.resolved import ResolvedSet
from basebench.report import charts
from basebench.report.analysis import (
    RUNTIME_METRIC,
    VS_DEFAULT,
    VS_SAME_ALLOCATOR,
    MechanismRatio,
    RuntimeRatio,
    Scaling,
    install_outcomes,
    mechanism_ratios,
    runtime_ratios,
    scalings,
    select,
    series_spread,
    warnings_of,
    workload_manifest,
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
from basebench.report.optimisation import gap_blocks
from basebench.report.own_app import OwnApp, section_blocks
from basebench.report.stats import ALPHA, MIN_ROUNDS, Spread
from basebench.report.style import STYLE, PlotStyle
from basebench.results import RUNTIME_ALLOCATORS_KEY
from basebench.results import RUNTIME_CPUS_KEY as CPUS_META_KEY
from basebench.runtime_manifest import UNCLASSIFIED, Manifest


@dataclass(frozen=True, eq=False)
class ReportContext:
    """What every section reads: the labelled frame (no host probes), where charts go."""

    frame: pd.DataFrame
    configs: Configs
    out: Path
    style: PlotStyle = STYLE
    #: The runs' run.json contents (what the frame does not carry: CPU sets, configuration).
    metas: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    #: The resolved sets of a team's requirements (results.load_resolved), if any.
    resolved: Sequence[ResolvedSet] = field(default_factory=tuple)

    @cached_property
    def own_app(self) -> OwnApp:
        return OwnApp.of(self.resolved, self.configs)

    @cached_property
    def ratios(self) -> list[RuntimeRatio]:
        # Bootstrapped intervals are the slow part of a report: computed once, when asked.
        return runtime_ratios(self.frame, self.configs)

    @cached_property
    def mechanisms(self) -> list[MechanismRatio]:
        return mechanism_ratios(self.frame, self.ratios)

    @cached_property
    def scalings(self) -> list[Scaling]:
        return scalings(self.frame, self.configs)

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
        body.append([*key_values, n_column(spreads, timed=unit == "s"), *cells])
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


def n_column(spreads: Sequence[Spread], *, timed: bool = False) -> str:
    """One n for a row when every config has the same, else each config's in column order;
    a ``timed`` row with fewer rounds than a test needs on a side says "untested" (a size is
    exact: one value is all there is)."""
    texts = [n_text(sp) for sp in spreads]
    present = [t for t in texts if t != "–"]
    text = present[0] if present and len(set(present)) == 1 else " / ".join(texts)
    counts = [sp.n for sp in spreads if sp.n]
    if timed and counts and min(counts) < MIN_ROUNDS:
        text += ", untested"
    return text


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
    return blocks + section_blocks(ctx.frame, ctx.configs, ctx.own_app)


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
    default = [r for r in ratios if r.basis == VS_DEFAULT]
    if default:
        blocks += [_reference_sentence(default), Para(_cpus_sentence(ctx.metas, data))]
        allocators = _allocator_lines(ctx.metas, ctx.configs)
        if allocators:
            blocks += [Para("Allocators each variant could use, and where they came from:")]
            blocks.append(Bullets(allocators))
        blocks += _mechanism_blocks(ctx)
        blocks += gap_blocks(ctx.frame, ctx.configs, ctx.metas)
        blocks += _scaling_blocks(ctx)
        rows, notes = _runtime_rows(data, ctx.configs, default)
        blocks += [
            Heading("Per workload", 3),
            Table(
                [
                    "Mechanism",
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
                align=["l", "l", "l", "l", "r", "r", "r", "r", "l"],
                caption=_runtime_caption(ratios),
            ),
        ]
        if notes:
            blocks += [Para("pyperf's own warnings (⚠ in the table):"), Bullets(notes)]
        blocks.append(Bullets(_ranking_lines(default)))
        blocks += _same_allocator_blocks(ctx.configs, ratios)
        blocks += _chart(charts.runtime_ratio(ratios, ctx.configs, ctx.out, ctx.style))
    else:
        blocks.append(Para("_No reference variant with runtime data, so no ratios; medians only._"))
    # Without ratios the times themselves are "other": only medians can be shown.
    other = data[data["metric"] != RUNTIME_METRIC] if default else data
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
        f"{family} of this report (both tables); a verdict says faster or slower "
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


def _cpus_sentence(metas: Sequence[Mapping[str, Any]], data: pd.DataFrame) -> str:
    """Which CPUs each workload ran on: run.json's ``runtime_cpus``, else the run's cpuset."""
    present = set(data["benchmark"].tolist())
    by_set: dict[str, list[str]] = {}
    older: list[str] = []
    for meta in metas:
        recorded = meta.get(CPUS_META_KEY)
        if isinstance(recorded, Mapping):
            for name, entry in recorded.items():
                if name in present and isinstance(entry, Mapping):
                    names = by_set.setdefault(str(entry.get("cpuset", "?")), [])
                    if name not in names:
                        names.append(str(name))
        else:
            cpuset = str((meta.get("config") or {}).get("cpuset", "") or "any")
            older.append(cpuset)
    parts = [
        _cpus_words(cpuset) + " for " + ", ".join(f"`{n}`" for n in names)
        for cpuset, names in by_set.items()
    ]
    text = (
        "CPUs: each workload ran on one CPU per worker running at once, the same CPUs for "
        "every variant: " + "; ".join(parts) + "."
        if parts
        else ""
    )
    if older:
        text += (" " if text else "") + (
            f"Runs from before per-workload CPU sets ran every workload on the run's cpuset "
            f"({', '.join(sorted(set(older)))}): their thread and process workloads' workers "
            "took turns on those CPUs rather than running at once."
        )
    return text


def _allocator_lines(metas: Sequence[Mapping[str, Any]], configs: Configs) -> list[str]:
    """run.json's ``runtime_allocators`` per config (runs before it recorded them: none)."""
    lines = []
    for label in configs.order:
        run, python, variant = configs.keys[label]
        for meta in metas:
            if str(meta.get("run_id", run)) != run:
                continue
            entry = (meta.get(RUNTIME_ALLOCATORS_KEY) or {}).get(f"{python}-{variant}")
            if not isinstance(entry, Mapping):
                continue
            available = entry.get("available") or {}
            line = f"**{label}**: " + "; ".join(f"`{a}` ({d})" for a, d in available.items())
            missing = entry.get("unavailable") or {}
            if missing:
                line += ". Not measured: " + "; ".join(f"`{a}` ({w})" for a, w in missing.items())
            lines.append(line)
    return lines


def _cpus_words(cpuset: str) -> str:
    if cpuset == "any":
        return "any CPU (not pinned)"
    return f"CPU{'s' if ',' in cpuset or '-' in cpuset else ''} {cpuset}"


def _mechanism_blocks(ctx: ReportContext) -> list[Block]:
    """One row per mechanism, variant and allocator; then each mechanism's workloads and
    remedy, with the allocators that closed its gap in this run."""
    mechanisms = ctx.mechanisms
    if not mechanisms:
        return []
    manifest = workload_manifest()
    same = {(m.mechanism, m.config, m.allocator): m for m in mechanisms if m.basis != VS_DEFAULT}
    alloc_rank = {a: i for i, a in enumerate(DEFAULT_ALLOCATORS)}
    default = sorted(
        (m for m in mechanisms if m.basis == VS_DEFAULT),
        key=lambda m: (
            manifest.mechanism_rank(m.mechanism),
            ctx.configs.order.index(m.config),
            alloc_rank.get(m.allocator, len(alloc_rank)),
            m.allocator,
        ),
    )
    body = []
    for m in default:
        control = any(
            (w := manifest.workload(name)) is not None and w.control for name in m.workloads
        )
        libc = same.get((m.mechanism, m.config, m.allocator))
        same_text = (
            interval_text(libc.interval)
            if libc is not None
            else (interval_text(m.interval) if m.allocator == m.reference_allocator else "–")
        )
        word = verdict(m.interval.estimate, m.significant, rounds=m.least_rounds)
        if control and m.config != m.reference:
            # A control is about the libc with the allocator held equal.
            held = libc or (m if m.allocator == m.reference_allocator else None)
            if held is not None and held.significant:
                word += " · control, and the libc ratio differs: the build, not the allocator"
            elif held is not None:
                word += " · control"
        body.append(
            [
                m.mechanism,
                m.config,
                m.allocator or "–",
                str(len(m.workloads)),
                interval_text(m.interval),
                same_text,
                word,
            ]
        )
    ref = default[0] if default else mechanisms[0]
    blocks: list[Block] = [
        Heading("By mechanism", 3),
        _two_ratio_table(
            ("Mechanism", "Workloads", "r"),
            (
                f"vs {ref.reference} + {ref.reference_allocator or 'its allocator'} [95 % CI]",
                f"vs {ref.reference} + the same allocator [95 % CI]",
            ),
            body,
            caption="each mechanism's ratio is the geometric mean of its workloads' ratios, with "
            "a 95 % hierarchical bootstrap interval; the verdict of a one-workload mechanism is "
            "that workload's corrected test (per workload, below), that of a mechanism of "
            "several workloads a summary judged by its interval. First ratio: against the "
            "reference with its default allocator, what a team gets by switching; second: "
            "against the reference under the same allocator, the libc's own effect (for the "
            "default allocator the two are one comparison). The summary's headline counts "
            "each mechanism once. A control is expected equal on same-flags builds.",
        ),
        Para("What each mechanism is, its workloads, and what closes a gap on it:"),
        Bullets(_remedy_lines(default, manifest)),
    ]
    return blocks


def _remedy_lines(default: Sequence[MechanismRatio], manifest: Manifest) -> list[str]:
    lines = []
    names = list(dict.fromkeys(m.mechanism for m in default))
    for name in names:
        mine = [m for m in default if m.mechanism == name]
        mechanism = next((x for x in manifest.mechanisms if x.name == name), UNCLASSIFIED)
        workloads = list(dict.fromkeys(w for m in mine for w in m.workloads))
        described = []
        for workload_name in workloads:
            w = manifest.workload(workload_name)
            if w is None:
                described.append(f"`{workload_name}`")
                continue
            extra = ", control" if w.control else ""
            described.append(f"`{w.name}` ({w.cpus} CPU{'s' if w.cpus > 1 else ''}{extra})")
        line = f"**{name}**: {mechanism.title}. Workloads: {', '.join(described)}."
        if mechanism.remedy:
            line += f" Remedy: {mechanism.remedy}."
        closed = _closed_by(mine)
        if closed:
            line += " In this run: " + "; ".join(closed) + "."
        lines.append(line)
    return lines


def _closed_by(mine: Sequence[MechanismRatio]) -> list[str]:
    """Per slower variant: the allocators that bring it back to the reference (their interval
    reaches 1 or lies below it), or that none does."""
    out = []
    for config in dict.fromkeys(m.config for m in mine):
        rows = [m for m in mine if m.config == config]
        shipped = next((m for m in rows if m.allocator == m.reference_allocator), None)
        # Only a gap the table calls slower: its test (or, for several workloads, its interval).
        if shipped is None or not shipped.significant or shipped.interval.estimate < 1.0:
            continue
        others = [m for m in rows if m is not shipped and m.interval.has_ci]
        closing = [m for m in others if m.interval.low <= 1.0]
        # Not closed, but most of the gap gone: say how far, not just "no".
        narrowing = [
            m for m in others if m not in closing and m.interval.high < shipped.interval.low
        ]
        gap = f"{config} is {interval_text(shipped.interval)}"
        parts = []
        if closing:
            parts.append("closed by " + ", ".join(_alloc_text(m) for m in closing))
        if narrowing:
            parts.append(
                "narrowed but not closed by " + ", ".join(_alloc_text(m) for m in narrowing)
            )
        out.append(f"{gap}, " + ("; ".join(parts) or "and no measured allocator closes it"))
    return out


def _alloc_text(m: MechanismRatio) -> str:
    return f"{m.allocator} ({interval_text(m.interval)})"


def _two_ratio_table(
    key: tuple[str, str, str], ratios: tuple[str, str], body: list[list[str]], caption: str
) -> Table:
    """Rows of (what, variant, allocator, how many, two ratios, verdict); ``key`` names the
    first and fourth columns and the fourth's alignment."""
    first, count, count_align = key
    return Table(
        [first, "Variant", "Allocator", count, *ratios, "Verdict"],
        body,
        align=["l", "l", "l", count_align, "r", "r", "l"],
        caption=caption,
    )


def _scaling_blocks(ctx: ReportContext) -> list[Block]:
    found = ctx.scalings
    if not found:
        return []
    body = [
        [
            s.workload,
            s.config,
            s.allocator or "–",
            f"{s.workers} vs 1 (`{s.baseline}`)",
            interval_text(s.scaling),
            interval_text(s.versus_reference) if s.reference != s.config else "–",
            verdict(
                s.versus_reference.estimate,
                s.versus_reference.excludes_one,
            )
            if s.versus_reference.has_ci
            else ("reference" if s.reference == s.config else "untested"),
        ]
        for s in found
    ]
    return [
        Heading("Contention: workers running at once", 3),
        _two_ratio_table(
            ("Workload", "Workers", "l"),
            ("Time vs 1 worker [95 % CI]", "vs the reference's [95 % CI]"),
            body,
            caption="the same loop and total work with N workers on N CPUs against 1 worker on "
            "1 CPU, within each variant: 1/N would be perfect scaling, 1.0 none (threads take "
            "turns at the GIL), above 1 a loss to contention. The last ratio divides that by "
            "the reference variant's under the same allocator: above 1, this variant loses "
            "more to contention; its speed on one worker is in the tables above.",
        ),
    ]


def _same_allocator_blocks(configs: Configs, ratios: Sequence[RuntimeRatio]) -> list[Block]:
    same = [r for r in ratios if r.basis == VS_SAME_ALLOCATOR]
    if not same:
        return []
    manifest = workload_manifest()
    ordered = sorted(
        same,
        key=lambda r: (
            manifest.mechanism_rank(r.mechanism),
            r.benchmark,
            configs.order.index(r.config),
            r.allocator,
        ),
    )
    body = [
        [
            r.mechanism,
            r.benchmark,
            r.config,
            r.allocator,
            interval_text(r.interval),
            p_text(r.p_adjusted),
            verdict(r.interval.estimate, r.significant, rounds=r.least_rounds),
        ]
        for r in ordered
    ]
    return [
        Heading("The libc under each allocator", 3),
        Table(
            [
                "Mechanism",
                "Workload",
                "Variant",
                "Allocator",
                "Ratio [95 % CI]",
                "p (Holm)",
                "Verdict",
            ],
            body,
            align=["l", "l", "l", "l", "r", "r", "l"],
            caption="each variant under an allocator against the reference under the same "
            "allocator: what the libc (and the build) still costs once the allocator is the "
            "same. Tested and corrected with the per-workload table, as one family.",
        ),
    ]


#: (mechanism rank, workload, config rank, allocator rank, allocator) orders the runtime rows.
_RowKey = tuple[int, str, int, int, str]


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

    Workloads are grouped by mechanism (the manifest's order); a workload's variants read top
    to bottom as in the summary, the reference first and CPython's default allocator before
    the others.
    """
    keyed = _reference_rows(data, configs, ratios) + _ratio_rows(configs, ratios)
    notes = _Notes()
    rows = []
    for _, row, warnings in sorted(keyed, key=lambda item: item[0]):
        row[5] += notes.mark(warnings, " · ".join(row[1:4]))
        rows.append(row)
    return rows, notes.lines


def _reference_rows(
    data: pd.DataFrame, configs: Configs, ratios: Sequence[RuntimeRatio]
) -> list[tuple[_RowKey, list[str], str]]:
    allocator = ratios[0].reference_allocator
    manifest = workload_manifest()
    keyed = []
    for reference in _references(ratios):
        ref_rows = data[
            (data["config"] == reference)
            & (data["allocator"] == allocator)
            & (data["metric"] == RUNTIME_METRIC)
        ]
        for benchmark, sub in ref_rows.groupby("benchmark", sort=True):
            mechanism = manifest.mechanism_of(str(benchmark)).name
            rank = manifest.mechanism_rank(mechanism)
            key = (rank, str(benchmark), configs.order.index(reference), -1, "")
            sp = series_spread(sub)
            row = [
                mechanism,
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
    manifest = workload_manifest()
    keyed = []
    for r in ratios:
        key = (
            manifest.mechanism_rank(r.mechanism),
            r.benchmark,
            configs.order.index(r.config),
            alloc_rank.get(r.allocator, len(alloc_rank)),
            r.allocator,
        )
        row = [
            r.mechanism,
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
    blocks += _registry_sizes(data)
    blocks += charts.size_charts(ctx.frame, ctx.configs, ctx.out, ctx.style)
    return blocks


def _registry_sizes(data: pd.DataFrame) -> list[Block]:
    """The registry's stored size of each base next to the gzip estimate, where one was read."""
    stored = data[data["metric"] == "registry_compressed"]
    if stored.empty:
        return []
    items = [
        f"{row.config}: {float(str(row.value)) / 1e6:.1f} MB as the registry "
        f"stores it ({row.detail})"
        for row in stored.itertuples()
    ]
    return [
        Para(
            "registry_compressed = the sum of the layer sizes in the registry's manifest of the "
            "base image (what a pull downloads), next to the suite's estimate:"
        ),
        Bullets(items),
    ]


def pull(ctx: ReportContext) -> list[Block]:
    data = ctx.group("pull")
    if data.empty:
        return []  # official bases only: a run on local stand-ins pulls nothing
    timed = data[data["metric"] == "pull"]
    details = sorted({str(d) for d in timed["detail"]})
    return [
        Heading("Pull"),
        Para(
            "Time to pull each base image into an engine that does not have it (its name "
            "removed, then pulled again; only names the run itself pulled): download plus "
            "extraction. On a loopback registry the network costs almost nothing, so this is "
            "mostly extraction and the registry's disk; over a real network add the "
            "compressed size divided by the bandwidth. Measured: " + "; ".join(details) + "."
        ),
        metric_table(data, ctx.configs),
    ]


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
