"""Charts: one colour per variant in every run, start-up and sizes split, layer kinds re-derived
from stored rows, install cells that say what pip did, and no chart taller than the limit."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import report_sample as sample
from layer_sample import FULL_BASE, MUSL_BASE, MUSL_BUILDER, SINGLE_FULL_OWN

from basebench.layers import APP, OS, OS_PYTHON, PYTHON, Layer, classify
from basebench.report import charts
from basebench.report.compare import Comparison, compare_frames
from basebench.report.frame import Configs, label_configs, normalise
from basebench.report.layer_sizes import image_sizes
from basebench.report.style import (
    FALLBACK_PALETTE,
    STYLE,
    VARIANT_PALETTE,
    catalogue_order,
    variant_colors,
)


def labelled(
    frame: pd.DataFrame, variants: list[str] | None = None
) -> tuple[pd.DataFrame, Configs]:
    meta = sample.synthetic_meta()
    if variants is not None:
        frame = frame[frame["variant"].isin(variants) | (frame["variant"] == "")]
        meta["config"]["variants"] = variants
    return label_configs(normalise(frame), [meta])


def png_height(path: Path) -> int:
    width_height = struct.unpack(">II", path.read_bytes()[16:24])
    return int(width_height[1])


# --- colours ------------------------------------------------------------------------------------


def test_every_catalogue_variant_has_its_own_colour() -> None:
    names = catalogue_order()
    assert names and "alpine" in names and "slim-trixie" in names
    colours = variant_colors(names, names)
    assert len(set(colours.values())) == len(names)
    assert not set(colours.values()) & set(FALLBACK_PALETTE)


def test_a_variant_keeps_its_colour_across_runs_with_other_variants(tmp_path: Path) -> None:
    frame = sample.synthetic_frame()
    first = labelled(frame)  # slim-trixie, trixie, alpine3.23
    second = labelled(frame, ["alpine3.23", "slim-trixie"])
    for cfg in ("alpine3.23", "slim-trixie"):
        assert charts.look(first[1], cfg)[0] == charts.look(second[1], cfg)[0]
    # ... and in what is drawn: the same fill in both runs' start-up charts.
    alpine = VARIANT_PALETTE[catalogue_order().index("alpine3.23")].lower()
    for name, (data, configs) in (("first", first), ("second", second)):
        drawn = charts.startup_charts(data, configs, tmp_path / name)
        assert [c.stem for c in drawn] == ["startup"]
        assert alpine in (tmp_path / name / "startup.svg").read_text().lower()


def test_unknown_names_get_a_stable_fallback_colour() -> None:
    catalogue = ["trixie", "slim-trixie"]
    once = variant_colors(["slim-trixie", "slim-trixie-aa", "slim-trixie-slow"], catalogue)
    again = variant_colors(["slim-trixie-slow", "slim-trixie-aa"], catalogue)
    assert once["slim-trixie-aa"] == again["slim-trixie-aa"]
    assert once["slim-trixie-slow"] == again["slim-trixie-slow"]
    assert once["slim-trixie"] == VARIANT_PALETTE[1]
    assert len(set(once.values())) == 3 and set(again.values()) <= set(FALLBACK_PALETTE)


# --- start-up ---------------------------------------------------------------------------------


def with_app_startup(frame: pd.DataFrame) -> pd.DataFrame:
    """Start-up of app images beside the base images' (slower: they load more)."""
    base = frame[frame["group"] == "startup"]
    apps = [
        base.assign(strategy=s, value=base["value"] * f)
        for s, f in (("multistage", 1.3), ("single-full", 1.5))
    ]
    return pd.concat([frame, *apps], ignore_index=True)


def test_startup_draws_base_and_app_images_apart(tmp_path: Path) -> None:
    data, configs = labelled(with_app_startup(sample.synthetic_frame()))
    drawn = charts.startup_charts(data, configs, tmp_path)
    assert [c.stem for c in drawn] == ["startup", "startup-app"]
    base = (tmp_path / "startup.svg").read_text()
    app = (tmp_path / "startup-app.svg").read_text()
    assert "multistage" not in base
    for cfg in configs.order:
        assert f"{cfg} · multistage" in app and f"{cfg} · single-full" in app


