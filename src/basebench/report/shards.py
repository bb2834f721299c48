"""Shards of one matrix (``basebench run --shard I/N``) merged into one report.

Runs merge when they are distinct shards of one matrix id. Each (python, variant, group) cell
then reads as in an unsharded run: one column per (python, variant), not per run. The
baseline is measured in every shard that needs it; the merged report keeps the baseline's
values from one shard only (the first that has the cell), so that no median pools timings of
two machines, and the conditions name every comparison that crosses machines: a timing ratio
between cells of two machines is not a property of the images (asv and pyperf refuse them).
Sizes and wheel tags do not depend on the machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from basebench.results import HOST_PROBE_GROUP

#: Groups whose values do not move with the machine: comparing them across machines is fine.
MACHINE_INDEPENDENT = frozenset({"size"})
_CELL = ["python", "variant", "group"]


def _shard_index(meta: Mapping[str, Any]) -> int:
    return int(str(meta.get("shard") or "0/0").partition("/")[0])


def are_shards(metas: Sequence[Mapping[str, Any]]) -> bool:
    """Several runs that are distinct shards of one matrix."""
    if len(metas) < 2 or not all(m.get("shard") for m in metas):
        return False
    same_matrix = len({m.get("matrix_id") for m in metas}) == 1
    return same_matrix and len({m.get("shard") for m in metas}) == len(metas)


def merge_shards(frame: pd.DataFrame, metas: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """``frame`` with each cell's rows from one shard only (the lowest that measured it)."""
    if not are_shards(metas):
        return frame
    rank = {str(m.get("run_id")): _shard_index(m) for m in metas}
    probes = frame[frame["group"] == HOST_PROBE_GROUP]
    cells = frame[frame["group"] != HOST_PROBE_GROUP]
    first = cells.assign(_rank=cells["run"].map(rank)).groupby(_CELL)["_rank"].transform("min")
    kept = cells[cells["run"].map(rank) == first]
    return pd.concat([kept, probes], ignore_index=True)


def _machines(metas: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {str(m.get("run_id")): str(m.get("machine_id", "?")) for m in metas}


def cross_machine(
    frame: pd.DataFrame, metas: Sequence[Mapping[str, Any]], baseline: str
) -> list[str]:
    """Every (python, variant, group) whose timings the report sets against a baseline
    measured on another machine: "3.13 alpine startup (machine a vs b)"."""
    machines = _machines(metas)
    cells = frame[frame["group"] != HOST_PROBE_GROUP][[*_CELL, "run"]].drop_duplicates()
    where = {(p, v, g): machines.get(r, "?") for p, v, g, r in cells.itertuples(index=False)}
    crossings = []
    for (python, variant, group), machine in where.items():
        reference = where.get((python, baseline, group))
        if group in MACHINE_INDEPENDENT or reference is None or variant == baseline:
            continue
        if machine != reference:
            crossings.append(f"{python} {variant} {group} (machine {machine} vs {reference})")
    return sorted(crossings)


def shard_sentence(frame: pd.DataFrame, metas: Sequence[Mapping[str, Any]], baseline: str) -> str:
    """What the conditions say about a merged set of shards ("" when the runs are not one)."""
    if not are_shards(metas):
        return ""
    shards = ", ".join(
        f"{m.get('shard')} (run `{m.get('run_id')}`, machine {m.get('machine_id', '?')})"
        for m in sorted(metas, key=_shard_index)
    )
    text = (
        f"**Merged shards** of matrix `{metas[0].get('matrix_id')}`: {shards}. Each cell "
        "comes from one shard; the baseline's from the first shard that measured it."
    )
    crossings = cross_machine(frame, metas, baseline)
    if not crossings:
        return text + " Every timing is compared with a baseline measured on its own machine."
    return (
        text + " **Cross-machine comparisons** (their ratios mix two machines' speeds, not only "
        "the images'): " + "; ".join(crossings) + "."
    )
