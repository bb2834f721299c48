"""Group "build": cold builds of the application with each strategy on each base.

For every strategy (images/strategies/<strategy>.Dockerfile, or the user's own Dockerfile as
"custom") and every base of the run, a cold build (``--no-cache``; the base and builder images
are already present) is timed by pytest-benchmark in pedantic mode (``rounds`` from the
profile) in a subprocess running benchmarks/bench_builds.py; its JSON is adopted into the run.
Each benchmark's extra_info carries the tags, the image id, BuildKit's per-step timings and the
split of the build into download time (the ``fetch.sh`` steps) and install/compile time (the
``install.sh`` steps).

Which images a strategy uses on a base:

=================  =========================================  ================================
base               builder (BUILDER_IMAGE)                    runner (BASE_IMAGE)
=================  =========================================  ================================
Debian full X      X itself                                   X
Debian slim-X      the full X of the same Python, source and  slim-X
                   opt level (local: ensure_local; official:
                   python:{py}-X)
musl, local        the musl-builder target of the stand-in    the musl stand-in
Alpine, official   the Alpine image itself (apk build deps)   the Alpine image
=================  =========================================  ================================

A strategy that cannot work on a base is written as a ``not_applicable`` row with the reason;
a failed build is a ``ctx.fail`` (the log's last lines and path) and the run goes on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from basebench.bases import BaseImage, ensure_base, ensure_local
from basebench.engine import StepTiming
from basebench.errors import BuildFailed, UserError
from basebench.measure._context import ImageUnderTest, RunContext
from basebench.paths import BENCHMARKS_DIR, IMAGES_DIR, PROJECT_ROOT
from basebench.results import Measurement

GROUP = "build"
STRATEGIES_DIR = IMAGES_DIR / "strategies"
SCRIPTS_DIR = STRATEGIES_DIR / "scripts"
BENCH_FILE = BENCHMARKS_DIR / "bench_builds.py"
BUILTIN_STRATEGIES = ("single-full", "single-slim", "multistage", "pip-cache-copy")
CUSTOM = "custom"
WORK_ENV = "BASEBENCH_BUILD_WORK"
APP_REPOSITORY = "basebench/app"

# Scripts whose BuildKit step is download time, and those whose step is install/compile time.
DOWNLOAD_MARKERS = ("fetch.sh",)
INSTALL_MARKERS = ("install.sh",)


# --------------------------------------------------------------------------------------------
# Step timings: download vs install
# --------------------------------------------------------------------------------------------


def split_step_timings(steps: Iterable[StepTiming]) -> tuple[float, float]:
    """(download seconds, install seconds) from BuildKit's per-step durations.

    The strategies run ``fetch.sh`` (pip download, the network) and ``install.sh`` (pip install
    --no-index, unpacking and compiling) in separate RUN steps; cached steps count nothing.
    """
    download = install = 0.0
    for step in steps:
        if step.cached or step.seconds is None:
            continue
        if any(m in step.name for m in DOWNLOAD_MARKERS):
            download += step.seconds
        elif any(m in step.name for m in INSTALL_MARKERS):
            install += step.seconds
    return download, install


def step_dicts(steps: Iterable[StepTiming]) -> list[dict[str, Any]]:
    return [asdict(s) for s in steps]


# --------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------


@dataclass
class BuildPlan:
    strategy: str
    base: BaseImage
    tag: str = ""
    dockerfile: str = ""
    context: str = ""
    build_args: dict[str, str] = field(default_factory=dict)
    builder: str = ""
    not_applicable: str = ""  # the reason, when the strategy cannot work on this base

    @property
    def id(self) -> str:
        return f"{self.strategy}@{self.base.python}-{self.base.variant}-{self.base.source}"


def strategies(ctx: RunContext) -> list[str]:
    names = list(ctx.config.strategies) or list(BUILTIN_STRATEGIES)
    if ctx.config.dockerfile and CUSTOM not in names:
        names.append(CUSTOM)
    return names


def app_tag(ctx: RunContext, base: BaseImage, strategy: str) -> str:
    run = re.sub(r"[^a-z0-9_.-]+", "-", ctx.run.run_id.lower())
    return f"{APP_REPOSITORY}:{base.python}-{base.variant}-{base.source}-{strategy}-{run}"[:128]


def _full_sibling(ctx: RunContext, base: BaseImage) -> str:
    """Name of the full Debian variant of a slim one (slim-trixie -> trixie)."""
    return base.variant.removeprefix("slim-")


def builder_image(ctx: RunContext, base: BaseImage) -> str:
    """The image a strategy compiles on for ``base`` (see the module docstring)."""
    variant = ctx.catalogue.get(base.variant)
    if variant.libc == "musl":
        if base.source == "official":
            return base.reference
        recipe = variant.check_local()
        return ensure_local(
            ctx.engine,
            variant,
            base.python,
            opt_level=ctx.config.opt_level,
            target=recipe.builder_target or "musl-builder",
        ).reference
    if variant.family == "debian-full":
        return base.reference
    full = ctx.catalogue.get(_full_sibling(ctx, base))
    return ensure_base(
        ctx.engine,
        full,
        base.python,
        base.source,
        opt_level=ctx.config.opt_level,
        registry_mirror=ctx.config.registry_mirror,
    ).reference


def not_applicable(ctx: RunContext, base: BaseImage, strategy: str) -> str:
    """Why ``strategy`` cannot (or need not) be built on ``base``; "" when it can."""
    variant = ctx.catalogue.get(base.variant)
    if strategy == "single-slim":
        if variant.family == "debian-full":
            return (
                f"{base.variant} is a full image with the compiler already in it: single-slim "
                "applies to slim bases"
            )
        if variant.libc == "musl" and base.source == "local":
            return (
                "the local musl stand-in has no package manager to install and purge a compiler "
                "in one layer (on the official Alpine image: apk add --virtual .build-deps ... "
                "&& apk del .build-deps)"
            )
    if strategy == "single-full" and variant.family == "debian-slim":
        sibling = _full_sibling(ctx, base)
        if any(
            b.variant == sibling and b.python == base.python and b.source == base.source
            for b in ctx.bases
        ):
            return (
                f"single-full builds on the full image: the same image as single-full on "
                f"{base.python}-{sibling}, measured there"
            )
    return ""


def _copy_app(app_dir: Path, target: Path) -> None:
    def ignore(directory: str, names: list[str]) -> list[str]:
        skip = [n for n in names if n in ("__pycache__", ".git") or n.endswith(".pyc")]
        if Path(directory).name == "var":
            skip += [n for n in names if n.startswith("db.sqlite3")]
        return skip

    shutil.copytree(app_dir, target, ignore=ignore, dirs_exist_ok=True)


def prepare_context(ctx: RunContext, where: Path) -> Path:
    """The build context of the strategies: requirements.lock, app/, bb/ (the scripts).

    Bring your own app: with ``requirements`` set, that file replaces the sample app's lock and
    app/ is empty (the image is the requirements installed, a user ``app``, no server).
    """
    context = where / "context"
    if context.exists():
        return context
    app_dir = _resolve(ctx.config.app)
    if ctx.config.requirements:
        requirements = _resolve(ctx.config.requirements)
    else:
        # The sample app pins its tree in requirements.lock; a user's app may only have the
        # usual requirements.txt.
        candidates = [app_dir / "requirements.lock", app_dir / "requirements.txt"]
        requirements = next((c for c in candidates if c.is_file()), candidates[0])
    if not requirements.is_file():
        raise UserError(
            f"no requirements for the built-in strategies: {requirements} does not exist "
            "(give --requirements FILE, or put requirements.txt in the --app folder)"
        )
    context.mkdir(parents=True)
    shutil.copytree(SCRIPTS_DIR, context / "bb")
    shutil.copyfile(requirements, context / "requirements.lock")
    if ctx.config.requirements:
        (context / "app").mkdir()
    else:
        _copy_app(app_dir, context / "app")
    return context


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else PROJECT_ROOT / p


def plan(ctx: RunContext, base: BaseImage, strategy: str, context: Path) -> BuildPlan:
    """Everything one build needs; ``not_applicable`` set instead when it cannot be built."""
    p = BuildPlan(strategy, base, tag=app_tag(ctx, base, strategy))
    p.not_applicable = not_applicable(ctx, base, strategy)
    if p.not_applicable:
        return p
    builder = builder_image(ctx, base)
    p.builder = builder
    args = {"BASE_IMAGE": base.reference, "BUILDER_IMAGE": builder, "PYTHON_VERSION": base.python}
    if strategy == CUSTOM:
        p.dockerfile = str(_resolve(ctx.config.dockerfile))
        p.context = str(_resolve(ctx.config.app))
    else:
        dockerfile = STRATEGIES_DIR / f"{strategy}.Dockerfile"
        if not dockerfile.is_file():
            known = ", ".join(sorted(f.stem for f in STRATEGIES_DIR.glob("*.Dockerfile")))
            raise UserError(f"unknown build strategy {strategy!r}; strategies: {known}, custom")
        if strategy == "single-full":
            # One stage on the full image (the builder); on a full base that is the base itself.
            args["BASE_IMAGE"] = builder
        p.dockerfile = str(dockerfile)
        p.context = str(context)
    p.build_args = args
    return p


# --------------------------------------------------------------------------------------------
# Running the timed builds through pytest-benchmark
# --------------------------------------------------------------------------------------------


def work_item(ctx: RunContext, p: BuildPlan) -> dict[str, Any]:
    return {
        "id": p.id,
        "strategy": p.strategy,
        "tag": p.tag,
        "dockerfile": p.dockerfile,
        "context": p.context,
        "build_args": p.build_args,
        "builder": p.builder,
        "base": p.base.reference,
        "rounds": ctx.config.rounds,
        "tags": ctx.tags(p.base, strategy=p.strategy).as_dict(),
    }


def work_file_payload(ctx: RunContext, items: Sequence[dict[str, Any]], outcomes: Path) -> Any:
    network = ctx.engine.network
    return {
        "run_id": ctx.engine.run_id,
        "log_dir": str(ctx.engine.log_dir.resolve()),
        "network": network.mode,
        "ca_bundle": str(network.ca_bundle.path) if network.ca_bundle else "",
        "ca_origin": network.ca_bundle.origin if network.ca_bundle else "",
        "outcomes": str(outcomes),
        "items": list(items),
    }


def run_benchmarks(
    ctx: RunContext, items: Sequence[dict[str, Any]], workdir: Path
) -> tuple[Path | None, dict[str, dict[str, Any]]]:
    """Run benchmarks/bench_builds.py on ``items``: (pytest-benchmark JSON, outcomes by id)."""
    work = workdir / "work.json"
    outcomes = workdir / "outcomes.jsonl"
    out = workdir / "bench-builds.json"
    work.write_text(json.dumps(work_file_payload(ctx, items, outcomes), indent=2))
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(BENCH_FILE),
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "--rootdir",
        str(BENCHMARKS_DIR),
        f"--benchmark-json={out}",
        "--benchmark-disable-gc",
    ]
    env = {**os.environ, WORK_ENV: str(work)}
    proc = subprocess.run(cmd, env=env, cwd=str(PROJECT_ROOT), check=False)
    results: dict[str, dict[str, Any]] = {}
    if outcomes.exists():
        for line in outcomes.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                results[record["id"]] = record
    if proc.returncode not in (0, 1) and not results:
        raise UserError(f"pytest on {BENCH_FILE} failed (exit {proc.returncode}); see above")
    return (out if out.exists() else None), results


# Images built in this process: (run id, base reference, strategy) -> tag.
_BUILT: dict[tuple[str, str, str], str] = {}


def _register(ctx: RunContext, p: BuildPlan) -> None:
    _BUILT[(ctx.run.run_id, p.base.reference, p.strategy)] = p.tag
    ctx.add_image(
        ImageUnderTest(role=f"app:{p.strategy}", reference=p.tag, base=p.base, strategy=p.strategy)
    )


def _tags_row(ctx: RunContext, p: BuildPlan, metric: str, detail: str) -> Measurement:
    return Measurement(
        GROUP, p.strategy, metric, "", [1.0], ctx.tags(p.base, strategy=p.strategy), detail
    )


def measure(ctx: RunContext) -> None:
    names = strategies(ctx)
    workdir = Path(tempfile.mkdtemp(prefix="builds-", dir=_workroot(ctx)))
    # A user's own Dockerfile builds from --app as it is; only our strategies need the context.
    context = workdir
    if any(name != CUSTOM for name in names):
        try:
            context = prepare_context(ctx, workdir)
        except UserError as exc:
            ctx.fail(GROUP, "built-in strategies", exc)
            names = [name for name in names if name == CUSTOM]
    rows: list[Measurement] = []
    plans: list[BuildPlan] = []
    # Strategy-major order: the variants are interleaved, so drift on a noisy machine spreads
    # over all of them instead of favouring the first.
    for strategy in names:
        for base in ctx.bases:
            try:
                p = plan(ctx, base, strategy, context)
            except UserError as exc:
                ctx.fail(GROUP, f"{strategy} on {ctx.label(base)}", exc)
                continue
            if p.not_applicable:
                ctx.say(
                    f"build {strategy} on {ctx.label(base)}: not applicable ({p.not_applicable})"
                )
                rows.append(_tags_row(ctx, p, "not_applicable", p.not_applicable))
                continue
            plans.append(p)
    if plans:
        with ctx.step(GROUP, f"{len(plans)} cold builds x {ctx.config.rounds} round(s)"):
            bench_json, outcomes = run_benchmarks(ctx, [work_item(ctx, p) for p in plans], workdir)
        if bench_json is not None:
            ctx.run.add_pytest_benchmark_file(bench_json, "build")
        for p in plans:
            outcome = outcomes.get(p.id)
            if outcome and outcome.get("image_id"):
                _register(ctx, p)
                continue
            message = (outcome or {}).get("error") or "the build did not report (see above)"
            ctx.fail(GROUP, f"{p.strategy} on {ctx.label(p.base)}", message)
            rows.append(_tags_row(ctx, p, "failed", last_line(message)))
    if rows:
        ctx.run.write_measurements("build-status", rows)


def last_line(message: str) -> str:
    """The last non-empty line of a build failure before the "full log:" pointer."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("full log:")]
    return lines[-1] if lines else message


