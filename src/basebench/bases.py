"""Base images for a run: the official ``python:*`` images, or local stand-ins built here.

``ensure_base`` is the one entry point: it returns a :class:`BaseImage` that says where the image
came from (official or local) so that every result row can say it too.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from basebench.engine import Engine
from basebench.errors import BuildFailed, UserError
from basebench.labels import PREFIX, label, unprefixed
from basebench.local.pool import POOL_SUITE, find_in_pool, known_missing, remember_missing
from basebench.local.rootfs import ensure_rootfs
from basebench.local.sources import PythonSource, candidates, discover
from basebench.paths import IMAGES_DIR, files_digest
from basebench.registry import RegistryError, fetch_manifest
from basebench.variants import Variant, check_combination

LOCAL_REPOSITORY = "basebench/local"
LOCAL_RECIPES = IMAGES_DIR / "local"
#: The first stage of every local recipe: CPython's upstream tarball fetched through apt and
#: checked against the suite's Sources index (no compiler; the same stage in every recipe).
SOURCE_TARGET = "source"
BUILD_INFO_PATH = "/usr/local/share/basebench/build-info.json"


@dataclass
class BaseImage:
    variant: str
    python: str
    libc: str
    family: str
    source: str  # "official" or "local"
    reference: str
    image_id: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    build_seconds: float | None = None  # None: reused (nothing to do) or pulled
    #: The catalogue's name of the variant when ``variant`` is a second name for the same image
    #: (``basebench validate`` measures one image under two names); "" otherwise.
    alias_of: str = ""
    #: Official path: this run pulled the image (it was not on the engine before), so the
    #: pull group may remove this name again; never an image the user had.
    pulled: bool = False
    #: Official path: the registry's manifest (``RegistryManifest.as_dict``), or
    #: ``{"error": ...}`` when the registry gave none; {} for local stand-ins.
    registry: dict[str, Any] = field(default_factory=dict)

    @property
    def stand_in(self) -> bool:
        """A local stand-in, built here or published to a registry and pulled from there."""
        return self.labels.get(label("base_source")) == "local" or self.source == "local"

    @property
    def catalogue_name(self) -> str:
        """The variant's name in images/variants.toml."""
        return self.alias_of or self.variant

    def alias(self, name: str) -> BaseImage:
        """The same image under another variant name."""
        return replace(self, variant=name, alias_of=self.catalogue_name)

    def metadata(self) -> dict[str, Any]:
        """What run.json records of the image: its labels, plus where it came from."""
        return {
            **unprefixed(self.labels),
            "variant": self.variant,
            "python": self.python,
            "libc": self.libc,
            "family": self.family,
            "source": self.source,
            "reference": self.reference,
            "image_id": self.image_id,
            **({"pulled_by_basebench": self.pulled} if self.source == "official" else {}),
            **({"registry_manifest": self.registry} if self.registry else {}),
        }


def resolve_base_source(engine: Engine, requested: str, reference_to_try: str) -> tuple[str, str]:
    """(source, why): ``auto`` becomes official when a registry answers, else local."""
    if requested != "auto":
        return requested, f"base source {requested!r} was asked for"
    if engine.registry_answers(reference_to_try):
        return "official", f"auto: a registry serves {reference_to_try}, so the official images"
    return "local", (
        f"auto: no registry serves {reference_to_try}, so LOCAL STAND-INS built from Debian's "
        "mirror and CPython sources, not the official images"
    )


def ensure_base(
    engine: Engine,
    variant: Variant,
    python: str,
    source: str,
    *,
    opt_level: str = "none",
    registry_mirror: str = "",
    refresh: bool = False,
) -> BaseImage:
    check_combination(variant, python, source)
    if source == "official":
        return _ensure_official(engine, variant, python, registry_mirror)
    return ensure_local(engine, variant, python, opt_level=opt_level, refresh=refresh)


def _ensure_official(engine: Engine, variant: Variant, python: str, mirror: str) -> BaseImage:
    reference = variant.official_reference(python, mirror)
    pulled = not engine.image_exists(reference)
    if pulled:
        engine.pull(reference)
    attrs = engine.inspect_image(reference)
    env = dict(e.split("=", 1) for e in attrs["Config"].get("Env") or [] if "=" in e)
    # An image that carries basebench's labels is a local stand-in someone published to the
    # registry (`basebench images push`): its labels stay, so nothing calls it official.
    labels = {
        k: v for k, v in (attrs["Config"].get("Labels") or {}).items() if k.startswith(PREFIX)
    }
    labels.setdefault(label("base_source"), "official")  # a stand-in's says "local"
    labels.setdefault(label("python.version"), env.get("PYTHON_VERSION", ""))
    labels[label("digest")] = ",".join(attrs.get("RepoDigests") or [])
    if variant.lifecycle():
        labels[label("lifecycle")] = variant.lifecycle()
    return BaseImage(
        variant.name,
        python,
        variant.libc,
        variant.family,
        "official",
        reference,
        attrs["Id"],
        labels,
        pulled=pulled,
        registry=_registry_record(engine, reference),
    )


