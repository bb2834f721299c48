from __future__ import annotations

import argparse
import time

from basebench.bases import available_source, ensure_base, resolve_base_source
from basebench.engine import MANAGED_FILTER, Engine
from basebench.errors import UserError
from basebench.labels import KIND as KIND_LABEL
from basebench.labels import REF as REF_LABEL
from basebench.labels import label
from basebench.local.sources import choose, discover
from basebench.measure._progress import ConsoleObserver, Progress, duration
from basebench.netconf import network_settings
from basebench.variants import BASE_SOURCES, OPT_LEVELS, load_catalogue
from basebench.versions import version_key

#: The source stage is the same in every local recipe: one variant's checks them all.
SOURCE_CHECK_VARIANT = "slim-trixie"

HELP = "list the base images here, bootstrap (build or pull) the ones a run needs, or push them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="images_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="base images basebench built or pulled: variant, Python, size")
    boot = sub.add_parser("bootstrap", help="build (local) or pull (official) base images")
    boot.add_argument("--python", action="append", required=True, help="e.g. 3.13 (repeat)")
    boot.add_argument("--variant", action="append", required=True, help="e.g. slim-trixie")
    boot.add_argument("--base-source", choices=BASE_SOURCES, default="auto")
    boot.add_argument("--opt-level", choices=OPT_LEVELS, default="none")
    boot.add_argument("--registry-mirror", default="", help="prefix for python:* references")
    boot.add_argument("--refresh", action="store_true", help="rebuild even when cached")
    boot.add_argument("--ca-bundle", metavar="PATH")
    boot.add_argument("--network", default="auto")
    src = sub.add_parser(
        "sources",
        help="the CPython versions Debian's archive serves as source packages (the local "
        "stand-ins can be built for these); --check fetches each one's source",
    )
    src.add_argument(
        "--check",
        action="store_true",
        help="build each version's source stage (download and verify its tarball, no compile)",
    )
    src.add_argument("--refresh", action="store_true", help="read the Sources index again")
    src.add_argument("--network", default="auto")
    push = sub.add_parser(
        "push",
        help="publish local stand-ins to a registry under their official names (python:TAG)",
    )
    push.add_argument(
        "--registry", required=True, metavar="HOST:PORT/PREFIX", help="e.g. 127.0.0.1:5000/hub"
    )
    push.add_argument("--python", action="append", required=True, help="e.g. 3.13 (repeat)")
    push.add_argument("--variant", action="append", required=True, help="e.g. slim-trixie")
    push.add_argument("--opt-level", choices=OPT_LEVELS, default="none")
    push.add_argument("--fixture", default="", metavar="NOTE", help="label them as test fixtures")
    push.add_argument("--ca-bundle", metavar="PATH")
    push.add_argument("--network", default="auto")
    fid = sub.add_parser(
        "fidelity", help="local stand-ins next to the official images: sizes, bootstrap times"
    )
    fid.add_argument("--python", default="3.13")
    fid.add_argument("--variant", action="append", help="default: slim-trixie, trixie, alpine")
    fid.add_argument("--opt-level", choices=OPT_LEVELS, default="none")


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _list(engine: Engine) -> int:
    rows = []
    for image in engine.client.images.list(filters={"label": [MANAGED_FILTER]}):
        labels = image.labels
        ref = labels.get(REF_LABEL, "")
        if labels.get(KIND_LABEL) not in ("base", "rootfs") or ref not in image.tags:
            continue
        rows.append(
            (
                labels.get(label("variant"), labels.get(label("rootfs.suite"), "")),
                labels.get(label("python.version"), "-"),
                labels.get(label("libc.version"), "-") or "-",
                labels.get(label("base_source"), labels.get(KIND_LABEL, "")),
                labels.get(label("opt_level"), "-"),
                _bootstrap_time(labels),
                _human(image.attrs.get("Size", 0)),
                image.short_id.removeprefix("sha256:"),
                ref,
            )
        )
    for official in engine.client.images.list(name="python"):
        for tag in official.tags:
            rows.append(
                (
                    "(official)",
                    tag.split(":")[-1],
                    "-",
                    "official",
                    "-",
                    "-",
                    _human(official.attrs.get("Size", 0)),
                    official.short_id.removeprefix("sha256:"),
                    tag,
                )
            )
    header = ("variant", "python", "libc", "source", "opt", "built in", "size", "id", "reference")
    if not rows:
        print(
            "no base images yet: `basebench images bootstrap --python 3.13 --variant slim-trixie`"
        )
        return 0
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *sorted(rows)]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _bootstrap_time(labels: dict[str, str]) -> str:
    """How long the image's own build took when it was made (``-`` when not recorded)."""
    try:
        return duration(float(labels[label("build_seconds")]))
    except (KeyError, ValueError):
        return "-"


