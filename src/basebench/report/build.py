"""Assemble report.md, report.html, the charts, data.csv and ratios.csv from run folders.

The document is: an introduction, the summary and recommendation, one section per
measurement group in the order :func:`basebench.groups.in_report_order` gives (each written by
the function the registry names, see :mod:`basebench.report.sections`), a table for any group
the registry does not know, and the conditions of the runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from basebench import groups
from basebench.errors import UserError
from basebench.measure.resolved import ResolvedSet
from basebench.report.analysis import SummaryRow, allocator_headlines, summarise
from basebench.report.doc import (
    Block,
    Bullets,
    Document,
    Folded,
    Heading,
    Para,
    Table,
    to_html,
)
from basebench.report.doc import to_markdown as doc_to_markdown
from basebench.report.export import data_frame, ratio_frame, schema_json
from basebench.report.fmt import interval_text, quantity, rounds_note, spread_text, verdict
from basebench.report.frame import (
    Configs,
    check_run_dirs,
    label_configs,
    normalise,
    pick_baseline,
)
from basebench.report.optimisation import compile_blocks
from basebench.report.overhead import budget_blocks, budget_skipped, harness_blocks
from basebench.report.own_app import OwnApp, blocking_problems, verdict_blocks
from basebench.report.reading import how_to_read
from basebench.report.recommend import (
    DEFAULT_PREFERENCE,
    choose,
    glossary_blocks,
    preference_of,
    recommendation_blocks,
)
from basebench.report.sections import ReportContext, metric_table
from basebench.report.shards import merge_shards, shard_sentence
from basebench.report.stats import spread
from basebench.report.style import STYLE, PlotStyle
from basebench.report.versions import prerelease_versions, python_label, versions_blocks
from basebench.results import (
    CONTAINER_PROBE_METRIC,
    CPU_PROBE_METRIC,
    HOST_PROBE_GROUP,
    LOAD_METRIC,
    atomic_write_bytes,
    latest_validation,
    load_resolved,
    load_runs,
    read_run_meta,
)
from basebench.versions import version_key

Section = Callable[[ReportContext], list[Block]]


@dataclass(frozen=True)
class ReportResult:
    """Where the report went, and the summary for the console."""

    report_dir: Path
    markdown: Path
    html: Path
    csv: Path
    summary: Table
    document: Document


def make_report(
    run_dirs: Sequence[Path],
    out_dir: Path | None = None,
    style: PlotStyle = STYLE,
    prefer: str | None = None,
) -> ReportResult:
    """Write report/ into the last run folder (or ``out_dir``); ``prefer`` overrides the
    recommendation's rule the runs were configured with."""
    dirs = check_run_dirs(run_dirs)
    metas = [read_run_meta(d) for d in dirs]
    frame = load_runs(dirs)
    # The newest run is the one people open; several runs report into the last one given.
    target = out_dir if out_dir is not None else dirs[-1] / "report"
    # This host's noise floor, from the newest `basebench validate` beside the last run.
    cpu_model = str((metas[-1].get("host") or {}).get("cpu_model", ""))
    validation = latest_validation(dirs[-1].parent, cpu_model)
    resolved = [ResolvedSet.from_dict(s) for s in load_resolved(dirs)]
    return render_report(frame, metas, target, style, validation, prefer, resolved)


def render_report(
    frame: pd.DataFrame,
    metas: Sequence[Mapping[str, Any]],
    out_dir: Path,
    style: PlotStyle = STYLE,
    validation: Mapping[str, Any] | None = None,
    prefer: str | None = None,
    resolved: Sequence[ResolvedSet] = (),
) -> ReportResult:
    """The pure part: a results frame and run metadata in, a report folder out.

    ``validation`` is this host's newest ``basebench validate`` record (its noise floor);
    ``resolved``: the resolved sets of a team's requirements the runs stored.
    """
    tidy = merge_shards(normalise(frame), metas)  # shards of one matrix read as one run
    # Host probes describe the machine, not a variant: they go to the conditions only.
    probes = tidy[tidy["group"] == HOST_PROBE_GROUP]
    if len(probes) == len(tidy):
        raise UserError("the run folder(s) hold no measurements; did 'basebench run' finish?")
    out_dir.mkdir(parents=True, exist_ok=True)
    labelled, configs = label_configs(tidy, metas)
    doc, summary = build_document(
        labelled,
        configs,
        metas,
        out_dir,
        style,
        probes,
        validation,
        preference_of(metas, prefer),
        resolved,
    )
    # Written whole or not at all: an interrupted report never leaves a half-written page
    # that looks complete.
    md_path = _write_text(out_dir / "report.md", doc_to_markdown(doc))
    html_path = _write_text(out_dir / "report.html", to_html(doc, out_dir))
    csv_path = _write_text(out_dir / "data.csv", data_frame(tidy, metas).to_csv(index=False))
    _write_text(out_dir / "data.schema.json", schema_json())
    _write_text(out_dir / "ratios.csv", ratio_frame(labelled, configs).to_csv(index=False))
    return ReportResult(out_dir, md_path, html_path, csv_path, summary, doc)


