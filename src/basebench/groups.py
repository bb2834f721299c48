"""The measurement groups: the one list of them, and what each one is made of.

A group is one question the suite answers (how long do builds take, how big are the images...).
Each entry names the function that measures it (``basebench.measure.<module>:measure``) and
the function that writes its report section (``basebench.report.sections:<name>``), as
``"module:function"`` strings so that this module imports nothing: the configuration, the run
loop, the report and ``compare`` all read it, and the report side never pulls in Docker.

Adding a group = one measuring module, one report section, one entry here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Group:
    name: str
    #: ``module:function`` called as ``function(ctx: RunContext) -> None`` by ``basebench run``.
    measure: str
    #: ``module:function`` that returns the group's report blocks; groups sharing one section
    #: (build and install) name the same function, which the report then calls once.
    section: str
    #: Where its section stands in the report: the order a reader asks the questions, which is
    #: not the order groups run in.
    report_rank: int
    #: The host probe that measures this group's kind of timing: CPU_PROBE (a pinned
    #: pure-Python loop) for work on the CPU, CONTAINER_PROBE (``docker run`` of ``true``) for
    #: container starts, "" for groups whose values do not move with the host (sizes).
    #: ``compare`` widens a timing's threshold by that probe's drift between the runs (when
    #: significant), and judges the metrics of a group without a probe by the factor alone.
    host_probe: str
    #: Other tidy groups its rows go to (shown by its own section, probed like it).
    also_writes: tuple[str, ...] = ()
    #: ``module:function`` called instead of ``measure`` when a resumed run had finished the
    #: group before its interruption: restores what later groups use of it ("" = nothing).
    restore: str = ""
    #: ``module:function`` called as ``function(config) -> RoundRange``: the rounds the group
    #: runs, and under a time budget its least, wanted and most ("" = one pass, no rounds).
    rounds: str = ""
    #: Under a time budget, before this machine has run the group once: a first guess of its
    #: one-off seconds and of one round's, per base image (the quick profile on a 2-core
    #: machine: 4 strategies, 10 packages, 12 workloads x 2 allocators).
    guess_per_base: tuple[float, float] = (0.0, 0.0)


#: Names of the host probes (their stored metrics are in :mod:`basebench.results`).
CPU_PROBE = "cpu"
CONTAINER_PROBE = "container"


# The order groups run in, whatever order a profile lists them: pulls first, because an app
# image built FROM a base holds the base's layers and its pull would then not be cold; then
# builds, because size and start-up also measure the images the builds produce.
GROUPS: tuple[Group, ...] = (
    Group(
        "pull",
        "basebench.measure.pulls:measure",
        "basebench.report.sections:pull",
        report_rank=6,
        host_probe=CPU_PROBE,
        guess_per_base=(0.0, 20.0),
    ),
    Group(
        "build",
        "basebench.measure.builds:measure",
        "basebench.report.sections:build_and_install",
        report_rank=0,
        host_probe=CPU_PROBE,
        # Size, start-up and HTTP measure the app images the builds made.
        restore="basebench.measure.builds:restore",
        rounds="basebench.measure.builds:round_range",
        guess_per_base=(0.0, 90.0),
    ),
    Group(
        "install",
        "basebench.measure.installs:measure",
        "basebench.report.sections:build_and_install",
        report_rank=1,
        host_probe=CPU_PROBE,
        # A team's requirements installed as one set (basebench.measure.install_set).
        also_writes=("install_set",),
        rounds="basebench.measure.installs:round_range",
        guess_per_base=(55.0, 80.0),
    ),
    Group(
        "size",
        "basebench.measure.sizes:measure",
        "basebench.report.sections:size",
        report_rank=3,
        host_probe="",
        guess_per_base=(60.0, 0.0),
    ),
    Group(
        "startup",
        "basebench.measure.startup:measure",
        "basebench.report.sections:startup",
        report_rank=4,
        host_probe=CONTAINER_PROBE,
        rounds="basebench.measure.startup:round_range",
        guess_per_base=(0.0, 6.5),
    ),
    Group(
        "runtime",
        "basebench.measure.runtime:measure",
        "basebench.report.sections:runtime",
        report_rank=2,
        host_probe=CPU_PROBE,
        rounds="basebench.measure.runtime:round_range",
        guess_per_base=(20.0, 30.0),
    ),
    Group(
        "http",
        "basebench.measure.http:measure",
        "basebench.report.sections:http",
        report_rank=5,
        host_probe=CPU_PROBE,
        guess_per_base=(30.0, 60.0),
    ),
)

GROUP_NAMES: tuple[str, ...] = tuple(g.name for g in GROUPS)
_BY_NAME = {g.name: g for g in GROUPS} | {extra: g for g in GROUPS for extra in g.also_writes}
#: Every tidy group some entry writes (its own name, or one it also writes).
WRITTEN_GROUPS: frozenset[str] = frozenset(_BY_NAME)


def group(name: str) -> Group | None:
    """The registry entry that writes ``name``; None for a name no entry writes (an older
    run's group)."""
    return _BY_NAME.get(name)


def in_report_order() -> list[Group]:
    return sorted(GROUPS, key=lambda g: g.report_rank)


def load(reference: str) -> Any:
    """The object a ``module:function`` reference names (imported on first use)."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)
