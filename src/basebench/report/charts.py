"""The charts: one per question, all in the shared :class:`PlotStyle`.

Every report chart takes the labelled frame, draws, saves PNG+SVG through :func:`savefig` and
returns its :class:`Chart` block (``None`` or ``[]`` when there is nothing to draw). A chart
that would be taller than :attr:`PlotStyle.max_height_px` is drawn in parts (``stem``,
``stem-2``...), so the ``..._charts`` functions return a list. A variant has one colour in every
chart of every run (:meth:`PlotStyle.variant_colors`).
:func:`comparison_chart` draws a ``basebench compare`` and returns the paths it wrote.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colorbar import Colorbar
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from basebench.layers import APP, KINDS, OS, OS_PYTHON, PYTHON
from basebench.report.analysis import (
    VS_DEFAULT,
    VS_SAME_ALLOCATOR,
    RuntimeRatio,
    install_outcomes,
    rounds_of,
    select,
    series_spread,
    values,
    workload_manifest,
)
from basebench.report.compare import (
    IMPROVED,
    NOT_SIGNIFICANT,
    REGRESSED,
    STATUS_ORDER,
    UNCHANGED,
    UNTESTED,
    WITHIN_DRIFT,
    Comparison,
    MetricComparison,
    severity,
)
from basebench.report.doc import Chart
from basebench.report.fmt import MB, display_unit
from basebench.report.frame import DEFAULT_ALLOCATORS, Configs
from basebench.report.layer_sizes import BASE_ROLE, PANELS, ImageSize, image_sizes
from basebench.report.stats import Spread, round_medians
from basebench.report.style import STYLE, PlotStyle, new_figure, savefig, styled

MARKERS = ("o", "s", "^", "D", "v", "P")
HATCHES = ("", "//", "..", "xx", "\\\\", "++")
#: (total metric, per-kind metric) of each panel of the size charts.
SIZE_PANELS = PANELS
#: Layer kinds bottom-up, as an image is built; kinds not listed follow, sorted.
LAYER_KINDS = KINDS
T = TypeVar("T")


def look(configs: Configs, label: str, style: PlotStyle = STYLE) -> tuple[str, str, str]:
    """(colour, marker, hatch) of a config: colour = variant, marker/hatch = Python version.

    A variant's colour is fixed (:meth:`PlotStyle.variant_colors`: its place in the variant
    catalogue), so it is the same in every chart of every run. Keeping one colour per variant
    across Python versions makes "3.13 vs 3.14 of the same image" read as a pair, which is the
    regression axis the report exists for.
    """
    _, python, variant = configs.keys[label]
    colors = style.variant_colors([configs.keys[c][2] for c in configs.order])
    pythons = list(dict.fromkeys(configs.keys[c][1] for c in configs.order))
    p = pythons.index(python) if configs.multi_python else 0
    return colors[variant], MARKERS[p % len(MARKERS)], HATCHES[p % len(HATCHES)]


def _parts(items: Sequence[T], per_chart: int) -> list[Sequence[T]]:
    """``items`` in consecutive parts of at most ``per_chart``, as evenly as that allows."""
    count = max(1, math.ceil(len(items) / max(per_chart, 1)))
    size = math.ceil(len(items) / count)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _stem(stem: str, index: int) -> str:
    """The file name of a chart's part: ``stem``, ``stem-2``, ``stem-3``..."""
    return stem if index == 0 else f"{stem}-{index + 1}"


def _part_title(title: str, index: int, count: int) -> str:
    return title if count == 1 else f"{title} ({index + 1} of {count})"


def _present(order: Sequence[str], frame: pd.DataFrame) -> list[str]:
    have = set(frame["config"].tolist())
    return [c for c in order if c in have]


def _iqr_errors(spreads: Sequence[Spread]) -> np.ndarray:
    """Whiskers from the quartiles; none (NaN) for a single round: one value has no spread."""
    low = np.array([sp.median - sp.q25 if sp.n > 1 else np.nan for sp in spreads])
    high = np.array([sp.q75 - sp.median if sp.n > 1 else np.nan for sp in spreads])
    return np.vstack([low, high])


#: Height (in) of one bar of the build chart, and of the gap between strategies.
BUILD_BAR_IN, BUILD_GAP_IN, BUILD_EXTRA_IN = 0.22, 0.3, 1.4


def build_time_charts(
    frame: pd.DataFrame, configs: Configs, out: Path, style: PlotStyle = STYLE
) -> list[Chart]:
    """Grouped horizontal bars: one group per strategy, one bar per config, IQR whiskers (none
    for a single build); strategies split over several charts when one would be too tall."""
    builds = select(frame, group="build", metric="wall_time")
    if builds.empty:
        return []
    strategies = list(dict.fromkeys(builds["benchmark"].tolist()))
    cfgs = _present(configs.order, builds)
    per_strategy = BUILD_BAR_IN * len(cfgs) + BUILD_GAP_IN
    parts = _parts(strategies, style.rows_that_fit(per_strategy, BUILD_EXTRA_IN))
    charts = []
    for index, part in enumerate(parts):
        stem = _stem("build-time", index)
        title = _part_title("Image build time per strategy", index, len(parts))
        _build_chart(builds, list(part), cfgs, configs, out / f"{stem}.png", title, style)
        charts.append(Chart(stem, "Build time per strategy and variant"))
    return charts


