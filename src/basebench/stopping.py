"""A run stops the same way whatever stops it: Ctrl-C (SIGINT), tox or CI (SIGTERM), a closed
terminal (SIGHUP).

Python turns only SIGINT into an exception; SIGTERM and SIGHUP kill the process on the spot and
skip every ``finally``: containers keep running (a uWSGI server on the host network, a pyperf
run for half an hour), children are orphaned and run.json says "running" forever. Here all
three raise :class:`Stopped` (a KeyboardInterrupt, so every cleanup block that handles Ctrl-C
handles them too), and the exit code is the shell's 128 + signal number.

Children get the same courtesy: :func:`stop_child` asks a child process to stop with the
signal that stopped us, waits a bounded time for its own cleanup, and only then kills it.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: How long a child gets for its own cleanup (removing its containers) before it is killed.
CHILD_GRACE_S = 60.0


class Stopped(KeyboardInterrupt):
    """A signal asked the run to stop; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    # Once stopping, a second signal must not interrupt the cleanup itself.
    for handled in HANDLED:
        signal.signal(handled, signal.SIG_IGN)
    raise Stopped(signum)


def install() -> None:
    """Make SIGINT, SIGTERM and SIGHUP raise :class:`Stopped` in the main thread."""
    for signum in HANDLED:
        signal.signal(signum, _raise)


@contextmanager
def graceful() -> Iterator[None]:
    """:func:`install` for the duration of a block, the previous handlers restored after."""
    previous = {signum: signal.getsignal(signum) for signum in HANDLED}
    install()
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def deferred() -> Iterator[None]:
    """A signal that arrives inside the block stops the run at its end instead of within it.

    For a few statements that must not be cut in two: a container the engine creates while
    the signal lands would exist with no one knowing its id, and no cleanup could remove it.
    Outside the main thread (where handlers cannot be set) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {signum: signal.getsignal(signum) for signum in HANDLED}

    def note(signum: int, _frame: FrameType | None) -> None:
        arrived.append(signum)

    for signum in HANDLED:
        signal.signal(signum, note)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if arrived:
            # Delivered again, now to the handler that was in place (Stopped, or ignored
            # when the run is stopping already).
            signal.raise_signal(arrived[0])


def exit_code(exc: KeyboardInterrupt) -> int:
    """128 + the signal's number (130 for a plain Ctrl-C)."""
    return exc.exit_code if isinstance(exc, Stopped) else 128 + signal.SIGINT


def stop_child(proc: subprocess.Popen[bytes] | subprocess.Popen[str], why: BaseException) -> None:
    """Pass the stop on to ``proc``, give it CHILD_GRACE_S to clean up, then kill it."""
    if proc.poll() is not None:
        return
    signum = why.signum if isinstance(why, Stopped) else signal.SIGINT
    try:
        proc.send_signal(signum)
        proc.wait(timeout=CHILD_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
