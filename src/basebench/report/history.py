"""The history page: each key figure per variant across runs (dates, Python versions).

This is the view a team uses for "regression runs on new Python versions": one line per
variant, one point per run, oldest first. Every run is summarised on its own (its own
reference, its own rounds), exactly as its own report does; the page never pools runs, and it
says when runs come from different hosts or base-image worlds, whose absolute figures are not
comparable (asv's rule: never compare timings across machines without saying so).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from basebench.report.analysis import SummaryRow, select, summarise
from basebench.report.doc import Chart, Document, Heading, Para, Table, to_html, to_markdown
from basebench.report.fmt import quantity
from basebench.report.frame import check_run_dirs, label_configs, normalise
from basebench.report.style import STYLE, PlotStyle, new_figure, savefig, styled
from basebench.results import atomic_write_bytes, load_runs, read_run_meta
from basebench.versions import version_key


@dataclass(frozen=True)
class KeyFigure:
    title: str
    unit: str
    #: From one run's summary row and that config's rows of the tidy frame; NaN = not measured.
    read: Callable[[SummaryRow, pd.DataFrame], float]


def _startup_pass(_row: SummaryRow, sub: pd.DataFrame) -> float:
    rows = select(sub, group="startup", benchmark="python -c pass", strategy="")
    return float(np.median(rows["value"])) if not rows.empty else math.nan


KEY_FIGURES = (
    KeyFigure("Base image, compressed", "bytes", lambda row, _sub: row.compressed),
    KeyFigure(
        "Fastest build",
        "s",
        lambda row, _sub: row.build.median if row.build is not None else math.nan,
    ),
    KeyFigure(
        "Runtime vs the run's reference (as shipped, geometric mean)",
        "ratio",
        lambda row, sub: (
            row.runtime.estimate if not select(sub, group="runtime").empty else math.nan
        ),
    ),
    KeyFigure("Start-up, python -c pass (base image)", "s", _startup_pass),
)


#: How each unit is drawn: MB rather than 4e8 bytes.
SCALE = {"bytes": 1e6, "s": 1.0, "ratio": 1.0}
AXIS_LABEL = {"bytes": "MB", "s": "seconds", "ratio": "× reference (log)"}


@dataclass(frozen=True)
class Point:
    run: str
    started: str
    python: str
    variant: str
    values: tuple[float, ...]  # one per KEY_FIGURES

    @property
    def x_label(self) -> str:
        # Runs of one day differ by the time: month-day hour:minute, then the Python.
        return f"{self.started[5:16].replace('T', ' ')} · {self.python}"


def history_points(run_dirs: Sequence[Path]) -> tuple[list[Point], list[Mapping[str, Any]]]:
    """One point per (run, Python, variant), each run summarised on its own."""
    points: list[Point] = []
    metas: list[Mapping[str, Any]] = []
    for run_dir in check_run_dirs(list(run_dirs)):
        meta = read_run_meta(run_dir)
        metas.append(meta)
        tidy = normalise(load_runs([run_dir]))
        labelled, configs = label_configs(tidy, [meta])
        for row in summarise(labelled, configs):
            sub = labelled[labelled["config"] == row.config]
            points.append(
                Point(
                    run=str(meta.get("run_id", run_dir.name)),
                    started=str(meta.get("started", "")),
                    python=row.python,
                    variant=row.variant,
                    values=tuple(f.read(row, sub) for f in KEY_FIGURES),
                )
            )
    points.sort(key=lambda p: (p.started, version_key(p.python), p.variant))
    return points, metas


def _x_order(points: Sequence[Point]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((p.run, p.python) for p in points))


def history_chart(points: Sequence[Point], out: Path, style: PlotStyle = STYLE) -> list[str]:
    """history.png/.svg: a panel per key figure, a line per variant; the figures it drew."""
    drawn = [
        i for i, _ in enumerate(KEY_FIGURES) if any(math.isfinite(p.values[i]) for p in points)
    ]
    if not drawn:
        return []
    xs = _x_order(points)
    labels = {(p.run, p.python): p.x_label for p in points}  # several variants share one x position
    variants = list(dict.fromkeys(p.variant for p in points))
    with styled(style):
        fig, axes = new_figure(2.4 * len(drawn), nrows=len(drawn), sharex=True, style=style)
        for ax, index in zip(axes[:, 0], drawn, strict=True):
            figure = KEY_FIGURES[index]
            for v_index, variant in enumerate(variants):
                # A run that did not measure a figure is skipped, not a gap in the line.
                mine = [
                    p for p in points if p.variant == variant and math.isfinite(p.values[index])
                ]
                x = [xs.index((p.run, p.python)) for p in mine]
                y = [p.values[index] / SCALE[figure.unit] for p in mine]
                ax.plot(x, y, marker="o", color=style.color(v_index), label=variant)
            ax.set_title(figure.title, loc="left")
            if figure.unit == "ratio":
                ax.set_yscale("log")
                ax.axhline(1.0, color=style.reference_color, linewidth=0.8)
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.3g}×"))
                ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _pos: f"{v:.3g}×"))
            ax.set_ylabel(AXIS_LABEL[figure.unit])
        axes[-1, 0].set_xticks(range(len(xs)), [labels[x] for x in xs], rotation=20, ha="right")
        axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        savefig(fig, out, "history", style)
    return [KEY_FIGURES[i].title for i in drawn]


def _cell(value: float, unit: str) -> str:
    if math.isnan(value):
        return "–"
    if unit == "ratio":
        return f"{value:.2f}×"
    return quantity(value, unit)


def history_document(points: Sequence[Point], metas: Sequence[Mapping[str, Any]]) -> Document:
    doc = Document("basebench history")
    xs = _x_order(points)
    doc.add(
        Para(
            f"{len(metas)} runs, oldest first. Each run is summarised on its own, against its "
            "own reference variant; a point is that run's figure (n and intervals are in the "
            "run's own report)."
        )
    )
    hosts = {str((m.get("host") or {}).get("cpu_model", "?")) for m in metas}
    sources = {str(m.get("base_source", "?")) for m in metas}
    if len(hosts) > 1 or len(sources) > 1:
        doc.add(
            Para(
                "**Not like for like**: these runs come from "
                + (f"{len(hosts)} hosts ({', '.join(sorted(hosts))})" if len(hosts) > 1 else "")
                + (" and " if len(hosts) > 1 and len(sources) > 1 else "")
                + (
                    f"different base-image worlds ({', '.join(sorted(sources))})"
                    if len(sources) > 1
                    else ""
                )
                + ": sizes of the same world compare, timings across hosts do not."
            )
        )
    doc.add(Chart("history", "Key figures per variant across runs"))
    columns = ["Variant"] + [f"{run} ({python})" for run, python in xs]
    for index, figure in enumerate(KEY_FIGURES):
        variants = list(dict.fromkeys(p.variant for p in points))
        body = []
        for variant in variants:
            by_x = {(p.run, p.python): p.values[index] for p in points if p.variant == variant}
            body.append([variant] + [_cell(by_x.get(x, math.nan), figure.unit) for x in xs])
        if any(cell != "–" for row in body for cell in row[1:]):
            doc.add(Heading(figure.title, 3), Table(columns, body, ["l"] + ["r"] * len(xs)))
    return doc


@dataclass(frozen=True)
class HistoryResult:
    markdown: Path
    html: Path


def write_history(
    run_dirs: Sequence[Path], out: Path, style: PlotStyle = STYLE
) -> HistoryResult | None:
    """history.md/.html/.png into ``out`` for two or more runs (None with fewer)."""
    if len(run_dirs) < 2:
        return None
    points, metas = history_points(run_dirs)
    out.mkdir(parents=True, exist_ok=True)
    drawn = history_chart(points, out, style)
    doc = history_document(points, metas)
    if not drawn:
        doc.blocks = [b for b in doc.blocks if not isinstance(b, Chart)]
    md = atomic_write_bytes(out / "history.md", to_markdown(doc).encode("utf-8"), overwrite=True)
    html_path = atomic_write_bytes(
        out / "history.html", to_html(doc, out).encode("utf-8"), overwrite=True
    )
    return HistoryResult(md, html_path)
