"""Control workload: many small, short-lived objects, all served by pymalloc (<= 512 bytes).

Tuples, small ints, short strs, small lists and dicts: CPython's own small-object allocator
handles them from its arenas, so the libc malloc is barely involved and musl and glibc
images should be close. A large difference here points at something else than malloc
(compiler flags, LTO/PGO, the CPython build).
"""

import argparse
import time

from _common import make_runner, set_metadata

NAME = "small_objects"


def small(n: int) -> int:
    total = 0
    for i in range(n):
        pair = (i, i + 1)
        triple = (pair, str(i), i * 3)
        short = [i, -i, triple]
        record = {"id": i, "name": "n" + str(i % 100), "pair": pair}
        total += len(short) + len(record) + len(triple[1])
    return total


def time_small(loops: int, n: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        small(n)
    return time.perf_counter() - start


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--items", type=int, default=5_000, help="iterations per loop")


def main() -> None:
    runner, args = make_runner(add_arguments, lambda a: ["--items", str(a.items)])
    set_metadata(
        runner,
        "tuples, small ints, short strs, small lists/dicts (pymalloc control)",
        items_per_loop=args.items,
    )
    runner.bench_time_func(NAME, time_small, args.items)


if __name__ == "__main__":
    main()
