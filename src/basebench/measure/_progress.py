"""What a person watching a run sees: elapsed time, each step, and the time left in a group.

Every long step (a group's step, a build and each phase of it, debootstrap) gets a line when it
starts, with an estimate from the previous duration of the same step on this machine and the
path of its log, and a line when it ends. The estimates are kept by step identity (recipe
target, variant, Python, opt level; a group's step by its description), never by run id, in
``~/.cache/basebench/step-durations.json`` (:class:`StepEstimates`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from basebench.cache import JsonCache
from basebench.engine import Observer, PhaseEvent, PlainLogPhases
from basebench.measure._overhead import Ledger

#: A phase known to take less than this is not announced (its duration is still kept).
QUIET_BELOW_S = 5.0


def duration(seconds: float) -> str:
    """``42 s``, ``3:05``, ``1:02:03``: what a person reads at a glance."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    if whole < 3600:
        return f"{whole // 60}:{whole % 60:02d}"
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class StepEstimates:
    """The previous duration of each step on this machine, by the step's identity."""

    FILE = "step-durations.json"

    def __init__(self, store: JsonCache | None = None) -> None:
        self.store = store or JsonCache(self.FILE)

    def seconds(self, key: str) -> float | None:
        entry = self.store.get(key)
        if isinstance(entry, dict) and isinstance(entry.get("seconds"), int | float):
            return float(entry["seconds"])
        return None

    def record(self, key: str, seconds: float) -> None:
        self.store.put(key, {"seconds": round(seconds, 2), "at": time.strftime("%Y-%m-%d")})

    def describe(self, key: str) -> str:
        known = self.seconds(key)
        return f"estimate {duration(known)}" if known is not None else "no estimate yet"


@dataclass
class Progress:
    console: Console = field(default_factory=lambda: Console(highlight=False))
    started: float = field(default_factory=time.monotonic)
    estimates: StepEstimates = field(default_factory=StepEstimates)
    #: Where a line goes instead of the console (a build subprocess hands its lines up).
    sink: Callable[[str], None] | None = None
    #: Seconds each finished step of a group took (for the estimate of the time left).
    _durations: dict[str, list[float]] = field(default_factory=dict)
    #: The step running now ("" between steps): what an interrupted run.json names.
    current: str = ""

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def say(self, message: str) -> None:
        if self.sink is not None:
            self.sink(message)
        else:
            self.console.print(f"[dim]{self.elapsed()}[/dim] {message}")

    @contextmanager
    def long_step(
        self,
        key: str,
        what: str,
        log: Path | None = None,
        *,
        quiet_below: float = 0.0,
        silent: bool = False,
    ) -> Iterator[Callable[[bool], None]]:
        """Announce a long step with its estimate and log; time it and keep its duration.

        The context gives a function to call with False when this time is not the step's
        real cost (a cached image that took no work): then the estimate is left as it was.
        A step whose estimate is under ``quiet_below`` seconds is not announced, nor a
        ``silent`` one (its caller says it its own way).
        """
        known = self.estimates.seconds(key)
        loud = not silent and (known is None or known >= quiet_below)
        where = f" · log {escape(str(log))}" if log else ""
        if loud:
            self.say(f"{what} · {self.estimates.describe(key)}{where}")
        keep = [True]
        start = time.monotonic()
        yield lambda real: keep.__setitem__(0, real)
        took = time.monotonic() - start
        if keep[0]:
            self.estimates.record(key, took)
        if loud:
            self.say(f"{what}: done in {duration(took)}")

    @contextmanager
    def step(
        self,
        group: str,
        what: str,
        index: int = 0,
        total: int = 0,
        *,
        at_both_ends: Callable[[], None] | None = None,
        log: Path | None = None,
    ) -> Iterator[None]:
        """Announce a step with elapsed time, its place in the group, its estimate and log;
        time it.

        ``at_both_ends`` runs just before and just after the step (a host probe), outside the
        step's own time.
        """
        position = f" ({index}/{total})" if total else ""
        key = f"{group}|{what}"
        where = f" · log {escape(str(log))}" if log else ""
        self.say(f"[bold]{group}[/bold]{position} {what} · {self.estimates.describe(key)}{where}")
        self.current = f"{group}{position} {what}"
        if at_both_ends is not None:
            at_both_ends()
        start = time.monotonic()
        yield
        self.current = ""
        took = time.monotonic() - start
        self.estimates.record(key, took)
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


