"""Debian root filesystems: ``debootstrap --variant=minbase SUITE`` imported as a labelled image.

debootstrap picks the mirror from its own defaults (and writes it into the tree's apt sources),
so nothing here names a mirror. The tree's apt lists and downloaded .debs are removed before the
import: they weigh ~85 MB and the official images ship without them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from basebench.engine import Engine
from basebench.errors import UserError
from basebench.labels import label
from basebench.paths import new_log_path

ROOTFS_REPOSITORY = "basebench/rootfs"
SERVED_SUITES = ("bullseye", "bookworm", "trixie", "forky", "sid")
# Left in a minbase tree by debootstrap; the official Debian images ship without them.
_CLEANUP = ("var/lib/apt/lists", "var/cache/apt/archives", "var/log", "tmp")


def rootfs_tag(suite: str) -> str:
    return f"{ROOTFS_REPOSITORY}:{suite}"


def _debootstrap_command() -> str:
    """The debootstrap program, or a UserError that says how to get it."""
    debootstrap = shutil.which("debootstrap") or (
        "/usr/sbin/debootstrap" if os.access("/usr/sbin/debootstrap", os.X_OK) else None
    )
    if debootstrap is None:
        raise UserError(
            "local base images need debootstrap: apt-get install debootstrap "
            "(or use --base-source official where a registry serves python images)"
        )
    if os.geteuid() != 0:
        raise UserError("debootstrap must run as root to build a root filesystem; run as root")
    return debootstrap


def ensure_rootfs(
    engine: Engine,
    suite: str,
    *,
    refresh: bool = False,
    log_dir: Path | None = None,
) -> str:
    """The image of a minbase root filesystem of ``suite``; built once, then reused."""
    tag = rootfs_tag(suite)
    if not refresh and engine.image_exists(tag):
        return tag
    if suite not in SERVED_SUITES:
        raise UserError(
            f"Debian {suite} is not served by the mirror (archived); served: "
            + ", ".join(SERVED_SUITES)
        )
    debootstrap = _debootstrap_command()
    logs = log_dir or engine.log_dir
    log_path = new_log_path(logs, f"debootstrap-{suite}")
    # /var/tmp, not /tmp: the tree needs device nodes and ~200 MB, which a tmpfs may refuse.
    with tempfile.TemporaryDirectory(prefix=f"basebench-rootfs-{suite}-", dir="/var/tmp") as tmp:
        tree = Path(tmp) / "tree"
        with engine.observer.long_step(f"debootstrap:{suite}", f"debootstrap {suite}", log_path):
            seconds = _debootstrap(debootstrap, suite, tree, log_path)
        _clean_tree(tree)
        with engine.observer.long_step(f"import-rootfs:{suite}", f"docker import {suite} tree"):
            _import_tree(engine, tree, tag, suite, seconds)
    return tag


def _debootstrap(debootstrap: str, suite: str, tree: Path, log_path: Path) -> float:
    """Run debootstrap into ``tree``, logging to ``log_path``; the seconds it took."""
    start = time.perf_counter()
    with open(log_path, "w") as log:
        result = subprocess.run(
            [debootstrap, "--variant=minbase", suite, str(tree)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if result.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        raise UserError(
            f"debootstrap {suite} failed (exit {result.returncode}):\n    "
            + "\n    ".join(tail)
            + f"\n  full log: {log_path}"
        )
    return time.perf_counter() - start


def _clean_tree(tree: Path) -> None:
    for relative in _CLEANUP:
        target = tree / relative
        if not target.is_dir():
            continue
        for child in target.iterdir():
            if child.is_dir() and not child.is_symlink():
                # Keep the directory skeleton apt expects (lists/partial, archives/partial).
                if child.name != "partial":
                    shutil.rmtree(child)
            else:
                child.unlink()


def _import_tree(engine: Engine, tree: Path, tag: str, suite: str, seconds: float) -> None:
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(tree), "-c", "."],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert tar.stdout is not None
    try:
        engine.import_rootfs(
            tar.stdout,
            tag=tag,
            labels={
                label("rootfs.suite"): suite,
                label("rootfs.variant"): "minbase",
                label("rootfs.created"): time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                label("rootfs.debootstrap_seconds"): f"{seconds:.1f}",
            },
        )
    finally:
        tar.stdout.close()
        if tar.wait() != 0:
            raise UserError(f"tar of the {suite} root filesystem failed")
