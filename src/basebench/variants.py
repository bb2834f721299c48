"""The variant catalogue (images/variants.toml) and where each base image comes from.

A base image is a (variant, Python version) pair from one *base source*: ``official`` pulls
``python:{py}-{variant}`` (optionally through a registry-mirror prefix), ``local`` builds the
stand-in here from Debian's mirror and CPython sources, ``auto`` takes official when a registry
answers, else local. Impossible combinations are refused here, before any work, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from basebench._toml import read_toml
from basebench.errors import ConfigError
from basebench.paths import IMAGES_DIR

BASE_SOURCES = ("official", "local", "auto")
FAMILIES = ("debian-full", "debian-slim", "alpine")
LIBCS = ("glibc", "musl")


@dataclass(frozen=True)
class LocalRecipe:
    recipe: str  # Dockerfile name in images/local/
    target: str
    rootfs: str  # Debian suite of the debootstrap root filesystem
    builder_target: str = ""
    flags: str = "official"  # compiler flags: the variant's official ones, or "debian"


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

    @property
    def slim(self) -> bool:
        return self.family != "debian-full"

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

    def check_local(self) -> LocalRecipe:
        if self.local is None:
            raise ConfigError(
                f"variant {self.name} cannot be built locally"
                + (f": {self.note}" if self.note else "")
                + "; use --base-source official with a registry that serves it"
            )
        return self.local


@dataclass(frozen=True)
class Catalogue:
    variants: dict[str, Variant] = field(default_factory=dict)

    def get(self, name: str) -> Variant:
        try:
            return self.variants[name]
        except KeyError:
            known = ", ".join(self.variants)
            raise ConfigError(f"unknown variant {name!r}; known variants: {known}") from None

    def names(self) -> list[str]:
        return list(self.variants)


def _variant_from_table(index: int, table: dict[str, Any], source: Path) -> Variant:
    where = f"{source}: variant #{index + 1}"
    try:
        local = table.get("local")
        variant = Variant(
            name=str(table["name"]),
            family=str(table["family"]),
            libc=str(table["libc"]),
            suite=str(table["suite"]),
            official_tag=str(table["official_tag"]),
            official_pythons=tuple(str(p) for p in table["official_pythons"]),
            local=LocalRecipe(**local) if local else None,
            note=str(table.get("note", "")),
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


def load_catalogue(path: Path | None = None) -> Catalogue:
    source = path or IMAGES_DIR / "variants.toml"
    data = read_toml(source, "variant catalogue")
    variants = {}
    for index, table in enumerate(data.get("variant", [])):
        variant = _variant_from_table(index, table, source)
        if variant.name in variants:
            raise ConfigError(f"{source}: variant {variant.name!r} is declared twice")
        variants[variant.name] = variant
    return Catalogue(variants)


def check_combination(variant: Variant, python: str, base_source: str) -> None:
    """Refuse before any work what cannot exist; ``auto`` needs at least one possible path."""
    if base_source not in BASE_SOURCES:
        raise ConfigError(f"base source {base_source!r}: use one of {', '.join(BASE_SOURCES)}")
    if base_source == "official":
        variant.check_official(python)
    elif base_source == "local":
        variant.check_local()
    else:
        errors = []
        for check in (lambda: variant.check_official(python), variant.check_local):
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
