"""Harness overhead: how much of a group's wall time is the measured work itself.

A group's *timed* seconds are the intervals its stored measurements time: each build of
pytest-benchmark's data, each pyperf worker's ``duration``, each ``wall_time`` row in seconds
(an install, a container start). Everything else in the group's wall time is the harness's:
building workload images, saving and compressing layers, host probes, starting pytest,
inspecting images, waiting. :class:`Ledger` keeps what is known of where that time goes, by
name, so the report can say it; run.json records per group ``wall_s``, ``timed_s`` and
``untimed`` (known seconds by what).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The basebench measurement metric that is a timed interval of the work (unit "s").
TIMED_METRIC = "wall_time"


def _timed_in(data: Mapping[str, Any]) -> float:
    if "machine_info" in data and "benchmarks" in data:  # pytest-benchmark
        return sum(sum(b.get("stats", {}).get("data") or []) for b in data["benchmarks"])
    if "benchmarks" in data and "version" in data:  # pyperf: each worker process's duration
        return sum(
            float((run.get("metadata") or {}).get("duration") or 0.0)
            for bench in data["benchmarks"]
            for run in bench.get("runs", [])
        )
    return sum(
        sum(row.get("values") or [])
        for row in data.get("rows", [])
        if row.get("metric") == TIMED_METRIC and row.get("unit") == "s"
    )


def timed_seconds(files: Iterable[Path]) -> float:
    """Seconds of measured work in these measurement files (see the module's docstring)."""
    total = 0.0
    for path in files:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            total += _timed_in(data)
    return total


@dataclass
class Ledger:
    """Known untimed seconds, by group and by what they were spent on."""

    untimed: dict[str, dict[str, float]] = field(default_factory=dict)
    #: The group running now: where the engine's untimed work (image builds) is filed.
    group: str = "base images"

    def add(self, group: str, what: str, seconds: float) -> None:
        spent = self.untimed.setdefault(group, {})
        spent[what] = spent.get(what, 0.0) + seconds

    @contextmanager
    def spent_on(self, group: str, what: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(group, what, time.perf_counter() - start)


def accounting(wall: float, timed: float, untimed: Mapping[str, float]) -> dict[str, Any]:
    """One group's entry of run.json's ``harness``."""
    return {
        "wall_s": round(wall, 2),
        "timed_s": round(min(timed, wall), 2),
        "untimed": {what: round(s, 2) for what, s in sorted(untimed.items(), key=lambda i: -i[1])},
    }