def _build_chart(
    builds: pd.DataFrame,
    strategies: Sequence[str],
    cfgs: Sequence[str],
    configs: Configs,
    path: Path,
    title: str,
    style: PlotStyle,
) -> None:
    with styled(style):
        height = (BUILD_BAR_IN * len(cfgs) + BUILD_GAP_IN) * len(strategies) + BUILD_EXTRA_IN
        fig, axes = new_figure(height, style=style)
        ax = axes[0][0]
        height = 0.8 / max(len(cfgs), 1)
        for i, cfg in enumerate(cfgs):
            spreads, ys = [], []
            for j, strategy in enumerate(strategies):
                sub = builds[(builds["config"] == cfg) & (builds["benchmark"] == strategy)]
                if sub.empty:
                    continue
                spreads.append(series_spread(sub))
                ys.append(j - 0.4 + height * (i + 0.5))
            color, _, hatch = look(configs, cfg, style)
            ax.barh(
                ys,
                [sp.median for sp in spreads],
                height=height * 0.9,
                xerr=_iqr_errors(spreads),
                color=color,
                hatch=hatch,
                edgecolor="white",
                label=cfg,
                error_kw={"ecolor": "#333333", "capsize": 2, "elinewidth": 1},
            )
        ax.set_yticks(range(len(strategies)), strategies)
        ax.invert_yaxis()
        ax.set_xlabel(
            "build wall time (s), median; whiskers: interquartile range (none for one build)"
        )
        ax.set_title(title)
        ax.grid(axis="y", visible=False)
        # Below the plot, never on top of a bar, however long the bars are.
        fig.legend(
            title="variant", loc="outside lower center", ncols=min(len(cfgs), 3), frameon=False
        )
        savefig(fig, path.parent, path.stem, style)


#: Height (in) of one package's row of the install heatmap (three lines of text fit).
INSTALL_ROW_IN, INSTALL_EXTRA_IN = 0.57, 1.6
#: Characters per line of a failure's reason in a heatmap cell, and lines at most.
REASON_WIDTH, REASON_LINES = 26, 3


def install_heatmaps(
    frame: pd.DataFrame, configs: Configs, out: Path, style: PlotStyle = STYLE
) -> list[Chart]:
    """Packages × configs; colour = install time (log); text = the time and what pip
    installed (the wheel's platform tag, or sdist), or for a failure its reason and no time."""
    installs = select(frame, group="install")
    if installs.empty:
        return []
    cfgs = _present(configs.order, installs)
    packages = sorted(set(installs["benchmark"].tolist()))
    grid = _install_grid(installs, cfgs, packages)
    positive = grid.times[np.isfinite(grid.times) & (grid.times > 0)]
    vmin = float(positive.min()) if positive.size else 0.1
    vmax = float(positive.max()) if positive.size else 1.0
    # One colour scale for every part: a colour means the same time in each.
    norm = LogNorm(vmin=vmin, vmax=max(vmax, vmin * 1.01))
    parts = _parts(range(len(packages)), style.rows_that_fit(INSTALL_ROW_IN, INSTALL_EXTRA_IN))
    charts = []
    for index, rows in enumerate(parts):
        stem = _stem("install-heatmap", index)
        title = _part_title("pip install time per package", index, len(parts))
        _heatmap(
            grid.part(list(rows)), [packages[r] for r in rows], cfgs, norm, out, stem, title, style
        )
        charts.append(Chart(stem, "pip install time and kind per package and variant"))
    return charts


def _heatmap(
    grid: InstallGrid,
    packages: Sequence[str],
    cfgs: Sequence[str],
    norm: LogNorm,
    out: Path,
    stem: str,
    title: str,
    style: PlotStyle,
) -> None:
    with styled(style):
        fig, axes = new_figure(INSTALL_ROW_IN * len(packages) + INSTALL_EXTRA_IN, style=style)
        ax = axes[0][0]
        times = grid.times
        shown = np.ma.masked_where(grid.failed | ~np.isfinite(times) | (times <= 0), times)
        cmap = colormaps["YlOrRd"].with_extremes(bad="#e0e0e0")
        image = ax.imshow(shown, aspect="auto", cmap=cmap, norm=norm)
        for i in range(len(packages)):
            for j in range(len(cfgs)):
                value = shown[i, j]
                dark = value is not np.ma.masked and norm(float(value)) > 0.6
                ax.text(
                    j,
                    i,
                    grid.labels[i][j] or "–",
                    ha="center",
                    va="center",
                    fontsize=style.font_size - 1.5,
                    color="white" if dark else "#222222",
                    fontweight="bold" if grid.failed[i, j] else "normal",
                )
        ax.set_xticks(range(len(cfgs)), cfgs, rotation=20 if len(cfgs) > 4 else 0, ha="center")
        ax.set_yticks(range(len(packages)), packages)
        ax.tick_params(axis="x", top=True, bottom=False, labeltop=True, labelbottom=False)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(f"{title}\n(grey: failed, with the reason; –: not tried)")
        bar = fig.colorbar(image, ax=ax, label="install wall time (s, log scale)", shrink=0.8)
        _seconds_ticks(bar, float(norm.vmin or 0.1), float(norm.vmax or 1.0))
        savefig(fig, out, stem, style)


