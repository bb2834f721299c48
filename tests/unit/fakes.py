"""Fakes and builders shared by the unit tests of the measuring side.

:class:`FakeEngine` records the containers it is asked for and runs none; :func:`make_context`
puts it in a real :class:`RunContext`, so the code under test reads its config, limits and run
folder exactly as in a real run.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.models.containers import Container
from rich.console import Console

from basebench.bases import BaseImage
from basebench.config import Config
from basebench.engine import Engine, RunResult
from basebench.measure._context import RunContext
from basebench.measure._progress import Progress
from basebench.measure._workload_image import Allocator, WorkloadImage
from basebench.netconf import NetworkSettings
from basebench.results import RUN_FORMAT, Run, atomic_write_json
from basebench.runtime_manifest import Workload
from basebench.variants import Catalogue


@dataclass
class ContainerCall:
    method: str  # "run" or "start"
    image: str
    command: list[str] | None
    kwargs: dict[str, Any]


class FakeEngine(Engine):
    """An engine without Docker: records every container it is asked for, runs none.

    Only ``run``, ``start``, ``image_exists`` and ``cpu_count`` are faked. There is no docker
    client, so code that asks the engine for anything else fails instead of passing by accident.
    """

    def __init__(
        self, result: RunResult | None = None, existing: Sequence[str] = (), cpus: int = 2
    ) -> None:
        # Engine.__init__ connects to Docker: set only what the faked methods and callers read.
        self.network = NetworkSettings()
        self.run_id = "unit"
        self.result = result or RunResult(exit_code=0, output="", seconds=0.01)
        self.existing = set(existing)
        self.cpus = cpus  # like the machines this suite runs on
        self.calls: list[ContainerCall] = []
        self.alive = True  # what ``answers`` says: the engine is still there

    def run(self, image: str, command: Sequence[str], **kwargs: Any) -> RunResult:
        self.calls.append(ContainerCall("run", image, list(command), kwargs))
        return self.result

    def start(self, image: str, command: Sequence[str] | None = None, **kwargs: Any) -> Container:
        self.calls.append(ContainerCall("start", image, list(command or []) or None, kwargs))
        return Container(attrs={"Id": f"fake-{len(self.calls)}"})

    def image_exists(self, reference: str) -> bool:
        return reference in self.existing

    def cpu_count(self) -> int:
        return self.cpus

    def answers(self) -> bool:
        return self.alive


def base_image(
    variant: str = "slim-trixie", python: str = "3.13", libc: str = "glibc"
) -> BaseImage:
    family = "alpine" if libc == "musl" else "debian"
    reference = f"basebench/local:{python}-{variant}"
    return BaseImage(variant, python, libc, family, "local", reference, f"sha256:{variant}")


def make_context(
    tmp_path: Path,
    engine: Engine,
    config: Config | None = None,
    bases: Sequence[BaseImage] = (),
) -> RunContext:
    """A real RunContext on ``engine``, writing into tmp_path/run (a run.json as a new run has),
    its output recorded."""
    run = Run(tmp_path / "run")
    run.dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run.meta_path, {"format": RUN_FORMAT, "run_id": "unit", "config": {}})
    ctx = RunContext(
        engine,
        run,
        config or Config(cpuset=""),
        Catalogue(),
        list(bases),
        progress=Progress(console=Console(file=io.StringIO(), record=True, width=200)),
    )
    ctx.host_probe.iterations = 1_000  # the CPU probe runs, but is not what these tests time
    return ctx


def said(ctx: RunContext) -> str:
    """Everything ``ctx`` said so far (its console's text)."""
    return ctx.progress.console.export_text()


def workload(
    name: str,
    *,
    min_python: str = "3.10",
    requires: tuple[str, ...] = (),
    mechanism: str = "small-objects",
    cpus: int = 1,
) -> Workload:
    return Workload(
        name, f"bm_{name}.py", f"the {name} workload", mechanism, requires, min_python, cpus=cpus
    )


def allocator(name: str, **environment: str) -> Allocator:
    return Allocator(name, dict(environment), f"the {name} allocator")


def workload_image(
    base: BaseImage,
    allocators: Sequence[Allocator] = (),
    *,
    python_version: str = "",
    packages: Sequence[str] = (),
) -> WorkloadImage:
    return WorkloadImage(
        reference=f"basebench/workload:{base.python}-{base.variant}",
        image_id=f"sha256:workload-{base.variant}",
        base=base,
        python_version=python_version or f"{base.python}.1",
        packages={name: "1.0" for name in packages},
        allocators=list(allocators) or [allocator("pymalloc")],
    )