def _write_text(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=True)


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
    validation: Mapping[str, Any] | None = None,
    preference: str = DEFAULT_PREFERENCE,
    resolved: Sequence[ResolvedSet] = (),
) -> tuple[Document, Table]:
    ids = _run_ids(metas, frame)
    doc = Document(f"basebench report: {', '.join(ids)}")
    doc.add(header_strip(frame, metas, out), Para(_intro(frame, configs, metas)))
    # One set of runtime ratios (bootstrapped: the slow part) for the summary, the
    # recommendation and the runtime section.
    ctx = ReportContext(frame, configs, out, style, metas, resolved)
    rows = summarise(frame, configs, ctx.ratios)
    summary = summary_table(rows, configs, not_measured=budget_skipped(metas))
    headlines = allocator_headlines(frame, configs, ctx.ratios)
    choices = choose(frame, configs, _team_rows(rows, ctx.own_app), preference, headlines)
    problems = blocking_problems(frame, configs, ctx.own_app)
    # The verdict first, then the figures it rests on.
    doc.add(Heading("Recommendation"), *recommendation_blocks(choices))
    doc.add(*verdict_blocks(problems, ctx.own_app))
    doc.add(Heading("Summary"), summary)
    doc.add(*versions_blocks(frame, configs, metas))
    doc.add(*glossary_blocks(sorted({c.strategy for ch in choices for c in ch.candidates})))
    doc.add(*how_to_read(frame))
    doc.add(*group_sections(ctx))
    doc.add(*_conditions_section(frame, metas, probes))
    doc.add(*budget_blocks(metas))
    doc.add(*harness_blocks(metas))
    doc.add(*_validation_blocks(validation))
    return doc, summary


def _team_rows(rows: Sequence[SummaryRow], app: OwnApp) -> list[SummaryRow]:
    """With a team's requirements, the recommendation counts only their install problems
    (the built-in set measured beside them under --with-reference-set does not)."""
    if not app:
        return list(rows)
    team = set(app.team)
    return [
        replace(
            row,
            failed=[p for p in row.failed if p in team],
            sdist=[p for p in row.sdist if p in team],
        )
        for row in rows
    ]


def group_sections(ctx: ReportContext) -> list[Block]:
    """Each registered section once, in report order; then a table per unregistered group."""
    blocks: list[Block] = []
    # Build and install share one section: it stands where the first of them ranks.
    for reference in dict.fromkeys(g.section for g in groups.in_report_order()):
        section: Section = groups.load(reference)
        blocks += section(ctx)
    # A group from an older or newer basebench still shows its numbers, without new code.
    for name in sorted(set(ctx.frame["group"].tolist()) - groups.WRITTEN_GROUPS):
        blocks += [
            Heading(f"Other measurements: {name}"),
            metric_table(ctx.group(name), ctx.configs),
        ]
    return blocks


def _intro(frame: pd.DataFrame, configs: Configs, metas: Sequence[Mapping[str, Any]]) -> str:
    sources = sorted(set(frame["base_source"].tolist()) - {""})
    world = ", ".join(sources) or "unknown"
    if _published_stand_ins(metas):
        world += " path, serving local stand-ins, not the official images,"
    return (
        f"Compares {len(configs.order)} base image configuration(s): "
        f"{', '.join(f'`{c}`' for c in configs.order)}. Base images: **{world}** "
        "(see Conditions). A figure is the median over its rounds (n beside it; n = 1 is a "
        "single measurement, with no spread); runtime comparisons are ratios with 95 % "
        "bootstrap intervals, called faster or slower only when a test on the rounds stays "
        "significant after Holm's correction for all of them (see How to read this report)."
    )


# --- summary --------------------------------------------------------------------------------


def _reference_name(rows: Sequence[SummaryRow]) -> str:
    refs = [r.config for r in rows if r.is_reference]
    return ", ".join(refs) if refs else "reference"


