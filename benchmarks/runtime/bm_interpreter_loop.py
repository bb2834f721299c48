"""Control workload: pure interpreter work that allocates nothing beyond pymalloc's small objects.

Bytecode dispatch, small-int arithmetic, comparisons and branches, calls of Python functions
and attribute reads on ``__slots__`` objects made before timing. The loop creates no container
and no string; the only objects it makes are ints above the small-int cache (a few dozen bytes,
pymalloc's). So neither the libc malloc nor the allocator under test is ever reached: musl and
glibc images built with the same flags must be equal here, within noise. A gap on this
workload is the CPython build (compiler, flags, LTO/PGO) or the host, never the allocator, and
every other workload's ratio should be read against it.
"""

import argparse
from collections.abc import Callable

from _common import add_items_argument, run_items_workload

NAME = "interpreter_loop"
POINTS = 64


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y


def mix(p: Point, i: int) -> int:
    if p.x > p.y:
        return (p.x * 31 + i) & 0xFFFF
    return (p.y * 17 - i) & 0xFFFF


def interpret(n: int, points: list[Point]) -> int:
    acc = 0
    for i in range(n):
        p = points[i & (POINTS - 1)]
        r = i % 3
        if r == 0:
            acc = (acc + p.x * 3 - p.y) & 0xFFFFF
        elif r == 1:
            acc ^= mix(p, i)
        else:
            acc = (acc + i) & 0xFFFFF
    return acc


def make_points() -> list[Point]:
    return [Point((i * 37) % 101, (i * 53) % 97) for i in range(POINTS)]


def prepare(args: argparse.Namespace) -> Callable[[], object]:
    """One loop of the timed work, ready to call."""
    points = make_points()
    return lambda: interpret(args.items, points)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_items_argument(parser, 20_000)


def main() -> None:
    run_items_workload(
        NAME,
        "int arithmetic, branches, calls, slot reads: no allocation beyond pymalloc (control)",
        add_arguments,
        prepare,
    )


if __name__ == "__main__":
    main()