@dataclass(frozen=True)
class InstallGrid:
    """Per package × config: median install time (NaN = none), cell text, failed or not."""

    times: np.ndarray
    labels: list[list[str]]
    failed: np.ndarray

    def part(self, rows: Sequence[int]) -> InstallGrid:
        return InstallGrid(self.times[rows], [self.labels[r] for r in rows], self.failed[rows])


def _install_grid(
    installs: pd.DataFrame, cfgs: Sequence[str], packages: Sequence[str]
) -> InstallGrid:
    times = np.full((len(packages), len(cfgs)), np.nan)
    labels = [["" for _ in cfgs] for _ in packages]
    failed = np.zeros(times.shape, dtype=bool)
    for j, cfg in enumerate(cfgs):
        sub = installs[installs["config"] == cfg]
        outcomes = install_outcomes(sub)
        for i, package in enumerate(packages):
            mine = sub[sub["benchmark"] == package]
            outcome = outcomes.get(package, "")
            if outcome == "failed":
                # A failure's time is how long it took to fail: not an install time.
                failed[i, j] = True
                labels[i][j] = failure_text(mine)
                continue
            rows = mine[mine["metric"] == "wall_time"]
            if not rows.empty:
                times[i, j] = float(np.median(values(rows)))
            time_text = "" if math.isnan(times[i, j]) else f"{times[i, j]:.1f} s"
            labels[i][j] = "\n".join(t for t in (time_text, install_kind(outcome)) if t)
    return InstallGrid(times, labels, failed)


def install_kind(outcome: str) -> str:
    """ "wheel:manylinux_2_17_x86_64" -> "manylinux_2_17": the tag without the architecture;
    "sdist" stays; "" (not tried) stays empty."""
    if outcome.startswith("wheel:"):
        tag = outcome.split(":", 1)[1]
        return re.sub(r"_(x86_64|aarch64|i686|armv7l|ppc64le|s390x)$", "", tag)
    return "" if outcome in ("", "unknown") else outcome


def failure_text(rows: pd.DataFrame) -> str:
    """ "failed" and the reason the run recorded, wrapped to fit a cell; where it failed."""
    details = [str(d) for d in rows["detail"] if str(d).startswith("failed")]
    reason = details[0].removeprefix("failed").lstrip(":").strip() if details else ""
    where = "failed"
    if reason.startswith("download:"):
        where, reason = "failed (download)", reason.removeprefix("download:").strip()
    reason = re.sub(r"^(error|exception|fatal)\s*:\s*", "", reason, flags=re.IGNORECASE)
    reason = reason.rstrip(".") or "no reason recorded"
    lines = textwrap.wrap(reason, REASON_WIDTH)
    if len(lines) > REASON_LINES:
        lines = [
            *lines[: REASON_LINES - 1],
            textwrap.shorten(lines[REASON_LINES - 1] + " …", REASON_WIDTH),
        ]
    return "\n".join([f"{where}:", *lines])


def _seconds_ticks(bar: Colorbar, vmin: float, vmax: float) -> None:
    # Plain seconds on the log colour bar; "6×10¹" is not what a reader expects.
    ticks = [m * 10.0**e for e in range(-2, 5) for m in (1, 2, 5)]
    bar.set_ticks([t for t in ticks if vmin <= t <= vmax] or [vmin, vmax])
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    bar.ax.yaxis.set_minor_formatter(NullFormatter())


#: Names of the layer kinds in the size chart's legend.
KIND_NAMES = {
    OS: "OS layers",
    OS_PYTHON: "OS + Python in one layer",
    PYTHON: "Python layers",
    APP: "app layers",
    "other": "not attributed to a kind",
    "total": "total (no per-layer breakdown)",
}
SIZE_EXTRA_IN = 2.2


def size_charts(
    frame: pd.DataFrame, configs: Configs, out: Path, style: PlotStyle = STYLE
) -> list[Chart]:
    """Compressed and uncompressed size per image, stacked by layer kind (:mod:`layer_sizes`):
    the base images in one chart, the app images (one bar per strategy) in the next."""
    sizes = select(frame, group="size")
    if sizes.empty:
        return []
    images = image_sizes(sizes, configs.order)
    charts = []
    for stem, title, part in (
        ("size", "Base image size per variant", [i for i in images if i.role == BASE_ROLE]),
        (
            "size-app",
            "App image size per variant and build strategy",
            [i for i in images if i.role != BASE_ROLE],
        ),
    ):
        pieces = (
            _parts(part, style.rows_that_fit(style.row_height_in, SIZE_EXTRA_IN)) if part else []
        )
        for index, piece in enumerate(pieces):
            name = _stem(stem, index)
            _size_chart(piece, out, name, _part_title(title, index, len(pieces)), style)
            charts.append(Chart(name, title + " (compressed and uncompressed, by layer kind)"))
    return charts


