"""Buffers grown by realloc to several MB: a bytearray appended to, a list extended.

Each loop grows one bytearray by 4 KiB pieces to 8 MiB and one list by 256 items at a time to
1 M items (an 8 MB array of pointers), then drops both. CPython over-allocates both by about
1/8, so each grows through some 60-110 ``realloc`` calls, from small blocks up through the mmap
threshold: an allocator that can grow a block in place (glibc's top of heap, ``mremap`` for
mapped blocks) moves little, one that must allocate, copy and free moves the whole buffer each
time. This is the cost behind ``data += chunk`` and ``items.append`` loops on big data.
"""

import argparse
from collections.abc import Callable

from _common import make_runner, set_metadata, time_body

NAME = "realloc_growth"
PIECE = 4096
EXTEND_BY = 256


def grow(buffer_bytes: int, list_items: int) -> int:
    buffer = bytearray()
    piece = b"r" * PIECE
    while len(buffer) < buffer_bytes:
        buffer += piece
    items: list[int] = []
    block = tuple(range(EXTEND_BY))
    while len(items) < list_items:
        items.extend(block)
    return len(buffer) + len(items)


def prepare(args: argparse.Namespace) -> Callable[[], object]:
    """One loop of the timed work, ready to call."""
    buffer_bytes, list_items = args.buffer_mib * 1024 * 1024, args.list_items
    return lambda: grow(buffer_bytes, list_items)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--buffer-mib", type=int, default=8, help="bytearray grown to this size")
    parser.add_argument("--list-items", type=int, default=1 << 20, help="list grown to this size")


def main() -> None:
    runner, args = make_runner(
        add_arguments,
        lambda a: ["--buffer-mib", str(a.buffer_mib), "--list-items", str(a.list_items)],
    )
    set_metadata(
        runner,
        "a bytearray and a list grown piece by piece to several MB (realloc)",
        buffer_bytes=args.buffer_mib * 1024 * 1024,
        buffer_piece=PIECE,
        list_items=args.list_items,
        list_extend_by=EXTEND_BY,
    )
    runner.bench_time_func(NAME, time_body, prepare(args))


if __name__ == "__main__":
    main()
