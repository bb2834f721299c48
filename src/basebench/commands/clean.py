from __future__ import annotations

import argparse
import contextlib

from basebench import lock
from basebench.engine import Engine
from basebench.errors import UserError

HELP = "remove the containers, volumes and images basebench created (labelled), nothing else"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", metavar="RUN_ID", help="only objects created by this run")
    parser.add_argument(
        "--include-bases",
        action="store_true",
        help="also remove the local base images and root filesystems (slow to rebuild)",
    )
    parser.add_argument(
        "--include-cache",
        action="store_true",
        help="also prune the engine's unused BuildKit build cache (docker builder prune -f; "
        "the cache has no labels, so this is every build's unused cache, not only ours)",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be removed")
    parser.add_argument(
        "--force",
        action="store_true",
        help="clean even while a run holds this engine's lock (its containers go too)",
    )


def _refuse_during_a_run(args: argparse.Namespace) -> None:
    holder = lock.busy()
    if holder is None or args.force or args.dry_run:
        return
    if args.run and holder.run_id and args.run != holder.run_id and not args.include_cache:
        return  # another run's objects: the running one keeps its own
    raise UserError(
        f"{holder.describe()} is using this Docker engine: clean would remove what it is "
        "measuring; wait for it to finish, or give --force"
    )


def run(args: argparse.Namespace) -> int:
    _refuse_during_a_run(args)
    # Holding the lock (when free) makes a run started meanwhile wait for the clean to end.
    held = (
        lock.engine_lock("clean", wait=False) if lock.busy() is None else contextlib.nullcontext()
    )
    with held:
        return _clean(args)


def _clean(args: argparse.Namespace) -> int:
    engine = Engine()
    keep = () if args.include_bases else ("base", "rootfs")
    report = engine.remove_managed(run_id=args.run, keep_kinds=keep, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for item in report.removed:
        print(f"{verb} {item}")
    for item in report.kept:
        print(f"kept {item}")
    if not report.removed and not report.kept:
        print(
            "nothing to remove: no labelled basebench objects"
            + (" of that run" if args.run else "")
        )
    if report.kept and not args.include_bases:
        print("(local base images are kept; --include-bases removes them too)")
    if args.include_cache:
        print(f"build cache: {engine.prune_build_cache(dry_run=args.dry_run)}")
    return 0