def _size_chart(
    images: Sequence[ImageSize], out: Path, stem: str, title: str, style: PlotStyle
) -> None:
    with styled(style):
        fig, axes = new_figure(
            style.height_for_rows(len(images), extra=SIZE_EXTRA_IN),
            ncols=2,
            style=style,
            sharey=True,
        )
        # The legend names only the kinds some bar shows, in stacking order.
        used_kinds: list[str] = []
        for ax, (total_metric, _) in zip(axes[0], SIZE_PANELS, strict=True):
            for y, image in enumerate(images):
                length = _size_bar(ax, y, image, total_metric, style, used_kinds)
                if length > 0:
                    ax.text(
                        length,
                        y,
                        f" {length:,.0f}",
                        va="center",
                        ha="left",
                        fontsize=style.font_size - 1.5,
                    )
            ax.set_yticks(range(len(images)), [_size_label(i) for i in images])
            ax.set_xlabel(f"{total_metric} size (MB)")
            ax.set_title(total_metric.capitalize())
            ax.grid(axis="y", visible=False)
            ax.margins(x=0.18)
        axes[0][0].invert_yaxis()
        order = [k for k in (*LAYER_KINDS, "other", "total") if k in used_kinds]
        handles = [Patch(label=KIND_NAMES[k], **_kind_look(k, style)) for k in order]
        # The notes head the legend: footnotes under the plot, wrapped to the figure's width.
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=max(min(len(handles), 3), 1),
            title=_size_notes(images, "total" in used_kinds) or None,
            title_fontsize=style.font_size - 1.5,
            alignment="left",
        )
        fig.suptitle(title)
        savefig(fig, out, stem, style)


def _size_label(image: ImageSize) -> str:
    label = image.config if image.role == BASE_ROLE else f"{image.config} · {image.strategy}"
    return label + (" *" if image.stand_in_builder else " †" if image.on_builder else "")


def _size_notes(images: Sequence[ImageSize], whole: bool) -> str:
    notes = []
    if any(i.stand_in_builder for i in images):
        notes.append(
            "* runs on the musl stand-in's builder (Debian with a musl toolchain), not on "
            "Alpine: its size is the stand-in's construction, not what Alpine's single-stage "
            "image weighs"
        )
    if any(i.on_builder and not i.stand_in_builder for i in images):
        notes.append("† its final stage runs on the builder image, not on the base")
    if whole:
        notes.append(
            "grey: a size the run recorded no usable split of (compressed bytes of a run made "
            "before layers were classified against the image a stage runs on)"
        )
    return "\n".join(textwrap.fill(note, 110, break_on_hyphens=False) for note in notes)


def _size_bar(
    ax: Axes, y: int, image: ImageSize, metric: str, style: PlotStyle, used_kinds: list[str]
) -> float:
    """One image's bar: stacked by layer kind where known, else its total.

    Returns the bar's length in MB (0 when nothing was drawn); adds the kinds it drew to
    ``used_kinds``.
    """
    total = image.totals.get(metric, math.nan)
    per_kind = image.kinds.get(metric)
    if per_kind:
        return _layer_stack(ax, y, per_kind, total, style, used_kinds)
    if math.isnan(total):
        return 0.0
    ax.barh(y, total / MB, height=0.7, **_kind_look("total", style))
    _note_kind(used_kinds, "total")
    return total / MB


def _layer_stack(
    ax: Axes,
    y: int,
    per_kind: dict[str, float],
    total: float,
    style: PlotStyle,
    used_kinds: list[str],
) -> float:
    kinds = [k for k in LAYER_KINDS if k in per_kind]
    kinds += sorted(k for k in per_kind if k not in LAYER_KINDS)
    left = 0.0
    for kind in kinds:
        width = per_kind[kind] / MB
        name = kind if kind in style.layer_colors else "other"
        ax.barh(y, width, left=left, height=0.7, **_kind_look(name, style))
        left += width
        _note_kind(used_kinds, name)
    if not math.isnan(total) and total / MB > left * 1.005:
        # Layers not attributed to a kind: show the gap rather than hide it.
        ax.barh(y, total / MB - left, left=left, height=0.7, **_kind_look("other", style))
        _note_kind(used_kinds, "other")
        left = total / MB
    return left


def _kind_look(kind: str, style: PlotStyle) -> dict[str, Any]:
    """Colour (and stripes) of a layer kind, for a bar and its legend patch alike."""
    colour = style.total_color if kind == "total" else style.layer_colors[kind]
    if kind not in style.layer_hatches:
        return {"facecolor": colour, "edgecolor": colour}
    hatch, stripes = style.layer_hatches[kind]
    return {"facecolor": colour, "edgecolor": stripes, "hatch": hatch, "linewidth": 0}


def _note_kind(used_kinds: list[str], kind: str) -> None:
    if kind not in used_kinds:
        used_kinds.append(kind)


#: The runtime-ratio chart is never taller than this (1200 px at the style's 100 dpi).
MAX_RATIO_CHART_IN = 12.0
#: Extra space (in rows) above each mechanism's group of workloads, for its name.
MECHANISM_GAP = 0.7
#: The marker of a ratio against the reference under the same allocator.
SAME_ALLOCATOR_MARKER = "d"