def _workroot(ctx: RunContext) -> Path:
    root = ctx.run.logs_dir
    root.mkdir(parents=True, exist_ok=True)
    return root


def ensure_app_image(ctx: RunContext, base: BaseImage, strategy: str = "multistage") -> str:
    """An app image of ``strategy`` on ``base``: the one this run built, else built now.

    Built now (for the runtime/HTTP groups) means a plain build with the layer cache allowed:
    not timed, not a measurement. Raises UserError when the strategy does not apply to the base
    or the build fails.
    """
    key = (ctx.run.run_id, base.reference, strategy)
    if key in _BUILT and ctx.engine.image_exists(_BUILT[key]):
        return _BUILT[key]
    workdir = Path(tempfile.mkdtemp(prefix=f"app-{strategy}-", dir=_workroot(ctx)))
    p = plan(ctx, base, strategy, prepare_context(ctx, workdir))
    if p.not_applicable:
        raise UserError(f"{strategy} on {ctx.label(base)} is not applicable: {p.not_applicable}")
    if not ctx.engine.image_exists(p.tag):
        try:
            ctx.engine.build(
                Path(p.context),
                tag=p.tag,
                kind="app",
                dockerfile=Path(p.dockerfile),
                build_args=p.build_args,
                labels={"org.basebench.strategy": strategy},
                log_name=f"app-{p.id}",
            )
        except BuildFailed:
            raise
    _register(ctx, p)
    return p.tag
