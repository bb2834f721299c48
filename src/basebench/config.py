"""The benchmark matrix: profiles in benchmarks/basebench.toml, overridden by the command line.

Validation names the file, the profile and the field; unknown variants list the known ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from basebench._toml import read_toml
from basebench.errors import ConfigError
from basebench.groups import GROUP_NAMES
from basebench.limits import Limits
from basebench.paths import CONFIG_FILE
from basebench.runtime_manifest import load_manifest
from basebench.variants import (
    BASE_SOURCES,
    Catalogue,
    check_combination,
    default_baseline,
    load_catalogue,
)

OPT_LEVELS = ("none", "lto", "pgo-lto")
#: The recommendation's rules (report/recommend.py says what each does); the first is the default.
PREFERENCES = ("balanced", "size", "build", "runtime")
PYPERF_MODES = ("fast", "default", "rigorous")


@dataclass
class Config:
    profile: str = "quick"
    description: str = ""
    pythons: list[str] = field(default_factory=lambda: ["3.13"])
    variants: list[str] = field(default_factory=lambda: ["slim-trixie"])
    groups: list[str] = field(default_factory=lambda: list(GROUP_NAMES))
    base_source: str = "auto"
    registry_mirror: str = ""
    network: str = "host"
    opt_level: str = "none"
    baseline_variant: str = "slim-trixie"
    prefer: str = PREFERENCES[0]  # the recommendation's rule
    cpuset: str = "1"
    cpus: float = 0.0  # CPU quota of measured containers (docker run --cpus); 0 = none
    mem_limit: str = "4g"
    pids_limit: int = 512
    rounds: int = 1
    pyperf_mode: str = "fast"
    startup_rounds: int = 15
    packages: str = "benchmarks/packages.txt"
    app: str = "images/app"
    strategies: list[str] = field(default_factory=list)
    allocators: list[str] = field(default_factory=list)  # runtime; empty = all the image has
    workloads: list[str] = field(default_factory=list)  # runtime; empty = the whole manifest
    requirements: str = ""  # a user's own requirements file ("bring your own app")
    dockerfile: str = ""  # a user's own Dockerfile taking ARG BASE_IMAGE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def limits(self) -> Limits:
        """What every measured container of the run gets."""
        return Limits(self.cpuset, self.cpus, self.mem_limit, self.pids_limit)


_FIELD_TYPES = {f.name: f.type for f in fields(Config)}


def _check_type(name: str, value: Any, where: str) -> Any:
    kind = _FIELD_TYPES[name]
    if kind == "list[str]":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
            raise ConfigError(f"{where}: {name} must be a list of strings, got {value!r}")
        return [str(v) for v in value]
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{where}: {name} must be a number >= 0, got {value!r}")
        return float(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}: {name} must be a whole number >= 0, got {value!r}")
        return value
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ConfigError(f"{where}: {name} must be a string, got {value!r}")
    return str(value)


def _apply(config: Config, values: Mapping[str, Any], where: str) -> None:
    for name, value in values.items():
        if name not in _FIELD_TYPES or name == "profile":
            known = ", ".join(n for n in _FIELD_TYPES if n != "profile")
            raise ConfigError(f"{where}: unknown field {name!r}; known fields: {known}")
        setattr(config, name, _check_type(name, value, where))


def read_config_file(path: Path) -> dict[str, Any]:
    return read_toml(path, "configuration file")


def profiles(path: Path = CONFIG_FILE) -> dict[str, dict[str, Any]]:
    data = read_config_file(path)
    table = data.get("profiles", {})
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{path}: no [profiles.NAME] tables")
    return table


def load_config(
    profile: str = "quick",
    overrides: Mapping[str, Any] | None = None,
    *,
    path: Path = CONFIG_FILE,
    catalogue: Catalogue | None = None,
) -> Config:
    data = read_config_file(path)
    config = Config(profile=profile)
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"{path}: [defaults] must be a table")
    _apply(config, defaults, f"{path} [defaults]")
    table = data.get("profiles", {})
    if profile not in table:
        raise ConfigError(
            f"{path}: no profile {profile!r}; profiles: {', '.join(table) or '(none)'}"
        )
    _apply(config, table[profile], f"{path} [profiles.{profile}]")
    _apply(
        config, {k: v for k, v in (overrides or {}).items() if v not in (None, [])}, "command line"
    )
    validate(config, catalogue or load_catalogue(), where=f"{path} [profiles.{profile}]")
    return config


def validate(config: Config, catalogue: Catalogue, where: str) -> None:
    for group in config.groups:
        if group not in GROUP_NAMES:
            raise ConfigError(f"{where}: unknown group {group!r}; groups: {', '.join(GROUP_NAMES)}")
    if config.base_source not in BASE_SOURCES:
        raise ConfigError(
            f"{where}: base_source {config.base_source!r}; use one of {', '.join(BASE_SOURCES)}"
        )
    if config.opt_level not in OPT_LEVELS:
        raise ConfigError(f"{where}: opt_level {config.opt_level!r}; use one of {OPT_LEVELS}")
    if config.prefer not in PREFERENCES:
        raise ConfigError(f"{where}: prefer {config.prefer!r}; use one of {', '.join(PREFERENCES)}")
    if config.pyperf_mode not in PYPERF_MODES:
        raise ConfigError(f"{where}: pyperf_mode {config.pyperf_mode!r}; use one of {PYPERF_MODES}")
    if not config.pythons or not config.variants:
        raise ConfigError(f"{where}: pythons and variants must not be empty")
    for python in config.pythons:
        parts = python.split(".")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ConfigError(f"{where}: Python version {python!r} must look like 3.13")
    for name in config.variants:
        variant = catalogue.get(name)  # unknown names list the known ones
        for python in config.pythons:
            check_combination(variant, python, config.base_source)
    if config.baseline_variant not in config.variants:
        config.baseline_variant = default_baseline(
            [(name, catalogue.get(name).libc) for name in config.variants]
        )
    if config.rounds < 1:
        raise ConfigError(f"{where}: rounds must be at least 1")
    if config.workloads:
        known = [w.name for w in load_manifest()]
        unknown = [name for name in config.workloads if name not in known]
        if unknown:
            raise ConfigError(
                f"{where}: unknown runtime workload(s) {', '.join(unknown)}; "
                f"workloads: {', '.join(known)}"
            )
