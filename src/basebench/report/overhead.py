"""How a run spent its time: the harness's share of each group's wall time (run.json's
``harness``, see :mod:`basebench.measure._overhead`: wall minus the timed work, and where it is
known to go), and under ``--time-budget`` what each group got and why (run.json's ``budget``,
see :mod:`basebench.budget`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from basebench.budget import short_duration
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


#: What one round of each group is, for a reader of the budget table.
ROUND_INCLUDES = {
    "build": "a cold build (`--no-cache`) of every strategy on every base: download, compile "
    "and image export included (the bases and builder images are there already)",
    "install": "an offline install of each package alone in a fresh container, from the run's "
    "wheelhouse (the downloads are done once before the rounds and not timed)",
    "startup": "one container start of each command on each image",
    "runtime": "one container per series (workload × base × allocator) running pyperf",
    "size": "one pass: sizes are exact, not timed",
    "pull": "a cold pull of each base",
    "http": "one load test of each server",
}


def _run_order(group: str) -> int:
    """Where ``group`` runs in a run (groups unknown to this version last)."""
    from basebench.groups import GROUP_NAMES

    return GROUP_NAMES.index(group) if group in GROUP_NAMES else len(GROUP_NAMES)


def _wall(meta: Mapping[str, Any]) -> float | None:
    from datetime import datetime

    try:
        started = datetime.fromisoformat(str(meta["started"]))
        finished = datetime.fromisoformat(str(meta["finished"]))
    except (KeyError, ValueError):
        return None
    return (finished - started).total_seconds()


def budget_skipped(metas: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The groups a time budget left out of the runs, as a table cell says it."""
    skipped: dict[str, str] = {}
    for meta in metas:
        for group, entry in ((meta.get("budget") or {}).get("groups") or {}).items():
            if str(entry.get("stopped", "")).startswith("not measured"):
                skipped[group] = "not measured (time budget, see Conditions)"
    return skipped


def budget_blocks(metas: Sequence[Mapping[str, Any]]) -> list[Block]:
    """A table per run made under ``--time-budget``: each group's rounds and why they stopped
    there (runs without a budget: no block)."""
    blocks: list[Block] = []
    for meta in metas:
        budget = meta.get("budget")
        if not isinstance(budget, dict):
            continue
        if not blocks:
            blocks.append(Heading("Time budget"))
            blocks.append(
                Para(
                    "Rounds were decided as the run went (`--time-budget`): each group ran its "
                    "least rounds; builds and installs added rounds up to the 3 a test needs "
                    "while the next round fitted the budget left after setting aside the later "
                    "groups' least; beyond that a group added rounds only while a series' 95 % "
                    f"interval was wider than ±{float(budget.get('precision', 0.05)):.0%} / √2 "
                    "and within its share of the budget. That rule reads the spread of the "
                    "values, never a difference or a p-value, so it cannot chase significance. "
                    "A metric with fewer than 3 rounds is labelled untested in the tables above."
                )
            )
        wall = _wall(meta)
        spent = f", the whole run {short_duration(wall)} from start to report" if wall else ""
        rows = []
        groups = dict(budget.get("groups") or {})
        for group in sorted(groups, key=_run_order):
            entry = groups[group]
            times = [float(s) for s in entry.get("round_s") or []]
            each = f"{short_duration(sum(times) / len(times))}" if times else "–"
            stopped = str(entry.get("stopped") or "")
            one_pass = not times and not stopped.startswith("not measured")
            rows.append(
                [
                    group,
                    "one pass" if one_pass else str(entry.get("rounds", 0)),
                    each,
                    stopped or "one pass: no rounds to decide",
                    ROUND_INCLUDES.get(group, ""),
                ]
            )
        blocks.append(
            Table(
                ["Group", "Rounds", "A round took", "Why it stopped there", "A round is"],
                rows,
                caption=f"run `{meta.get('run_id', '?')}`: budget "
                f"{short_duration(float(budget.get('time_budget_s', 0)))}, measuring took "
                f"{short_duration(float(budget.get('spent_s', 0)))}{spent}",
            )
        )
    return blocks
