"""Workload images: a base image + pyperf + Django + allocators to LD_PRELOAD.

One derived image per base image (``images/workload/``), cached under a tag made of a hash of the
recipe and the base image's id, like the local stand-ins. ``detect_allocators`` asks a container
of it which allocator choices really work there (a library that cannot be preloaded, or a
CPython built without mimalloc, makes ``python -c pass`` fail), so the runtime group only
measures what runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from basebench.bases import BaseImage, ensure_builder
from basebench.engine import Engine
from basebench.errors import UserError
from basebench.labels import label
from basebench.paths import IMAGES_DIR, files_digest
from basebench.variants import Catalogue, tag_part

WORKLOAD_RECIPES = IMAGES_DIR / "workload"
WORKLOAD_REPOSITORY = "basebench/workload"
ALLOCATORS_FILE = "/usr/local/share/basebench/preload-allocators.tsv"
PACKAGES_FILE = "/usr/local/share/basebench/workload-packages.txt"
# Files outside images/workload the recipes read (their content is part of the cache key).
EXTRA_INPUTS = ("app/requirements.lock", "local/apt-sources.sh")


@dataclass(frozen=True)
class Allocator:
    """One point of the allocator axis: its name in results and what sets it in the container."""

    name: str
    environment: dict[str, str]
    description: str


@dataclass
class WorkloadImage:
    reference: str
    image_id: str
    base: BaseImage
    python_version: str = ""
    packages: dict[str, str] = field(default_factory=dict)
    allocators: list[Allocator] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)  # allocator -> why not
    notes: dict[str, str] = field(default_factory=dict)  # allocator -> where it came from

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "image_id": self.image_id,
            "base": self.base.reference,
            "python_version": self.python_version,
            "packages": self.packages,
            "allocators": {a.name: a.environment for a in self.allocators},
            "allocator_notes": self.notes,
            "unavailable": self.unavailable,
        }


def _recipe_digest() -> str:
    paths = sorted(p for p in WORKLOAD_RECIPES.rglob("*") if p.is_file() and p.suffix != ".md")
    paths += [IMAGES_DIR / extra for extra in EXTRA_INPUTS]
    return files_digest(paths, IMAGES_DIR)


def _needs_musl_recipe(engine: Engine, base: BaseImage) -> bool:
    """The local musl stand-in has no package manager: it gets the jemalloc-from-source recipe."""
    return base.source == "local" and base.libc == "musl"


def ensure_workload_image(
    engine: Engine,
    base: BaseImage,
    catalogue: Catalogue,
    *,
    opt_level: str = "none",
    refresh: bool = False,
) -> WorkloadImage:
    """Build (or reuse) the workload image of ``base`` and probe what works in it."""
    musl_local = _needs_musl_recipe(engine, base)
    build_args = {"BASE_IMAGE": base.reference}
    inputs: dict[str, str] = {"recipes": _recipe_digest(), "base": base.image_id}
    if musl_local:
        builder = ensure_builder(
            engine, catalogue.get(base.catalogue_name), base.python, opt_level=opt_level
        )
        build_args["BUILDER_IMAGE"] = builder.reference
        inputs["builder"] = builder.image_id
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]
    tag = f"{WORKLOAD_REPOSITORY}:{base.python}-{tag_part(base.variant)}-{base.source}-{key}"
    if refresh or not engine.image_exists(tag):
        dockerfile = "workload-musl.Dockerfile" if musl_local else "workload.Dockerfile"
        engine.build(
            IMAGES_DIR,
            tag=tag,
            kind="workload",
            dockerfile=WORKLOAD_RECIPES / dockerfile,
            build_args=build_args,
            labels={
                label("workload.base"): base.reference,
                label("workload.recipe_key"): key,
                label("variant"): base.variant,
                label("python"): base.python,
                label("libc"): base.libc,
            },
            log_name=f"workload-{base.python}-{base.variant}",
        )
    image = WorkloadImage(tag, engine.inspect_image(tag)["Id"], base)
    detect_allocators(engine, image)
    return image


# Runs inside the workload image: which allocator settings let `python -c pass` succeed cleanly.
_ALLOCATOR_CHECK = r"""
import json, os, subprocess, sys
out = {"python_version": sys.version.split()[0], "preload": {}, "pythonmalloc": {}}
def ok(env):
    e = dict(os.environ); e.update(env)
    r = subprocess.run([sys.executable, "-c", "import json, sys; print(sys.version)"],
                       env=e, capture_output=True, text=True)
    # the dynamic loader complains on stderr but goes on when a preload cannot be loaded
    return r.returncode == 0 and not r.stderr.strip(), (r.stderr.strip() or f"exit {r.returncode}")
for name in ("malloc", "mimalloc"):
    good, why = ok({"PYTHONMALLOC": name})
    out["pythonmalloc"][name] = [good, why]
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError as exc:
    lines = []
    out["preload_error"] = str(exc)
for line in lines:
    name, path, note = (line.split("\t") + ["", ""])[:3]
    if not path:
        out["preload"][name] = [False, "", note or "not installed"]
        continue
    good, why = ok({"LD_PRELOAD": path})
    out["preload"][name] = [good, path, note if good else f"{note}: cannot preload: {why}"]
try:
    out["packages"] = dict(l.split("==", 1) for l in open(sys.argv[2]).read().split() if "==" in l)
except OSError:
    out["packages"] = {}
print(json.dumps(out))
"""


def detect_allocators(engine: Engine, image: WorkloadImage) -> None:
    """Fill in ``image.allocators`` (what works), ``unavailable`` (why not) and packages."""
    result = engine.run(
        image.reference,
        ["python3", "-c", _ALLOCATOR_CHECK, ALLOCATORS_FILE, PACKAGES_FILE],
        kind="workload",
        environment={"PYTHONDONTWRITEBYTECODE": "1"},
        timeout_s=120,
    )
    if result.exit_code != 0:
        raise UserError(
            f"checking the allocators of {image.reference} failed: {result.output.strip()[-2000:]}"
        )
    data = json.loads(result.output.strip().splitlines()[-1])
    image.python_version = data["python_version"]
    image.packages = {k.lower(): v for k, v in data.get("packages", {}).items()}
    image.allocators = [Allocator("pymalloc", {}, "CPython's default: pymalloc + libc malloc")]
    pm = data["pythonmalloc"]
    if pm["malloc"][0]:
        image.allocators.append(
            Allocator("malloc", {"PYTHONMALLOC": "malloc"}, "PYTHONMALLOC=malloc: libc malloc only")
        )
    else:
        image.unavailable["malloc"] = f"PYTHONMALLOC=malloc fails: {pm['malloc'][1]}"
    if pm["mimalloc"][0]:
        image.allocators.append(
            Allocator("mimalloc", {"PYTHONMALLOC": "mimalloc"}, "CPython's bundled mimalloc")
        )
    else:
        image.unavailable["mimalloc"] = (
            f"PYTHONMALLOC=mimalloc not supported by this CPython: {pm['mimalloc'][1][-200:]}"
        )
    for name, (good, path, note) in sorted(data["preload"].items()):
        axis = f"pymalloc+{name}"
        if good:
            image.notes[axis] = note
            image.allocators.append(
                Allocator(axis, {"LD_PRELOAD": path}, f"pymalloc, libc malloc replaced by {note}")
            )
        else:
            image.unavailable[axis] = note
