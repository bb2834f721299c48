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
    #: Timings that move when the host is busier or slower (``compare`` widens their
    #: thresholds by the host probes' drift); sizes and counts do not.
    host_sensitive: bool


# The order groups run in, whatever order a profile lists them: builds first, because size
# and start-up also measure the images the builds produce.
GROUPS: tuple[Group, ...] = (
    Group(
        "build",
        "basebench.measure.builds:measure",
        "basebench.report.sections:build_and_install",
        report_rank=0,
        host_sensitive=True,
    ),
    Group(
        "install",
        "basebench.measure.installs:measure",
        "basebench.report.sections:build_and_install",
        report_rank=1,
        host_sensitive=True,
    ),
    Group(
        "size",
        "basebench.measure.sizes:measure",
        "basebench.report.sections:size",
        report_rank=3,
        host_sensitive=False,
    ),
    Group(
        "startup",
        "basebench.measure.startup:measure",
        "basebench.report.sections:startup",
        report_rank=4,
        host_sensitive=True,
    ),
    Group(
        "runtime",
        "basebench.measure.runtime:measure",
        "basebench.report.sections:runtime",
        report_rank=2,
        host_sensitive=True,
    ),
    Group(
        "http",
        "basebench.measure.http:measure",
        "basebench.report.sections:http",
        report_rank=5,
        host_sensitive=True,
    ),
)

GROUP_NAMES: tuple[str, ...] = tuple(g.name for g in GROUPS)
_BY_NAME = {g.name: g for g in GROUPS}


def group(name: str) -> Group | None:
    """The registry entry of ``name``; None for a name no entry has (an older run's group)."""
    return _BY_NAME.get(name)


def in_report_order() -> list[Group]:
    return sorted(GROUPS, key=lambda g: g.report_rank)


def load(reference: str) -> Any:
    """The object a ``module:function`` reference names (imported on first use)."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)