def _sources(args: argparse.Namespace) -> int:
    """One line per served CPython version (the suite a stand-in takes it from first), and
    with --check whether its source stage builds here."""
    engine = Engine(network=network_settings(args.network))
    served = discover(engine, refresh=args.refresh)
    pythons = sorted({s.python for s in served}, key=version_key)
    variant = load_catalogue().get(SOURCE_CHECK_VARIANT)
    failures = 0
    for python in pythons:
        chosen, checked = choose(served, python), ""
        if args.check:
            start = time.perf_counter()
            try:
                chosen = available_source(engine, variant, python)
                checked = f"  source OK ({time.perf_counter() - start:.0f} s)"
            except UserError as exc:
                failures += 1
                checked = f"  source FAILED: {str(exc).splitlines()[0]}"
        print(
            f"{python:<6} {chosen.python_version:<12} {chosen.package}={chosen.version} "
            f"({chosen.suite}){'  pre-release' if chosen.prerelease else ''}{checked}"
        )
    return 1 if failures else 0


def _push(args: argparse.Namespace) -> int:
    from basebench.bases import ensure_local
    from basebench.publish import check_registry_prefix, publish

    prefix = check_registry_prefix(args.registry)
    catalogue = load_catalogue()
    variants = [catalogue.get(name) for name in args.variant]
    for variant in variants:  # every combination checked before anything is built or pushed
        for python in args.python:
            variant.check_local(python)
            variant.check_official(python)
    engine = Engine(network=network_settings(args.network, args.ca_bundle))
    for python in args.python:
        for variant in variants:
            base = ensure_local(engine, variant, python, opt_level=args.opt_level)
            published = publish(engine, variant, base, prefix, fixture=args.fixture)
            print(
                f"pushed {published.reference} ({published.digest}): the local stand-in "
                f"{published.stand_in}, labelled as a stand-in, not the official image"
            )
    return 0


def run(args: argparse.Namespace) -> int:
    if args.images_command == "list":
        return _list(Engine())
    if args.images_command == "sources":
        return _sources(args)
    if args.images_command == "push":
        return _push(args)
    if args.images_command == "fidelity":
        from basebench.fidelity import fidelity, markdown

        variants = args.variant or ["slim-trixie", "trixie", "alpine"]
        rows = fidelity(
            Engine(network=network_settings()),
            load_catalogue(),
            args.python,
            variants,
            args.opt_level,
        )
        print(markdown(rows))
        print(
            "\ncompressed: gzip -6 of each layer tar (as a registry stores it); official "
            "figures: images/official-sizes.toml. warm: a second bootstrap with nothing changed."
        )
        return 0
    catalogue = load_catalogue()
    variants = [catalogue.get(name) for name in args.variant]
    engine = Engine(network=network_settings(args.network, args.ca_bundle))
    engine.observer = ConsoleObserver(Progress())
    reference_to_try = variants[0].official_reference(args.python[0], args.registry_mirror)
    source, why = resolve_base_source(engine, args.base_source, reference_to_try)
    print(f"base source: {source} ({why})")
    failures = 0
    for python in args.python:
        for variant in variants:
            start = time.perf_counter()
            try:
                base = ensure_base(
                    engine,
                    variant,
                    python,
                    source,
                    opt_level=args.opt_level,
                    registry_mirror=args.registry_mirror,
                    refresh=args.refresh,
                )
            except UserError as exc:
                failures += 1
                print(f"FAILED {python}-{variant.name}: {exc}")
                continue
            took = time.perf_counter() - start
            state = (
                "built"
                if base.build_seconds is not None
                else "pulled"
                if base.pulled
                else "ready (cached)"
            )
            print(f"{state:<15} {python}-{variant.name:<14} {base.reference}  ({took:.1f} s)")
    return 1 if failures else 0
