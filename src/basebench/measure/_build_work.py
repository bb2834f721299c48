"""What the build group hands to benchmarks/bench_builds.py and what it gets back.

``builds.measure`` writes a :class:`WorkFile` (JSON) and names it in the ``WORK_ENV`` variable
of a pytest-benchmark subprocess; that process times each :class:`WorkItem`'s cold builds and
appends one :class:`Outcome` per item to a JSON-lines file, from which the parent registers the
images and reports the failures. Both sides use these types, so the format has one definition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from basebench import labels
from basebench.engine import BuildResult, Engine
from basebench.netconf import CABundle, NetworkSettings, detect_proxies

WORK_ENV = "BASEBENCH_BUILD_WORK"
#: A line of the subprocess's output that is meant for the console (the rest goes to its log).
PROGRESS_PREFIX = "@@basebench-progress "


@dataclass(frozen=True)
class WorkItem:
    """One app image to build: a strategy on a base, and how often to time it."""

    id: str
    strategy: str
    tag: str
    dockerfile: str
    context: str
    build_args: dict[str, str]
    builder: str  # reference of the image the strategy compiles on
    base: str  # reference of the base image
    rounds: int  # timed builds in a row (the build group runs one per round, interleaved)
    tags: dict[str, str]  # the result tags of every row about this build
    round: int = 0  # which round of the run these builds are (the unit of replication)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkItem:
        return cls(**data)

    def build(self, engine: Engine, *, log_name: str, no_cache: bool = False) -> BuildResult:
        """Build the image: the one recipe for timed (``no_cache``) and on-demand builds."""
        return engine.build(
            Path(self.context),
            tag=self.tag,
            kind="app",
            dockerfile=Path(self.dockerfile),
            build_args=self.build_args,
            labels={labels.STRATEGY: self.strategy},
            no_cache=no_cache,
            log_name=log_name,
            identity=self.id,
        )


@dataclass(frozen=True)
class WorkFile:
    """The items, where outcomes go, and what the subprocess needs to rebuild the engine."""

    run_id: str
    log_dir: str
    network: str
    ca_bundle: str
    ca_origin: str
    outcomes: str
    items: list[WorkItem]

    @classmethod
    def for_engine(cls, engine: Engine, items: Sequence[WorkItem], outcomes: Path) -> WorkFile:
        bundle = engine.network.ca_bundle
        return cls(
            run_id=engine.run_id,
            log_dir=str(engine.log_dir.resolve()),
            network=engine.network.build_mode,  # the subprocess only builds
            ca_bundle=str(bundle.path) if bundle else "",
            ca_origin=bundle.origin if bundle else "",
            outcomes=str(outcomes),
            items=list(items),
        )

    def engine(self) -> Engine:
        """An engine like the parent's: its run id, log folder, network mode and CA bundle (the
        proxies come from the environment, which the subprocess inherits)."""
        bundle = CABundle(Path(self.ca_bundle), self.ca_origin) if self.ca_bundle else None
        network = NetworkSettings(mode=self.network, ca_bundle=bundle, proxies=detect_proxies())
        return Engine(network=network, run_id=self.run_id, log_dir=Path(self.log_dir))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkFile:
        items = [WorkItem.from_json(item) for item in data["items"]]
        return cls(**{**data, "items": items})

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2))

    @classmethod
    def read(cls, path: Path) -> WorkFile:
        return cls.from_json(json.loads(path.read_text()))


@dataclass(frozen=True)
class Outcome:
    """What became of one item: its image id, or the failure's message; the last build log."""

    id: str
    image_id: str = ""
    error: str = ""
    log: str = ""

    def append_to(self, path: Path) -> None:
        # Appended line by line, so the items reported before a crash still count.
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(self)) + "\n")


def read_outcomes(path: Path) -> dict[str, Outcome]:
    """The outcomes by item id; none when the subprocess died before the first one."""
    if not path.exists():
        return {}
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {record["id"]: Outcome(**record) for record in records}