def runtime_ratio(
    ratios: Sequence[RuntimeRatio], configs: Configs, out: Path, style: PlotStyle = STYLE
) -> Chart | None:
    """Ratio vs the reference per workload with 95 % intervals, on a log axis.

    One panel per allocator, side by side, CPython's default first. In each, every variant
    against the reference with its default allocator (what switching gets: the variant's
    marker) and against the reference under the same allocator (the libc's effect: a thin
    diamond below it). Workloads are grouped by mechanism, in the manifest's order, each group
    under its mechanism's name. The height grows with the workloads only, up to
    MAX_RATIO_CHART_IN.
    """
    default = [r for r in ratios if r.basis == VS_DEFAULT]
    if not default:
        return None
    # CPython's default allocator first: it is what a team runs without configuration.
    seen = list(dict.fromkeys(r.allocator for r in default))
    allocators = [a for a in DEFAULT_ALLOCATORS if a in seen]
    allocators += sorted(a for a in seen if a not in allocators)
    layout = _MechanismRows.of(ratios)
    cfgs = [c for c in configs.order if any(r.config == c for r in ratios)]
    same = [r for r in ratios if r.basis == VS_SAME_ALLOCATOR]
    with styled(style):
        per_row = style.row_height_in * max(1.0, len(cfgs) * (2 if same else 1) / 3)
        height = min(layout.span * per_row + 2.0, MAX_RATIO_CHART_IN)
        fig, axes = new_figure(height, ncols=len(allocators), style=style, sharex=True, sharey=True)
        narrow = len(allocators) > 3
        for ax, allocator in zip(axes[0], allocators, strict=True):
            panel = [r for r in ratios if r.allocator == allocator]
            _ratio_panel(ax, panel, cfgs, layout, configs, style)
            title = (allocator or "runtime").replace("+", "+\n") if narrow else allocator
            ax.set_title(title or "runtime", loc="left", fontsize="medium")
            ax.set_xlabel("ratio (log)" if narrow else "time ratio (log; <1 faster)")
        _ratio_ticks(axes[0][0], ratios, max_ticks=max(3, 8 - len(allocators)))
        layout.label(axes[0][0], style)
        handles = _config_handles(cfgs, configs, style)
        if same:
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker=SAME_ALLOCATOR_MARKER,
                    color=style.reference_color,
                    markersize=7,
                    label="vs reference, same allocator",
                )
            )
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(len(handles), 4),
            title=f"each variant vs {_reference_text(default, configs)}; bars: 95 % CI; "
            "hollow: not significant after Holm, or untested",
        )
        fig.suptitle("Runtime relative to the reference variant, by mechanism (pyperf)")
        savefig(fig, out, "runtime-ratio", style)
    return Chart("runtime-ratio", "Runtime ratio per workload against the reference variant")


@dataclass(frozen=True)
class _MechanismRows:
    """Where each workload's row and each mechanism's name go on the y axis."""

    workloads: tuple[str, ...]
    y: dict[str, float]
    headings: tuple[tuple[str, float], ...]
    span: float

    @classmethod
    def of(cls, ratios: Sequence[RuntimeRatio]) -> _MechanismRows:
        manifest = workload_manifest()
        mechanism_of = {r.benchmark: r.mechanism for r in ratios}
        workloads = sorted(
            mechanism_of,
            key=lambda w: (manifest.mechanism_rank(mechanism_of[w]), mechanism_of[w], w),
        )
        y: dict[str, float] = {}
        headings: list[tuple[str, float]] = []
        position, previous = 0.0, None
        for workload in workloads:
            if mechanism_of[workload] != previous:
                previous = mechanism_of[workload]
                headings.append((previous, position - 0.5 + MECHANISM_GAP / 2))
                position += MECHANISM_GAP
            y[workload] = position
            position += 1.0
        return cls(tuple(workloads), y, tuple(headings), position)

    def label(self, ax: Axes, style: PlotStyle) -> None:
        ticks = [self.y[w] for w in self.workloads] + [y for _, y in self.headings]
        labels = list(self.workloads) + [name for name, _ in self.headings]
        ax.set_yticks(ticks, labels)
        for text in ax.get_yticklabels()[len(self.workloads) :]:
            text.set_fontstyle("italic")
            text.set_fontweight("bold")
            text.set_color(style.reference_color)
        ax.set_ylim(self.span - 0.5, -0.5)
        for _, y in self.headings[1:]:
            for other in ax.get_figure().axes:  # type: ignore[union-attr]
                other.axhline(
                    y - MECHANISM_GAP / 2, color=style.grid_color, linewidth=0.8, zorder=0
                )


def _ratio_ticks(ax: Axes, ratios: Sequence[RuntimeRatio], max_ticks: int) -> None:
    """Readable ratios (0.8×, 1×, 1.25×...) on the log axis, around the data's range."""
    ends = [
        v
        for r in ratios
        for v in (r.interval.low, r.interval.high, r.interval.estimate)
        if math.isfinite(v) and v > 0
    ]
    # Room for the markers at either end (their width is not part of the data).
    _ratio_axis(ax, min([*ends, 1.0]) / 1.12, max([*ends, 1.0]) * 1.12, 1.0, max_ticks)
    ax.xaxis.set_minor_formatter(NullFormatter())


