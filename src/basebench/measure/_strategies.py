"""The build strategies as data: images/strategies/strategies.toml, read and checked here.

Each built-in strategy is a Dockerfile plus an entry in that file: a description a report can
print, the image its final stage runs on, and the bases it does not apply to with the reason
(stored in results). Adding a strategy therefore needs no Python. The user's own Dockerfile
(``custom``) is the one strategy that is not in the file: its Dockerfile comes from the
configuration.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from basebench._toml import read_toml
from basebench.errors import ConfigError, UserError
from basebench.paths import IMAGES_DIR
from basebench.variants import FAMILIES, LIBCS, Variant

if TYPE_CHECKING:  # the report reads the strategies too, and never imports the Docker SDK
    from basebench.bases import BaseImage

STRATEGIES_DIR = IMAGES_DIR / "strategies"
STRATEGIES_FILE = STRATEGIES_DIR / "strategies.toml"
CUSTOM = "custom"
RUNS_ON = ("base", "builder")
# What a rule can test, and the values each condition may take.
CONDITIONS: dict[str, tuple[str, ...]] = {
    "family": FAMILIES,
    "libc": LIBCS,
    "source": ("official", "local"),
}
SIBLING_CONDITION = "full_sibling_in_run"
REASON_FIELDS = ("variant", "python", "sibling")
_STRATEGY_KEYS = frozenset({"name", "dockerfile", "description", "runs_on", "not_applicable"})
_RULE_KEYS = frozenset({*CONDITIONS, SIBLING_CONDITION, "reason"})


def full_sibling(variant: str) -> str:
    """The full Debian variant of a slim one (slim-trixie -> trixie); others are their own."""
    return variant.removeprefix("slim-")


@dataclass(frozen=True)
class Rule:
    """A base the strategy does not apply to: every condition given (non-empty) must hold."""

    reason: str
    family: str = ""
    libc: str = ""
    source: str = ""
    full_sibling_in_run: bool = False

    def matches(self, variant: Variant, base: BaseImage, bases: Sequence[BaseImage]) -> bool:
        actual = {"family": variant.family, "libc": variant.libc, "source": base.source}
        wanted = {"family": self.family, "libc": self.libc, "source": self.source}
        if any(value and actual[key] != value for key, value in wanted.items()):
            return False
        return not self.full_sibling_in_run or _sibling_in_run(base, bases)


def _sibling_in_run(base: BaseImage, bases: Sequence[BaseImage]) -> bool:
    # Catalogue names: a second name for one image (validate's twins) is still that variant.
    sibling = full_sibling(base.catalogue_name)
    return sibling != base.catalogue_name and any(
        b.catalogue_name == sibling and b.python == base.python and b.source == base.source
        for b in bases
    )


@dataclass(frozen=True)
class Strategy:
    name: str
    dockerfile: Path
    description: str
    runs_on: str  # one of RUNS_ON: the image BASE_IMAGE names
    not_applicable: tuple[Rule, ...] = ()

    def why_not(self, variant: Variant, base: BaseImage, bases: Sequence[BaseImage]) -> str:
        """Why this strategy is not built on ``base`` (a run of ``bases``); "" when it is."""
        for rule in self.not_applicable:
            if rule.matches(variant, base, bases):
                sibling = full_sibling(base.catalogue_name)
                return rule.reason.format(variant=base.variant, python=base.python, sibling=sibling)
        return ""


def custom_strategy(dockerfile: Path) -> Strategy:
    """The user's own Dockerfile: runs on the base, applies everywhere (the user knows best)."""
    return Strategy(
        CUSTOM, dockerfile, "your own Dockerfile (--dockerfile), built from --app", "base"
    )


@dataclass(frozen=True)
class Strategies:
    source: Path
    by_name: dict[str, Strategy]

    def names(self) -> list[str]:
        return list(self.by_name)

    def get(self, name: str) -> Strategy:
        try:
            return self.by_name[name]
        except KeyError:
            known = ", ".join(sorted(self.by_name))
            raise UserError(
                f"unknown build strategy {name!r}; strategies: {known}, custom"
            ) from None