def summary_table(
    rows: Sequence[SummaryRow], configs: Configs, not_measured: Mapping[str, str] | None = None
) -> Table:
    """``not_measured``: why a group has no data (a time budget left it out), by group."""
    skipped = dict(not_measured or {})
    columns = [
        "Variant",
        "libc",
        "Base image compressed",
        "Base image uncompressed",
        "Build time (fastest strategy)",
        "Install failures",
        f"Runtime vs {_reference_name(rows)} [summary 95 % CI]",
        "Runtime verdict",
    ]
    body = []
    for row in rows:
        if row.build is not None:
            note = rounds_note(row.build.n)
            build = f"{spread_text(row.build, 's')} ({row.build_strategy}, {note})"
        else:
            build = skipped.get("build", "–")
        if row.installs:
            failures = f"{len(row.failed)} of {row.installs}"
            if row.failed:
                failures += f" ({', '.join(row.failed)})"
            if row.sdist:
                failures += f"; {len(row.sdist)} from source"
        else:
            failures = skipped.get("install", "–")
        runtime, word = _runtime_cells(row)
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
    return Table(
        columns,
        body,
        align=["l", "l", "r", "r", "r", "l", "r", "l"],
        caption="runtime: this variant as shipped (its default allocator) against the "
        "reference, as the geometric mean over mechanisms (each the geometric mean of its "
        "workloads' ratios, so a mechanism counts once however many workloads it has), with a "
        "95 % hierarchical bootstrap interval: a summary (the per-workload verdicts, tested and "
        "corrected, are in Runtime); n ≥ k: the fewest rounds of any series in it",
    )


def _runtime_cells(row: SummaryRow) -> tuple[str, str]:
    """The headline ratio (a summary over workloads, with its interval) and its verdict."""
    if row.is_reference:
        return "1.00× (reference)", "reference"
    if not row.workloads:
        return "–", "no data"
    text = (
        f"{interval_text(row.runtime)} ({row.workloads} workloads in {row.mechanisms} "
        f"mechanisms, n ≥ {row.runtime_rounds})"
    )
    word = verdict(row.runtime.estimate, row.runtime.excludes_one, rounds=row.runtime_rounds)
    return text, word


# --- conditions -----------------------------------------------------------------------------


