"""The variant catalogue (images/variants.toml) and where each base image comes from.

A base image is a (variant, Python version) pair from one *base source*: ``official`` pulls
``python:{py}-{variant}`` (optionally through a registry-mirror prefix), ``local`` builds the
stand-in here from Debian's mirror and CPython sources, ``auto`` takes official when a registry
answers, else local. Impossible combinations are refused here, before any work, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from basebench._toml import read_toml
from basebench.errors import ConfigError
from basebench.paths import IMAGES_DIR

BASE_SOURCES = ("official", "local", "auto")
#: CPython optimisation levels of a local build (``pgo`` alone is not offered: no official
#: image uses it).
BUILD_OPT_LEVELS = ("none", "lto", "pgo-lto")
#: Each variant at the level its official image is built with (``official_build``).
AS_SHIPPED = "as-shipped"
OPT_LEVELS = (*BUILD_OPT_LEVELS, AS_SHIPPED)
#: ``NAME@LEVEL`` names the catalogue's variant NAME built at LEVEL, whatever the run's level.
PIN = "@"
FAMILIES = ("debian-full", "debian-slim", "alpine")
LIBCS = ("glibc", "musl")


#: The oldest CPython of a suite Debian's mirror still serves (bullseye's 3.9).
MIN_LOCAL_PYTHON = (3, 9)
#: setup.py-era CPython (3.11 and older) does not find /opt/musl's libraries (zlib, libffi).
MIN_MUSL_PYTHON = (3, 12)
#: Beyond any CPython that exists or is in development: a typo, not a version to try.
_MAX_MINOR = 30


def tag_part(name: str) -> str:
    """A run's variant name as it may appear in an image tag (``@`` is not allowed there)."""
    return name.replace(PIN, "-")


def _version(python: str) -> tuple[int, ...]:
    """(3, 11) from "3.11" ((0,) when it is not a version: check_local_python refuses it)."""
    parts = python.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (0,)


def _debian_may_serve(python: str) -> bool:
    major, _, minor = python.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        return False
    return (
        (int(major), int(minor)) >= MIN_LOCAL_PYTHON and int(major) == 3 and int(minor) < _MAX_MINOR
    )


def check_local_python(python: str, *, official_hint: bool = True) -> None:
    """ConfigError when no suite of Debian's mirror can serve CPython ``python``'s sources."""
    if not _debian_may_serve(python):
        low = ".".join(map(str, MIN_LOCAL_PYTHON))
        hint = ", or use --base-source official with a registry that has it"
        raise ConfigError(
            f"Python {python} cannot be built locally: stand-ins compile Debian's CPython "
            f"source packages, {low} and newer (`basebench images list` shows the bases built "
            f"so far){hint if official_hint else ''}"
        )


@dataclass(frozen=True)
class LocalRecipe:
    recipe: str  # Dockerfile name in images/local/
    target: str
    rootfs: str  # Debian suite of the debootstrap root filesystem
    builder_target: str = ""
    flags: str = "official"  # compiler flags: the variant's official ones, or "debian"


@dataclass(frozen=True)
class OfficialBuild:
    """How docker-library/python compiles the official image's CPython (a fact read from its
    Dockerfile template on ``checked``, at commit ``template``)."""

    opt_level: str
    configure: str
    checked: str
    template: str


