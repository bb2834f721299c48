"""Grow and shrink dicts, lists and sets, so their storage is reallocated again and again.

Containers grow one item at a time up to sizes from 8 to 20,000 items (their tables pass
pymalloc's 512-byte limit after a few dozen items and end up in the libc malloc, grown with
realloc), then shrink: lists pop down to empty (CPython shrinks a list when it is less than
half full), dicts lose their keys and are rebuilt by a comprehension, sets are cleared.
"""

import argparse
from collections.abc import Callable

from _common import make_runner, set_metadata, time_body

NAME = "dict_list_resize"
SIZES = (8, 40, 200, 1_000, 5_000, 20_000)


def resize(keys: list[str], sizes: tuple[int, ...]) -> int:
    done = 0
    for n in sizes:
        items: list[int] = []
        table: dict[object, int] = {}
        seen: set[str] = set()
        for i in range(n):
            items.append(i)
            table[keys[i]] = i
            table[i] = i
            seen.add(keys[i])
        for i in range(0, n, 2):
            del table[keys[i]]
        table = {k: v for k, v in table.items() if v % 3}
        while items:
            items.pop()
        seen.clear()
        done += n + len(table)
    return done


def container_sizes(args: argparse.Namespace) -> tuple[int, ...]:
    return tuple(n for n in SIZES if n <= args.max_items) or (args.max_items,)


def prepare(args: argparse.Namespace) -> Callable[[], object]:
    """One loop of the timed work, ready to call."""
    sizes = container_sizes(args)
    keys = [f"key-{i:06d}" for i in range(max(sizes))]
    return lambda: resize(keys, sizes)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-items", type=int, default=max(SIZES), help="largest container size used"
    )


def main() -> None:
    runner, args = make_runner(add_arguments, lambda a: ["--max-items", str(a.max_items)])
    sizes = container_sizes(args)
    set_metadata(
        runner,
        "dicts, lists and sets grown item by item, then shrunk",
        container_sizes=",".join(map(str, sizes)),
        items_per_loop=sum(sizes),
    )
    runner.bench_time_func(NAME, time_body, prepare(args))


if __name__ == "__main__":
    main()
