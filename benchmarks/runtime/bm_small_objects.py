"""Control workload: many small, short-lived objects, all served by pymalloc (<= 512 bytes).

Tuples, small ints, short strs, small lists and dicts: CPython's own small-object allocator
handles them from its pools and arenas (arenas come straight from mmap, not from the libc
malloc), so the libc malloc is barely involved and musl and glibc images should be close. A
large difference here, with interpreter_loop equal, points at pymalloc's arenas (how the
kernel serves their pages) rather than at malloc.
"""

import argparse
from collections.abc import Callable

from _common import add_items_argument, run_items_workload

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


def prepare(args: argparse.Namespace) -> Callable[[], object]:
    """One loop of the timed work, ready to call."""
    return lambda: small(args.items)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_items_argument(parser, 5_000)


def main() -> None:
    run_items_workload(
        NAME,
        "tuples, small ints, short strs, small lists/dicts (pymalloc control)",
        add_arguments,
        prepare,
    )


if __name__ == "__main__":
    main()
