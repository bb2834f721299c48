"""The state one run shares with every measuring group: :class:`RunContext`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.markup import escape

from basebench.bases import BaseImage
from basebench.budget import Budget, RoundRange, Spread
from basebench.checkpoints import GroupCheckpoints
from basebench.config import Config
from basebench.engine import Engine
from basebench.errors import MeasurementFailed
from basebench.limits import Limits
from basebench.measure._host_probe import PROBE_ERRORS, HostProbe, container_probe
from basebench.measure._overhead import Ledger
from basebench.measure._progress import Progress
from basebench.results import Run, Tags
from basebench.variants import Catalogue


@dataclass
class ImageUnderTest:
    role: str  # "base", or "app:<strategy>"
    reference: str
    base: BaseImage
    strategy: str = ""
    #: The image the final stage was built FROM when it is not ``base`` (a strategy that runs
    #: on the builder): the size group tells its layers from the app's against it.
    runs_on: str = ""

    @property
    def runs_on_reference(self) -> str:
        return self.runs_on or self.base.reference


@dataclass
class Failure:
    group: str
    what: str
    message: str
    #: The log that says more (a build's, a container's output), "" when there is none.
    log: str = ""

    def as_dict(self) -> dict[str, str]:
        failure = {"group": self.group, "what": self.what, "message": self.message}
        return failure | ({"log": self.log} if self.log else {})


@dataclass(frozen=True)
class Injection:
    """A deliberate slowdown of known size given to one variant (``basebench validate``): the
    suite must find it, at the size it was injected."""

    #: Runtime workloads do this multiple of their work per loop (BASEBENCH_WORK_FACTOR).
    work_factor: float = 1.0
    #: Start-up commands sleep this long before their own work.
    startup_delay_s: float = 0.0
    #: Builds get this as build arg BASEBENCH_BUILD_DELAY (a Dockerfile that sleeps it).
    build_delay_s: float = 0.0

    def build_args(self) -> dict[str, str]:
        return {BUILD_DELAY_ARG: f"{self.build_delay_s:g}"} if self.build_delay_s else {}

    def environment(self) -> dict[str, str]:
        return {WORK_FACTOR_ENV: repr(self.work_factor)} if self.work_factor != 1.0 else {}


#: Read by benchmarks/runtime/_common.py inside the containers.
WORK_FACTOR_ENV = "BASEBENCH_WORK_FACTOR"
#: Read by images/validate/Dockerfile.
BUILD_DELAY_ARG = "BASEBENCH_BUILD_DELAY"
NO_INJECTION = Injection()


def container_hostname(base: BaseImage) -> str:
    """The hostname of every measured container of one variant: pyperf's metadata then agree
    and the runs of one variant merge into one file."""
    return f"basebench-{base.python}-{base.variant}"


@dataclass
class RunContext:
    engine: Engine
    run: Run
    config: Config
    catalogue: Catalogue
    bases: list[BaseImage]
    images: list[ImageUnderTest] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    progress: Progress = field(default_factory=Progress)
    #: App images built in this run: (base reference, strategy) -> tag (see ``_app_image``).
    app_images: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Known slowdowns by variant name (only ``basebench validate`` sets any).
    injections: dict[str, Injection] = field(default_factory=dict)
    #: How fast the host was while each group ran (see :mod:`basebench.measure._host_probe`).
    host_probe: HostProbe = field(init=False)
    #: Where the untimed part of each group's wall time is known to go (harness overhead).
    ledger: Ledger = field(default_factory=Ledger)
    #: ``--time-budget``: decides each group's rounds as it goes (None: the configuration's).
    budget: Budget | None = None

    def __post_init__(self) -> None:
        self.host_probe = HostProbe(cpuset=self.config.cpuset)
        for base in self.bases:
            self.add_image(ImageUnderTest("base", base.reference, base))

    @property
    def limits(self) -> Limits:
        """What every measured container gets (CPU set and quota, memory, processes)."""
        return self.config.limits

    def enable_container_probe(self) -> None:
        """Add the container-start probe to the host probes (the CPU probe needs nothing)."""
        try:
            self.host_probe.container = container_probe(self.engine, self.limits)
        except PROBE_ERRORS as exc:
            self._without_container_probe("no container probe", str(exc))

    def probe_host(self, group: str) -> None:
        """Take a host probe now, filed under ``group`` (steps do this at start and end)."""
        had_container = self.host_probe.container is not None
        with self.ledger.spent_on(group, "host probes"):
            self.host_probe.sample(group)
        if had_container and self.host_probe.container is None:
            self._without_container_probe(
                "container probe stopped", self.host_probe.container_error
            )

    def _without_container_probe(self, what: str, reason: str) -> None:
        self.say(
            f"[yellow]{what}[/yellow] ({escape(reason)}): `compare` will judge host drift by "
            "the CPU probe alone"
        )

    def injection(self, base: BaseImage) -> Injection:
        return self.injections.get(base.variant, NO_INJECTION)

    def add_image(self, image: ImageUnderTest) -> None:
        self.images.append(image)

    @contextmanager
    def only(self, keep: Callable[[BaseImage], bool]) -> Iterator[None]:
        """While inside: the bases (and their images) that ``keep`` accepts, and no other
        (a shard's cells of one group). Images added meanwhile stay afterwards."""
        all_bases, all_images = self.bases, self.images
        self.bases = [b for b in all_bases if keep(b)]
        self.images = [i for i in all_images if keep(i.base)]
        known = len(self.images)
        try:
            yield
        finally:
            added = self.images[known:]
            self.bases, self.images = all_bases, all_images + added

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

    def checkpoints(self, group: str) -> GroupCheckpoints:
        """Where ``group`` saves its state after each round (``basebench run --resume``)."""
        return GroupCheckpoints(self.run.dir, group)

    def say(self, message: str) -> None:
        self.progress.say(message)

    def rounds(
        self, group: str, start: int, limits: RoundRange, spread: Spread | None = None
    ) -> Iterator[int]:
        """The 0-based rounds ``group`` runs from ``start``: the configuration's count, or as
        many as the time budget decides (``spread``: its series so far, for the precision
        rule; see :mod:`basebench.budget`)."""
        if self.budget is None:
            yield from range(start, limits.fixed)
            return
        try:
            yield from self.budget.rounds(group, start, limits, spread)
        finally:
            entry = self.budget.groups[group]
            self.say(
                f"{group}: {entry.rounds} rounds under the time budget (no more: {entry.stopped})"
            )

    def round_total(self, limits: RoundRange, done: int) -> int:
        """The rounds a group expects when it has done ``done`` (checkpoints, progress lines):
        the configuration's, or under a budget the rounds a test needs (or more, once run)."""
        if self.budget is None:
            return limits.fixed
        return max(done, limits.wanted)

    def round_label(self, limits: RoundRange, r: int) -> str:
        """``round 2/3``, or under a budget ``round 2 (3 wanted, at most 6)``."""
        if self.budget is None:
            return f"round {r + 1}/{limits.fixed}"
        if limits.least == limits.most:
            return f"round {r + 1}/{limits.most}"
        return f"round {r + 1} ({limits.wanted} wanted, at most {limits.most}; budget)"

    @contextmanager
    def step(self, group: str, what: str, index: int = 0, total: int = 0) -> Iterator[None]:
        """A timed, announced step of ``group``, with a host probe at either end; its log is
        the group's log folder when it has one."""
        logs = self.run.logs_dir / group
        with self.progress.step(
            group,
            what,
            index,
            total,
            at_both_ends=lambda: self.probe_host(group),
            log=logs if logs.is_dir() else None,
        ):
            yield

    def fail(self, group: str, what: str, error: BaseException | str, log: str = "") -> None:
        """Record one measurement's failure with its reason (and its log: ``log``, or the
        failure's own); the run goes on with the rest and exits 1 at the end."""
        message = str(error)
        log = log or (error.log_path if isinstance(error, MeasurementFailed) else "")
        self.failures.append(Failure(group, what, message, str(log)))
        first_line = message.splitlines()[0] if message else ""
        # Messages quote build logs ("[stage 2/3] RUN ..."): not console markup.
        self.say(f"[red]FAILED[/red] {group} {escape(what)}: {escape(first_line)}")