_SCRIPT = re.compile(r"([\w.-]+\.sh)((?: [\w.-]+)*)")
_STAGE = re.compile(r"^\[([^\]]+)\]\s*(.*)$")
_FROM = re.compile(r"^(?:\[[^\]]*\]\s*)?FROM\b")


def step_label(step: str) -> str:
    """A build step as a person reads it: ``[musl-builder 7/11] build-musl-deps.sh openssl``
    rather than the RUN line with its mounts."""
    m = _STAGE.match(step)
    stage, instruction = (re.sub(r"\s+", " ", m.group(1)), m.group(2)) if m else ("", step)
    instruction = re.sub(r"--mount=\S+", "", instruction)
    script = _SCRIPT.search(instruction)
    text = script.group(0) if script else re.sub(r"\s+", " ", instruction)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"[{stage}] {text}" if stage else text


class BuildProgress:
    """Turns one build's plain progress output into phase lines with estimates."""

    def __init__(
        self, progress: Progress, identity: str, log_path: Path, announce: bool = True
    ) -> None:
        self.progress = progress
        self.identity = identity
        self.log_path = log_path
        self.announce = announce
        self.phases = PlainLogPhases()
        self.started: dict[tuple[str, str], float] = {}

    def key(self, event: PhaseEvent) -> str:
        # The step as a person reads it, not its RUN line: an edit of a recipe's mounts or
        # shell text keeps the step's estimate (the compile it times is the same work).
        return f"build:{self.identity}|{step_label(event.step)}|{event.phase}"

    def served_from_cache(self) -> bool:
        """Did BuildKit's cache spare a step of work? (A base image's FROM reads "CACHED"
        even in a ``--no-cache`` build: that is no work spared.)"""
        return any(
            step.cached and not _FROM.search(step.name) for step in self.phases.steps.values()
        )

    def label(self, event: PhaseEvent) -> str:
        phase = f" · {event.phase}" if event.phase else ""
        return escape(f"{step_label(event.step)}{phase}")

    def line(self, text: str) -> None:
        for event in self.phases.feed(text):
            self.on_event(event)

    def on_event(self, event: PhaseEvent) -> None:
        key = self.key(event)
        if event.kind == "start":
            known = self.progress.estimates.seconds(key)
            if self.announce and (known is None or known >= QUIET_BELOW_S):
                self.started[(event.step, event.phase)] = time.monotonic()
                self.progress.say(
                    f"  {self.label(event)} · {self.progress.estimates.describe(key)}"
                    f" · log {escape(str(self.log_path))}"
                )
            return
        announced = self.started.pop((event.step, event.phase), None)
        if event.kind == "end":
            self.progress.estimates.record(key, event.seconds)
        if announced is not None:
            how = "done in" if event.kind == "end" else "[red]failed[/red] after"
            self.progress.say(f"  {self.label(event)}: {how} {duration(event.seconds)}")


def build_key(identity: str) -> str:
    """The estimate key of a whole build."""
    return f"build:{identity}"


class ConsoleObserver(Observer):
    """The engine's observer for a person at a console (see :class:`basebench.engine.Observer`).

    ``phases=False``: builds are not announced at all (their estimates are still kept), for
    a caller that prints one line per build itself (the build group).
    """

    def __init__(
        self, progress: Progress, *, phases: bool = True, ledger: Ledger | None = None
    ) -> None:
        self.progress = progress
        self.phases = phases
        #: Builds in this process are harness time (the timed ones run in their own process).
        self.ledger = ledger or Ledger()

    @contextmanager
    def long_step(self, key: str, what: str, log_path: Path | None = None) -> Iterator[None]:
        with self.progress.long_step(key, what, log_path):
            yield

    @contextmanager
    def build(self, identity: str, log_path: Path) -> Iterator[Callable[[str], None]]:
        watch = BuildProgress(self.progress, identity, log_path, announce=self.phases)
        spent = self.ledger.spent_on(self.ledger.group, "image builds")
        # The whole build's estimate is kept only when it ran cold: a build that BuildKit
        # served partly from its cache would make the next estimate far too short.
        with (
            self.progress.long_step(
                build_key(identity),
                f"build {escape(identity)}",
                log_path,
                quiet_below=QUIET_BELOW_S,
                silent=not self.phases,
            ) as real,
            spent,
        ):
            yield watch.line
            real(not watch.served_from_cache())
