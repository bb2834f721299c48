"""Harness overhead accounting: the timed work in each kind of stored measurement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from basebench.measure._overhead import Ledger, accounting, timed_seconds


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_timed_seconds_of_each_format(tmp_path: Path) -> None:
    pytest_benchmark = _write(
        tmp_path / "build.json",
        {
            "machine_info": {},
            "benchmarks": [{"stats": {"data": [30.0]}}, {"stats": {"data": [12.5]}}],
        },
    )
    pyperf = _write(
        tmp_path / "runtime.json",
        {
            "version": "1.0",
            "benchmarks": [
                {"runs": [{"metadata": {"duration": 1.5}}, {"metadata": {"duration": 2.0}}]}
            ],
        },
    )
    rows = _write(
        tmp_path / "startup.json",
        {
            "format": "basebench.measurements/1",
            "rows": [
                {"metric": "wall_time", "unit": "s", "values": [0.25, 0.5]},
                # Parts of an interval counted already, and values in other units: not timed.
                {"metric": "pip_time", "unit": "s", "values": [9.0]},
                {"metric": "compressed", "unit": "bytes", "values": [1e9]},
            ],
        },
    )
    assert timed_seconds([pytest_benchmark]) == 42.5
    assert timed_seconds([pyperf]) == 3.5
    assert timed_seconds([rows]) == 0.75
    assert timed_seconds([pytest_benchmark, pyperf, rows, tmp_path / "missing.json"]) == 46.75


def test_the_ledger_adds_up_what_it_is_told_by_group(monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = Ledger()
    ledger.add("size", "compressing layers", 2.0)
    ledger.add("size", "compressing layers", 3.0)
    with ledger.spent_on("runtime", "image builds"):
        pass
    assert ledger.untimed["size"] == {"compressing layers": 5.0}
    assert 0 <= ledger.untimed["runtime"]["image builds"] < 1


def test_accounting_never_times_more_than_the_wall() -> None:
    entry = accounting(10.0, 10.4, {"host probes": 0.5, "image builds": 3.0})
    assert entry["timed_s"] == 10.0
    assert list(entry["untimed"]) == ["image builds", "host probes"]  # largest first
