"""Create and free objects larger than pymalloc's 512-byte limit, so each goes to the libc malloc.

Every step builds one object of a size drawn log-uniformly from 600 B .. 256 KiB, cycling
through bytearray, bytes (repetition and slicing), list and str, and drops the object made
``window`` steps earlier: allocations and frees interleave as in a real program, and sizes
straddle the thresholds where allocators switch strategy (glibc's mmap threshold, musl's
mmap'd chunks).
"""

import argparse
import time

from _common import log_uniform_sizes, make_runner, set_metadata

NAME = "large_object_churn"
SIZES = 512
MIN_SIZE = 600
MAX_SIZE = 256 * 1024
SEED = 512


def churn(sizes: list[int], window: int, source: bytes) -> int:
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


def time_churn(loops: int, sizes: list[int], window: int, source: bytes) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        churn(sizes, window, source)
    return time.perf_counter() - start


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--window", type=int, default=32, help="objects kept alive at once")


def main() -> None:
    runner, args = make_runner(add_arguments, lambda a: ["--window", str(a.window)])
    sizes = log_uniform_sizes(SIZES, MIN_SIZE, MAX_SIZE, SEED)
    source = bytes(range(256)) * (MAX_SIZE // 256 + SIZES // 256 + 1)
    set_metadata(
        runner,
        "bytes/bytearray/list/str of 600 B..256 KiB created and freed",
        objects_per_loop=SIZES,
        min_size=MIN_SIZE,
        max_size=MAX_SIZE,
        live_window=args.window,
        bytes_per_loop=sum(sizes),
        seed=SEED,
    )
    runner.bench_time_func(NAME, time_churn, sizes, args.window, source)


if __name__ == "__main__":
    main()
