"""Strings built, joined and split: ``+=`` in a loop, ``str.join``, ``io.StringIO``, ``split``.

Each loop builds the same text four ways a program does: appending words with ``+=`` (CPython
grows the string in place, by ``realloc``), joining formatted pieces with ``str.join`` (one
exact-size allocation), writing lines to an ``io.StringIO``, then splitting the results back
into lists of words and lines and rewriting the text with ``str.replace``. Strings reach a few
hundred KB; their pieces are small (pymalloc's). The words come from a fixed seed, so every run
and image sees the same text.
"""

import argparse
import io
import random
from collections.abc import Callable

from _common import VOCABULARY, make_runner, set_metadata, time_body

NAME = "string_build"
SEED = 1024
WORDS = (
    *VOCABULARY,
    "string",
    "buffer",
    "realloc",
    "join",
    "split",
    "thread",
    "process",
    "memory",
    "arena",
    "page",
    "heap",
)


def make_words(count: int, seed: int = SEED) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(WORDS) for _ in range(count)]


def build(words: list[str]) -> int:
    appended = ""
    for word in words:
        appended += word + " "
    joined = ",".join([f"{i}:{word}" for i, word in enumerate(words)])
    out = io.StringIO()
    for i in range(0, len(words), 12):
        out.write(" ".join(words[i : i + 12]))
        out.write("\n")
    text = out.getvalue()
    pieces = joined.split(",")
    lines = text.splitlines()
    shouted = text.replace("a", "A")
    return len(appended) + len(pieces) + len(lines) + len(shouted)


def prepare(args: argparse.Namespace) -> Callable[[], object]:
    """One loop of the timed work, ready to call."""
    words = make_words(args.words)
    return lambda: build(words)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--words", type=int, default=20_000, help="words in the text")


def main() -> None:
    runner, args = make_runner(add_arguments, lambda a: ["--words", str(a.words)])
    words = make_words(args.words)
    set_metadata(
        runner,
        "str += in a loop, str.join, io.StringIO, split/splitlines/replace",
        words=args.words,
        text_chars=len(" ".join(words)),
        seed=SEED,
    )
    runner.bench_time_func(NAME, time_body, prepare(args))


if __name__ == "__main__":
    main()