def _ratio_panel(
    ax: Axes,
    ratios: Sequence[RuntimeRatio],
    cfgs: Sequence[str],
    layout: _MechanismRows,
    configs: Configs,
    style: PlotStyle,
) -> None:
    """One allocator's panel: a row per workload; per config its ratio against the reference's
    default allocator and, below it, against the reference under the same allocator."""
    ax.set_xscale("log")
    ax.axvline(1.0, color=style.reference_color, linewidth=1.2, zorder=1)
    bases = [b for b in (VS_DEFAULT, VS_SAME_ALLOCATOR) if any(r.basis == b for r in ratios)]
    step = 0.8 / max(len(cfgs) * len(bases), 1)
    for i, cfg in enumerate(cfgs):
        color, marker, _ = look(configs, cfg, style)
        for b, basis in enumerate(bases):
            for r in ratios:
                if r.config != cfg or r.basis != basis:
                    continue
                iv = r.interval
                y = layout.y[r.benchmark] - 0.4 + step * (i * len(bases) + b + 0.5)
                if iv.has_ci:
                    ax.errorbar(
                        iv.estimate,
                        y,
                        xerr=[[iv.estimate - iv.low], [iv.high - iv.estimate]],
                        fmt="none",
                        ecolor=color,
                        elinewidth=1.4,
                        capsize=2.5,
                        zorder=2,
                    )
                # Hollow marker = not significant after correction, or untested (then without
                # an interval): visible, but clearly not a ranking.
                ax.plot(
                    iv.estimate,
                    y,
                    marker if basis == VS_DEFAULT else SAME_ALLOCATOR_MARKER,
                    markersize=6,
                    zorder=3,
                    color=color,
                    markerfacecolor=color if r.significant else "white",
                )
    ax.grid(axis="y", visible=False)


def _reference_text(ratios: Sequence[RuntimeRatio], configs: Configs) -> str:
    ref = ratios[0]
    refs = {r.reference for r in ratios}
    # With several Pythons each is measured against its own baseline: say so, not one name.
    ref_name = f"{configs.baseline_variant} at the same Python" if len(refs) > 1 else ref.reference
    return ref_name + (f" ({ref.reference_allocator})" if ref.reference_allocator else "")


def _config_handles(cfgs: Sequence[str], configs: Configs, style: PlotStyle) -> list[Line2D]:
    # From the configs, always filled: a point's fill means significance, not variant.
    return [
        Line2D(
            [],
            [],
            linestyle="none",
            marker=look(configs, c, style)[1],
            color=look(configs, c, style)[0],
            markersize=7,
            label=c,
        )
        for c in cfgs
    ]


def _metric_words(metric: str, unit: str) -> str:
    """ "latency_p50_ms" -> "latency p50" (the unit goes in brackets once, not twice)."""
    if metric.endswith("_per_s"):
        return metric[: -len("_per_s")].replace("_", " ") + " per second"
    words = metric.replace("_", " ")
    if unit and words.endswith(f" {unit}"):
        words = words[: -len(unit) - 1]
    return words


def startup_charts(
    frame: pd.DataFrame, configs: Configs, out: Path, style: PlotStyle = STYLE
) -> list[Chart]:
    """Start-up of the base images, and apart from them that of the app images (one box per
    variant and build strategy): pooled, the two make one bimodal box that describes neither."""
    data = select(frame, group="startup")
    charts = [
        distribution_panels(
            data[data["strategy"] == ""],
            configs,
            out,
            "startup",
            "Interpreter start-up time: base images",
            style,
        ),
        distribution_panels(
            data[data["strategy"] != ""],
            configs,
            out,
            "startup-app",
            "Interpreter start-up time: app images, per build strategy",
            style,
        ),
    ]
    return [chart for chart in charts if chart is not None]


#: Room (in) around a row of panels, and above and below the figure.
PANEL_EXTRA_IN, FIGURE_EXTRA_IN = 0.9, 0.6


def distribution_panels(
    frame: pd.DataFrame,
    configs: Configs,
    out: Path,
    stem: str,
    title: str,
    style: PlotStyle = STYLE,
) -> Chart | None:
    """Box plots, one panel per (benchmark, metric), one box per config (and build strategy,
    where the rows have several): start-up and http."""
    if frame.empty:
        return None
    panels = list(
        dict.fromkeys(zip(frame["benchmark"].tolist(), frame["metric"].tolist(), strict=True))
    )
    boxes = _boxes(frame, configs)
    per_panel = style.height_for_rows(len(boxes), minimum=2.0, extra=PANEL_EXTRA_IN)
    # Two panels a row; three when two would be too tall (the box names are shared).
    ncols = 1 if len(panels) == 1 else 2
    if math.ceil(len(panels) / ncols) * per_panel + FIGURE_EXTRA_IN > style.max_height_in:
        ncols = min(len(panels), 3)
    nrows = math.ceil(len(panels) / ncols)
    with styled(style):
        fig, axes = new_figure(
            per_panel * nrows + FIGURE_EXTRA_IN, nrows=nrows, ncols=ncols, style=style, sharey=True
        )
        flat = list(axes.flat)
        for ax, (benchmark, metric) in zip(flat, panels, strict=False):
            sub = frame[(frame["benchmark"] == benchmark) & (frame["metric"] == metric)]
            _box_panel(ax, sub, boxes, configs, style)
        for ax in flat[len(panels) :]:
            ax.set_visible(False)
        fig.suptitle(title)
        savefig(fig, out, stem, style)
    return Chart(stem, title)