def _registry_record(engine: Engine, reference: str) -> dict[str, Any]:
    """The registry's manifest of ``reference`` for run.json, or why there is none."""
    os_name, architecture = engine.platform()
    try:
        return fetch_manifest(reference, os_name=os_name, architecture=architecture).as_dict()
    except RegistryError as exc:
        return {"reference": reference, "error": str(exc)}


def _recipe_digest() -> str:
    """Hash of every file of the local recipes: a changed script means a new image (their
    documentation does not)."""
    files = sorted(p for p in LOCAL_RECIPES.rglob("*") if p.is_file() and p.suffix != ".md")
    return files_digest(files, LOCAL_RECIPES)


def local_name(variant: Variant) -> str:
    """The stand-in's own name: every Alpine variant has the same musl stand-in."""
    recipe = variant.check_local()
    name = "musl" if variant.libc == "musl" else variant.catalogue_name
    return name if recipe.flags == "official" else f"{name}-{recipe.flags}flags"


@dataclass(frozen=True)
class _LocalBuild:
    """Everything one local stand-in build needs, decided before anything is built."""

    variant: Variant
    python: str
    target: str
    opt_level: str
    rootfs: str
    source: PythonSource
    key: str  # hash of the recipes and every input: the image's identity
    name: str  # "trixie", "musl", "musl-builder", "musl-debianflags"...

    @property
    def tag(self) -> str:
        return f"{LOCAL_REPOSITORY}:{self.python}-{self.name}-{self.opt_level}-{self.key}"

    def build_args(self) -> dict[str, str]:
        return {
            "ROOTFS": self.rootfs,
            "SOURCE_ROOTFS": self.rootfs,
            "PYTHON_SRC_PACKAGE": self.source.package,
            "PYTHON_SRC_VERSION": self.source.version,
            "PYTHON_SRC_SUITE": self.source.suite,
            "PYTHON_ORIG_SHA256": self.source.orig_sha256,
            "PYTHON_VERSION": self.source.python_version,
            "OPT_LEVEL": self.opt_level,
            "FLAGS": self.variant.check_local().flags,
        }

    def labels(self, info: dict[str, Any], seconds: float) -> dict[str, str]:
        """The image's labels: its inputs, and what the build reported from inside."""
        return {
            # The image is the catalogue variant's at this level, whatever name the run uses.
            label("variant"): self.variant.catalogue_name,
            label("python"): self.python,
            label("python.version"): self.source.python_version,
            label("python.prerelease"): "yes" if self.source.prerelease else "no",
            label("libc"): self.variant.libc,
            label("libc.version"): str(info.get("libc", "")),
            label("base_source"): "local",
            label("opt_level"): self.opt_level,
            label("flags"): self.variant.check_local().flags,
            label("configure_args"): str(info.get("configure_args", "")),
            label("cflags"): str(info.get("extra_cflags", "")),
            label("ldflags"): str(info.get("ldflags", "")),
            label("cc"): str(info.get("cc_version", "")),
            label("source.package"): self.source.package,
            label("source.version"): self.source.version,
            label("source.suite"): self.source.suite,
            label("source.sha256"): self.source.orig_sha256,
            label("source.signed_by"): self.source.signed_by,
            label("recipe_key"): self.key,
            label("build_seconds"): f"{seconds:.1f}",
        }


def _plan_local(
    engine: Engine,
    variant: Variant,
    python: str,
    opt_level: str,
    target: str | None,
    source: PythonSource | None = None,
) -> _LocalBuild:
    recipe = variant.check_local()
    target = target or recipe.target
    rootfs = ensure_rootfs(engine, recipe.rootfs)
    python_source = source or available_source(engine, variant, python)
    inputs = {
        "recipes": _recipe_digest(),
        "dockerfile": recipe.recipe,
        "target": target,
        "rootfs": engine.inspect_image(rootfs)["Id"],
        "source": asdict(python_source),
        "opt_level": opt_level,
        "flags": recipe.flags,
    }
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]
    name = local_name(variant)
    if target != recipe.target:
        name += "-builder" if target == recipe.builder_target else f"-{target}"
    return _LocalBuild(variant, python, target, opt_level, rootfs, python_source, key, name)


