"""App images: the application built with one strategy on one base.

:func:`plan` decides everything one build needs (Dockerfile, context, build arguments) or why
the strategy does not apply (images/strategies/strategies.toml, read by
:mod:`basebench.measure._strategies`); the build group times the plans, and
:func:`ensure_app_image` hands the runtime/HTTP groups the image this run built, or builds it.

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

A strategy whose final stage runs on the builder (``runs_on = "builder"``) gets the builder as
BASE_IMAGE too.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from basebench.bases import BaseImage, ensure_base, ensure_builder
from basebench.errors import UserError
from basebench.measure._build_work import WorkItem
from basebench.measure._context import ImageUnderTest, RunContext
from basebench.measure._strategies import (
    CUSTOM,
    STRATEGIES_DIR,
    Strategy,
    custom_strategy,
    full_sibling,
    load_strategies,
)
from basebench.paths import IMAGES_DIR, resolve
from basebench.variants import tag_part

SCRIPTS_DIR = STRATEGIES_DIR / "scripts"
# Every apt step of every recipe goes through this one helper (it says why), so the scripts
# that install distribution packages get a copy of it next to them.
APT_SOURCES = IMAGES_DIR / "local" / "apt-sources.sh"
APP_REPOSITORY = "basebench/app"


def stage_scripts(dest: Path) -> Path:
    """The strategies' scripts and the apt helper in ``dest`` (made once; returned)."""
    if not (dest / APT_SOURCES.name).is_file():
        shutil.copytree(SCRIPTS_DIR, dest, dirs_exist_ok=True)
        shutil.copyfile(APT_SOURCES, dest / APT_SOURCES.name)
    return dest


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


def strategy_named(ctx: RunContext, name: str) -> Strategy:
    """A built-in strategy, or the user's Dockerfile; UserError for an unknown name."""
    if name == CUSTOM:
        return custom_strategy(resolve(ctx.config.dockerfile))
    return load_strategies().get(name)


def app_tag(ctx: RunContext, base: BaseImage, strategy: str) -> str:
    run = re.sub(r"[^a-z0-9_.-]+", "-", ctx.run.run_id.lower())
    variant = tag_part(base.variant)
    return f"{APP_REPOSITORY}:{base.python}-{variant}-{base.source}-{strategy}-{run}"[:128]


def builder_image(ctx: RunContext, base: BaseImage) -> str:
    """The image a strategy compiles on for ``base`` (see the module docstring)."""
    variant = ctx.catalogue.get(base.catalogue_name)
    if variant.libc == "musl":
        if base.source == "official":
            return base.reference
        engine, opt_level = ctx.engine, ctx.config.opt_level
        return ensure_builder(engine, variant, base.python, opt_level=opt_level).reference
    if variant.family == "debian-full":
        return base.reference
    full = ctx.catalogue.get(full_sibling(base.catalogue_name))
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
    variant = ctx.catalogue.get(base.catalogue_name)
    return strategy_named(ctx, strategy).why_not(variant, base, ctx.bases)


def _copy_app(app_dir: Path, target: Path) -> None:
    def ignore(directory: str, names: list[str]) -> list[str]:
        skip = [n for n in names if n in ("__pycache__", ".git") or n.endswith(".pyc")]
        # The sample app's SQLite database is made in the image (app-setup.sh), never copied.
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
    app_dir = resolve(ctx.config.app)
    if ctx.config.requirements:
        requirements = resolve(ctx.config.requirements)
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
    stage_scripts(context / "bb")
    shutil.copyfile(requirements, context / "requirements.lock")
    if ctx.config.requirements:
        (context / "app").mkdir()
    else:
        _copy_app(app_dir, context / "app")
    return context


def plan(ctx: RunContext, base: BaseImage, strategy: str, context: Path) -> BuildPlan:
    """Everything one build needs; ``not_applicable`` set instead when it cannot be built."""
    spec = strategy_named(ctx, strategy)
    p = BuildPlan(strategy, base, tag=app_tag(ctx, base, strategy))
    p.not_applicable = spec.why_not(ctx.catalogue.get(base.catalogue_name), base, ctx.bases)
    if p.not_applicable:
        return p
    p.builder = builder_image(ctx, base)
    runner = p.builder if spec.runs_on == "builder" else base.reference
    p.build_args = {
        "BASE_IMAGE": runner,
        "BUILDER_IMAGE": p.builder,
        "PYTHON_VERSION": base.python,
        **ctx.injection(base).build_args(),
    }
    p.dockerfile = str(spec.dockerfile)
    # The user's Dockerfile builds from --app as it is; ours from the prepared context.
    p.context = str(resolve(ctx.config.app) if strategy == CUSTOM else context)
    return p


def work_item(ctx: RunContext, p: BuildPlan) -> WorkItem:
    return WorkItem(
        id=p.id,
        strategy=p.strategy,
        tag=p.tag,
        dockerfile=p.dockerfile,
        context=p.context,
        build_args=p.build_args,
        builder=p.builder,
        base=p.base.reference,
        rounds=ctx.config.rounds,
        tags=ctx.tags(p.base, strategy=p.strategy).as_dict(),
    )


def scratch_dir(ctx: RunContext, prefix: str) -> Path:
    """A new folder under the run's logs/: build contexts and work files stay with the run."""
    root = ctx.run.logs_dir
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))


def register_app_image(ctx: RunContext, p: BuildPlan) -> None:
    """Remember the built image for ensure_app_image and hand it to later groups (size...)."""
    ctx.app_images[(p.base.reference, p.strategy)] = p.tag
    ctx.add_image(
        ImageUnderTest(
            role=f"app:{p.strategy}",
            reference=p.tag,
            base=p.base,
            strategy=p.strategy,
            runs_on=p.build_args.get("BASE_IMAGE", ""),
        )
    )


def ensure_app_image(ctx: RunContext, base: BaseImage, strategy: str) -> str:
    """An app image of ``strategy`` on ``base``: the one this run built, else built now.

    Built now (for the runtime/HTTP groups) means a plain build with the layer cache allowed:
    not timed, not a measurement. Raises UserError when the strategy does not apply to the base
    or the build fails.
    """
    built = ctx.app_images.get((base.reference, strategy))
    if built and ctx.engine.image_exists(built):
        return built
    p = plan(ctx, base, strategy, prepare_context(ctx, scratch_dir(ctx, f"app-{strategy}-")))
    if p.not_applicable:
        raise UserError(f"{strategy} on {ctx.label(base)} is not applicable: {p.not_applicable}")
    if not ctx.engine.image_exists(p.tag):
        work_item(ctx, p).build(ctx.engine, log_name=f"app-{p.id}")
    register_app_image(ctx, p)
    return p.tag
