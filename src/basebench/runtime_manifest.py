"""The runtime workloads' manifest (benchmarks/runtime/manifest.toml), loaded and checked.

Each ``[[benchmark]]`` names one pyperf script of that folder; see the manifest's header for the
fields. Errors name the file, the entry and the field, so a team adding its own workload sees at
once what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from basebench._toml import read_toml
from basebench.errors import ConfigError
from basebench.paths import BENCHMARKS_DIR
from basebench.versions import version_key

RUNTIME_DIR = BENCHMARKS_DIR / "runtime"
MANIFEST_PATH = RUNTIME_DIR / "manifest.toml"
KINDS = ("large-objects", "resize", "mixed", "control", "threads", "processes", "app")
REQUIRED = ("name", "script", "description", "kind", "requires", "min_python")
OPTIONAL = ("args",)
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_PYTHON = re.compile(r"3\.\d+")


@dataclass(frozen=True)
class Workload:
    name: str
    script: str
    description: str
    kind: str
    requires: tuple[str, ...]
    min_python: str
    args: tuple[str, ...] = ()

    def python_ok(self, python: str) -> bool:
        """Does ``python`` ("3.13" or "3.13.5") meet min_python?"""
        return version_key(python)[:2] >= version_key(self.min_python)[:2]

    def skip_reason(self, python: str, available: frozenset[str] | set[str]) -> str:
        """Why this workload cannot run on ``python`` with packages ``available``; "" if it can."""
        if not self.python_ok(python):
            return f"needs Python >= {self.min_python}, the image has {python}"
        missing = [r for r in self.requires if r.lower() not in {a.lower() for a in available}]
        if missing:
            return f"needs {', '.join(missing)}, not installed in the image"
        return ""


def _strings(value: Any, where: str, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {field} must be a list of strings, got {value!r}")
    return tuple(value)


def parse_entry(table: Any, where: str, directory: Path) -> Workload:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table, got {table!r}")
    missing = [f for f in REQUIRED if f not in table]
    if missing:
        raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(table) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        known = ", ".join((*REQUIRED, *OPTIONAL))
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {known}")
    for field in ("name", "script", "description", "kind", "min_python"):
        if not isinstance(table[field], str) or not table[field]:
            raise ConfigError(f"{where}: {field} must be a non-empty string, got {table[field]!r}")
    name = table["name"]
    where = f"{where} ({name})"
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{where}: name must be lower-case letters, digits and _, got {name!r}")
    script = table["script"]
    if "/" in script or "\\" in script or not script.endswith(".py"):
        raise ConfigError(f"{where}: script must be a .py file name in {directory}, got {script!r}")
    if not (directory / script).is_file():
        raise ConfigError(f"{where}: script {script} not found in {directory}")
    if table["kind"] not in KINDS:
        raise ConfigError(f"{where}: kind {table['kind']!r} is not one of {', '.join(KINDS)}")
    if not _PYTHON.fullmatch(table["min_python"]):
        raise ConfigError(f"{where}: min_python must look like 3.11, got {table['min_python']!r}")
    return Workload(
        name=name,
        script=script,
        description=table["description"],
        kind=table["kind"],
        requires=_strings(table["requires"], where, "requires"),
        min_python=table["min_python"],
        args=_strings(table.get("args", []), where, "args"),
    )


def load_manifest(path: Path = MANIFEST_PATH) -> list[Workload]:
    """Every workload of the manifest, in file order; ConfigError on anything malformed."""
    data = read_toml(path, "runtime manifest")
    entries = data.get("benchmark")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: no [[benchmark]] entries")
    workloads: list[Workload] = []
    seen: set[str] = set()
    for i, table in enumerate(entries, 1):
        workload = parse_entry(table, f"{path} [[benchmark]] #{i}", path.parent)
        if workload.name in seen:
            raise ConfigError(f"{path} [[benchmark]] #{i}: duplicate name {workload.name!r}")
        seen.add(workload.name)
        workloads.append(workload)
    return workloads
