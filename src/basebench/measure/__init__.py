"""Measurements, one module per benchmark group, all driven through a :class:`RunContext`.

Each group module exposes ``measure(ctx: RunContext) -> None``. It writes its results into
``ctx.run`` in the store's formats and reports problems with ``ctx.fail(...)``: a failure is
collected and the run goes on (like pyperformance), so one broken variant never costs the others.
Images a group builds are registered with ``ctx.add_image(...)`` so later groups (size,
start-up) measure them too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape

from basebench.bases import BaseImage
from basebench.calibration import PROBE_ERRORS, HostProbe, container_probe
from basebench.config import Config
from basebench.engine import Engine
from basebench.results import Run, Tags
from basebench.variants import Catalogue

# The order groups run in, whatever order the profile lists them: builds first, because size
# and start-up also measure the images the builds produce.
GROUP_ORDER = ("build", "install", "size", "startup", "runtime", "http")
# basebench.measure.<module> for each group.
GROUP_MODULES = {
    "build": "builds",
    "install": "installs",
    "size": "sizes",
    "startup": "startup",
    "runtime": "runtime",
    "http": "http",
}


@dataclass
class ImageUnderTest:
    role: str  # "base", or "app:<strategy>"
    reference: str
    base: BaseImage
    strategy: str = ""


@dataclass
class Failure:
    group: str
    what: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"group": self.group, "what": self.what, "message": self.message}


@dataclass
class RunContext:
    engine: Engine
    run: Run
    config: Config
    catalogue: Catalogue
    bases: list[BaseImage]
    images: list[ImageUnderTest] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    console: Console = field(default_factory=lambda: Console(highlight=False))
    started: float = field(default_factory=time.monotonic)
    _durations: dict[str, list[float]] = field(default_factory=dict)
    #: How fast the host was while each group ran (see :mod:`basebench.calibration`).
    probe: HostProbe = field(init=False)

    def __post_init__(self) -> None:
        self.probe = HostProbe(cpuset=self.config.cpuset)
        for base in self.bases:
            self.add_image(ImageUnderTest("base", base.reference, base))

    def enable_container_probe(self) -> None:
        """Add the container-start probe to the host probes (the CPU probe needs nothing)."""
        try:
            self.probe.container = container_probe(self.engine, self.config.cpuset)
        except PROBE_ERRORS as exc:
            self._without_container_probe("no container probe", str(exc))

    def calibrate(self, group: str) -> None:
        """Take a host probe now, filed under ``group`` (steps do this at start and end)."""
        had_container = self.probe.container is not None
        self.probe.sample(group)
        if had_container and self.probe.container is None:
            self._without_container_probe("container probe stopped", self.probe.container_error)

    def _without_container_probe(self, what: str, reason: str) -> None:
        self.say(
            f"[yellow]{what}[/yellow] ({escape(reason)}): `compare` will judge host drift by "
            "the CPU probe alone"
        )

    def add_image(self, image: ImageUnderTest) -> None:
        self.images.append(image)

    def tags(self, base: BaseImage, **extra: str) -> Tags:
        """The tags every result row of ``base`` carries (variant, Python, libc, source...)."""
        return Tags(
            variant=base.variant,
            python=base.python,
            libc=base.libc,
            base_source=base.source,
        ).replace(**extra)

    def label(self, base: BaseImage) -> str:
        return f"{base.python}-{base.variant}"

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def say(self, message: str) -> None:
        self.console.print(f"[dim]{self.elapsed()}[/dim] {message}")

    @contextmanager
    def step(self, group: str, what: str, index: int = 0, total: int = 0) -> Iterator[None]:
        """Announce a step with elapsed time and its place in the group; time it."""
        position = f" ({index}/{total})" if total else ""
        self.say(f"[bold]{group}[/bold]{position} {what}")
        self.calibrate(group)
        start = time.monotonic()
        yield
        took = time.monotonic() - start
        self.calibrate(group)
        done = self._durations.setdefault(group, [])
        done.append(took)
        left = ""
        if total and index < total:
            # The steps of a group are alike (one per image or variant): the mean so far
            # times the steps still to come is an honest guess.
            left = f", about {sum(done) / len(done) * (total - index):.0f} s left in {group}"
        self.say(f"[bold]{group}[/bold]{position} {what}: done in {took:.1f} s{left}")

    def fail(self, group: str, what: str, error: BaseException | str) -> None:
        message = str(error)
        self.failures.append(Failure(group, what, message))
        first_line = message.splitlines()[0] if message else ""
        # Messages quote build logs ("[stage 2/3] RUN ..."): not console markup.
        self.say(f"[red]FAILED[/red] {group} {escape(what)}: {escape(first_line)}")

    def summary(self) -> dict[str, Any]:
        return {"failures": [f.as_dict() for f in self.failures]}
