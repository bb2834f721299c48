"""The ``basebench`` command line: one module per subcommand, like asv.

Each module in :mod:`basebench.commands` exposes ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``. Errors the user can fix are raised as :class:`basebench.errors.UserError`
and printed here as one clear message with exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from basebench import __version__, stopping
from basebench.errors import EngineLost, UserError

#: Exit codes: 0 all measured, 1 some measurement failed (run.json lists each with its reason
#: and log), 2 bad input (nothing written), 3 the engine went away during the run (what was
#: measured until then is kept), 128 + N stopped by signal N.
ENGINE_LOST_EXIT = 3

COMMANDS = ("run", "images", "report", "compare", "validate", "doctor", "clean")


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"basebench.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="basebench",
        description="Which Docker base image should a Python team ship on? Build time, "
        "runtime on musl vs glibc, and image size, measured.",
    )
    parser.add_argument("--version", action="version", version=f"basebench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = _load(name)
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # SIGTERM (tox, CI) and SIGHUP (a closed terminal) stop as cleanly as Ctrl-C.
        with stopping.graceful():
            return int(args._module.run(args))
    except UserError as exc:
        print(f"basebench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except EngineLost as exc:
        print(f"basebench {args.command}: error: {exc}", file=sys.stderr)
        return ENGINE_LOST_EXIT
    except KeyboardInterrupt as exc:
        # Finished results are already on disk (every write is atomic); say so and stop.
        name = exc.name if isinstance(exc, stopping.Stopped) else "SIGINT"
        print(
            f"\nbasebench {args.command}: stopped by {name}; what it started is removed, "
            "results written so far are kept.",
            file=sys.stderr,
        )
        return stopping.exit_code(exc)


if __name__ == "__main__":
    raise SystemExit(main())
