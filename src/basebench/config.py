"""The benchmark matrix: profiles in benchmarks/basebench.toml, overridden by the command line.

Validation names the file, the profile and the field; unknown variants list the known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from basebench._toml import read_toml
from basebench.budget import parse_duration
from basebench.errors import ConfigError
from basebench.groups import GROUP_NAMES
from basebench.limits import Limits
from basebench.paths import CONFIG_FILE
from basebench.preflight import Problems, check_limits, check_paths, flag
from basebench.runtime_manifest import load_manifest
from basebench.variants import (
    BASE_SOURCES,
    OPT_LEVELS,
    Catalogue,
    Variant,
    check_combination,
    check_local_python,
    default_baseline,
    load_catalogue,
)

#: The recommendation's rules (report/recommend.py says what each does); the first is the default.
PREFERENCES = ("balanced", "size", "build", "runtime")
PYPERF_MODES = ("quick", "fast", "default", "rigorous")
#: Where values given as flags come from (``where`` then names the flag).
COMMAND_LINE = "command line"


@dataclass
class Config:
    profile: str = "quick"
    description: str = ""
    pythons: list[str] = field(default_factory=lambda: ["3.13"])
    variants: list[str] = field(default_factory=lambda: ["slim-trixie"])
    groups: list[str] = field(default_factory=lambda: list(GROUP_NAMES))
    base_source: str = "auto"
    registry_mirror: str = ""
    network: str = "auto"
    opt_level: str = "none"
    baseline_variant: str = "slim-trixie"
    prefer: str = PREFERENCES[0]  # the recommendation's rule
    cpuset: str = "1"
    cpus: float = 0.0  # CPU quota of measured containers (docker run --cpus); 0 = none
    mem_limit: str = "4g"
    pids_limit: int = 512
    rounds: int = 1
    #: A time budget ("15m", "1h30m"; "" = none): each group's rounds are then decided as the
    #: run goes (basebench.budget), and ``rounds``/``startup_rounds`` are not used.
    time_budget: str = ""
    #: Under a budget: the relative 95 % half-width of a ratio at which a group stops adding
    #: rounds beyond those a test needs (basebench.budget, rule 3).
    precision: float = 0.05
    pyperf_mode: str = "fast"
    startup_rounds: int = 15
    packages: str = "benchmarks/packages.txt"
    app: str = "images/app"
    strategies: list[str] = field(default_factory=list)
    allocators: list[str] = field(default_factory=list)  # runtime; empty = all the image has
    workloads: list[str] = field(default_factory=list)  # runtime; empty = the whole manifest
    requirements: str = ""  # a user's own requirements file ("bring your own app")
    #: With ``requirements``: measure the built-in install set (``packages``) beside it.
    with_reference_set: bool = False
    dockerfile: str = ""  # a user's own Dockerfile taking ARG BASE_IMAGE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def limits(self) -> Limits:
        """What every measured container of the run gets."""
        return Limits(self.cpuset, self.cpus, self.mem_limit, self.pids_limit)

    @property
    def ceiling(self) -> Limits:
        """What every other container of the run gets (downloads, sdist builds, probes): the
        same memory and process limits, and any CPU (the engine adds a quota of all of them)."""
        return Limits(memory=self.mem_limit, pids=self.pids_limit)


_FIELD_TYPES = {f.name: f.type for f in fields(Config)}


def _check_type(name: str, value: Any, where: str) -> Any:
    kind = _FIELD_TYPES[name]
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {name} must be true or false, got {value!r}")
        return value
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


def _apply(
    config: Config,
    values: Mapping[str, Any],
    where: str,
    problems: Problems,
    origins: dict[str, str],
) -> None:
    """Set the fields of ``values``; a bad field is a problem, the others still apply."""
    for name, value in values.items():
        if name not in _FIELD_TYPES or name == "profile":
            known = ", ".join(n for n in _FIELD_TYPES if n != "profile")
            problems.add(f"{where}: unknown field {name!r}; known fields: {known}")
            continue
        label = flag(name) if where == COMMAND_LINE else where
        with problems.collecting():
            setattr(config, name, _check_type(name, value, label))
            origins[name] = where


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
    """The validated configuration, or one ConfigError with a line per problem found."""
    data = read_config_file(path)
    config = Config(profile=profile)
    problems = Problems()
    origins: dict[str, str] = {}
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.add(f"{path}: [defaults] must be a table of fields, got {defaults!r}")
        defaults = {}
    _apply(config, defaults, f"{path} [defaults]", problems, origins)
    table = data.get("profiles", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: profiles must be [profiles.NAME] tables, got {table!r}")
    if profile not in table:
        raise ConfigError(
            f"{path}: no profile {profile!r}; profiles: {', '.join(table) or '(none)'}"
        )
    if not isinstance(table[profile], dict):
        raise ConfigError(
            f"{path}: profile {profile!r} must be a table [profiles.{profile}] of fields, "
            f"got {table[profile]!r}"
        )
    _apply(config, table[profile], f"{path} [profiles.{profile}]", problems, origins)
    given = {k: v for k, v in (overrides or {}).items() if v not in (None, [])}
    _apply(config, given, COMMAND_LINE, problems, origins)
    where_default = f"{path} [profiles.{profile}]"

    def where(name: str) -> str:
        origin = origins.get(name, where_default)
        return flag(name) if origin == COMMAND_LINE else f"{origin} {name}"

    validate(config, catalogue or load_catalogue(), where, problems)
    problems.raise_if_any()
    return config


def _drop_official_only(
    variants: list[Variant], where: Callable[[str], str], problems: Problems
) -> list[Variant]:
    """One line for every variant the local source cannot build (archived Debian suites):
    they exist only as official tags; the variants that can be built are returned."""
    official_only = [v for v in variants if v.local is None]
    if official_only:
        names = ", ".join(v.name for v in official_only)
        why = "; ".join(dict.fromkeys(v.note for v in official_only if v.note))
        problems.add(
            f"{where('variants')} {names}: the local source cannot build "
            f"{'it' if len(official_only) == 1 else 'them'} ({why}); use --base-source "
            "official with a registry that serves the tags (registry_mirror)"
        )
    return [v for v in variants if v.local is not None]


def validate(
    config: Config,
    catalogue: Catalogue,
    where: Callable[[str], str],
    problems: Problems,
    cpus: set[int] | None = None,
) -> None:
    """Every check of the values; ``where(field)`` names the file and table, or the flag."""
    for group in config.groups:
        if group not in GROUP_NAMES:
            problems.add(
                f"{where('groups')}: unknown group {group!r}; groups: {', '.join(GROUP_NAMES)}"
            )
    choices = (
        ("base_source", BASE_SOURCES),
        ("opt_level", OPT_LEVELS),
        ("prefer", PREFERENCES),
        ("pyperf_mode", PYPERF_MODES),
    )
    for name, allowed in choices:
        if getattr(config, name) not in allowed:
            problems.add(
                f"{where(name)} {getattr(config, name)!r}: use one of {', '.join(allowed)}"
            )
    if not config.pythons or not config.variants:
        problems.add(f"{where('pythons')}: pythons and variants must not be empty")
    pythons = []
    for python in config.pythons:
        parts = python.split(".")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            problems.add(f"{where('pythons')} {python!r}: must look like 3.13")
        else:
            pythons.append(python)
    variants = []
    for name in config.variants:
        with problems.collecting(f"{where('variants')}: "):
            variants.append(catalogue.get(name))  # unknown names list the known ones
    if config.base_source == "local":
        variants = _drop_official_only(variants, where, problems)
        if not variants:
            pythons = []  # the one line above says it all: no Python line per version
    if config.base_source in ("local", "auto"):
        # One line per Python that no source can provide, not one per variant.
        for python in list(pythons):
            if config.base_source == "auto" and any(python in v.official_pythons for v in variants):
                continue
            try:
                check_local_python(python, official_hint=config.base_source == "local")
            except ConfigError as exc:
                names = ", ".join(v.name for v in variants)
                tags = f"no official tag of {names} has it, and " if names else ""
                if config.base_source == "local":
                    tags = ""
                problems.add(f"{where('pythons')} {python}: {tags}{exc}")
                pythons.remove(python)
    if config.base_source in BASE_SOURCES:
        for variant in variants:
            for python in pythons:
                with problems.collecting(f"{where('pythons')} {python}: "):
                    check_combination(variant, python, config.base_source)
    if config.base_source != "official" and config.opt_level in OPT_LEVELS:
        for variant in variants:
            if variant.local is not None:
                with problems.collecting(f"{where('opt_level')}: "):
                    variant.opt_level(config.opt_level)  # as-shipped needs the official level
    if config.baseline_variant not in config.variants:
        if where("baseline_variant") == flag("baseline_variant"):
            problems.add(
                f"--baseline {config.baseline_variant}: not a variant of this run; use one of "
                + ", ".join(config.variants)
            )
        else:  # the configured default is not in a variant list given later: the usual pick
            known = [v for v in config.variants if v in catalogue.variants]
            config.baseline_variant = default_baseline(
                [(name, catalogue.get(name).libc) for name in known]
            )
    if config.rounds < 1:
        problems.add(f"{where('rounds')} {config.rounds}: rounds must be at least 1")
    if config.time_budget.strip().lower() in ("none", "0"):
        config.time_budget = ""
    if config.time_budget:
        with problems.collecting(f"{where('time_budget')}: "):
            parse_duration(config.time_budget)
    if not 0 < config.precision < 1:
        problems.add(
            f"{where('precision')} {config.precision}: a relative half-width between 0 and 1 "
            "(0.05 = ±5 %)"
        )
    if config.workloads:
        known_workloads = [w.name for w in load_manifest()]
        unknown = [name for name in config.workloads if name not in known_workloads]
        if unknown:
            problems.add(
                f"{where('workloads')}: unknown runtime workload(s) {', '.join(unknown)}; "
                f"workloads: {', '.join(known_workloads)}"
            )
    check_limits(config, where, problems, cpus)
    check_paths(config, where, problems)
