"""One plot style for every chart, and one helper that saves a figure as PNG and SVG."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

# Agg before pyplot is imported anywhere: reports are made on headless CI machines.
matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from basebench.results import atomic_write_bytes

#: Colour-blind-safe palette (Okabe-Ito), so glibc/musl pairs stay distinguishable for everyone.
OKABE_ITO = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)


@dataclass(frozen=True)
class PlotStyle:
    """Settings every chart shares; change them here, not in the chart functions."""

    #: 9 in at 100 dpi is 900 px: the width a wiki page shows, so text is never scaled down.
    width_in: float = 9.0
    dpi: int = 100
    #: Scale PNGs up for sharp rendering on high-density screens without changing the layout.
    png_scale: float = 1.5
    font_size: float = 10.5
    title_size: float = 12.0
    row_height_in: float = 0.32
    palette: Sequence[str] = field(default_factory=lambda: OKABE_ITO)
    grid_color: str = "#d9d9d9"
    reference_color: str = "#555555"
    not_significant_color: str = "#9e9e9e"
    #: A bar without a per-layer breakdown must not look like one of the layer kinds.
    total_color: str = "#8c9aa8"
    layer_colors: dict[str, str] = field(
        default_factory=lambda: {
            "os": "#56B4E9",
            "python": "#0072B2",
            "app": "#E69F00",
            "other": "#bdbdbd",
        }
    )

    def rc(self) -> dict[Any, Any]:
        # Any keys: matplotlib types rc_context with a Literal of every rcParam name.
        return {
            "font.size": self.font_size,
            "axes.titlesize": self.title_size,
            "axes.labelsize": self.font_size,
            "xtick.labelsize": self.font_size - 1,
            "ytick.labelsize": self.font_size - 1,
            "legend.fontsize": self.font_size - 1,
            "axes.grid": True,
            "grid.color": self.grid_color,
            "grid.linewidth": 0.6,
            "axes.axisbelow": True,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.dpi": self.dpi,
            "savefig.dpi": self.dpi,
            # Text stays text in the SVG (searchable, crisp); the fonts are common ones.
            "svg.fonttype": "none",
            # Stable ids so that re-rendering the same run gives byte-identical SVGs.
            "svg.hashsalt": "basebench",
        }

    def color(self, index: int) -> str:
        return self.palette[index % len(self.palette)]

    def height_for_rows(self, rows: int, minimum: float = 2.6, extra: float = 1.4) -> float:
        return max(minimum, rows * self.row_height_in + extra)


STYLE = PlotStyle()


@contextmanager
def styled(style: PlotStyle = STYLE) -> Iterator[None]:
    with plt.rc_context(style.rc()):
        yield


def new_figure(
    height_in: float,
    nrows: int = 1,
    ncols: int = 1,
    style: PlotStyle = STYLE,
    **kwargs: Any,
) -> tuple[Figure, Any]:
    """A figure at wiki width with ``constrained`` layout (no clipped labels, no overlaps)."""
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(style.width_in, height_in),
        layout="constrained",
        squeeze=False,
        **kwargs,
    )
    return fig, axes


def savefig(fig: Figure, directory: Path, stem: str, style: PlotStyle = STYLE) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` into ``directory`` and close the figure."""
    try:
        # metadata without dates so that unchanged results give unchanged files in git.
        png = _render(
            fig,
            format="png",
            dpi=style.dpi * style.png_scale,
            facecolor="white",
            metadata={"Software": None},
        )
        svg = _render(
            fig, format="svg", facecolor="white", metadata={"Date": None, "Creator": None}
        )
    finally:
        plt.close(fig)
    # Rendered first, then written whole: an interrupted report leaves no truncated image.
    return [
        atomic_write_bytes(directory / f"{stem}.png", png, overwrite=True),
        atomic_write_bytes(directory / f"{stem}.svg", svg, overwrite=True),
    ]


def _render(fig: Figure, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, **kwargs)
    return buffer.getvalue()