# --- sizes ------------------------------------------------------------------------------------


def size_rows(
    config: str, role: str, layers: list[Layer], stored: list[str], libc: str
) -> list[dict[str, Any]]:
    """One image's size rows as the size group writes them (one compressed byte per two)."""
    tags = {
        "run": "r",
        "group": "size",
        "benchmark": role,
        "variant": config,
        "python": "3.13",
        "libc": libc,
        "base_source": "local",
        "strategy": role.removeprefix("app:") if role != "base" else "",
        "allocator": "",
        "unit": "bytes",
        "sample": 0,
        "round": 0,
    }
    total = float(sum(layer.size for layer in layers))
    rows = [
        {**tags, "metric": "uncompressed", "value": total, "detail": ""},
        {**tags, "metric": "compressed", "value": total / 2, "detail": ""},
    ]
    for kind in dict.fromkeys(stored):
        size = float(sum(layer.size for layer, k in zip(layers, stored, strict=True) if k == kind))
        rows.append({**tags, "metric": "layer_compressed", "value": size / 2, "detail": kind})
    for position, (layer, kind) in enumerate(zip(layers, stored, strict=True)):
        detail = f"{position}:{kind}:{layer.created_by}"
        rows.append({**tags, "metric": "layer_size", "value": float(layer.size), "detail": detail})
    return rows


def stand_in_run() -> tuple[pd.DataFrame, list[str]]:
    """The committed quick run's sizes, as they were stored before the layer-kind fix."""
    full_app = FULL_BASE + SINGLE_FULL_OWN
    musl_app = MUSL_BUILDER + SINGLE_FULL_OWN
    rows = [
        *size_rows("trixie", "base", FULL_BASE, [OS, OS, PYTHON], "glibc"),
        *size_rows("alpine", "base", MUSL_BASE, [OS, PYTHON], "musl"),
        *size_rows("trixie", "app:single-full", full_app, [OS, OS, PYTHON] + [APP] * 4, "glibc"),
        *size_rows("alpine", "app:single-full", musl_app, [APP] * len(musl_app), "musl"),
    ]
    frame = pd.DataFrame(rows).assign(config=lambda f: f["variant"])
    return frame, ["trixie", "alpine"]


def test_stored_kinds_are_rederived_for_the_musl_stand_in() -> None:
    frame, order = stand_in_run()
    images = {(i.config, i.role): i for i in image_sizes(frame, order)}
    assert list(images)[:2] == [("trixie", "base"), ("alpine", "base")]  # base images first
    # The stand-in's one tree is OS and Python at once; its compressed bytes carry over.
    base = images[("alpine", "base")]
    assert base.kinds["uncompressed"] == {OS_PYTHON: MUSL_BASE[0].size, PYTHON: 0.0}
    assert base.kinds["compressed"] == {OS_PYTHON: MUSL_BASE[0].size / 2, PYTHON: 0.0}
    assert not base.on_builder
    # single-full on the musl builder: the builder's OS and Python below the app's layers.
    app = images[("alpine", "app:single-full")]
    expected = classify(MUSL_BUILDER + SINGLE_FULL_OWN, len(MUSL_BUILDER))
    sizes = [layer.size for layer in MUSL_BUILDER + SINGLE_FULL_OWN]
    uncompressed = app.kinds["uncompressed"]
    assert uncompressed is not None and set(uncompressed) == {OS, PYTHON, APP}
    assert uncompressed[APP] == sum(s for s, k in zip(sizes, expected, strict=True) if k == APP)
    # Its compressed bytes were stored as one "app" lump: not split, drawn whole.
    assert app.kinds["compressed"] is None
    assert app.on_builder and app.stand_in_builder
    trixie = images[("trixie", "app:single-full")]
    assert not trixie.on_builder and trixie.kinds["compressed"] is not None