#: One box: (its label, config, build strategy).
Box = tuple[str, str, str]


def _boxes(frame: pd.DataFrame, configs: Configs) -> list[Box]:
    """The boxes of every panel, in config order: a config's strategies each get their own box
    (named "config · strategy") when the rows have more than one."""
    strategies = list(dict.fromkeys(frame["strategy"].tolist()))
    boxes = []
    for cfg in _present(configs.order, frame):
        for strategy in strategies:
            if ((frame["config"] == cfg) & (frame["strategy"] == strategy)).any():
                label = f"{cfg} · {strategy}" if len(strategies) > 1 else cfg
                boxes.append((label, cfg, strategy))
    return boxes


def _box_panel(
    ax: Axes, sub: pd.DataFrame, boxes: Sequence[Box], configs: Configs, style: PlotStyle
) -> None:
    """One (benchmark, metric): a box over each config's rounds; a lone round is a point."""
    benchmark, metric = str(sub["benchmark"].iloc[0]), str(sub["metric"].iloc[0])
    unit = str(sub["unit"].iloc[0])
    shown, divisor = display_unit(unit, float(np.median(values(sub))))
    data = [
        round_medians(rounds_of(sub[(sub["config"] == cfg) & (sub["strategy"] == strategy)]))
        / divisor
        for _, cfg, strategy in boxes
    ]
    boxed = [k for k, d in enumerate(data) if d.size > 1]
    box = ax.boxplot(
        [data[k] for k in boxed],
        positions=[k + 1 for k in boxed],
        orientation="horizontal",
        patch_artist=True,
        widths=0.6,
        medianprops={"color": "#111111", "linewidth": 1.5},
        flierprops={"markersize": 3},
    )
    for k, patch in zip(boxed, box["boxes"], strict=True):
        color, _, hatch = look(configs, boxes[k][1], style)
        patch.set_facecolor(color)
        patch.set_hatch(hatch)
        patch.set_alpha(0.75)
    for k, d in enumerate(data):
        if d.size == 1:  # one round: its value, no box and no whiskers
            ax.plot(d[0], k + 1, "D", color=look(configs, boxes[k][1], style)[0], markersize=6)
    ax.set_yticks(range(1, len(boxes) + 1), [label for label, _, _ in boxes])
    ax.set_ylim(len(boxes) + 0.5, 0.5)
    label = _metric_words(metric, shown)
    ax.set_xlabel(f"{label} ({shown})" if shown else label)
    ax.set_title(
        benchmark if metric in ("wall_time", "time") else f"{benchmark}: {label}", loc="left"
    )
    ax.grid(axis="y", visible=False)


# --- basebench compare ----------------------------------------------------------------------

#: Ratios drawn beyond this are clamped and labelled with their value.
RATIO_CLAMP = 4.0
RATIO_TICKS = (0.25, 0.33, 0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)


#: Room (in) for the compare chart's title, legend and axis label.
COMPARE_EXTRA_IN = 1.8


