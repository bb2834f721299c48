"""One run at a time per Docker engine: an ``flock`` on a file named after the engine.

Two runs on one engine would share image tags and pinned CPUs and spoil each other's timings;
``clean`` during a run would remove its containers. ``basebench run`` and ``validate`` hold the
lock for their whole work; a second one waits (or, with ``--no-wait``, refuses), and ``clean``
refuses unless forced. The file holds the holder's pid and run id for those messages. The
kernel releases an ``flock`` when its process dies, however it dies: no stale lock to remove.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from basebench.engine import engine_address
from basebench.errors import UserError


def lock_path(address: str | None = None) -> Path:
    """``$XDG_RUNTIME_DIR`` (else the temp folder) / basebench-engine-<hash of the engine>.lock"""
    digest = hashlib.sha256((address or engine_address()).encode()).hexdigest()[:16]
    folder = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(folder) / f"basebench-engine-{digest}.lock"


@dataclass
class Holder:
    """Who holds the lock, as the holder wrote it (a run id is known once the run starts)."""

    pid: int = 0
    run_id: str = ""
    command: str = ""

    def describe(self) -> str:
        what = f"run {self.run_id}" if self.run_id else f"basebench {self.command or 'run'}"
        return f"{what} (pid {self.pid or 'unknown'})"


def read_holder(path: Path) -> Holder:
    try:
        data = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return Holder()
    if not isinstance(data, dict):
        return Holder()
    return Holder(
        int(data.get("pid", 0)), str(data.get("run_id", "")), str(data.get("command", ""))
    )


class EngineLock:
    """The held lock; :meth:`note_run` records the run id once it is known."""

    def __init__(self, handle: IO[str], path: Path, command: str) -> None:
        self.handle = handle
        self.path = path
        self.holder = Holder(os.getpid(), "", command)
        self._write()

    def _write(self) -> None:
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(json.dumps(self.holder.__dict__))
        self.handle.flush()

    def note_run(self, run_id: str) -> None:
        self.holder.run_id = run_id
        self._write()


#: The lock this process holds, if any (measure_run notes its run id in it).
_held: EngineLock | None = None


def note_run(run_id: str) -> None:
    if _held is not None:
        _held.note_run(run_id)


def _open(path: Path) -> IO[str]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a+")  # the caller's with-block closes it
    except OSError as exc:
        raise UserError(
            f"cannot open the engine lock {path} ({exc.strerror}); set XDG_RUNTIME_DIR to a "
            "folder you can write"
        ) from None


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def engine_lock(
    command: str,
    *,
    wait: bool = True,
    on_wait: Callable[[str], None] = print,
    path: Path | None = None,
) -> Iterator[EngineLock]:
    """Hold the engine's lock for the block; wait for it (saying so) or refuse (UserError)."""
    global _held
    path = path or lock_path()
    with _open(path) as handle:
        if not _try_lock(handle):
            holder = read_holder(path)
            if not wait:
                raise UserError(
                    f"{holder.describe()} is using this Docker engine (lock {path}); "
                    "wait for it to finish, or run again without --no-wait to wait"
                )
            on_wait(f"waiting for {holder.describe()} to finish; --no-wait to refuse")
            fcntl.flock(handle, fcntl.LOCK_EX)  # a signal still stops the wait (PEP 475)
        lock = EngineLock(handle, path, command)
        _held = lock
        try:
            yield lock
        finally:
            _held = None
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def busy(path: Path | None = None) -> Holder | None:
    """Who holds the engine's lock right now, or None (for ``clean``)."""
    path = path or lock_path()
    if not path.exists():
        return None
    with _open(path) as handle:
        if _try_lock(handle):
            fcntl.flock(handle, fcntl.LOCK_UN)
            return None
    return read_holder(path)
