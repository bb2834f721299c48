"""``basebench doctor``: is this machine ready, and which path will a run take?

Each check prints one line (ok / FAIL / note) and returns how many problems it found; the
command exits 1 when any check found one.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from basebench.engine import Engine, connect, find_buildkit_cli
from basebench.errors import UserError
from basebench.hostinfo import free_disk_bytes
from basebench.netconf import network_settings
from basebench.paths import RESULTS_DIR

HELP = "check the engine, the BuildKit CLI, disk, registry, CA bundle; say which path a run takes"

# Local stand-ins of one Python version for three variants take about this much.
MIN_FREE_DISK = 15 * 1024**3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ca-bundle", metavar="PATH", help="CA bundle to pass to builds")
    parser.add_argument("--network", default="auto", help="network mode (default: auto)")
    parser.add_argument(
        "--registry-image",
        default="python:3-slim",
        help="reference used to test the registry (default: python:3-slim)",
    )


def say(ok: bool | None, what: str, detail: str) -> None:
    mark = {True: "ok  ", False: "FAIL", None: "note"}[ok]
    print(f"[{mark}] {what:<18} {detail}")


def check_engine(network: str) -> Engine | None:
    try:
        engine = Engine(client=connect(), network=network_settings(network))
        info = engine.server_info()
    except UserError as exc:
        say(False, "engine", str(exc))
        return None
    say(
        True,
        "engine",
        f"Docker {info['docker_server_version']}, storage driver "
        f"{info['storage_driver']}, cgroup v{info['cgroup_version']}, {info['ncpu']} CPUs",
    )
    return engine


def check_buildkit_cli() -> int:
    try:
        cli = find_buildkit_cli()
    except UserError as exc:
        say(False, "BuildKit CLI", str(exc))
        return 1
    say(True, "BuildKit CLI", f"{cli.path} (client {cli.version}, {cli.how})")
    return 0


def check_disk(engine: Engine | None) -> int:
    """Free space where results go and, with an engine, where it keeps its images."""
    free = free_disk_bytes(RESULTS_DIR)
    if engine is not None:
        root = engine.server_info().get("docker_root_dir") or ""
        if root:
            free = min(free, free_disk_bytes(Path(root)))
    disk_ok = free >= MIN_FREE_DISK
    say(disk_ok, "free disk", f"{free / 1024**3:.1f} GiB (local base images need ~15 GiB)")
    return 0 if disk_ok else 1


def check_network(mode: str, ca_bundle: str | None) -> int:
    try:
        network = network_settings(mode, ca_bundle)
    except UserError as exc:
        say(False, "CA bundle", str(exc))
        return 1
    bundle = network.ca_bundle
    if bundle is not None:
        say(
            True,
            "CA bundle",
            bundle.describe() + "; passed to builds as a BuildKit secret, to containers as a "
            "read-only mount",
        )
    else:
        say(
            None,
            "CA bundle",
            "none set (PIP_CERT / SSL_CERT_FILE / REQUESTS_CA_BUNDLE / --ca-bundle): pip in "
            "containers uses its own CAs",
        )
    if network.proxies:
        say(None, "proxy", ", ".join(sorted(network.proxies)) + " passed to builds/containers")
    say(None, "network mode", f"{network.mode}: {network.why}")
    return 0


def check_base_sources(engine: Engine, registry_image: str) -> int:
    """Official images need a registry, local stand-ins need debootstrap: one of them will do."""
    reachable = engine.registry_answers(registry_image)
    if reachable:
        say(
            True,
            "registry",
            f"{registry_image} is served: base source 'auto' will use the official images",
        )
    else:
        say(
            None,
            "registry",
            f"{registry_image} is not served (no registry reachable):"
            " base source 'auto' will build local stand-ins",
        )
    local_tools = shutil.which("debootstrap")
    say(
        bool(local_tools) or reachable,
        "debootstrap",
        local_tools or "missing: local stand-ins need it (apt-get install debootstrap)",
    )
    return 0 if local_tools or reachable else 1


def run(args: argparse.Namespace) -> int:
    engine = check_engine(args.network)
    problems = 1 if engine is None else 0
    problems += check_buildkit_cli()
    problems += check_disk(engine)
    problems += check_network(args.network, args.ca_bundle)
    if engine is not None:
        problems += check_base_sources(engine, args.registry_image)
    print("doctor: all good" if problems == 0 else f"doctor: {problems} problem(s) found")
    return 0 if problems == 0 else 1