def comparison_chart(
    comparison: Comparison, out: Path, stem: str, style: PlotStyle = STYLE, limit: int = 30
) -> list[Path]:
    """Worse-ratio per metric on a log axis; the most changed ``limit`` metrics are shown (fewer
    when that many would make the chart taller than the style allows)."""
    limit = min(limit, style.rows_that_fit(style.row_height_in, COMPARE_EXTRA_IN))
    # Decided changes first (regressed, improved, within drift), then the largest of the rest.
    rows = sorted(
        comparison.rows,
        key=lambda r: (
            STATUS_ORDER[r.status] > STATUS_ORDER[WITHIN_DRIFT],
            -abs(math.log(max(min(r.worse_ratio, 1e6), 1e-6))),
        ),
    )[:limit]
    rows.sort(key=severity)
    colours = _status_colours(style)
    factor = comparison.factor
    with styled(style):
        fig, axes = new_figure(
            style.height_for_rows(max(len(rows), 1), extra=COMPARE_EXTRA_IN), style=style
        )
        ax = axes[0][0]
        if not rows:
            ax.text(
                0.5, 0.5, "no metric in common", ha="center", va="center", transform=ax.transAxes
            )
        low, high = _ratio_span(rows, factor)
        for y, r in enumerate(rows):
            _draw_comparison_row(ax, y, r, (low, high), factor, colours, style)
        ax.axvline(1.0, color=style.reference_color, linewidth=1)
        for x in (factor, 1.0 / factor):
            ax.axvline(x, color=colours[REGRESSED], linewidth=0.8, linestyle="--")
        _ratio_axis(ax, low, high, factor)
        ax.set_yticks(range(len(rows)), [r.label for r in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        # Long text goes in the figure-wide label: the axes are narrow beside long names.
        fig.supxlabel(
            "new / baseline median, >1 = worse (inverted for bigger-is-better metrics)\n"
            f"dashed = the {factor:g}× factor"
            + (
                "; | = that row's threshold, widened by host drift"
                if any(_widened(r, factor) for r in rows)
                else ""
            ),
            fontsize=style.font_size,
        )
        fig.suptitle(
            f"{comparison.new_id} vs {comparison.baseline_id}"
            + (f" (the {len(rows)} largest changes)" if len(comparison.rows) > len(rows) else "")
        )
        ax.grid(axis="y", visible=False)
        _status_legend(ax, rows, colours)
        return savefig(fig, out, stem, style)


def _status_colours(style: PlotStyle) -> dict[str, str]:
    return {
        REGRESSED: "#D55E00",
        IMPROVED: "#009E73",
        WITHIN_DRIFT: "#CC79A7",
        UNTESTED: "#E69F00",
        NOT_SIGNIFICANT: style.not_significant_color,
        UNCHANGED: "#0072B2",
    }


def _ratio_span(rows: Sequence[MetricComparison], factor: float) -> tuple[float, float]:
    """The x range: every ratio and every row's threshold (widened ones included).

    A new failure is an infinite ratio and huge ratios squash the rest: finite ratios are
    drawn to scale up to RATIO_CLAMP, and anything beyond is pinned to the edge, labelled.
    """
    finite = [r.worse_ratio for r in rows if 0 < r.worse_ratio < math.inf]
    edges = [x for r in rows for x in _threshold_marks(r)]
    high = min(max([*finite, *edges, factor]), RATIO_CLAMP) * 1.08
    low = max(min([*finite, *edges, 1.0 / factor]), 1.0 / RATIO_CLAMP) / 1.08
    return low, high


def _threshold_marks(row: MetricComparison) -> list[float]:
    """Where this row's thresholds stand on the worse-ratio axis (regression, improvement)."""
    improve = row.threshold if math.isnan(row.improve_threshold) else row.improve_threshold
    return [row.threshold, 1.0 / improve]


def _draw_comparison_row(
    ax: Axes,
    y: int,
    row: MetricComparison,
    span: tuple[float, float],
    factor: float,
    colours: dict[str, str],
    style: PlotStyle,
) -> None:
    """One metric: a line from 1× to its ratio, hollow when untested, square when exact;
    clamped ones labelled."""
    low, high = span
    colour = colours[row.status]
    ratio = min(max(row.worse_ratio, low), high)
    ax.plot([1.0, ratio], [y, y], color=colour, linewidth=2)
    ax.plot(
        ratio,
        y,
        "s" if row.exact else "o",
        color=colour,
        markerfacecolor=colour if row.tested or row.exact else "white",
        clip_on=False,
    )
    if _widened(row, factor):
        # This row's own thresholds, widened by host drift (on the side it could fake).
        for x in _threshold_marks(row):
            if low <= x <= high and abs(math.log(x)) > math.log(factor) * 1.005:
                ax.plot(x, y, "|", color=colours[REGRESSED], markersize=9)
    if ratio != row.worse_ratio:
        ax.annotate(
            "∞" if math.isinf(row.worse_ratio) else f"{row.worse_ratio:.3g}×",
            (ratio, y),
            xytext=(-8 if ratio >= 1 else 8, 6),
            textcoords="offset points",
            ha="right" if ratio >= 1 else "left",
            va="bottom",
            fontsize=style.font_size - 1,
        )


def _ratio_axis(ax: Axes, low: float, high: float, factor: float, max_ticks: int = 7) -> None:
    """A log axis with plain "1.1×" ticks ("10^0" says nothing to a reader).

    1× first, then the factor, then the round ratios: a tick too close to one already chosen
    is dropped, so that labels never collide (at most about ``max_ticks``: fewer on a narrow
    panel).
    """
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ticks: list[float] = []
    min_gap = math.log(high / low) / max_ticks
    for tick in (1.0, factor, *RATIO_TICKS):
        if low <= tick <= high and all(abs(math.log(tick / t)) >= min_gap for t in ticks):
            ticks.append(tick)
    ax.xaxis.set_major_locator(FixedLocator(sorted(ticks)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}×"))
    ax.xaxis.set_minor_locator(NullLocator())


def _status_legend(ax: Axes, rows: Sequence[MetricComparison], colours: dict[str, str]) -> None:
    handles = [
        ax.plot(
            [],
            [],
            "o",
            color=c,
            markerfacecolor="white" if s == UNTESTED else c,
            label=f"{s} (hollow)" if s == UNTESTED else s,
        )[0]
        for s, c in colours.items()
        if any(r.status == s for r in rows)
    ]
    if handles and any(r.exact for r in rows):
        handles.append(ax.plot([], [], "s", color="#555555", label="exact (factor alone)")[0])
    if handles:
        # Above the axes (constrained layout makes room for it); the bottom holds the
        # figure-wide axis label.
        ax.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncols=len(handles),
            frameon=False,
        )


def _widened(row: MetricComparison, factor: float) -> bool:
    """Whether host drift widened one of this row's thresholds visibly beyond the factor."""
    return any(abs(math.log(x)) > math.log(factor) * 1.005 for x in _threshold_marks(row))
