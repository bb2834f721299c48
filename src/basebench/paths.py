"""Where the project's data lives: next to the package in a checkout, or overridden by env."""

from __future__ import annotations

import os
from pathlib import Path


def _project_root() -> Path:
    explicit = os.environ.get("BASEBENCH_HOME")
    if explicit:
        return Path(explicit).resolve()
    # src/basebench/paths.py -> the checkout's top level (where images/ and benchmarks/ are).
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent, Path.cwd()):
        if (candidate / "images" / "variants.toml").is_file():
            return candidate
    return Path.cwd()


PROJECT_ROOT = _project_root()
IMAGES_DIR = PROJECT_ROOT / "images"
BENCHMARKS_DIR = PROJECT_ROOT / "benchmarks"
RESULTS_DIR = PROJECT_ROOT / "results"
CONFIG_FILE = BENCHMARKS_DIR / "basebench.toml"
