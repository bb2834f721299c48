"""The harness's share of each group's wall time (run.json's ``harness``, see
:mod:`basebench.measure._overhead`): wall minus the timed work, and where it is known to go."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from basebench.report.doc import Block, Heading, Para, Table

#: The suite's goal: the harness takes at most this share of a group's wall time.
GOAL_SHARE = 0.10


def _known(untimed: Mapping[str, float], overhead: float) -> str:
    parts = [f"{what} {seconds:.0f} s" for what, seconds in untimed.items() if seconds >= 0.5]
    rest = overhead - sum(untimed.values())
    if rest >= 0.5 and parts:
        parts.append(f"not attributed {rest:.0f} s")
    return "; ".join(parts) or "not attributed"


def harness_rows(meta: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    total_wall = total_timed = 0.0
    for group, entry in (meta.get("harness") or {}).items():
        wall, timed = float(entry.get("wall_s", 0.0)), float(entry.get("timed_s", 0.0))
        overhead = max(0.0, wall - timed)
        share = overhead / wall if wall > 0 else 0.0
        total_wall, total_timed = total_wall + wall, total_timed + timed
        rows.append(
            [
                group,
                f"{wall:.0f} s",
                f"{timed:.0f} s",
                f"{overhead:.0f} s",
                f"{share:.0%}",
                _known(entry.get("untimed") or {}, overhead),
            ]
        )
    if len(rows) > 1 and total_wall > 0:
        overhead = total_wall - total_timed
        rows.append(
            [
                "**all groups**",
                f"{total_wall:.0f} s",
                f"{total_timed:.0f} s",
                f"{overhead:.0f} s",
                f"{overhead / total_wall:.0%}",
                "",
            ]
        )
    return rows


def harness_blocks(metas: Sequence[Mapping[str, Any]]) -> list[Block]:
    """A table per run that recorded its harness time (older runs did not: no block)."""
    blocks: list[Block] = []
    for meta in metas:
        rows = harness_rows(meta)
        if not rows:
            continue
        if not blocks:
            blocks.append(Heading("Harness overhead"))
            blocks.append(
                Para(
                    "A group's wall time against the work it times (each build, install, "
                    "container start and pyperf worker); the rest is the harness's: building "
                    "workload images, saving and compressing layers, host probes, starting "
                    f"pytest, inspecting images. Goal: at most {GOAL_SHARE:.0%} of wall time. "
                    "Sizes time nothing, so all of that group is overhead."
                )
            )
        blocks.append(
            Table(
                ["Group", "Wall", "Timed", "Overhead", "Share", "Where it is known to go"],
                rows,
                caption=f"run `{meta.get('run_id', '?')}`",
            )
        )
    return blocks
