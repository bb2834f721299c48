"""Host probes: how fast the host itself ran, measured all through a run.

Why: two runs of the *same* images on a shared machine can differ by 15-25 % when the machine
is busier during one of them (seen here: start-up "import stdlib" 1.18-1.25x slower, p < 0.01,
while another job built images; back to back on a quiet machine the same pair agreed within
2 %). Statistics inside one run cannot see that, because every sample of a run shares the
machine's state. The probe records that state, so ``basebench compare`` can tell "the host was
slower" from "the images got slower".

Two probes, because the host slows down in two ways (both seen here):

- the CPU itself: this VM's cores run a fixed loop in either ~25 ms or ~46 ms, in phases
  of seconds, and how much of a run falls into slow phases differs from run to run. The CPU
  probe (a fixed pure-Python loop on the CPUs the measured containers are pinned to) sees it.
- the container machinery: with two CPU hogs beside it, ``docker run ... true`` took 1.5x
  longer (358 -> 545 ms) while short CPU bursts barely slowed (the scheduler favours tasks
  that wake up). The container probe starts a container from a tiny image of the host's own
  ``true`` (its binary, loader and libc: no registry, the same image in every run on a host)
  and sees that.

Probes are taken at the start and end of every step and once per start-up round, filed
under the group that was running. Each probe also notes the 1-minute load average.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import docker.errors

from basebench.cpus import parse_cpus, pinned
from basebench.errors import UserError
from basebench.limits import Limits
from basebench.results import (
    CONTAINER_PROBE_METRIC,
    CPU_PROBE_METRIC,
    HOST_PROBE_GROUP,
    LOAD_METRIC,
    Measurement,
    Run,
    Tags,
)

if TYPE_CHECKING:
    from basebench.engine import Engine

PROBE_REPOSITORY = "basebench/probe"
#: What a container probe may raise; it is then dropped, never fatal to the run.
PROBE_ERRORS = (UserError, OSError, docker.errors.DockerException)
#: Timings per probe: three, so one preempted repetition does not make the probe.
REPEAT = 3
#: Sizes the probe's loop to about 20 ms on a 2020s server core: long enough to span
#: scheduler ticks (so contention shows), short enough that ~100 probes cost a few seconds.
PROBE_ITERATIONS = 120_000


def probe_workload(iterations: int = PROBE_ITERATIONS) -> int:
    """A fixed mix of what Python programs do: dict stores, string formatting, a sort."""
    table: dict[int, str] = {}
    for i in range(iterations):
        table[i % 997] = f"{i:x}"
    return len(sorted(table.values()))


def _host_true() -> tuple[Path, list[Path]]:
    """The host's ``true`` and the shared objects it loads (as ``ldd`` names them)."""
    true = shutil.which("true")
    ldd = shutil.which("ldd")
    if not true or not ldd:
        raise UserError("the container probe needs the host's 'true' and 'ldd' (glibc hosts)")
    out = subprocess.run([ldd, true], capture_output=True, text=True, check=False).stdout
    libraries = []
    for line in out.splitlines():
        # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux... (0x...)"
        path = line.split("=>")[-1].strip().split(" (")[0].strip()
        if path.startswith("/"):
            libraries.append(Path(path))
    if not libraries:
        raise UserError(f"ldd found no shared objects for {true}: {out.strip()[:200]}")
    return Path(true), libraries


def probe_image_tar() -> tuple[bytes, str]:
    """A root filesystem of the host's ``true`` with its loader and libc; (tar, command).

    Deterministic (fixed owners and times), so its hash names the image: the same on every run
    of this host, and a different tag when the host's glibc changes.
    """
    true, libraries = _host_true()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        directories: set[str] = set()
        for path in sorted({true, *libraries}):
            parts = path.parts[1:]
            for depth in range(1, len(parts)):
                name = "/".join(parts[:depth])
                if name not in directories:
                    directories.add(name)
                    info = tarfile.TarInfo(name)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            data = path.resolve().read_bytes()  # /lib64/ld-linux... is a symlink: copy it
            info = tarfile.TarInfo("/".join(parts))
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue(), str(true)


def ensure_probe_image(engine: Engine) -> tuple[str, str]:
    """The probe image's tag and command, imported once per host (a few MB, about a second)."""
    data, command = probe_image_tar()
    tag = f"{PROBE_REPOSITORY}:{hashlib.sha256(data).hexdigest()[:12]}"
    if not engine.image_exists(tag):
        engine.import_rootfs(data, tag=tag, kind="probe", command=[command])
    return tag, command


def container_probe(engine: Engine, limits: Limits) -> Callable[[], float]:
    """A function that times one ``docker run --rm`` of the probe image, as start-up does
    (with the limits of the measured containers)."""
    tag, command = ensure_probe_image(engine)

    def run_once() -> float:
        result = engine.run(tag, [command], kind="probe", limits=limits)
        if result.exit_code != 0:
            raise UserError(f"the container probe {tag} exited {result.exit_code}: {result.output}")
        return result.seconds

    return run_once


@dataclass
class HostProbe:
    """Probe samples of one run, keyed by the group that was running when they were taken."""

    cpuset: str = ""
    iterations: int = PROBE_ITERATIONS
    #: Times one container start (see :func:`container_probe`); None = CPU probe only.
    container: Callable[[], float] | None = None
    times: dict[str, list[float]] = field(default_factory=dict)
    container_times: dict[str, list[float]] = field(default_factory=dict)
    #: Why the container probe stopped, if it failed during the run.
    container_error: str = ""
    loads: dict[str, list[float]] = field(default_factory=dict)
    _cpus: set[int] = field(init=False)

    def __post_init__(self) -> None:
        self._cpus = parse_cpus(self.cpuset)

    def sample(self, group: str) -> None:
        with pinned(self._cpus):
            for _ in range(REPEAT):
                start = time.perf_counter()
                probe_workload(self.iterations)
                self.times.setdefault(group, []).append(time.perf_counter() - start)
        if self.container is not None:
            try:
                seconds = self.container()
                self.container_times.setdefault(group, []).append(seconds)
            except PROBE_ERRORS as exc:
                # A probe must never cost the group it calibrates: drop it, say so once.
                self.container = None
                self.container_error = str(exc)
        if hasattr(os, "getloadavg"):
            self.loads.setdefault(group, []).append(os.getloadavg()[0])

    def measurements(self) -> list[Measurement]:
        detail = f"cpus {self.cpuset or 'any'}, {self.iterations} iterations"
        rows = [
            Measurement(
                HOST_PROBE_GROUP, group, CPU_PROBE_METRIC, "s", values, Tags(), detail=detail
            )
            for group, values in self.times.items()
        ]
        rows += [
            Measurement(
                HOST_PROBE_GROUP, group, CONTAINER_PROBE_METRIC, "s", values, Tags(), detail="true"
            )
            for group, values in self.container_times.items()
        ]
        rows += [
            Measurement(HOST_PROBE_GROUP, group, LOAD_METRIC, "load", values, Tags())
            for group, values in self.loads.items()
        ]
        return rows

    def write(self, run: Run) -> None:
        """Into the run's measurements (once, at the end; a no-op when nothing was probed)."""
        if self.times:
            # A resumed run's probes describe its own attempt: a file of their own.
            run.write_measurements(HOST_PROBE_GROUP, self.measurements(), every_attempt=True)
