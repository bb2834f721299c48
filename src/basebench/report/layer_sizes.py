"""Each measured image's size split by layer kind, from the size group's rows.

The size group stores, per image, its totals (``compressed``, ``uncompressed``), the bytes per
layer kind (``layer_compressed``, ``layer_uncompressed``; detail = the kind) and every layer
(``layer_size``: uncompressed bytes, detail ``position:kind:instruction``). The kinds are
re-derived here from the per-layer rows with :func:`basebench.layers.classify`, so that runs
measured before a fix of the rule are drawn by today's rule:

- uncompressed bytes per kind are summed from the layers: exact;
- compressed bytes are only stored per stored kind: they carry over when each stored kind maps
  to one kind today (a relabelling, such as the musl stand-in's tree becoming ``os+python``),
  else the image's compressed size is drawn whole (an app image built on the musl builder,
  which runs before the fix stored as all ``app``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from basebench.layers import APP, Layer, classify, recover_runs_on

#: (total metric, per-kind metric) of each panel of the size chart.
PANELS = (("compressed", "layer_compressed"), ("uncompressed", "layer_uncompressed"))
BASE_ROLE = "base"


@dataclass(frozen=True)
class StoredLayer:
    position: int
    kind: str
    created_by: str
    size: float


@dataclass
class ImageSize:
    """One image's bar: its totals and, per panel, bytes per layer kind (None: not split)."""

    config: str
    role: str
    libc: str = ""
    base_source: str = ""
    totals: dict[str, float] = field(default_factory=dict)
    kinds: dict[str, dict[str, float] | None] = field(default_factory=dict)
    #: The final stage runs on another image than the base (the builder): the image's lower
    #: layers are the builder's, not the base's.
    on_builder: bool = False

    @property
    def strategy(self) -> str:
        return self.role.removeprefix("app:")

    @property
    def stand_in_builder(self) -> bool:
        """On the local musl stand-in's builder: Debian with a musl toolchain, not Alpine."""
        return self.on_builder and self.libc == "musl" and self.base_source == "local"


def stored_layers(rows: pd.DataFrame) -> list[StoredLayer]:
    """An image's ``layer_size`` rows, bottom-up."""
    layers = []
    sizes = rows[rows["metric"] == "layer_size"]
    for detail, value in zip(sizes["detail"], sizes["value"], strict=True):
        position, _, rest = str(detail).partition(":")
        kind, _, created_by = rest.partition(":")
        if position.isdigit():
            layers.append(StoredLayer(int(position), kind, created_by, float(value)))
    return sorted(layers, key=lambda layer: layer.position)


def image_sizes(sizes: pd.DataFrame, order: Sequence[str]) -> list[ImageSize]:
    """Every image of the (labelled) size rows: base images first, then app images by role, in
    the configs' ``order``."""
    keys = list(dict.fromkeys(zip(sizes["config"], sizes["benchmark"], strict=True)))
    rank = {c: i for i, c in enumerate(order)}
    keys.sort(key=lambda k: (k[1] != BASE_ROLE, k[1], rank.get(k[0], len(rank))))
    rows = {
        key: sizes[(sizes["config"] == key[0]) & (sizes["benchmark"] == key[1])] for key in keys
    }
    layers = {key: stored_layers(sub) for key, sub in rows.items()}
    return [_image(key, rows[key], layers, _own_layers(key, layers)) for key in keys]


def _own_layers(
    key: tuple[str, str], layers: dict[tuple[str, str], list[StoredLayer]]
) -> int | None:
    """How many layers the same strategy added on another base where the stored kinds tell
    (see :func:`basebench.layers.recover_runs_on`)."""
    for (config, role), stack in layers.items():
        kinds = [layer.kind for layer in stack]
        if role == key[1] and config != key[0] and any(k != APP for k in kinds):
            return sum(k == APP for k in kinds)
    return None


def _image(
    key: tuple[str, str],
    rows: pd.DataFrame,
    layers: dict[tuple[str, str], list[StoredLayer]],
    own_layers: int | None,
) -> ImageSize:
    config, role = key
    image = ImageSize(config, role, str(rows["libc"].iloc[0]), str(rows["base_source"].iloc[0]))
    for total_metric, kind_metric in PANELS:
        totals = rows[rows["metric"] == total_metric]["value"]
        image.totals[total_metric] = float(np.median(totals)) if not totals.empty else math.nan
        image.kinds[total_metric] = _stored_kinds(rows, kind_metric)
    stack = layers[key]
    if not stack:
        return image  # a run without per-layer rows: its stored kinds as they are
    runs_on = recover_runs_on([layer.kind for layer in stack], own_layers)
    if runs_on is None:
        image.kinds = dict.fromkeys(image.kinds)
        return image
    kinds = classify([Layer(layer.created_by, int(layer.size)) for layer in stack], runs_on)
    uncompressed: dict[str, float] = {}
    for layer, kind in zip(stack, kinds, strict=True):
        uncompressed[kind] = uncompressed.get(kind, 0.0) + layer.size
    image.kinds["uncompressed"] = uncompressed
    image.kinds["compressed"] = _relabelled(image.kinds["compressed"], stack, kinds)
    base = layers.get((config, BASE_ROLE))
    if role != BASE_ROLE and base:
        mine = [(layer.created_by, layer.size) for layer in stack[:runs_on]]
        image.on_builder = mine != [(layer.created_by, layer.size) for layer in base]
    return image


def _stored_kinds(rows: pd.DataFrame, metric: str) -> dict[str, float] | None:
    per_kind = rows[rows["metric"] == metric]
    if per_kind.empty:
        return None
    return {str(k): float(v) for k, v in per_kind.groupby("detail")["value"].sum().items()}


def _relabelled(
    stored: dict[str, float] | None, stack: Sequence[StoredLayer], kinds: Sequence[str]
) -> dict[str, float] | None:
    """Bytes per stored kind under today's kinds, when every stored kind became one kind."""
    if stored is None:
        return None
    became: dict[str, set[str]] = {}
    for layer, kind in zip(stack, kinds, strict=True):
        became.setdefault(layer.kind, set()).add(kind)
    if any(len(new) != 1 for new in became.values()) or set(stored) - set(became):
        return None
    out: dict[str, float] = {}
    for old, value in stored.items():
        (new,) = became[old]
        out[new] = out.get(new, 0.0) + value
    return out