def _published_stand_ins(metas: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Images a run pulled on the official path that are local stand-ins published to a
    registry (`basebench images push`): their own labels say base_source=local."""
    return [
        image
        for meta in metas
        for image in (meta.get("images") or {}).values()
        if image.get("source") == "official" and image.get("base_source") == "local"
    ]


def _stand_in_sentence(stand_ins: Sequence[Mapping[str, Any]]) -> str:
    names = ", ".join(sorted({str(i.get("reference", "?")) for i in stand_ins}))
    fixtures = sorted({str(i["fixture"]) for i in stand_ins if i.get("fixture")})
    fixture_text = f" They are test fixtures ({'; '.join(fixtures)})." if fixtures else ""
    return (
        f"Base images: pulled through the official path ({names}), but they are **local "
        "stand-ins** built by basebench and published to that registry (`basebench images "
        "push`), **not the official images**: read the ratios, not the absolute numbers."
        + fixture_text
    )


def _base_source_sentence(
    sources: Sequence[str], stand_ins: Sequence[Mapping[str, Any]] = ()
) -> str:
    if not sources:
        return "Base images: not recorded."
    if stand_ins:
        return _stand_in_sentence(stand_ins)
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
    blocks.append(Para(_base_source_sentence(sources, _published_stand_ins(metas))))
    shards = shard_sentence(frame, metas, pick_baseline(frame, metas))
    if shards:
        blocks.append(Para(shards))
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
    blocks += compile_blocks(metas)
    images = _image_label_rows(metas)
    if images:
        refs = sum(1 for row in images if row[0])
        blocks.append(
            Folded(
                f"Images: CPython build flags, libc, sources ({refs} images, {len(images)} labels)",
                [
                    Table(
                        ["Image", "Label", "Value"],
                        images,
                        caption="labels recorded on each image (build flags, libc version, "
                        "source checksums, shortened here: the full values are in run.json)",
                    )
                ],
            )
        )
    return blocks


def header_strip(frame: pd.DataFrame, metas: Sequence[Mapping[str, Any]], out: Path) -> Table:
    """What a reader checks first: which Python, which world, which profile, which host, when,
    whether the run finished, and where the data and the comparisons are."""
    pythons = sorted(set(frame["python"].tolist()) - {""}, key=version_key)
    prereleases = prerelease_versions(metas)
    sources = sorted(set(frame["base_source"].tolist()) - {""})
    profiles = list(dict.fromkeys(str((m.get("config") or {}).get("profile", "?")) for m in metas))
    hosts = list(dict.fromkeys(str((m.get("host") or {}).get("cpu_model", "?")) for m in metas))
    dates = [str(m.get("started", "?"))[:16].replace("T", " ") for m in metas]
    # data.csv and ratios.csv are written with every report; compare pages when made.
    files = ["[data.csv](data.csv)", "[ratios.csv](ratios.csv)"] + [
        f"[{p.stem}]({p.name})" for p in sorted(out.glob("compare-*.md"))
    ]
    return Table(
        ["Python", "Base images", "Profile", "Host", "Started", "Status", "Files"],
        [
            [
                ", ".join(python_label(p, prereleases) for p in pythons) or "?",
                ", ".join(sources) or "?",
                ", ".join(profiles),
                "; ".join(hosts),
                ", ".join(dates),
                "; ".join(run_status(m) for m in metas),
                " · ".join(files),
            ]
        ],
    )


def run_status(meta: Mapping[str, Any]) -> str:
    """A run's state in words, with its failures counted (a run that died says so)."""
    status = str(meta.get("status") or "?")
    failures = [f for f in meta.get("failures") or [] if isinstance(f, Mapping)]
    stop = meta.get("interrupted")
    if isinstance(stop, Mapping):
        step = stop.get("step") or "between steps"
        left = stop.get("missing")
        # Runs stopped before per-round checkpoints say nothing more precise than this.
        what = "later groups are missing" if left is None else _missing_text(left)
        status = (
            f"**interrupted** by {stop.get('signal', '?')} at {stop.get('at', '?')} "
            f"during {step}: {what}"
        )
    elif not meta.get("finished"):
        status = f"**incomplete** ({status}; no finish time: stopped or killed)"
    elif failures:
        whats = ", ".join(str(f.get("what", "?")) for f in failures[:3])
        more = f" and {len(failures) - 3} more" if len(failures) > 3 else ""
        status = f"**{status}**: {len(failures)} failure(s) ({whats}{more})"
    lost = meta.get("engine_lost")
    if isinstance(lost, Mapping) and lost.get("missing") is not None:
        status += f"; {_missing_text(lost['missing'])}"
    resumes = len(meta.get("interruptions") or [])
    if resumes and not isinstance(stop, Mapping):
        status += f" (resumed after {resumes} interruption{'s' if resumes > 1 else ''})"
    return status


def _missing_text(lines: Any) -> str:
    """What an interrupted run had not measured yet (run.json's interrupted.missing)."""
    items = [str(line) for line in lines] if isinstance(lines, list) else [str(lines)]
    if not items:
        return "nothing missing (every group had finished); `basebench run --resume` closes it"
    return "missing " + "; ".join(items) + " (`basebench run --resume RUN` measures them)"


def _short_value(value: str) -> str:
    # A 64-digit checksum would set the table's width; its prefix identifies it, and the
    # full value stays in run.json.
    if len(value) >= 32 and re.fullmatch(r"(sha256:)?[0-9a-f]+", value):
        return value[:19] + "…"
    return value


def _label_text(value: Any) -> str:
    """A label's value for the table; the registry's manifest (a mapping) in one line."""
    if isinstance(value, Mapping) and "layers" in value:
        layers = value.get("layers") or []
        types = ", ".join(sorted({str(layer.get("media_type", "?")) for layer in layers}))
        return (
            f"{len(layers)} layers, {int(value.get('compressed', 0)) / 1e6:.1f} MB as stored "
            f"({types}); manifest {_short_value(str(value.get('digest', '')))}"
        )
    if isinstance(value, Mapping) and "error" in value:
        return f"none read: {value['error']}"
    return _short_value(str(value))


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
                rows.append([f"`{ref}`" if i == 0 else "", f"`{key}`", _label_text(value)])
    return rows


def _validation_blocks(validation: Mapping[str, Any] | None) -> list[Block]:
    """This host's noise floor and the decision rule's proof, from ``basebench validate``."""
    if not validation:
        return [
            Para(
                "_No `basebench validate` run of this host beside these results: its noise "
                "floor and the decision rule's false-positive rate here are unmeasured._"
            )
        ]
    checks = [c for c in validation.get("checks") or [] if isinstance(c, Mapping)]
    passed = sum(bool(c.get("passed")) for c in checks)
    floor_text = " ".join(
        f"{what}: "
        + "; ".join(
            f"{group} up to {float(f['largest_ratio']):.3f}× "
            f"(median {float(f['median_ratio']):.3f}× of {int(f['metrics'])})"
            for group, f in sorted(floors.items())
        )
        + "."
        for what, floors in (
            ("A/A ratios within one run", validation.get("noise_floor") or {}),
            ("Between two runs", validation.get("between_runs") or {}),
        )
        if floors
    )
    blocks: list[Block] = [
        Heading("This host's noise floor", 3),
        Para(
            f"From the newest `basebench validate` run of a host with the same CPU model beside "
            f"these results, `{validation.get('run_id', '?')}` (a machine's speed can change "
            f"between sessions: re-run `basebench validate` to measure today's): {passed} of "
            f"{len(checks)} checks passed. {floor_text or 'No A/A ratio recorded.'}"
        ),
    ]
    failed = [c for c in checks if not c.get("passed")]
    if failed:
        blocks.append(Bullets([f"FAILED {c.get('name')}: {c.get('measured')}" for c in failed]))
    return blocks
