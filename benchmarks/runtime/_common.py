"""Helpers shared by the bm_*.py scripts of this directory (stdlib + pyperf only).

The scripts import this module from their own directory (pyperf starts each worker as
``python bm_x.py --worker ...``, so the script's directory is on sys.path): copy or mount the
whole directory into a container, not a single script.
"""

import argparse
import os
import random
import sys
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
    """Record the workload's description and parameters in every benchmark's metadata."""
    runner.metadata[PREFIX + "description"] = description
    runner.metadata[PREFIX + "python_malloc"] = os.environ.get("PYTHONMALLOC", "default")
    runner.metadata[PREFIX + "gil_enabled"] = int(getattr(sys, "_is_gil_enabled", lambda: True)())
    for key, value in params.items():
        runner.metadata[PREFIX + key] = value


def log_uniform_sizes(count: int, low: int, high: int, seed: int) -> list[int]:
    """``count`` sizes in [low, high], log-uniformly spread, reproducible from ``seed``."""
    rng = random.Random(seed)
    return [int(low * (high / low) ** rng.random()) for _ in range(count)]
