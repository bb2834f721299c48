"""What a person watching a run sees: elapsed time, each step, and the time left in a group."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console


@dataclass
class Progress:
    console: Console = field(default_factory=lambda: Console(highlight=False))
    started: float = field(default_factory=time.monotonic)
    #: Seconds each finished step of a group took (for the estimate of the time left).
    _durations: dict[str, list[float]] = field(default_factory=dict)
    #: The step running now ("" between steps): what an interrupted run.json names.
    current: str = ""

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def say(self, message: str) -> None:
        self.console.print(f"[dim]{self.elapsed()}[/dim] {message}")

    @contextmanager
    def step(
        self,
        group: str,
        what: str,
        index: int = 0,
        total: int = 0,
        *,
        at_both_ends: Callable[[], None] | None = None,
    ) -> Iterator[None]:
        """Announce a step with elapsed time and its place in the group; time it.

        ``at_both_ends`` runs just before and just after the step (a host probe), outside the
        step's own time.
        """
        position = f" ({index}/{total})" if total else ""
        self.say(f"[bold]{group}[/bold]{position} {what}")
        self.current = f"{group}{position} {what}"
        if at_both_ends is not None:
            at_both_ends()
        start = time.monotonic()
        yield
        self.current = ""
        took = time.monotonic() - start
        if at_both_ends is not None:
            at_both_ends()
        done = self._durations.setdefault(group, [])
        done.append(took)
        left = ""
        if total and index < total:
            # The steps of a group are alike (one per image or variant): the mean so far
            # times the steps still to come is an honest guess.
            left = f", about {sum(done) / len(done) * (total - index):.0f} s left in {group}"
        self.say(f"[bold]{group}[/bold]{position} {what}: done in {took:.1f} s{left}")
