"""CPU sets as docker's ``--cpuset-cpus`` spells them, and pinning this process to one."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from basebench.errors import UserError


def parse_cpus(text: str) -> set[int]:
    """``"1"``, ``"0-1"`` or ``"0,2-3"`` -> the CPU numbers."""
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            cpus.update(range(int(low), int(high or low) + 1))
        except ValueError:
            raise UserError(f"not a CPU set: {text!r} (expected e.g. 1, 0-1 or 0,2)") from None
    return cpus


def _describe(cpus: set[int]) -> str:
    return ",".join(map(str, sorted(cpus)))


@contextlib.contextmanager
def pinned(cpus: set[int]) -> Iterator[str]:
    """Run the block on ``cpus`` (those of them this process may use); yields what it got.

    Outside Linux, or when none of ``cpus`` is allowed, the block runs where it is.
    """
    if not hasattr(os, "sched_getaffinity"):
        yield "any"
        return
    before = os.sched_getaffinity(0)
    target = (cpus & before) or before
    if target == before:
        yield _describe(before)
        return
    os.sched_setaffinity(0, target)
    try:
        yield _describe(target)
    finally:
        os.sched_setaffinity(0, before)


@contextlib.contextmanager
def pinned_elsewhere(busy_cpus: str) -> Iterator[str]:
    """Run the block on the CPUs ``busy_cpus`` leaves free, when there are any (a load
    generator beside the server it loads)."""
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    with pinned(allowed - parse_cpus(busy_cpus)) as got:
        yield got
