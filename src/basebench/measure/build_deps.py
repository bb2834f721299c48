"""Build dependencies of packages that compile from an sdist: benchmarks/build-deps.toml.

The install group measures a package as a team installs it. Where a base has no wheel for it,
a team's Dockerfile installs the compiler and -dev packages first, so the install does too, and
times that step on its own: "compiled from sdist: +N s build deps, +M s compile".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from basebench._toml import read_toml
from basebench.errors import ConfigError
from basebench.paths import BENCHMARKS_DIR

BUILD_DEPS_FILE = BENCHMARKS_DIR / "build-deps.toml"
MANAGERS = ("apt", "apk")


@dataclass(frozen=True)
class BuildDeps:
    package: str
    apt: tuple[str, ...]
    apk: tuple[str, ...]
    why: str

    def for_manager(self, manager: str) -> tuple[str, ...]:
        return self.apt if manager == "apt" else self.apk


@dataclass(frozen=True)
class BuildDepsCatalogue:
    default: BuildDeps
    packages: dict[str, BuildDeps]

    def get(self, package: str) -> BuildDeps:
        return self.packages.get(package, self.default)


def _entry(package: str, table: Any, where: str) -> BuildDeps:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table with apt, apk and why")
    unknown = sorted(set(table) - {*MANAGERS, "why"})
    if unknown:
        raise ConfigError(f"{where}: unknown field {unknown[0]!r}; fields: apt, apk, why")
    lists = {}
    for manager in MANAGERS:
        value = table.get(manager, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{where}: field {manager!r} must be a list of package names")
        lists[manager] = tuple(value)
    return BuildDeps(package, lists["apt"], lists["apk"], str(table.get("why", "")))


@functools.cache
def load_build_deps(path: Path = BUILD_DEPS_FILE) -> BuildDepsCatalogue:
    data = read_toml(path, "build dependency list")
    if "default" not in data:
        raise ConfigError(f"{path}: no [default] table")
    packages = data.get("package", {})
    if not isinstance(packages, dict):
        raise ConfigError(f"{path}: [package.NAME] tables expected")
    return BuildDepsCatalogue(
        default=_entry("", data["default"], f"{path}: [default]"),
        packages={
            name: _entry(name, table, f"{path}: [package.{name}]")
            for name, table in packages.items()
        },
    )


@dataclass(frozen=True)
class DepsPlan:
    """How build dependencies reach one base: a package manager, or why none is used."""

    manager: str  # "apt", "apk" or "" (nothing installed)
    reason: str = ""  # why nothing is installed ("" when a manager is used)

    @property
    def provided(self) -> bool:
        """False where a compile needs what this base cannot install (not the full image)."""
        return bool(self.manager) or not self.reason.startswith(NOT_PROVIDED)


NOT_PROVIDED = "not provided:"


def deps_plan(family: str, source: str) -> DepsPlan:
    """What a team's Dockerfile would use on this family of base, from this source."""
    if family == "debian-full":
        return DepsPlan("", "none needed: the full image carries compilers and -dev packages")
    if family == "debian-slim":
        return DepsPlan("apt")
    if family == "alpine" and source == "official":
        return DepsPlan("apk")
    return DepsPlan(
        "", f"{NOT_PROVIDED} the local musl stand-in has no package manager (official Alpine: apk)"
    )


def needs_text(package: str, family: str, source: str) -> str:
    """What building ``package`` from its sdist needs on this family of base, in one line
    for the report: "a C compiler and the C library's headers: apt gcc libc6-dev"."""
    wanted = load_build_deps().get(package)
    plan = deps_plan(family, source)
    if plan.manager:
        return f"{wanted.why}: {plan.manager} {' '.join(wanted.for_manager(plan.manager))}"
    if plan.provided:  # the full Debian image carries them
        return f"{wanted.why} (the full image has them)"
    return f"{wanted.why}: apk {' '.join(wanted.apk)} on official Alpine (the stand-in has none)"
