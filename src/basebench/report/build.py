"""Assemble report.md, report.html, the charts and data.csv from one or more run folders."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from basebench.errors import UserError
from basebench.report import charts
from basebench.report.analysis import (
    RUNTIME_METRIC,
    RuntimeRatio,
    SummaryRow,
    install_outcomes,
    recommend,
    runtime_ratios,
    select,
    summarise,
    values,
)
from basebench.report.doc import Block, Bullets, Document, Heading, Para, Table, to_html
from basebench.report.doc import to_markdown as doc_to_markdown
from basebench.report.fmt import interval_text, quantity, spread_text, verdict
from basebench.report.frame import (
    COLUMNS,
    DEFAULT_ALLOCATORS,
    Configs,
    check_run_dirs,
    label_configs,
    normalise,
)
from basebench.report.stats import spread
from basebench.report.style import STYLE, PlotStyle
from basebench.results import (
    CONTAINER_PROBE_METRIC,
    CPU_PROBE_METRIC,
    HOST_PROBE_GROUP,
    LOAD_METRIC,
    load_runs,
    read_run_meta,
)

#: Groups with a section of their own, in the order a reader asks the questions.
KNOWN_GROUPS = ("build", "install", "runtime", "size", "startup", "http")


@dataclass(frozen=True)
class ReportResult:
    """Where the report went, and the summary for the console."""

    report_dir: Path
    markdown: Path
    html: Path
    csv: Path
    summary: Table
    document: Document


def write_report(
    run_dirs: Sequence[Path], out_dir: Path | None = None, style: PlotStyle = STYLE
) -> Path:
    """Write report/ into the last run folder (or ``out_dir``); return the report.md path."""
    return make_report(run_dirs, out_dir, style).markdown


def make_report(
    run_dirs: Sequence[Path], out_dir: Path | None = None, style: PlotStyle = STYLE
) -> ReportResult:
    dirs = check_run_dirs(run_dirs)
    metas = [read_run_meta(d) for d in dirs]
    frame = load_runs(dirs)
    # The newest run is the one people open; several runs report into the last one given.
    target = out_dir if out_dir is not None else dirs[-1] / "report"
    return render_report(frame, metas, target, style)


def render_report(
    frame: pd.DataFrame,
    metas: Sequence[Mapping[str, Any]],
    out_dir: Path,
    style: PlotStyle = STYLE,
) -> ReportResult:
    """The pure part: a results frame and run metadata in, a report folder out."""
    tidy = normalise(frame)
    # Host probes describe the machine, not a variant: they go to the conditions only.
    probes = tidy[tidy["group"] == HOST_PROBE_GROUP]
    if len(probes) == len(tidy):
        raise UserError("the run folder(s) hold no measurements; did 'basebench run' finish?")
    out_dir.mkdir(parents=True, exist_ok=True)
    labelled, configs = label_configs(tidy, metas)
    doc, summary = build_document(labelled, configs, metas, out_dir, style, probes)
    md_path = out_dir / "report.md"
    html_path = out_dir / "report.html"
    csv_path = out_dir / "data.csv"
    _atomic_write(md_path, doc_to_markdown(doc))
    _atomic_write(html_path, to_html(doc, out_dir))
    tidy.loc[:, list(COLUMNS)].to_csv(csv_path.with_suffix(".csv.tmp"), index=False)
    csv_path.with_suffix(".csv.tmp").replace(csv_path)
    return ReportResult(out_dir, md_path, html_path, csv_path, summary, doc)


def _atomic_write(path: Path, text: str) -> None:
    # An interrupted report never leaves a half-written page that looks complete.
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _run_ids(metas: Sequence[Mapping[str, Any]], frame: pd.DataFrame) -> list[str]:
    ids = [str(m.get("run_id", "")) for m in metas if m.get("run_id")]
    return ids or list(dict.fromkeys(frame["run"].tolist()))


def build_document(
    frame: pd.DataFrame,
    configs: Configs,
    metas: Sequence[Mapping[str, Any]],
    out: Path,
    style: PlotStyle = STYLE,
    probes: pd.DataFrame | None = None,
) -> tuple[Document, Table]:
    ids = _run_ids(metas, frame)
    doc = Document(f"basebench report: {', '.join(ids)}")
    doc.add(Para(_intro(frame, configs, metas)))
    rows = summarise(frame, configs)
    ratios = runtime_ratios(frame, configs)
    summary = summary_table(rows, configs)
    doc.add(Heading("Summary"), summary)
    doc.add(*_recommendation_blocks(rows))
    doc.add(*_build_install_section(frame, configs, out, style))
    doc.add(*_runtime_section(frame, configs, ratios, out, style))
    doc.add(*_size_section(frame, configs, out, style))
    startup = select(frame, group="startup")
    doc.add(
        *_distribution_section(
            startup, configs, out, style, "Start-up", "startup", "Interpreter start-up time"
        )
    )
    http = select(frame, group="http")
    if not http.empty:
        # HTTP is optional (profile-dependent): no note when a profile does not include it.
        doc.add(
            *_distribution_section(
                http, configs, out, style, "HTTP serving", "http", "HTTP load test (uwsgi)"
            )
        )
    for group in sorted(set(frame["group"].tolist()) - set(KNOWN_GROUPS)):
        sub = select(frame, group=group)
        doc.add(Heading(f"Other measurements: {group}"), metric_table(sub, configs))
    doc.add(*_conditions_section(frame, metas, probes))
    return doc, summary


def _intro(frame: pd.DataFrame, configs: Configs, metas: Sequence[Mapping[str, Any]]) -> str:
    sources = sorted(set(frame["base_source"].tolist()) - {""})
    world = ", ".join(sources) or "unknown"
    return (
        f"Compares {len(configs.order)} base image configuration(s): "
        f"{', '.join(f'`{c}`' for c in configs.order)}. Base images: **{world}** "
        "(see Conditions). Every figure is a median over repeated, interleaved measurements; "
        "comparisons are ratios with 95 % bootstrap confidence intervals, and a ratio whose "
        "interval includes 1.0 is marked _n.s._ (not significant) and not ranked."
    )


# --- summary --------------------------------------------------------------------------------


def _reference_name(rows: Sequence[SummaryRow]) -> str:
    refs = [r.config for r in rows if r.is_reference]
    return ", ".join(refs) if refs else "reference"


def summary_table(rows: Sequence[SummaryRow], configs: Configs) -> Table:
    columns = [
        "Variant",
        "libc",
        "Base image compressed",
        "Base image uncompressed",
        "Build time (fastest strategy)",
        "Install failures",
        f"Runtime vs {_reference_name(rows)} [95 % CI]",
        "Runtime verdict",
    ]
    body = []
    for row in rows:
        if row.build is not None:
            build = f"{spread_text(row.build, 's')} ({row.build_strategy})"
        else:
            build = "–"
        if row.installs:
            failures = f"{len(row.failed)} of {row.installs}"
            if row.failed:
                failures += f" ({', '.join(row.failed)})"
            if row.sdist:
                failures += f"; {len(row.sdist)} from source"
        else:
            failures = "–"
        if row.is_reference:
            runtime, word = "1.00× (reference)", "reference"
        else:
            runtime = interval_text(row.runtime)
            word = verdict(row.runtime)
        body.append(
            [
                row.config,
                row.libc,
                quantity(row.compressed, "bytes"),
                quantity(row.uncompressed, "bytes"),
                build,
                failures,
                runtime,
                word,
            ]
        )
    return Table(columns, body, align=["l", "l", "r", "r", "r", "l", "r", "l"])


def _recommendation_blocks(rows: Sequence[SummaryRow]) -> list[Block]:
    # The base image is chosen per Python version (the version is a separate decision), so
    # a run spanning several versions gets one recommendation for each.
    pythons = list(dict.fromkeys(r.python for r in rows))
    blocks: list[Block] = []
    for python in pythons:
        group = [r for r in rows if r.python == python]
        rec = recommend(group)
        if rec is None:
            continue
        prefix = f"Python {python}: " if len(pythons) > 1 else ""
        blocks += [
            Para(f"**{prefix}Recommendation: ship on `{rec.config}`**, because:"),
            Bullets(rec.reasons),
        ]
        if rec.others:
            blocks += [Para("The other variants:"), Bullets(rec.others)]
    if not blocks:
        return [Para("_No configuration measured: no recommendation._")]
    blocks.append(
        Para(
            "_How to read this: sizes are of the base image (the app images are in Image size); "
            "build time is the median of the fastest build strategy ± half the interquartile "
            "range; the runtime ratio is this variant's median pyperf time divided by the "
            "reference's (geometric mean over workloads), with a 95 % bootstrap interval; "
            "n.s. = the interval includes 1.0, so the difference is within noise._"
        )
    )
    return blocks


# --- generic tables -------------------------------------------------------------------------


def metric_table(frame: pd.DataFrame, configs: Configs, caption: str = "") -> Table:
    """benchmark × metric rows, one column per config, cells ``median ± half-IQR unit``."""
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
        cells = []
        for cfg in cfgs:
            vals = values(sub[sub["config"] == cfg])
            cells.append(spread_text(spread(vals), unit) if vals.size else "–")
        body.append(key_values + cells)
    columns = [k.capitalize() for k in keys] + cfgs
    align = ["l"] * len(keys) + ["r"] * len(cfgs)
    return Table(
        columns,
        body,
        align=align,
        caption=caption or "median ± half the interquartile range over repeated samples",
    )


def _omitted(name: str) -> Para:
    return Para(f"_{name}: no data in this run; section omitted._")


# --- sections -------------------------------------------------------------------------------


def _build_install_section(
    frame: pd.DataFrame, configs: Configs, out: Path, style: PlotStyle
) -> list[Block]:
    build = select(frame, group="build")
    install = select(frame, group="install")
    if build.empty and install.empty:
        return [_omitted("Build and install")]
    blocks: list[Block] = [Heading("Build and install")]
    if build.empty:
        blocks.append(_omitted("Build time"))
    else:
        blocks += [Heading("Build time per strategy", 3), metric_table(build, configs)]
        chart = charts.build_time(frame, configs, out, style)
        if chart:
            blocks.append(chart)
    if install.empty:
        blocks.append(_omitted("C-extension installs"))
        return blocks
    blocks.append(Heading("C-extension installs", 3))
    blocks.append(_install_table(install, configs))
    chart = charts.install_heatmap(frame, configs, out, style)
    if chart:
        blocks.append(chart)
    failures = []
    for (package, cfg), sub in install.groupby(["benchmark", "config"], sort=True):
        for detail in sorted(set(sub["detail"].tolist())):
            if detail.startswith("failed"):
                reason = detail.partition(":")[2].strip() or "no compiler output recorded"
                failures.append(f"`{package}` on **{cfg}**: `{reason}`")
    if failures:
        blocks += [Para("Failed installs (last compiler line):"), Bullets(failures)]
    return blocks


def _install_table(install: pd.DataFrame, configs: Configs) -> Table:
    cfgs = [c for c in configs.order if c in set(install["config"].tolist())]
    packages = sorted(set(install["benchmark"].tolist()))
    outcomes = {cfg: install_outcomes(install[install["config"] == cfg]) for cfg in cfgs}
    body = []
    for package in packages:
        row = [package]
        for cfg in cfgs:
            sub = install[
                (install["config"] == cfg)
                & (install["benchmark"] == package)
                & (install["metric"] == "wall_time")
            ]
            outcome = outcomes[cfg].get(package, "")
            kind = _short_kind(outcome)
            if sub.empty:
                row.append(kind)
            else:
                row.append(f"{spread_text(spread(values(sub)), 's')} · {kind}")
        body.append(row)
    return Table(
        ["Package", *cfgs],
        body,
        align=["l"] + ["r"] * len(cfgs),
        caption="pip install wall time (median) and what pip installed: a wheel (with its "
        "platform tag), a build from the sdist, or a failure",
    )


def _short_kind(outcome: str) -> str:
    """ "wheel:musllinux_1_2_x86_64" -> "musllinux wheel": the family is what differs."""
    if outcome.startswith("wheel:"):
        return f"{outcome.split(':', 1)[1].split('_', 1)[0]} wheel"
    return outcome or "–"


def _runtime_section(
    frame: pd.DataFrame,
    configs: Configs,
    ratios: Sequence[RuntimeRatio],
    out: Path,
    style: PlotStyle,
) -> list[Block]:
    runtime = select(frame, group="runtime")
    if runtime.empty:
        return [_omitted("Runtime")]
    blocks: list[Block] = [Heading("Runtime")]
    if ratios:
        ref = ratios[0]
        references = list(dict.fromkeys(r.reference for r in ratios))
        alloc_text = (
            f" with the `{ref.reference_allocator}` allocator" if ref.reference_allocator else ""
        )
        blocks.append(
            Para(
                f"Reference: **{', '.join(references)}**{alloc_text}"
                + (" (each Python against its own)" if len(references) > 1 else "")
                + ". Each ratio is the median pyperf time of a workload divided by the "
                "reference's median for the same workload; below 1 is faster."
            )
        )
        # (workload, config rank, allocator rank) orders the rows: a workload's variants
        # read top to bottom as in the summary, CPython's default allocator first.
        alloc_rank = {a: i for i, a in enumerate(DEFAULT_ALLOCATORS)}
        keyed: list[tuple[tuple[str, int, int, str], list[str]]] = []
        for reference in references:
            ref_rows = runtime[
                (runtime["config"] == reference)
                & (runtime["allocator"] == ref.reference_allocator)
                & (runtime["metric"] == RUNTIME_METRIC)
            ]
            for benchmark, sub in ref_rows.groupby("benchmark", sort=True):
                key = (str(benchmark), configs.order.index(reference), -1, "")
                keyed.append(
                    (
                        key,
                        [
                            str(benchmark),
                            reference,
                            ref.reference_allocator or "–",
                            spread_text(spread(values(sub)), str(sub["unit"].iloc[0])),
                            "1.00× (reference)",
                            "reference",
                        ],
                    )
                )
        for r in ratios:
            key = (
                r.benchmark,
                configs.order.index(r.config),
                alloc_rank.get(r.allocator, len(alloc_rank)),
                r.allocator,
            )
            keyed.append(
                (
                    key,
                    [
                        r.benchmark,
                        r.config,
                        r.allocator or "–",
                        spread_text(r.median, r.unit),
                        interval_text(r.interval),
                        verdict(r.interval),
                    ],
                )
            )
        body = [row for _, row in sorted(keyed, key=lambda item: item[0])]
        blocks.append(
            Table(
                ["Workload", "Variant", "Allocator", "Median time", "Ratio [95 % CI]", "Verdict"],
                body,
                align=["l", "l", "l", "r", "r", "l"],
            )
        )
        blocks.append(Bullets(_ranking_lines(ratios)))
        chart = charts.runtime_ratio(ratios, configs, out, style)
        if chart:
            blocks.append(chart)
    else:
        blocks.append(Para("_No reference variant with runtime data, so no ratios; medians only._"))
    other = runtime[runtime["metric"] != "time"] if ratios else runtime
    if not other.empty:
        blocks += [Heading("Other runtime metrics", 3), metric_table(other, configs)]
    return blocks


def _ranking_lines(ratios: Sequence[RuntimeRatio]) -> list[str]:
    """Rank only what is significant; say plainly what is within noise."""

    def name(r: RuntimeRatio) -> str:
        alloc = f"+{r.allocator}" if r.allocator else ""
        return f"{r.config}{alloc} on {r.benchmark} ({r.interval.estimate:.2f}×)"

    faster = sorted(
        (r for r in ratios if r.interval.significant and r.interval.estimate < 1),
        key=lambda r: r.interval.estimate,
    )
    slower = sorted(
        (r for r in ratios if r.interval.significant and r.interval.estimate > 1),
        key=lambda r: -r.interval.estimate,
    )
    same = [r for r in ratios if not r.interval.significant]
    return [
        "Significantly slower, slowest first: " + (", ".join(map(name, slower)) or "none") + ".",
        "Significantly faster, fastest first: " + (", ".join(map(name, faster)) or "none") + ".",
        f"Not significant (not ranked): {len(same)} of {len(ratios)} comparisons.",
    ]


def _size_section(
    frame: pd.DataFrame, configs: Configs, out: Path, style: PlotStyle
) -> list[Block]:
    size = select(frame, group="size")
    if size.empty:
        return [_omitted("Image size")]
    # Per-layer rows would flood the table; they are in the chart and in data.csv.
    totals = size[~size["metric"].str.startswith("layer_")]
    blocks: list[Block] = [Heading("Image size")]
    if not totals.empty:
        blocks.append(
            metric_table(
                totals,
                configs,
                caption="compressed = what a registry stores and a deploy pulls; "
                "uncompressed = disk on the host; wasted = bytes hidden by later layers",
            )
        )
    chart = charts.size_stacked(frame, configs, out, style)
    if chart:
        blocks.append(chart)
    return blocks


def _distribution_section(
    sub: pd.DataFrame,
    configs: Configs,
    out: Path,
    style: PlotStyle,
    heading: str,
    stem: str,
    title: str,
) -> list[Block]:
    if sub.empty:
        return [_omitted(heading)]
    blocks: list[Block] = [Heading(heading), metric_table(sub, configs)]
    chart = charts.distribution_panels(sub, configs, out, stem, title, style)
    if chart:
        blocks.append(chart)
    return blocks


# --- conditions -----------------------------------------------------------------------------


def _base_source_sentence(sources: Sequence[str]) -> str:
    if not sources:
        return "Base images: not recorded."
    if len(set(sources)) > 1:
        return (
            "**Mixed worlds**: this report combines runs on official images and on locally "
            "built images; absolute sizes and times are not comparable between them."
        )
    if sources[0] == "official":
        return (
            "Base images: **official** Docker Hub images (python:*), pulled from the registry. "
            "These are the numbers a team shipping the official images will see."
        )
    if sources[0] == "local":
        return (
            "Base images: **local** images built by basebench from Debian's sources "
            "(no registry was reachable). They mirror the official images' recipe; sizes and "
            "CPython build flags can differ from the official ones, so read the ratios, "
            "not the absolute numbers."
        )
    return f"Base images: **{sources[0]}**."


def _probe_text(probes: pd.DataFrame | None, run_id: str) -> str:
    """One line on how fast and how loaded the host was during the run (its host probes)."""
    if probes is None or probes.empty:
        return "Host probe: none recorded (run made before basebench took host probes)"
    mine = probes[probes["run"] == run_id]
    times = mine[mine["metric"] == CPU_PROBE_METRIC]
    if times.empty:
        return "Host probe: none recorded"
    s = spread(times["value"].to_numpy())
    loads = mine[mine["metric"] == LOAD_METRIC]["value"]
    load_text = (
        f"; 1-minute load average {loads.min():.2f}–{loads.max():.2f}" if not loads.empty else ""
    )
    containers = mine[mine["metric"] == CONTAINER_PROBE_METRIC]["value"].to_numpy()
    container_text = (
        f"; container start of the host's `true`: {spread_text(spread(containers), 's')}"
        if containers.size
        else ""
    )
    detail = str(times["detail"].iloc[0]) or "fixed loop"
    return (
        f"Host probe ({detail}; {s.n} timings at every step, so `basebench compare` can tell "
        f"a busier host from slower images): CPU loop {spread_text(s, 's')}"
        f"{container_text}{load_text}"
    )


def _conditions_section(
    frame: pd.DataFrame, metas: Sequence[Mapping[str, Any]], probes: pd.DataFrame | None = None
) -> list[Block]:
    blocks: list[Block] = [Heading("Conditions")]
    sources = [str(m.get("base_source", "")) for m in metas if m.get("base_source")]
    sources = sources or sorted(set(frame["base_source"].tolist()) - {""})
    blocks.append(Para(_base_source_sentence(sources)))
    for meta in metas:
        host = meta.get("host") or {}
        config = meta.get("config") or {}
        memory = host.get("memory_bytes")
        mem_text = f"{float(memory) / 2**30:.0f} GiB" if memory else "?"
        items = [
            f"Run `{meta.get('run_id', '?')}`: {meta.get('started', '?')} → "
            f"{meta.get('finished', '?')}",
            f"basebench {meta.get('basebench_version', '?')}, commit "
            f"`{str(meta.get('git_commit', '?'))[:12]}`",
            f"Profile: **{config.get('profile', '?')}**; variants: "
            f"{', '.join(str(v) for v in config.get('variants') or []) or '?'}; pythons: "
            f"{', '.join(str(p) for p in config.get('pythons') or []) or '?'}; baseline: "
            f"{config.get('baseline_variant') or '(default: first glibc slim variant)'}",
            f"Host: {host.get('cpu_model', '?')}, {host.get('cores', '?')} cores, {mem_text}, "
            f"kernel {host.get('kernel', '?')}",
            f"Docker server {host.get('docker_server_version', '?')}, storage driver "
            f"{host.get('storage_driver', '?')}",
            _probe_text(probes, str(meta.get("run_id", ""))),
        ]
        blocks.append(Bullets(items))
    images = _image_label_rows(metas)
    if images:
        blocks.append(Heading("Images: CPython build flags, libc, sources", 3))
        blocks.append(
            Table(
                ["Image", "Label", "Value"],
                images,
                caption="labels recorded on each image (build flags, libc version, source "
                "checksums, shortened here: the full values are in run.json)",
            )
        )
    return blocks


def _short_value(value: str) -> str:
    # A 64-digit checksum would set the table's width; its prefix identifies it, and the
    # full value stays in run.json.
    if len(value) >= 32 and re.fullmatch(r"(sha256:)?[0-9a-f]+", value):
        return value[:19] + "…"
    return value


def _image_label_rows(metas: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    rows: list[list[str]] = []
    seen: set[str] = set()
    for meta in metas:
        for ref, labels in sorted((meta.get("images") or {}).items()):
            if ref in seen:
                continue
            seen.add(ref)
            if not isinstance(labels, Mapping) or not labels:
                rows.append([f"`{ref}`", "–", "–"])
                continue
            for i, (key, value) in enumerate(sorted(labels.items())):
                rows.append([f"`{ref}`" if i == 0 else "", f"`{key}`", _short_value(str(value))])
    return rows
