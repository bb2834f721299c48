"""Helpers shared by the bm_*.py scripts of this directory (stdlib + pyperf only).

The scripts import this module from their own directory (pyperf starts each worker as
``python bm_x.py --worker ...``, so the script's directory is on sys.path): copy or mount the
whole directory into a container, not a single script.
"""

import argparse
import os
import random
import sys
import time
from collections.abc import Callable

import pyperf

# pyperf starts its worker processes with a cleaned environment (PATH, HOME, PYTHONPATH, ...).
# The allocator under test must reach the workers, so these are passed on whenever they are
# set, as if `--inherit-environ` named them.
ALLOCATOR_ENV = (
    "PYTHONMALLOC",
    "PYTHONMALLOCSTATS",
    "LD_PRELOAD",
    "MALLOC_ARENA_MAX",
    "MALLOC_CONF",
    "GLIBC_TUNABLES",
    "MIMALLOC_OPTIONS",
    "MIMALLOC_ARENA_EAGER_COMMIT",
    "BASEBENCH_WORK_FACTOR",
)

#: ``basebench validate`` sets this in one variant's containers: every loop then does this
#: multiple of its work, a slowdown of known size that the suite must find.
WORK_FACTOR_ENV = "BASEBENCH_WORK_FACTOR"

PREFIX = "basebench_"


def make_runner(
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    forward: Callable[[argparse.Namespace], list[str]] | None = None,
) -> tuple[pyperf.Runner, argparse.Namespace]:
    """Create the pyperf Runner, add the script's own options, parse the command line.

    ``forward(args)`` returns the script's own options as argv items, which pyperf appends to
    each worker's command line (pyperf only forwards its own options).
    """

    def add_cmdline_args(cmd: list[str], args: argparse.Namespace) -> None:
        if forward is not None:
            cmd.extend(forward(args))

    runner = pyperf.Runner(add_cmdline_args=add_cmdline_args)
    if add_arguments is not None:
        add_arguments(runner.argparser)
    args = runner.parse_args()
    inherited = list(args.inherit_environ or [])
    for name in ALLOCATOR_ENV:
        if name in os.environ and name not in inherited:
            inherited.append(name)
    args.inherit_environ = inherited or None
    factor = float(os.environ.get(WORK_FACTOR_ENV, "1") or "1")
    if factor != 1.0:
        _scale_work(runner, factor)
    return runner, args


def _scale_work(runner: pyperf.Runner, factor: float) -> None:
    """Make every ``bench_time_func`` of ``runner`` run ``factor`` times its loops.

    pyperf divides a value's time by the loops it asked for, so the value grows by
    round(loops * factor) / loops: exactly ``factor`` when the loops allow it (e.g. 1.25 and a
    multiple of 4 loops). Each run's ``loops`` metadata says which, so a check can compare a
    measured ratio with the work that was really done (``effective_work_factor``).
    """
    original = runner.bench_time_func

    def scaled_bench_time_func(name: str, time_func: Callable[..., float], *args: object) -> object:
        def scaled(loops: int, *inner: object) -> float:
            return time_func(effective_loops(loops, factor), *inner)

        return original(name, scaled, *args)

    runner.metadata[PREFIX + "work_factor"] = factor
    runner.bench_time_func = scaled_bench_time_func


def effective_loops(loops: int, factor: float) -> int:
    """The loops a worker really runs when asked for ``loops`` under ``factor``."""
    return max(1, round(loops * factor))


def set_metadata(runner: pyperf.Runner, description: str, **params: int | float | str) -> None:
    """Record the workload's description and parameters in every benchmark's metadata.

    Also the CPUs this process may run on (in a container: its ``--cpuset-cpus``; pyperf's own
    ``cpu_affinity`` metadata says where ``--affinity`` then pinned the worker, but only when
    that is not every CPU of the machine): a thread or process workload shows in its own file
    whether its workers really had a CPU each.
    """
    runner.metadata[PREFIX + "description"] = description
    runner.metadata[PREFIX + "python_malloc"] = os.environ.get("PYTHONMALLOC", "default")
    runner.metadata[PREFIX + "gil_enabled"] = int(getattr(sys, "_is_gil_enabled", lambda: True)())
    cpus = allowed_cpus()
    if cpus:
        runner.metadata[PREFIX + "worker_cpus"] = cpu_list(cpus)
        runner.metadata[PREFIX + "worker_cpu_count"] = len(cpus)
    for key, value in params.items():
        runner.metadata[PREFIX + key] = value


def allowed_cpus() -> set[int]:
    """The CPUs this process may run on (empty where the OS does not say)."""
    getter = getattr(os, "sched_getaffinity", None)
    return set(getter(0)) if getter is not None else set()


def cpu_list(cpus: set[int]) -> str:
    """{0, 1} -> "0,1": a list docker's --cpuset-cpus and pyperf's --affinity both read."""
    return ",".join(map(str, sorted(cpus)))


def time_body(loops: int, body: Callable[[], object]) -> float:
    """pyperf's time function for every script: ``loops`` calls of one loop of the work."""
    start = time.perf_counter()
    for _ in range(loops):
        body()
    return time.perf_counter() - start


def add_items_argument(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--items", type=int, default=default, help="iterations per loop")


def run_items_workload(
    name: str,
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    prepare: Callable[[argparse.Namespace], Callable[[], object]],
) -> None:
    """main() of a script whose only option is --items (iterations per loop)."""
    runner, args = make_runner(add_arguments, lambda a: ["--items", str(a.items)])
    set_metadata(runner, description, items_per_loop=args.items)
    runner.bench_time_func(name, time_body, prepare(args))


#: Words of the generated texts and documents (json_roundtrip adds two non-ASCII ones).
VOCABULARY = (
    "alpine",
    "debian",
    "musl",
    "glibc",
    "python",
    "container",
    "allocator",
    "benchmark",
    "latency",
)


def log_uniform_sizes(count: int, low: int, high: int, seed: int) -> list[int]:
    """``count`` sizes in [low, high], log-uniformly spread, reproducible from ``seed``."""
    rng = random.Random(seed)
    return [int(low * (high / low) ** rng.random()) for _ in range(count)]


#: How :func:`churn` makes an object of ``size`` bytes, and the block it asks the allocator for.
#: bytearray(n): an n+1 byte buffer; bytes: n + a 33-byte header; list: n // 8 pointers;
#: str: n + a header of 41 (3.12+) to 49 (3.11) bytes. So a payload in [low, high] means blocks
#: in [low - 7, high + 49]: the bounds the workloads' declared block sizes leave room for.
CHURN_KINDS = ("bytearray", "bytes", "bytes slice", "list", "str")


def churn(sizes: list[int], window: int, source: bytes) -> int:
    """Make one object per size (cycling through CHURN_KINDS), keeping the last ``window``.

    Each new object replaces the one made ``window`` steps earlier, so allocations and frees
    interleave as in a real program. ``source`` must be at least max(sizes) + len(sizes) long.
    """
    live: list[object] = [None] * window
    total = 0
    for i, size in enumerate(sizes):
        kind = i % 5
        obj: object
        if kind == 0:
            obj = bytearray(size)
        elif kind == 1:
            obj = b"x" * size
        elif kind == 2:
            obj = source[i : i + size]
        elif kind == 3:
            obj = [None] * (size // 8)
        else:
            obj = "y" * size
        live[i % window] = obj
        total += size
    return total


def churn_source(sizes: list[int]) -> bytes:
    """A buffer :func:`churn` can slice every size of ``sizes`` from."""
    return bytes(range(256)) * ((max(sizes) + len(sizes)) // 256 + 1)
