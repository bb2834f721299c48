"""The runtime workloads' manifest (benchmarks/runtime/manifest.toml), loaded and checked.

Each ``[[mechanism]]`` names one thing a workload can isolate (small objects, realloc growth,
threads...) and the remedy expected to close a musl/glibc gap on it; each ``[[benchmark]]``
names one pyperf script of that folder and the mechanism it isolates. See the manifest's header
for the fields. Errors name the file, the entry and the field, so a team adding its own
workload sees at once what is wrong.

The report looks workloads up here by name (:meth:`Manifest.mechanism_of`): runs measured
before a workload was renamed or retired still load, their unknown names "unclassified".
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
REQUIRED = (
    "name",
    "script",
    "description",
    "mechanism",
    "purpose",
    "control",
    "cpus",
    "requires",
    "min_python",
)
OPTIONAL = ("args", "block_sizes")
MECHANISM_FIELDS = ("name", "title", "remedy")
#: pymalloc serves requests up to this size; larger ones go to the libc malloc.
PYMALLOC_LIMIT = 512
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_MECHANISM = re.compile(r"[a-z][a-z0-9-]*")
_PYTHON = re.compile(r"3\.\d+")


@dataclass(frozen=True)
class Mechanism:
    """One thing a workload isolates, and what is expected to close a musl/glibc gap on it."""

    name: str
    title: str
    remedy: str


#: The mechanism of a workload the manifest does not list (an older run's retired name).
UNCLASSIFIED = Mechanism(
    "unclassified",
    "workloads the current manifest does not list (renamed or retired since the run)",
    "",
)


@dataclass(frozen=True)
class Workload:
    name: str
    script: str
    description: str
    mechanism: str
    requires: tuple[str, ...]
    min_python: str
    args: tuple[str, ...] = ()
    #: Why the workload exists: what its ratio tells a reader.
    purpose: str = ""
    #: Expected equal across libcs under CPython's default allocator (a gap means the build).
    control: bool = False
    #: CPUs it needs: one per thread or process that runs at once.
    cpus: int = 1
    #: (low, high): every block above PYMALLOC_LIMIT its timed loop allocates is in this
    #: range, bytes; (0, PYMALLOC_LIMIT) = none above the limit. None = mixed sizes.
    block_sizes: tuple[int, int] | None = None

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


@dataclass(frozen=True)
class Manifest:
    workloads: tuple[Workload, ...]
    mechanisms: tuple[Mechanism, ...]

    def workload(self, name: str) -> Workload | None:
        return next((w for w in self.workloads if w.name == name), None)

    def mechanism_of(self, workload: str) -> Mechanism:
        """The mechanism a workload name isolates; UNCLASSIFIED for names not listed."""
        found = self.workload(workload)
        if found is None:
            return UNCLASSIFIED
        return next(m for m in self.mechanisms if m.name == found.mechanism)

    def mechanism_rank(self, name: str) -> int:
        """Manifest order of mechanisms (the report's order); unknown ones last."""
        names = [m.name for m in self.mechanisms]
        return names.index(name) if name in names else len(names)


EMPTY_MANIFEST = Manifest((), ())


def _strings(value: Any, where: str, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {field} must be a list of strings, got {value!r}")
    return tuple(value)


def _check_fields(
    table: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table, got {table!r}")
    if "kind" in table and "mechanism" in required:
        raise ConfigError(
            f"{where}: 'kind' was replaced by 'mechanism' (a [[mechanism]] name) and "
            "'control' (true/false); see the manifest's header"
        )
    missing = [f for f in required if f not in table]
    if missing:
        raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(table) - set(required) - set(optional))
    if unknown:
        known = ", ".join((*required, *optional))
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {known}")


def _block_sizes(value: Any, where: str) -> tuple[int, int] | None:
    if value is None:
        return None
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        and value[0] <= value[1]
    )
    if not ok:
        raise ConfigError(
            f"{where}: block_sizes must be [low, high], whole numbers of bytes with low <= high, "
            f"got {value!r}"
        )
    return (value[0], value[1])


def parse_mechanism(table: Any, where: str) -> Mechanism:
    _check_fields(table, where, MECHANISM_FIELDS, ())
    for field in ("name", "title"):
        if not isinstance(table[field], str) or not table[field]:
            raise ConfigError(f"{where}: {field} must be a non-empty string, got {table[field]!r}")
    if not isinstance(table["remedy"], str):
        raise ConfigError(f"{where}: remedy must be a string, got {table['remedy']!r}")
    if not _MECHANISM.fullmatch(table["name"]) or table["name"] == UNCLASSIFIED.name:
        raise ConfigError(
            f"{where}: name must be lower-case letters, digits and -, and not "
            f"{UNCLASSIFIED.name!r}; got {table['name']!r}"
        )
    return Mechanism(table["name"], table["title"], table["remedy"])


def parse_entry(
    table: Any, where: str, directory: Path, mechanisms: frozenset[str] | None = None
) -> Workload:
    """One [[benchmark]]; ``mechanisms``: the declared mechanism names (None: not checked)."""
    _check_fields(table, where, REQUIRED, OPTIONAL)
    for field in ("name", "script", "description", "mechanism", "purpose", "min_python"):
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
    if mechanisms is not None and table["mechanism"] not in mechanisms:
        raise ConfigError(
            f"{where}: mechanism {table['mechanism']!r} is not a [[mechanism]] of the manifest; "
            f"declared: {', '.join(sorted(mechanisms)) or '(none)'}"
        )
    if not isinstance(table["control"], bool):
        raise ConfigError(f"{where}: control must be true or false, got {table['control']!r}")
    cpus = table["cpus"]
    if not isinstance(cpus, int) or isinstance(cpus, bool) or cpus < 1:
        raise ConfigError(f"{where}: cpus must be a whole number >= 1, got {cpus!r}")
    if not _PYTHON.fullmatch(table["min_python"]):
        raise ConfigError(f"{where}: min_python must look like 3.11, got {table['min_python']!r}")
    return Workload(
        name=name,
        script=script,
        description=table["description"],
        mechanism=table["mechanism"],
        requires=_strings(table["requires"], where, "requires"),
        min_python=table["min_python"],
        args=_strings(table.get("args", []), where, "args"),
        purpose=table["purpose"],
        control=table["control"],
        cpus=cpus,
        block_sizes=_block_sizes(table.get("block_sizes"), where),
    )


def read_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """The mechanisms and workloads of the manifest, in file order; ConfigError if malformed."""
    data = read_toml(path, "runtime manifest")
    mechanisms: list[Mechanism] = []
    for i, table in enumerate(data.get("mechanism") or [], 1):
        mechanism = parse_mechanism(table, f"{path} [[mechanism]] #{i}")
        if any(m.name == mechanism.name for m in mechanisms):
            raise ConfigError(f"{path} [[mechanism]] #{i}: duplicate name {mechanism.name!r}")
        mechanisms.append(mechanism)
    entries = data.get("benchmark")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: no [[benchmark]] entries")
    declared = frozenset(m.name for m in mechanisms)
    workloads: list[Workload] = []
    seen: set[str] = set()
    for i, table in enumerate(entries, 1):
        workload = parse_entry(table, f"{path} [[benchmark]] #{i}", path.parent, declared)
        if workload.name in seen:
            raise ConfigError(f"{path} [[benchmark]] #{i}: duplicate name {workload.name!r}")
        seen.add(workload.name)
        workloads.append(workload)
    return Manifest(tuple(workloads), tuple(mechanisms))


def load_manifest(path: Path = MANIFEST_PATH) -> list[Workload]:
    """Every workload of the manifest, in file order; ConfigError on anything malformed."""
    return list(read_manifest(path).workloads)
