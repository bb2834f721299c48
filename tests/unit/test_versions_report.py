"""The "Python X vs Y" section: per base, what a new Python changes, from one run."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import report_sample as sample

from basebench.report.doc import Bullets, Heading, Table
from basebench.report.frame import label_configs
from basebench.report.versions import (
    is_prerelease,
    prerelease_versions,
    python_label,
    python_pairs,
    versions_blocks,
    wheel_changes,
)


def _two_pythons(**changes: Any) -> tuple[pd.DataFrame, Any]:
    frame = sample.synthetic_frame(pythons=("3.13", "3.14"))
    meta = sample.synthetic_meta("synthetic-1")
    return frame, meta


def _section(frame: pd.DataFrame, meta: dict[str, Any]) -> list[Any]:
    data, configs = label_configs(frame, [meta])
    return versions_blocks(data, configs, [meta])


def _table_for(blocks: list[Any], variant: str) -> Table:
    for i, block in enumerate(blocks):
        if isinstance(block, Heading) and block.text.startswith(f"{variant}:"):
            table = blocks[i + 1]
            assert isinstance(table, Table)
            return table
    raise AssertionError(f"no table for {variant}")


def _row(table: Table, starts: str) -> list[str]:
    rows = [list(r) for r in table.rows if str(r[0]).startswith(starts)]
    assert rows, f"no row {starts!r} in {[r[0] for r in table.rows]}"
    return rows[0]


def test_one_python_has_no_version_section() -> None:
    frame = sample.synthetic_frame()
    assert _section(frame, sample.synthetic_meta("synthetic-1")) == []


def test_runtime_headline_per_base_finds_the_new_pythons_speed_up() -> None:
    # The synthetic 3.14 is 5 % faster on every workload, on every base.
    frame, meta = _two_pythons()
    blocks = _section(frame, meta)
    assert isinstance(blocks[0], Heading) and blocks[0].text == "Python 3.13 vs 3.14"
    for variant in ("slim-trixie", "alpine3.23"):
        headline = _row(_table_for(blocks, variant), "runtime headline")
        assert headline[3].startswith("0.95×")
        assert "5 % faster" in headline[4]


def test_the_musl_gap_row_compares_the_gap_at_both_versions() -> None:
    frame, meta = _two_pythons()
    table = _table_for(_section(frame, meta), "alpine3.23")
    gap = _row(table, "runtime gap to slim-trixie")
    # The synthetic musl penalty does not depend on the Python: the ratio of gaps is 1.
    assert gap[3].startswith(("1.00×", "0.99×", "1.01×"))
    assert "n.s." in gap[4]
    # The baseline variant has no gap to itself.
    assert not [r for r in _table_for(_section(frame, meta), "slim-trixie").rows if "gap" in r[0]]


def test_a_slower_start_up_and_a_bigger_image_are_named() -> None:
    frame, meta = _two_pythons()
    new = frame["python"] == "3.14"
    startup = new & (frame["group"] == "startup")
    frame.loc[startup, "value"] *= 1.3
    size = new & (frame["group"] == "size") & (frame["metric"] == "compressed")
    frame.loc[size, "value"] *= 1.2
    table = _table_for(_section(frame, meta), "slim-trixie")
    startup_row = _row(table, "start-up `python -c pass`")
    assert startup_row[4].endswith("% slower")
    assert 1.2 < float(startup_row[3].split("×")[0]) < 1.4
    assert "20 % bigger" in _row(table, "size compressed (base image)")[4]


def test_a_package_that_loses_its_wheel_on_the_new_python_is_listed() -> None:
    frame, meta = _two_pythons()
    lost = (
        (frame["python"] == "3.14")
        & (frame["variant"] == "slim-trixie")
        & (frame["benchmark"] == "numpy")
    )
    frame.loc[lost, "detail"] = "sdist"
    lines = wheel_changes(frame, "slim-trixie", ("3.13", "3.14"))
    assert lines == [
        "**numpy**: wheel (manylinux_2_17_x86_64) on 3.13, compiled from sdist on 3.14"
    ]
    blocks = _section(frame, meta)
    assert any(isinstance(b, Bullets) and lines[0] in b.items for b in blocks)
    assert wheel_changes(frame, "alpine3.23", ("3.13", "3.14")) == []


def test_pairs_are_consecutive_versions() -> None:
    frame = sample.synthetic_frame(pythons=("3.14", "3.13", "3.15"))
    _, configs = label_configs(frame, [sample.synthetic_meta("synthetic-1")])
    assert python_pairs(configs) == [("3.13", "3.14"), ("3.14", "3.15")]


@pytest.mark.parametrize(
    ("version", "expected"),
    [("3.15.0a2", True), ("3.15.0rc1", True), ("3.14.0b3", True), ("3.14.2", False)],
)
def test_prerelease_spelling(version: str, expected: bool) -> None:
    assert is_prerelease(version) is expected


def test_prereleases_are_labelled_from_the_images_python_version() -> None:
    meta = {
        "images": {
            "a": {"python": "3.15", "python.version": "3.15.0a2"},
            "b": {"python": "3.14", "python.version": "3.14.2"},
        }
    }
    found = prerelease_versions([meta])
    assert found == {"3.15": "3.15.0a2"}
    assert python_label("3.15", found) == "3.15 (pre-release 3.15.0a2)"
    assert python_label("3.14", found) == "3.14"