def ensure_local(
    engine: Engine,
    variant: Variant,
    python: str,
    *,
    opt_level: str = "none",
    target: str | None = None,
    refresh: bool = False,
    source: PythonSource | None = None,
) -> BaseImage:
    """Build (or reuse) the local stand-in; its tag is a hash of the recipe and all inputs.
    ``source``: this CPython source package, not the best available one. ``opt_level`` is the
    run's (``as-shipped``: the official image's level; a pinned ``NAME@LEVEL`` wins)."""
    opt_level = variant.opt_level(opt_level)
    plan = _plan_local(engine, variant, python, opt_level, target, source)
    tag = plan.tag
    if not refresh and engine.image_exists(tag):
        return _local_image(engine, variant, python, tag)

    # Unique per call: two runs bootstrapping the same image at once must not share it.
    staging = f"{tag}-staging-{secrets.token_hex(4)}"
    built = engine.build(
        LOCAL_RECIPES,
        tag=staging,
        kind="base",
        dockerfile=LOCAL_RECIPES / variant.check_local().recipe,
        target=plan.target,
        build_args=plan.build_args(),
        log_name=f"local-{python}-{plan.name}-{opt_level}",
    )
    # The source stage (a fetch check) has no interpreter and so no build information.
    info = read_build_info(engine, staging) if plan.target != SOURCE_TARGET else {}
    labels = plan.labels(info, built.seconds)
    # Labels that come from inside the build (flags, libc version) are added on top.
    relabel(engine, staging, tag, labels, kind="base", log_name=f"label-{plan.name}")
    engine.client.images.remove(staging)  # drops the staging tag only; the layers are shared
    return _local_image(engine, variant, python, tag, build_seconds=built.seconds)


def available_source(engine: Engine, variant: Variant, python: str) -> PythonSource:
    """The best source package of ``python`` whose tarball this mirror really serves.

    Decided by building the recipe's source stage (seconds; cached as an image), before any
    compile, so a listed-but-missing file costs one download attempt, not a failed build
    after minutes of work.
    """
    listed = candidates(discover(engine), python)
    tried = []
    missing = known_missing()
    for candidate in listed:
        why = missing.get(candidate.orig_sha256)
        if why is None:
            try:
                ensure_local(engine, variant, python, target=SOURCE_TARGET, source=candidate)
                return candidate
            except BuildFailed as exc:
                why = _fetch_failure(exc)
                remember_missing(candidate, why)
        tried.append(f"{candidate.package}={candidate.version} ({candidate.suite}): {why}")
    # Every listed tarball is missing: an older release the pool still has, if one is signed.
    try:
        older = find_in_pool(engine, listed)
        ensure_local(engine, variant, python, target=SOURCE_TARGET, source=older)
        return older
    except UserError as exc:
        tried.append(f"{POOL_SUITE}: {str(exc).splitlines()[0]}")
    raise UserError(
        f"no CPython {python} source package could be fetched from the mirror: " + "; ".join(tried)
    )


def _fetch_failure(exc: BuildFailed) -> str:
    """apt's own error line from the build log ("E: Failed to fetch .../x.orig.tar.xz 404
    Not Found"), the mirror's address cut to the file name; else the build's first line."""
    try:
        lines = Path(exc.log_path).read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    errors = [ln.split(" E: ", 1)[1] for ln in lines if " E: " in ln]
    if errors:
        return re.sub(r"\S+://\S*/", ".../", errors[0]).strip() + f" (log: {exc.log_path})"
    return str(exc).splitlines()[0]


def relabel(
    engine: Engine, source: str, tag: str, labels: dict[str, str], *, kind: str, log_name: str
) -> None:
    """``tag``: ``source`` with ``labels`` added, by a FROM-only build (metadata only: the
    layers are shared, so the layer blobs a registry stores are the same)."""
    with tempfile.TemporaryDirectory(prefix="basebench-relabel-") as tmp:
        (Path(tmp) / "Dockerfile").write_text(f"FROM {source}\n")
        engine.build(Path(tmp), tag=tag, kind=kind, labels=labels, log_name=log_name)


def ensure_builder(engine: Engine, variant: Variant, python: str, *, opt_level: str) -> BaseImage:
    """The compiling stage of a local stand-in that has no compiler of its own (the musl
    stand-in): what the build strategies and the workload image compile C extensions on."""
    recipe = variant.check_local()
    target = recipe.builder_target or "musl-builder"
    return ensure_local(engine, variant, python, opt_level=opt_level, target=target)


def _local_image(
    engine: Engine, variant: Variant, python: str, tag: str, build_seconds: float | None = None
) -> BaseImage:
    attrs = engine.inspect_image(tag)
    labels = dict(attrs["Config"].get("Labels") or {})
    return BaseImage(
        variant.name,
        python,
        variant.libc,
        variant.family,
        "local",
        tag,
        attrs["Id"],
        labels,
        build_seconds=build_seconds,
    )


def read_build_info(engine: Engine, reference: str) -> dict[str, Any]:
    result = engine.run(reference, ["cat", BUILD_INFO_PATH], kind="workload")
    if result.exit_code != 0:
        raise UserError(f"{reference} has no {BUILD_INFO_PATH}: {result.output.strip()}")
    info: dict[str, Any] = json.loads(result.output)
    return info