def test_size_chart_marks_the_stand_in_builder(tmp_path: Path) -> None:
    frame, order = stand_in_run()
    configs = Configs(order=order, baseline_variant="trixie", multi_python=False, multi_run=False)
    configs.keys = {c: ("r", "3.13", c) for c in order}
    drawn = charts.size_charts(frame, configs, tmp_path)
    assert [c.stem for c in drawn] == ["size", "size-app"]
    app = (tmp_path / "size-app.svg").read_text()
    assert "alpine · single-full *" in app and "musl stand-in's builder" in app
    assert "OS + Python in one layer" in (tmp_path / "size.svg").read_text()


# --- install heatmap --------------------------------------------------------------------------


def test_install_cells_name_the_wheel_tag_and_a_failure_has_its_reason_not_a_time() -> None:
    assert charts.install_kind("wheel:manylinux_2_28_x86_64") == "manylinux_2_28"
    assert charts.install_kind("wheel:musllinux_1_2_aarch64") == "musllinux_1_2"
    assert charts.install_kind("sdist") == "sdist"
    data, configs = labelled(sample.synthetic_frame())
    installs = data[data["group"] == "install"]
    grid = charts._install_grid(installs, configs.order, ["lxml", "numpy", "pyarrow"])
    by_cell = {
        (package, cfg): (grid.labels[i][j], grid.times[i, j], grid.failed[i, j])
        for i, package in enumerate(["lxml", "numpy", "pyarrow"])
        for j, cfg in enumerate(configs.order)
    }
    label, seconds, failed = by_cell[("pyarrow", "alpine3.23")]
    # Synthetic pyarrow fails on musl after 30 s: the cell says why, not how long.
    assert failed and np.isnan(seconds) and " s" not in label
    assert label.startswith("failed:") and "cmake" in label
    assert by_cell[("numpy", "slim-trixie")][0].endswith("manylinux_2_17")
    assert by_cell[("numpy", "alpine3.23")][0].endswith("musllinux_1_2")
    assert re.fullmatch(r"\d+\.\d s\nsdist", by_cell[("lxml", "alpine3.23")][0])


# --- heights ----------------------------------------------------------------------------------


def crowded_frame() -> pd.DataFrame:
    """A run with more packages, strategies and images than one chart of each can hold."""
    frame = with_app_startup(sample.synthetic_frame())
    installs = frame[frame["group"] == "install"]
    more = [installs.assign(benchmark=installs["benchmark"] + f"-{k}") for k in range(5)]
    builds = frame[frame["group"] == "build"]
    strategies = [builds.assign(benchmark=builds["benchmark"] + f"-{k}") for k in range(3)]
    sizes = frame[(frame["group"] == "size") & (frame["benchmark"] != "base")]
    roles = [sizes.assign(benchmark=sizes["benchmark"] + f"-{k}") for k in range(4)]
    return pd.concat([frame, *more, *strategies, *roles], ignore_index=True)


def test_no_chart_is_taller_than_the_limit(tmp_path: Path) -> None:
    data, configs = labelled(crowded_frame())
    drawn = [
        *charts.build_time_charts(data, configs, tmp_path),
        *charts.install_heatmaps(data, configs, tmp_path),
        *charts.size_charts(data, configs, tmp_path),
        *charts.startup_charts(data, configs, tmp_path),
    ]
    stems = [c.stem for c in drawn]
    # Too many rows for one chart: drawn in parts.
    assert {"install-heatmap-2", "build-time-2", "size-app-2"} <= set(stems)
    for stem in stems:
        assert png_height(tmp_path / f"{stem}.png") <= STYLE.max_height_px, stem


def test_compare_chart_keeps_to_the_limit(tmp_path: Path) -> None:
    base = sample.synthetic_frame("base", seed=1)
    new = sample.synthetic_frame("new", seed=2, slowdown=1.3)
    rows, only_b, only_n = compare_frames(base, new)
    assert len(rows) > 30  # more than the chart's default limit
    comparison = Comparison("base", "new", 1.1, rows, only_b, only_n, [], [])
    png = next(p for p in charts.comparison_chart(comparison, tmp_path, "c") if p.suffix == ".png")
    assert png_height(png) <= STYLE.max_height_px
