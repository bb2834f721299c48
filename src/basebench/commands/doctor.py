from __future__ import annotations

import argparse
import shutil

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
    parser.add_argument("--network", default="host", help="network mode (default: host)")
    parser.add_argument(
        "--registry-image",
        default="python:3-slim",
        help="reference used to test the registry (default: python:3-slim)",
    )


def run(args: argparse.Namespace) -> int:
    problems = 0

    def say(ok: bool | None, what: str, detail: str) -> None:
        mark = {True: "ok  ", False: "FAIL", None: "note"}[ok]
        print(f"[{mark}] {what:<18} {detail}")

    try:
        client = connect()
        engine: Engine | None = Engine(client=client, network=network_settings(args.network))
        assert engine is not None
        info = engine.server_info()
        say(
            True,
            "engine",
            f"Docker {info['docker_server_version']}, storage driver "
            f"{info['storage_driver']}, cgroup v{info['cgroup_version']}, {info['ncpu']} CPUs",
        )
    except UserError as exc:
        engine = None
        problems += 1
        say(False, "engine", str(exc))

    try:
        cli = find_buildkit_cli()
        say(True, "BuildKit CLI", f"{cli.path} (client {cli.version}, {cli.how})")
    except UserError as exc:
        problems += 1
        say(False, "BuildKit CLI", str(exc))

    free = free_disk_bytes(RESULTS_DIR)
    disk_ok = free >= MIN_FREE_DISK
    if engine is not None:
        root = engine.server_info().get("docker_root_dir") or ""
        if root:
            free = min(free, free_disk_bytes(__import__("pathlib").Path(root)))
            disk_ok = free >= MIN_FREE_DISK
    say(disk_ok, "free disk", f"{free / 1024**3:.1f} GiB (local base images need ~15 GiB)")
    problems += 0 if disk_ok else 1

    try:
        network = network_settings(args.network, args.ca_bundle)
        bundle = network.ca_bundle
        say(
            None if bundle is None else True,
            "CA bundle",
            bundle.describe() + "; passed to builds as a BuildKit secret, to containers as a "
            "read-only mount"
            if bundle
            else "none set (PIP_CERT / SSL_CERT_FILE / "
            "REQUESTS_CA_BUNDLE / --ca-bundle): pip in containers uses its own CAs",
        )
        if network.proxies:
            say(None, "proxy", ", ".join(sorted(network.proxies)) + " passed to builds/containers")
        say(None, "network mode", network.mode)
    except UserError as exc:
        problems += 1
        say(False, "CA bundle", str(exc))

    if engine is not None:
        reachable = engine.registry_answers(args.registry_image)
        if reachable:
            say(
                True,
                "registry",
                f"{args.registry_image} is served: base source 'auto' will use the official images",
            )
        else:
            say(
                None,
                "registry",
                f"{args.registry_image} is not served (no registry reachable):"
                " base source 'auto' will build local stand-ins",
            )
        local_tools = shutil.which("debootstrap")
        say(
            bool(local_tools) or reachable,
            "debootstrap",
            local_tools or "missing: local stand-ins need it (apt-get install debootstrap)",
        )
        if not local_tools and not reachable:
            problems += 1

    print("doctor: all good" if problems == 0 else f"doctor: {problems} problem(s) found")
    return 0 if problems == 0 else 1
