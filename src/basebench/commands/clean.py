from __future__ import annotations

import argparse

from basebench.engine import Engine

HELP = "remove the containers, volumes and images basebench created (labelled), nothing else"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", metavar="RUN_ID", help="only objects created by this run")
    parser.add_argument(
        "--include-bases",
        action="store_true",
        help="also remove the local base images and root filesystems (slow to rebuild)",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be removed")


def run(args: argparse.Namespace) -> int:
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
    return 0
