"""One plot style for every chart, and one helper that saves a figure as PNG and SVG."""

from __future__ import annotations

import functools
import hashlib
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

from basebench.errors import ConfigError
from basebench.results import atomic_write_bytes
from basebench.variants import load_catalogue

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


#: The colour of each variant, by its position in images/variants.toml (stretch, slim-stretch,
#: buster... trixie, slim-trixie, alpine...): the same variant has the same colour in every
#: chart of every run, whichever variants a run has. Neighbours in the catalogue (a full image,
#: its slim sibling, alpine) get clearly different hues; Okabe-Ito's blue, orange and green go
#: to the current suites. Append a colour when a variant is appended to the catalogue.
VARIANT_PALETTE = (
    "#332288",  # stretch
    "#DDAA33",  # slim-stretch
    "#117733",  # buster
    "#CC6677",  # slim-buster
    "#88CCEE",  # bullseye
    "#882255",  # slim-bullseye
    "#44AA99",  # bookworm
    "#AA4499",  # slim-bookworm
    "#0072B2",  # trixie
    "#E69F00",  # slim-trixie
    "#009E73",  # alpine
    "#D55E00",  # alpine3.23
    "#CC79A7",  # alpine3.24
    "#56B4E9",  # musl-debianflags
)
#: Names the catalogue does not know (a validate twin, a variant beyond the palette) get one of
#: these by a hash of the name: the same name, the same colour, in every run.
FALLBACK_PALETTE = (
    "#7F7F7F",
    "#8C564B",
    "#BCBD22",
    "#17BECF",
    "#9467BD",
    "#1B2A49",
    "#B15928",
    "#6A3D9A",
)


@functools.cache
def catalogue_order() -> tuple[str, ...]:
    """The variant names of images/variants.toml in order; () where it cannot be read (a report
    drawn away from a checkout falls back to hashed colours)."""
    try:
        return tuple(load_catalogue().names())
    except (ConfigError, OSError):
        return ()


def _fallback_slot(name: str, slots: int) -> int:
    # sha256, not hash(): Python salts str hashes per process.
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % slots


def variant_colors(
    variants: Sequence[str],
    catalogue: Sequence[str],
    palette: Sequence[str] = VARIANT_PALETTE,
    fallback: Sequence[str] = FALLBACK_PALETTE,
) -> dict[str, str]:
    """A colour per variant: ``palette[its position in catalogue]``, else a fallback colour
    picked by a hash of its name (the next free one when two unknown names of one chart hash
    alike: only then does an unknown name's colour depend on the others)."""
    order = list(catalogue)
    colors: dict[str, str] = {}
    for name in dict.fromkeys(variants):
        if name in order and order.index(name) < len(palette):
            colors[name] = palette[order.index(name)]
    used = set(colors.values())
    for name in dict.fromkeys(variants):
        if name in colors:
            continue
        slot = _fallback_slot(name, len(fallback))
        free = [fallback[(slot + k) % len(fallback)] for k in range(len(fallback))]
        colors[name] = next((c for c in free if c not in used), free[0])
        used.add(colors[name])
    return colors


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
    #: No chart taller than this many PNG pixels (a wiki screen); taller ones are split.
    max_height_px: int = 1200
    palette: Sequence[str] = field(default_factory=lambda: OKABE_ITO)
    variant_palette: Sequence[str] = VARIANT_PALETTE
    fallback_palette: Sequence[str] = FALLBACK_PALETTE
    grid_color: str = "#d9d9d9"
    reference_color: str = "#555555"
    not_significant_color: str = "#9e9e9e"
    #: A bar without a per-layer breakdown must not look like one of the layer kinds.
    total_color: str = "#8c9aa8"
    layer_colors: dict[str, str] = field(
        default_factory=lambda: {
            "os": "#56B4E9",
            "os+python": "#56B4E9",
            "python": "#0072B2",
            "app": "#E69F00",
            "other": "#bdbdbd",
        }
    )

    #: Hatches drawn over a layer kind's colour, in the colour named (kind: (hatch, colour)):
    #: OS and Python in one layer is the OS colour striped with the Python one.
    layer_hatches: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {"os+python": ("////", "#0072B2")}
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

    def variant_colors(
        self, variants: Sequence[str], catalogue: Sequence[str] | None = None
    ) -> dict[str, str]:
        """Each variant's fixed colour (:func:`variant_colors`, images/variants.toml order)."""
        order = catalogue_order() if catalogue is None else catalogue
        return variant_colors(variants, order, self.variant_palette, self.fallback_palette)

    def height_for_rows(self, rows: int, minimum: float = 2.6, extra: float = 1.4) -> float:
        return max(minimum, rows * self.row_height_in + extra)

    @property
    def max_height_in(self) -> float:
        return self.max_height_px / (self.dpi * self.png_scale)

    def rows_that_fit(self, row_height_in: float, extra: float = 1.4) -> int:
        """How many rows of ``row_height_in`` fit in one chart under :attr:`max_height_px`."""
        return max(1, int((self.max_height_in - extra) / row_height_in))


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
