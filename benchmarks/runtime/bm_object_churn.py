"""Objects of one size range made and freed in a loop: medium (600 B .. 60 KB) or large
(288 KiB .. 4 MiB) blocks, never both, so that each range's cost is measured on its own.

Every step makes one bytes, bytearray, list or str of a size drawn log-uniformly from the
range and drops the one made ``--window`` steps earlier (see _common.churn).

- ``--sizes medium`` (``medium_objects``): blocks of 592 B .. ~60 KiB, all within 512 B ..
  64 KiB, above pymalloc's limit and far below musl's ~128 KiB mmap threshold. Every block goes
  to the libc malloc's ordinary path (glibc's tcache and bins, musl's mallocng groups): the
  speed of malloc/free for the sizes programs hand to it most.
- ``--sizes large`` (``large_objects``): every block above 256 KiB. musl serves each with its
  own mmap and returns it with munmap, so each object costs two system calls and fresh, zeroed
  pages (page faults as it is written); glibc starts at a 128 KiB threshold but raises it to
  the size of a freed mapped block (up to 32 MiB), after which such blocks come from its heap
  and are reused.
"""

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from _common import (
    churn,
    churn_source,
    log_uniform_sizes,
    make_runner,
    set_metadata,
    time_body,
)


@dataclass(frozen=True)
class SizeRange:
    objects: int  # per loop
    min_size: int
    max_size: int
    seed: int
    window: int  # objects kept alive at once

    def sizes(self) -> list[int]:
        return log_uniform_sizes(self.objects, self.min_size, self.max_size, self.seed)


RANGES = {
    "medium": SizeRange(objects=1024, min_size=600, max_size=60_000, seed=512, window=32),
    "large": SizeRange(
        objects=40, min_size=288 * 1024, max_size=4 * 1024 * 1024, seed=2048, window=8
    ),
}


def benchmark_name(sizes: str) -> str:
    return f"{sizes}_objects"


def prepare(args: argparse.Namespace) -> Callable[[], object]:
    """One loop of the timed work, ready to call."""
    chosen = RANGES[args.sizes]
    sizes = chosen.sizes()
    source = churn_source(sizes)
    window = args.window or chosen.window
    return lambda: churn(sizes, window, source)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", choices=sorted(RANGES), default="medium", help="size range")
    parser.add_argument(
        "--window", type=int, default=0, help="objects kept alive at once (0: the range's own)"
    )


def main() -> None:
    runner, args = make_runner(
        add_arguments, lambda a: ["--sizes", a.sizes, "--window", str(a.window)]
    )
    chosen = RANGES[args.sizes]
    set_metadata(
        runner,
        f"bytes/bytearray/list/str of {chosen.min_size} B..{chosen.max_size} B created and freed",
        objects_per_loop=chosen.objects,
        min_size=chosen.min_size,
        max_size=chosen.max_size,
        live_window=args.window or chosen.window,
        bytes_per_loop=sum(chosen.sizes()),
        seed=chosen.seed,
    )
    runner.bench_time_func(benchmark_name(args.sizes), time_body, prepare(args))


if __name__ == "__main__":
    main()
