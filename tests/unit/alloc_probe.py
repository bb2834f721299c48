"""What one loop of a runtime workload allocates, seen through tracemalloc.

Run as ``python alloc_probe.py SCRIPT [ARGS...]`` (a process of its own per workload: Django's
set-up and tracemalloc stay out of the test process); prints one JSON object (:func:`probe`).

The script's ``prepare(args)`` (or ``allocations(args)``, for loops that run in other threads
or processes) gives one loop of the timed work; it runs once untraced (caches, imports), then
once under tracemalloc with a line tracer on the files of the workload's directory:

- ``max_rise``: at every call, line and return of those files, how far the traced memory rose
  above its level at the previous one, at its peak. A line that allocates a block of n bytes
  rises by at least n unless it freed as much first, so a loop whose lines never rise by more
  than 512 bytes allocated nothing above pymalloc's limit, not even a temporary buffer inside
  a C call.
- ``sizes``: after every line that rose by more than 512 bytes, the sizes of the blocks then
  alive that the loop allocated (not the tracer's own): the blocks above the limit that the
  loop kept past a line, bytearray and list buffers at their grown sizes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

PYMALLOC_LIMIT = 512
HERE = str(Path(__file__).resolve())


def load_body(script: Path, argv: list[str]) -> Callable[[], object]:
    sys.path.insert(0, str(script.parent))
    spec = importlib.util.spec_from_file_location(f"probed_{script.stem}", script)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {script}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    parser = argparse.ArgumentParser(prog=script.name)
    add_arguments = getattr(module, "add_arguments", None)
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    args.worker = False  # pyperf's option, which some set-ups read
    make: Callable[[argparse.Namespace], Callable[[], object]]
    make = getattr(module, "allocations", None) or module.prepare
    return make(args)


class Probe:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.max_rise = 0
        self.rises_above_limit = 0
        self.events = 0
        self.sizes: dict[int, int] = {}
        self.small_blocks = 0
        self.level = -1  # set at the loop's first call: what settrace allocated is not its
        self.on_line = self.line  # bound once: the tracer allocates nothing per event

    def trace(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if not frame.f_code.co_filename.startswith(self.directory):
            return None
        if self.level < 0:
            self.start()
        else:
            self.step()
        return self.on_line

    def line(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        if event in ("line", "return"):
            self.step()
        return self.on_line

    def start(self) -> None:
        tracemalloc.reset_peak()
        self.level = tracemalloc.get_traced_memory()[0]

    def step(self) -> None:
        peak = tracemalloc.get_traced_memory()[1]
        rise = peak - self.level
        self.events += 1
        self.max_rise = max(self.max_rise, rise)
        if rise > PYMALLOC_LIMIT:
            self.rises_above_limit += 1
            self.record(tracemalloc.take_snapshot())
        self.start()

    def record(self, snapshot: tracemalloc.Snapshot) -> None:
        seen: dict[int, int] = {}
        small = 0
        for trace in snapshot.traces:
            if trace.traceback[0].filename == HERE:
                continue  # the probe's own lists and snapshots
            if trace.size > PYMALLOC_LIMIT:
                seen[trace.size] = seen.get(trace.size, 0) + 1
            else:
                small += 1
        for size, count in seen.items():
            self.sizes[size] = max(self.sizes.get(size, 0), count)
        self.small_blocks = max(self.small_blocks, small)


def probe(script: Path, argv: list[str]) -> dict[str, Any]:
    body = load_body(script, argv)
    body()
    found = Probe(str(script.parent))
    tracemalloc.start(1)
    try:
        sys.settrace(found.trace)
        try:
            body()
        finally:
            sys.settrace(None)
    finally:
        tracemalloc.stop()
    return {
        "events": found.events,
        "max_rise": found.max_rise,
        "rises_above_limit": found.rises_above_limit,
        "sizes": sorted(found.sizes),
        "largest": max(found.sizes, default=0),
        "small_blocks": found.small_blocks,
    }


def main(argv: list[str]) -> None:
    json.dump(probe(Path(argv[0]).resolve(), argv[1:]), sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
