"""A benchmark matrix split across machines: ``basebench run --shard I/N``.

The matrix is its (python, variant, group) cells. Shard I of N takes every N-th unit of work
in a fixed order (the configuration's Pythons, then its variants, then the groups in the order
they run), so the same configuration always splits the same way, on any machine. Two rules
keep the numbers honest:

- every shard also measures the baseline variant in each (python, group) it has, so a ratio
  against the baseline is always taken on one machine (as asv and pyperf insist: timings are
  never compared across machines);
- the groups that measure what the build group made (size, start-up and HTTP measure the app
  images too) go with the build cell of their (python, variant) when builds are in the matrix,
  or a shard would measure an app image it never built.

Every run records a matrix id (a hash of the configuration, the same for all its shards) and a
machine id, sharded or not; ``basebench report`` over the shards' run folders merges them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from basebench.config import Config
from basebench.errors import ConfigError
from basebench.groups import GROUP_NAMES

Cell = tuple[str, str, str]  # (python, variant, group)

#: Groups that measure the images the build group made: they go where the build goes.
FOLLOWS_BUILD = ("size", "startup", "http")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as the user writes it
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        index, _, count = text.partition("/")
        if not (index.isdigit() and count.isdigit()) or not 1 <= int(index) <= int(count):
            raise ConfigError(
                f"--shard {text}: write I/N with 1 <= I <= N, e.g. --shard 1/2 (the first of "
                "two machines)"
            )
        return cls(int(index), int(count))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _unit_group(group: str, groups: list[str]) -> str:
    return "build" if group in FOLLOWS_BUILD and "build" in groups else group


def _ordered_groups(config: Config) -> list[str]:
    return [g for g in GROUP_NAMES if g in config.groups]


def matrix_cells(config: Config) -> list[Cell]:
    """Every cell of the configuration, in the fixed order shards are dealt from."""
    return [
        (python, variant, group)
        for python in config.pythons
        for variant in config.variants
        for group in _ordered_groups(config)
    ]


def shard_cells(config: Config, shard: Shard) -> list[Cell]:
    """The cells shard ``shard`` measures: its units of work plus the baseline beside them."""
    groups = _ordered_groups(config)
    baseline = config.baseline_variant
    units = list(
        dict.fromkeys(
            (p, v, _unit_group(g, groups)) for p, v, g in matrix_cells(config) if v != baseline
        )
    )
    if len(units) < shard.count:
        raise ConfigError(
            f"--shard {shard}: this matrix has {len(units)} unit(s) of work beside the baseline "
            f"{baseline}; use at most {max(len(units), 1)} shards"
        )
    mine = set(units[shard.index - 1 :: shard.count])
    cells = {
        (p, v, g) for p, v, g in matrix_cells(config) if (p, v, _unit_group(g, groups)) in mine
    }
    cells |= {(p, baseline, g) for p, _, g in cells}
    return [cell for cell in matrix_cells(config) if cell in cells]


def matrix_id(config: Config) -> str:
    """The same for every shard of one configuration (and for its unsharded run)."""
    text = json.dumps(config.as_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def machine_id(host: Mapping[str, Any]) -> str:
    """Which machine measured: its name, CPU, cores and memory (run.json's ``host``)."""
    keys = ("hostname", "cpu_model", "cores", "memory_bytes")
    text = json.dumps([host.get(k) for k in keys], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