# The file is read once per process: plans ask for it once per strategy and base.
@functools.cache
def load_strategies(path: Path = STRATEGIES_FILE) -> Strategies:
    data = read_toml(path, "strategy list")
    tables = data.get("strategy")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{path}: no [[strategy]] entries")
    by_name: dict[str, Strategy] = {}
    for index, table in enumerate(tables):
        where = f"{path}: strategy #{index + 1}"
        strategy = _strategy(table, where, path.parent)
        if strategy.name == CUSTOM:
            raise ConfigError(f"{where}: field 'name': {CUSTOM!r} is the user's own --dockerfile")
        if strategy.name in by_name:
            raise ConfigError(f"{where}: field 'name': {strategy.name!r} is declared twice")
        by_name[strategy.name] = strategy
    return Strategies(path, by_name)


def _strategy(table: Any, where: str, folder: Path) -> Strategy:
    _check_keys(table, _STRATEGY_KEYS, where)
    name = _text(table, "name", where)
    where = f"{where} ({name})"
    dockerfile = folder / _text(table, "dockerfile", where)
    if not dockerfile.is_file():
        raise ConfigError(f"{where}: field 'dockerfile': {dockerfile} does not exist")
    rules = table.get("not_applicable", [])
    if not isinstance(rules, list):
        raise ConfigError(f"{where}: field 'not_applicable' must be [[strategy.not_applicable]]")
    return Strategy(
        name=name,
        dockerfile=dockerfile,
        description=_text(table, "description", where),
        runs_on=_text(table, "runs_on", where, RUNS_ON),
        not_applicable=tuple(
            _rule(rule, f"{where}: not_applicable #{i + 1}") for i, rule in enumerate(rules)
        ),
    )


def _rule(table: Any, where: str) -> Rule:
    _check_keys(table, _RULE_KEYS, where)
    conditions = {
        key: _text(table, key, where, CONDITIONS[key]) for key in CONDITIONS if key in table
    }
    sibling = table.get(SIBLING_CONDITION, False)
    if not isinstance(sibling, bool):
        raise ConfigError(f"{where}: field {SIBLING_CONDITION!r} must be true or false")
    # A rule without a condition would switch the strategy off everywhere: surely a typo.
    if not conditions and not sibling:
        raise ConfigError(
            f"{where}: give at least one condition ({', '.join([*CONDITIONS, SIBLING_CONDITION])})"
        )
    return Rule(
        reason=_reason(table, where),
        family=conditions.get("family", ""),
        libc=conditions.get("libc", ""),
        source=conditions.get("source", ""),
        full_sibling_in_run=sibling,
    )


def _reason(table: dict[str, Any], where: str) -> str:
    """The reason text, its {placeholders} checked now rather than when a run formats it."""
    reason = _text(table, "reason", where)
    allowed = ", ".join(f"{{{name}}}" for name in REASON_FIELDS)
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(reason) if name is not None]
    except ValueError as exc:
        raise ConfigError(f"{where}: field 'reason': {exc} (write {{{{ for a brace)") from None
    for name in names:
        if name not in REASON_FIELDS:
            raise ConfigError(f"{where}: field 'reason' names {{{name}}}; it may name {allowed}")
    return reason


def _check_keys(table: Any, allowed: frozenset[str], where: str) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown field {unknown[0]!r}; fields: {', '.join(sorted(allowed))}"
        )


def _text(table: dict[str, Any], key: str, where: str, choices: tuple[str, ...] = ()) -> str:
    if key not in table:
        raise ConfigError(f"{where}: missing field {key!r}")
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: field {key!r} must be a non-empty string")
    if choices and value not in choices:
        raise ConfigError(f"{where}: field {key!r} is {value!r}, not one of {', '.join(choices)}")
    return value
