"""The command line of a real ``basebench run`` on the local slim-trixie stand-in, for the
integration tests that start one as a child process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PYTHON = "3.13"


def slim_run(results: Path, *args: str) -> list[str]:
    """``basebench run`` of Python 3.13 on the local slim-trixie (no report) into ``results``."""
    return [
        sys.executable,
        "-m",
        "basebench.cli",
        "run",
        "--python",
        PYTHON,
        "--variant",
        "slim-trixie",
        "--base-source",
        "local",
        "--results",
        str(results),
        "--no-report",
        *args,
    ]


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment, wide enough that console lines are not wrapped."""
    return {**os.environ, "COLUMNS": "200", **(extra or {})}
