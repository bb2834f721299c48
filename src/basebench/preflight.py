"""One validation pass before any long work: every problem a user can fix, all at once.

:func:`basebench.config.load_config` collects problems into a :class:`Problems` instead of
stopping at the first: the types of the TOML fields, the values, and the checks here (files
and folders the run reads, the user's Dockerfile, resource limits against this machine). One
:class:`~basebench.errors.ConfigError` then carries one line per problem, each naming the
fix, before the engine is contacted or anything is written. Nothing here talks to Docker.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from basebench.cpus import parse_cpus
from basebench.errors import ConfigError, UserError
from basebench.paths import resolve

if TYPE_CHECKING:
    from basebench.config import Config

#: docker's memory format (``--memory``): digits, optionally b, k, m or g.
MEMORY = re.compile(r"^[0-9]+[bkmg]?$", re.IGNORECASE)
#: A FROM line that names the base through the build argument.
_FROM_BASE = re.compile(r"^\s*FROM\s+(--\S+\s+)*\$\{?BASE_IMAGE\}?(\s|$)", re.IGNORECASE)
_ARG_BASE = re.compile(r"^\s*ARG\s+BASE_IMAGE(=|\s|$)", re.IGNORECASE)
#: Command-line spellings of the fields whose flag is not ``--field-name``.
FLAGS = {
    "pythons": "--python",
    "variants": "--variant",
    "groups": "--group",
    "workloads": "--workload",
    "baseline_variant": "--baseline",
}


def flag(name: str) -> str:
    return FLAGS.get(name, "--" + name.replace("_", "-"))


@dataclass
class Problems:
    """What is wrong so far, in the order found; raised as one ConfigError, a line each."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        if line and line not in self.lines:
            self.lines.append(line)

    @contextmanager
    def collecting(self, prefix: str = "") -> Iterator[None]:
        """Record a UserError raised in the block instead of letting it end the command."""
        try:
            yield
        except UserError as exc:
            self.add(prefix + str(exc))

    def raise_if_any(self) -> None:
        if len(self.lines) == 1:
            raise ConfigError(self.lines[0])
        if self.lines:
            raise ConfigError(
                f"{len(self.lines)} problems, nothing was started:\n"
                + "\n".join(f"  - {line}" for line in self.lines)
            )


# --------------------------------------------------------------------------------------------
# Files and folders
# --------------------------------------------------------------------------------------------


def requirement_lines(text: str) -> list[str]:
    """The requirement specifiers of a requirements file (comments, blanks and options out)."""
    lines = (raw.split(" #", 1)[0].strip() for raw in text.splitlines())
    return [line for line in lines if line and not line.startswith(("#", "-"))]


def _file(path: Path, what: str) -> str:
    """Why ``path`` cannot be read as a file, or ""."""
    if not path.exists():
        return f"{what} {path}: no such file"
    if not path.is_file():
        return f"{what} {path}: is a folder, not a file; give the file inside it"
    return ""


def check_requirements(path: Path, what: str = "--requirements") -> str:
    problem = _file(path, what)
    if problem:
        return problem
    if not requirement_lines(path.read_text(errors="replace")):
        return (
            f"{what} {path}: names no requirement (empty, or only comments and options); "
            "give a file with one requirement per line, e.g. requests==2.32.3"
        )
    return ""


def check_dockerfile(path: Path, what: str = "--dockerfile") -> str:
    problem = _file(path, what)
    if problem:
        return problem
    lines = path.read_text(errors="replace").splitlines()
    if not any(_ARG_BASE.match(line) for line in lines):
        return (
            f"{what} {path}: declares no ARG BASE_IMAGE; put `ARG BASE_IMAGE` before the first "
            "FROM and use `FROM ${BASE_IMAGE}`, or every variant would measure your own base"
        )
    if not any(_FROM_BASE.match(line) for line in lines):
        return (
            f"{what} {path}: no FROM line uses ${{BASE_IMAGE}}; write `FROM ${{BASE_IMAGE}}` "
            "(for the final stage at least), or every variant would measure your own base"
        )
    return ""


def check_paths(config: Config, where: Callable[[str], str], problems: Problems) -> None:
    """The files and folders the run will read, as configured."""
    from basebench.config import Config as Defaults

    app = resolve(config.app)
    if not app.is_dir():
        problems.add(f"{where('app')} {config.app}: no such folder; give your build context")
    if config.requirements:
        problems.add(check_requirements(resolve(config.requirements), where("requirements")))
    elif config.with_reference_set:
        problems.add(
            f"{where('with_reference_set')} adds the built-in install set back beside your "
            "requirements; give --requirements FILE too (without it the built-in set is "
            "measured anyway)"
        )
    if config.dockerfile:
        problems.add(check_dockerfile(resolve(config.dockerfile), where("dockerfile")))
        if app == resolve(Defaults.app):
            problems.add(
                f"{where('dockerfile')} needs --app DIR, the build context of your Dockerfile "
                f"(without it, it would be built from the sample app in {Defaults.app})"
            )
    elif app.is_dir() and not config.requirements and "build" in config.groups:
        # The built-in strategies install the app's requirements (prepare_context).
        names = ("requirements.lock", "requirements.txt")
        if not any((app / n).is_file() for n in names):
            problems.add(
                f"{where('app')} {config.app}: has no requirements.txt (or requirements.lock) "
                "for the built-in strategies; add one, give --requirements FILE, or give "
                "--dockerfile with your own build"
            )
    if "install" in config.groups and (not config.requirements or config.with_reference_set):
        packages = resolve(config.packages)
        problems.add(_file(packages, where("packages")))


# --------------------------------------------------------------------------------------------
# Resource limits against this machine
# --------------------------------------------------------------------------------------------


def host_cpus() -> set[int]:
    """The CPUs this process may run on (and so the engine's containers, on this host)."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def check_limits(
    config: Config, where: Callable[[str], str], problems: Problems, cpus: set[int] | None = None
) -> None:
    """cpuset, cpus, mem_limit and pids_limit: well-formed, and possible on this machine."""
    available = host_cpus() if cpus is None else cpus
    listed = ",".join(map(str, sorted(available)))
    if config.cpuset:
        try:
            wanted = parse_cpus(config.cpuset)
        except UserError:
            problems.add(
                f"{where('cpuset')} {config.cpuset!r}: not a CPU set; write e.g. 1, 0-1 or 0,2 "
                f"(this machine has CPUs {listed})"
            )
        else:
            missing = sorted(wanted - available)
            if missing or not wanted:
                problems.add(
                    f"{where('cpuset')} {config.cpuset!r}: this machine has no CPU "
                    f"{','.join(map(str, missing)) or '(empty set)'}; use CPUs among {listed}"
                )
    if not 0 <= config.cpus <= len(available):  # NaN fails both comparisons
        problems.add(
            f"{where('cpus')} {config.cpus:g}: a CPU quota must be above 0 and at most this "
            f"machine's {len(available)} CPUs (0 = no quota)"
        )
    if config.mem_limit and not MEMORY.match(config.mem_limit):
        problems.add(
            f"{where('mem_limit')} {config.mem_limit!r}: not a memory size; write digits with "
            "an optional b, k, m or g suffix, e.g. 4g or 512m"
        )
    if config.pids_limit < 0:
        problems.add(
            f"{where('pids_limit')} {config.pids_limit}: must be 0 (no limit) or more, e.g. 512"
        )
