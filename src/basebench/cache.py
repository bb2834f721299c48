"""Small facts kept between runs on this machine, under ``~/.cache/basebench/``.

What is kept is a function of its key alone (a layer's digest, a step's identity), never of a
run: the compressed size of a layer, how long a build step took last time. Losing the folder
costs time, never a result. ``BASEBENCH_CACHE_DIR`` moves it (tests do); ``XDG_CACHE_HOME`` is
honoured.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from basebench.results import atomic_write_json

CACHE_DIR_ENV = "BASEBENCH_CACHE_DIR"


def cache_dir() -> Path:
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "basebench"


class JsonCache:
    """One JSON object on disk, key -> value; every ``put`` is written at once, atomically.

    A write re-reads the file first, so two processes that add different keys (a run and a
    ``basebench images`` in another terminal) keep both. A file that cannot be read is an empty
    cache: it is only ever a shortcut.
    """

    def __init__(self, name: str, directory: Path | None = None) -> None:
        self.name = name
        self.directory = directory
        self._entries: dict[str, Any] | None = None

    @property
    def path(self) -> Path:
        # Resolved when used, not when made: an object made at import time still follows
        # BASEBENCH_CACHE_DIR as it is when the cache is read.
        return (self.directory or cache_dir()) / self.name

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def entries(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = self._read()
        return self._entries

    def get(self, key: str) -> Any:
        return self.entries.get(key)

    def put(self, key: str, value: Any) -> None:
        self.put_many({key: value})

    def put_many(self, items: dict[str, Any]) -> None:
        if not items:
            return
        merged = {**self._read(), **items}
        self._entries = merged
        # A read-only home costs the shortcut, not the run.
        with contextlib.suppress(OSError):
            atomic_write_json(self.path, merged, overwrite=True)
