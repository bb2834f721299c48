"""The resource limits every measured container gets, the same for every variant.

One object, built from the configuration, handed to every container whose timing is a result
(start-up, runtime, HTTP servers, the container host probe): a limit that reached only some of
them would make their numbers incomparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    #: CPUs the containers are pinned to (docker run --cpuset-cpus); "" = any.
    cpuset: str = ""
    #: CPU quota (docker run --cpus); 0 = none.
    cpus: float = 0.0
    #: Memory limit (docker run --memory), e.g. "4g"; "" = none.
    memory: str = ""
    #: Process limit (docker run --pids-limit); 0 = none.
    pids: int = 0

    def docker_kwargs(self) -> dict[str, Any]:
        """The docker-py ``containers.create`` arguments for these limits."""
        kwargs: dict[str, Any] = {}
        if self.cpuset:
            kwargs["cpuset_cpus"] = self.cpuset
        if self.cpus:
            kwargs["nano_cpus"] = round(self.cpus * 1e9)  # docker run --cpus
        if self.memory:
            kwargs["mem_limit"] = self.memory
            # Swap counts too: otherwise Docker allows twice the limit in memory plus swap and
            # a container over its limit swaps (a slow, noisy measurement) instead of failing.
            kwargs["memswap_limit"] = self.memory
        if self.pids:
            kwargs["pids_limit"] = self.pids
        return kwargs

    def within(self, ceiling: Limits) -> Limits:
        """These limits, with ``ceiling``'s wherever these set none: no container runs without
        a memory, process and CPU limit (a CPU set counts as a CPU limit)."""
        has_cpu_limit = bool(self.cpuset or self.cpus)
        return Limits(
            cpuset=self.cpuset,
            cpus=self.cpus if has_cpu_limit else ceiling.cpus,
            memory=self.memory or ceiling.memory,
            pids=self.pids or ceiling.pids,
        )

    def describe(self) -> str:
        parts = [
            f"CPUs {self.cpuset or 'any'}",
            f"CPU quota {self.cpus:g}" if self.cpus else "",
            f"memory {self.memory}" if self.memory else "",
            f"pids {self.pids}" if self.pids else "",
        ]
        return ", ".join(p for p in parts if p)
