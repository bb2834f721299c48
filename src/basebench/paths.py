"""Where the project's data lives: next to the package in a checkout, or overridden by env."""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Iterable
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


def resolve(path: str | Path) -> Path:
    """A configured path: absolute as given, relative to the project's top level otherwise."""
    p = Path(path)
    return p if p.is_absolute() else PROJECT_ROOT / p


def files_digest(files: Iterable[Path], relative_to: Path) -> str:
    """sha256 over the files' names (relative to ``relative_to``) and contents, in the given
    order: the recipe key of an image, so that any changed script means a new image."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(relative_to)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def new_log_path(directory: Path, stem: str) -> Path:
    """A new, empty log file ``directory/STEM-YYYYmmdd-HHMMSS.log``, created here so that no
    other process can take the name: two builds of one step started in the same second (two
    ``basebench images bootstrap`` in one folder) get ``...-HHMMSS.log`` and ``...-HHMMSS-2.log``
    rather than one shared log (and one shared ``.iid`` file beside it)."""
    directory.mkdir(parents=True, exist_ok=True)
    base = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    for attempt in itertools.count(1):
        path = directory / (f"{base}.log" if attempt == 1 else f"{base}-{attempt}.log")
        try:
            path.open("x").close()
        except FileExistsError:
            continue
        return path
    raise AssertionError("unreachable")  # itertools.count never ends