@dataclass(frozen=True)
class Variant:
    name: str
    family: str
    libc: str
    suite: str
    official_tag: str
    official_pythons: tuple[str, ...]
    local: LocalRecipe | None = None
    note: str = ""
    #: The day docker-library stopped building the tags ("" while it still builds them).
    official_tags_until: str = ""
    #: The end of the Debian release's long-term support ("" for Alpine, or not yet known).
    debian_eol: str = ""
    official_build: OfficialBuild | None = None
    #: ``NAME@LEVEL``: this level whatever the run's; "" = the run's.
    pinned_opt_level: str = ""

    @property
    def catalogue_name(self) -> str:
        """The name in images/variants.toml (without a pinned level)."""
        return self.name.partition(PIN)[0]

    def opt_level(self, requested: str) -> str:
        """The level this variant is compiled at when the run asks for ``requested``."""
        level = self.pinned_opt_level or self._requested_level(requested)
        if self.libc == "musl" and level.startswith("pgo"):
            raise ConfigError(
                f"variant {self.name}: the musl stand-in cannot be built with PGO ({level}): "
                "the instrumented interpreter does not link (the compiler's libgcov is glibc's "
                "and calls __isoc23_strtol), and the official Alpine images are not built with "
                "it either; use lto (Alpine's official level, --opt-level as-shipped) or "
                "--base-source official"
            )
        return level

    def _requested_level(self, requested: str) -> str:
        if requested != AS_SHIPPED:
            return requested
        if self.official_build is None:
            raise ConfigError(
                f"variant {self.name}: the catalogue does not say how its official image is "
                f"optimised (no official_build), so it cannot be built {AS_SHIPPED}; "
                f"use --opt-level {' or '.join(BUILD_OPT_LEVELS)}"
            )
        return self.official_build.opt_level

    @property
    def slim(self) -> bool:
        return self.family != "debian-full"

    def lifecycle(self) -> str:
        """What a user of these tags must know about their age; "" while they are maintained."""
        parts = []
        if self.official_tags_until:
            parts.append(f"official tags frozen since {self.official_tags_until}")
        if self.debian_eol:
            parts.append(f"Debian {self.suite} long-term support ends {self.debian_eol}")
        return "; ".join(parts)

    def official_reference(self, python: str, mirror_prefix: str = "") -> str:
        tag = self.official_tag.format(python=python)
        repository = f"{mirror_prefix.rstrip('/')}/python" if mirror_prefix else "python"
        return f"{repository}:{tag}"

    def check_official(self, python: str) -> None:
        if python not in self.official_pythons:
            raise ConfigError(
                f"there is no official python:{self.official_tag.format(python=python)} image: "
                f"the {self.name} tags exist for Python {', '.join(self.official_pythons)}"
                + (f" ({self.note})" if self.note else "")
            )

    def check_local(self, python: str = "") -> LocalRecipe:
        """The stand-in's recipe; ConfigError when none exists or ``python`` cannot be built.

        Which 3.x Debian serves is only known at run time (local/sources.py asks the mirror);
        what can never be served is refused here, before any work.
        """
        if python:
            check_local_python(python)
        if self.local is None:
            raise ConfigError(
                f"variant {self.name} cannot be built locally"
                + (f": {self.note}" if self.note else "")
                + "; use --base-source official with a registry that serves it"
            )
        if python and self.libc == "musl" and _version(python) < MIN_MUSL_PYTHON:
            low = ".".join(map(str, MIN_MUSL_PYTHON))
            raise ConfigError(
                f"Python {python} cannot be built as the local musl stand-in ({self.name}): "
                "CPython before 3.12 builds its extensions with setup.py, which does not find "
                f"the musl chain's libraries (zlib, libffi: seen failing at `make install`); "
                f"use Python {low}+ or --base-source official with a registry that has it"
            )
        return self.local


@dataclass(frozen=True)
class Catalogue:
    variants: dict[str, Variant] = field(default_factory=dict)

    def get(self, name: str) -> Variant:
        """The variant ``name``; ``NAME@LEVEL`` is NAME compiled at LEVEL (a local stand-in)."""
        base, pin, level = name.partition(PIN)
        try:
            variant = self.variants[base]
        except KeyError:
            known = ", ".join(self.variants)
            raise ConfigError(f"unknown variant {base!r}; known variants: {known}") from None
        if not pin:
            return variant
        if level not in BUILD_OPT_LEVELS:
            raise ConfigError(
                f"variant {name!r}: after {PIN!r} comes an optimisation level, one of "
                f"{', '.join(BUILD_OPT_LEVELS)}"
            )
        if variant.local is None:
            variant.check_local()  # says why there is no stand-in to build at that level
        return replace(variant, name=name, pinned_opt_level=level)

    def names(self) -> list[str]:
        return list(self.variants)


_STRING_FIELDS = ("name", "family", "libc", "suite", "official_tag")
_DATE_FIELDS = ("official_tags_until", "debian_eol")


