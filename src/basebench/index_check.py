"""Does every requirement of the team's file exist on the package index, for each Python?

A misspelt project or a pin with no release used to be found by the install group, after the
base images were built (22 minutes on a fresh machine). This asks the index first, with the
host's own pip and its configuration (index URL, proxy, CA bundle: whatever a team has set for
pip), one ``pip index versions NAME --python-version X`` per project and Python: seconds.

What it cannot know from the host: whether a release installs on a given base (wheels for its
libc, an sdist that compiles there). That is the install group's question; this one only catches
what can never install anywhere.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from basebench.preflight import requirement_lines

#: (project, python) -> (pip's exit code, its output)
Ask = Callable[[str, str], tuple[int, str]]

_AVAILABLE = re.compile(r"^Available versions:\s*(.*)$", re.M)


def ask_pip(project: str, python: str) -> tuple[int, str]:
    """``pip index versions`` with the host's pip: its index, proxy and CA settings apply."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", project, "--python-version", python],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return out.returncode, out.stdout + out.stderr


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    requirement: Requirement | None
    problem: str = ""


def parse_lines(path: Path) -> list[Line]:
    """Each requirement of the file with its line number; a line pip could not read says so."""
    out = []
    wanted = set(requirement_lines(path.read_text(errors="replace")))
    for number, raw in enumerate(path.read_text(errors="replace").splitlines(), 1):
        text = raw.split(" #", 1)[0].strip()
        if text not in wanted:
            continue
        if re.match(r"^(\.|/|[a-z+]+://|git\+)", text) or " @ " in text:
            continue  # a path or URL: not a project of the index
        try:
            out.append(Line(number, text, Requirement(text)))
        except InvalidRequirement as exc:
            out.append(Line(number, text, None, f"not a requirement pip can read ({exc})"))
    return out


def _versions(output: str) -> list[Version]:
    m = _AVAILABLE.search(output)
    if not m:
        return []
    found = []
    for item in m.group(1).split(","):
        try:
            found.append(Version(item.strip()))
        except InvalidVersion:
            continue
    return found


def _judge(req: Requirement, python: str, code: int, output: str) -> str:
    """ "" when some release of ``req`` matches for ``python``, else why not."""
    if code != 0:
        if "No matching distribution" in output:
            return f"the package index has no release of {req.name} for Python {python}"
        last = (output.strip().splitlines() or ["no output"])[-1]
        return f"could not ask the package index about {req.name} ({last[:160]})"
    versions = _versions(output)
    matching = [v for v in versions if req.specifier.contains(v, prereleases=True)]
    if versions and not matching:
        return (
            f"no release of {req.name} matches {req.specifier} for Python {python} "
            f"(newest: {max(versions)})"
        )
    return ""


def check_index(path: Path, pythons: Sequence[str], what: str, ask: Ask = ask_pip) -> list[str]:
    """One line per requirement of ``path`` that the index cannot satisfy (empty: all fine)."""
    lines = parse_lines(path)
    problems = [
        f"{what} {path} line {ln.number} `{ln.text}`: {ln.problem}" for ln in lines if ln.problem
    ]
    jobs = [
        (ln.number, ln.text, ln.requirement, p) for ln in lines if ln.requirement for p in pythons
    ]

    def answer(job: tuple[int, str, Requirement, str]) -> str:
        _, _, req, python = job
        return _judge(req, python, *ask(req.name, python))

    # The index answers in about a second; the projects are asked at once, not in turn.
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(answer, jobs))
    seen: set[int] = set()
    for (number, text, _, _), why in zip(jobs, verdicts, strict=True):
        if why and number not in seen:  # one line per requirement, the first Python's reason
            seen.add(number)
            problems.append(f"{what} {path} line {number} `{text}`: {why}")
    return problems