def _variant_from_table(index: int, table: Any, source: Path) -> Variant:
    where = f"{source}: variant #{index + 1}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a [[variant]] table, got {table!r}")
    for name in (*_STRING_FIELDS, "note", *_DATE_FIELDS):
        if name in table and not isinstance(table[name], str):
            raise ConfigError(f"{where}: {name} must be a string, got {table[name]!r}")
    for name in _DATE_FIELDS:
        try:
            date.fromisoformat(table.get(name) or "2000-01-01")
        except ValueError:
            raise ConfigError(
                f'{where}: {name} must be a date such as "2024-06-30", got {table[name]!r}'
            ) from None
    pythons = table.get("official_pythons", [])
    if not isinstance(pythons, list) or not all(isinstance(p, str) for p in pythons):
        raise ConfigError(
            f'{where}: official_pythons must be a list of strings such as ["3.13"], got {pythons!r}'
        )
    local = table.get("local")
    if local is not None and not isinstance(local, dict):
        raise ConfigError(f"{where}: local must be a table {{ recipe = ..., ... }}, got {local!r}")
    official_build = _official_build(table.get("official_build"), where)
    try:
        variant = Variant(
            name=table["name"],
            family=table["family"],
            libc=table["libc"],
            suite=table["suite"],
            official_tag=table["official_tag"],
            official_pythons=tuple(table["official_pythons"]),
            local=LocalRecipe(**local) if local else None,
            note=table.get("note", ""),
            official_build=official_build,
            **{name: table[name] for name in _DATE_FIELDS if name in table},
        )
    except KeyError as exc:
        raise ConfigError(f"{where}: missing field {exc.args[0]!r}") from None
    except TypeError as exc:
        raise ConfigError(f"{where}: bad 'local' table ({exc})") from None
    if variant.family not in FAMILIES:
        raise ConfigError(f"{where}: family {variant.family!r} is not one of {FAMILIES}")
    if variant.libc not in LIBCS:
        raise ConfigError(f"{where}: libc {variant.libc!r} is not one of {LIBCS}")
    return variant


def _official_build(table: Any, where: str) -> OfficialBuild | None:
    if table is None:
        return None
    usage = '{ opt_level = "pgo-lto", configure = "...", checked = "2026-11-30", template = "..." }'
    keys = {"opt_level", "configure", "checked", "template"}
    if not isinstance(table, dict) or set(table) != keys:
        raise ConfigError(f"{where}: official_build must be a table {usage}, got {table!r}")
    if not all(isinstance(v, str) for v in table.values()):
        raise ConfigError(f"{where}: official_build's values must be strings, got {table!r}")
    if table["opt_level"] not in BUILD_OPT_LEVELS:
        raise ConfigError(
            f"{where}: official_build.opt_level must be one of {', '.join(BUILD_OPT_LEVELS)}, "
            f"got {table['opt_level']!r}"
        )
    try:
        date.fromisoformat(table["checked"])
    except ValueError:
        raise ConfigError(
            f'{where}: official_build.checked must be a date such as "2026-11-30", '
            f"got {table['checked']!r}"
        ) from None
    return OfficialBuild(**table)


def load_catalogue(path: Path | None = None) -> Catalogue:
    source = path or IMAGES_DIR / "variants.toml"
    data = read_toml(source, "variant catalogue")
    variants = {}
    tables = data.get("variant", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{source}: variant must be [[variant]] tables, got {tables!r}")
    for index, table in enumerate(tables):
        variant = _variant_from_table(index, table, source)
        if variant.name in variants:
            raise ConfigError(f"{source}: variant {variant.name!r} is declared twice")
        variants[variant.name] = variant
    return Catalogue(variants)


def check_combination(variant: Variant, python: str, base_source: str) -> None:
    """Refuse before any work what cannot exist; ``auto`` needs at least one possible path."""
    if base_source not in BASE_SOURCES:
        raise ConfigError(f"base source {base_source!r}: use one of {', '.join(BASE_SOURCES)}")
    if base_source == "official" and variant.pinned_opt_level:
        raise ConfigError(
            f"variant {variant.name}: {PIN}{variant.pinned_opt_level} chooses how a local "
            f"stand-in is compiled, and an official image comes as it was built; drop "
            f"{PIN}{variant.pinned_opt_level} or use --base-source local"
        )
    if base_source == "official":
        variant.check_official(python)
    elif base_source == "local":
        variant.check_local(python)
    else:
        errors = []
        for check in (lambda: variant.check_official(python), lambda: variant.check_local(python)):
            try:
                check()
            except ConfigError as exc:
                errors.append(str(exc))
        if len(errors) == 2:
            raise ConfigError(f"{variant.name} with Python {python}: " + "; and ".join(errors))


def default_baseline(variants: Sequence[tuple[str, str]]) -> str:
    """The variant ratios refer to when none is configured, from (name, libc) pairs in the
    order the run lists them: the first glibc slim variant (what most teams ship), else the
    first glibc one, else the first; "" when there is none."""
    glibc = [name for name, libc in variants if libc == "glibc"]
    for candidates in ([n for n in glibc if "slim" in n], glibc, [n for n, _ in variants]):
        if candidates:
            return candidates[0]
    return ""
