from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors
import requests.exceptions
from rich.console import Console
from rich.markup import escape

from basebench import lock
from basebench.bases import BaseImage, ensure_base, resolve_base_source
from basebench.budget import Budget, CostEstimates, GroupCost, cost_signature, parse_duration
from basebench.checkpoints import config_changes, image_changes, missing
from basebench.config import PREFERENCES, PYPERF_MODES, Config, load_config
from basebench.engine import Engine
from basebench.errors import EngineLost, UserError
from basebench.groups import GROUP_NAMES, GROUPS, load
from basebench.hostinfo import host_metadata
from basebench.index_check import check_index
from basebench.measure._context import Failure, Injection, RunContext
from basebench.measure._overhead import Ledger, accounting, timed_seconds
from basebench.measure._progress import ConsoleObserver, Progress
from basebench.netconf import NETWORK_MODES, network_settings
from basebench.paths import RESULTS_DIR, resolve
from basebench.preflight import Problems
from basebench.results import ResultStore, Run, finish_run, now, read_run_meta
from basebench.shards import Cell, Shard, machine_id, matrix_id, shard_cells
from basebench.stopping import Stopped
from basebench.variants import BASE_SOURCES, OPT_LEVELS, Catalogue, load_catalogue

HELP = "the main job: get the base images, run the benchmark groups, write results and a report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="profile in benchmarks/basebench.toml (default: quick)")
    parser.add_argument("--config", type=Path, help="another configuration file")
    parser.add_argument("--python", action="append", dest="pythons", help="e.g. 3.13 (repeat)")
    parser.add_argument("--variant", action="append", dest="variants", help="e.g. slim-trixie")
    parser.add_argument("--group", action="append", dest="groups", choices=GROUP_NAMES)
    parser.add_argument(
        "--workload", action="append", dest="workloads", help="runtime workload (repeat)"
    )
    parser.add_argument("--base-source", choices=BASE_SOURCES)
    parser.add_argument("--registry-mirror", help="prefix for python:* image references")
    parser.add_argument("--opt-level", choices=OPT_LEVELS, help="local CPython builds")
    parser.add_argument("--baseline", dest="baseline_variant", help="variant ratios refer to")
    parser.add_argument("--prefer", choices=PREFERENCES, help="the recommendation's rule")
    parser.add_argument("--rounds", type=int, help="rounds of timed builds")
    parser.add_argument(
        "--time-budget",
        metavar="DURATION",
        help="e.g. 15m or 1h: decide each group's rounds to fit (quick's default 15m; 'none' "
        "for the configured rounds); the report says what each group got and why",
    )
    parser.add_argument("--pyperf-mode", choices=PYPERF_MODES)
    parser.add_argument("--cpuset", help="CPUs for in-container timings, e.g. 1 or 0-1")
    parser.add_argument(
        "--cpus", type=float, help="CPU quota of measured containers (docker run --cpus)"
    )
    parser.add_argument(
        "--requirements",
        type=Path,
        help="your application's requirements file (bring your own app): the install group "
        "measures it alone, with its resolved set per base and the whole set installed together",
    )
    parser.add_argument(
        "--with-reference-set",
        action="store_true",
        default=None,
        help="with --requirements: measure the built-in install set (benchmarks/packages.txt) too",
    )
    parser.add_argument(
        "--dockerfile", type=Path, help="your own Dockerfile taking ARG BASE_IMAGE (with --app)"
    )
    parser.add_argument("--app", type=Path, help="build context of your application")
    parser.add_argument("--ca-bundle", metavar="PATH", help="CA bundle for pip behind a proxy")
    parser.add_argument(
        "--network",
        choices=NETWORK_MODES,
        help="how builds and downloads reach the package index (default from config: auto, "
        "see benchmarks/basebench.toml); measured workloads never get a network",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="results folder")
    parser.add_argument("--no-report", action="store_true", help="skip the report at the end")
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="measure shard I of N of the matrix (the baseline in every shard); merge the "
        "shards' run folders with `basebench report`",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="refuse (exit 2) instead of waiting when another run holds this engine's lock",
    )
    parser.add_argument(
        "--resume",
        metavar="RUN",
        help="measure only what an interrupted run (a run id or its folder) is missing, into "
        "that run; refused when its configuration or base images changed",
    )
    parser.add_argument(
        "--no-index-check",
        action="store_true",
        help="do not ask the package index whether --requirements' projects exist (offline)",
    )


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    overrides: dict[str, object] = {}
    for name in (
        "pythons",
        "variants",
        "groups",
        "workloads",
        "base_source",
        "registry_mirror",
        "opt_level",
        "baseline_variant",
        "prefer",
        "rounds",
        "time_budget",
        "pyperf_mode",
        "cpuset",
        "cpus",
        "network",
        "with_reference_set",
    ):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    for name in ("requirements", "dockerfile", "app"):
        path = getattr(args, name)
        if path is not None:  # checked with everything else by config.load_config
            overrides[name] = str(path.resolve())
    return overrides


def _bases(
    console: Console,
    engine: Engine,
    config: Config,
    catalogue: Catalogue,
    source: str,
    cells: list[Cell] | None = None,
) -> tuple[list[BaseImage], list[Failure]]:
    bases: list[BaseImage] = []
    failures: list[Failure] = []
    wanted = {(p, v) for p, v, _ in cells} if cells is not None else None
    for python in config.pythons:
        for name in config.variants:
            if wanted is not None and (python, name) not in wanted:
                continue  # another shard's
            console.print(f"base image {python}-{name} ({source})…")
            try:
                bases.append(
                    ensure_base(
                        engine,
                        catalogue.get(name),
                        python,
                        source,
                        opt_level=config.opt_level,
                        registry_mirror=config.registry_mirror,
                    )
                )
            except UserError as exc:
                failures.append(Failure("base", f"{python}-{name}", str(exc)))
                console.print(f"[red]FAILED[/red] base image {python}-{name}: {exc}")
    return bases, failures


def _measure(ctx: RunContext, cells: list[Cell] | None = None) -> None:
    harness: dict[str, Any] = dict(ctx.run.meta().get("harness") or {})
    for group in GROUPS:  # in the registry's order, whatever order the profile lists them
        if group.name not in ctx.config.groups:
            continue
        mine = {(p, v) for p, v, g in cells or [] if g == group.name}
        if cells is not None and not mine:
            continue  # no cell of this group in this shard

        def in_shard(base: BaseImage, mine: set[tuple[str, str]] = mine) -> bool:
            return cells is None or (base.python, base.variant) in mine

        checkpoints = ctx.checkpoints(group.name)
        if checkpoints.finished:
            # Measured before the run was interrupted (--resume): only what later groups
            # need of it (the build group's app images) is restored.
            ctx.say(f"{group.name}: finished before the interruption, not measured again")
            if group.restore:
                with ctx.only(in_shard):
                    load(group.restore)(ctx)
            continue
        if ctx.budget is not None and not ctx.budget.admits(group.name):
            ctx.say(f"[yellow]{group.name}[/yellow]: {ctx.budget.groups[group.name].stopped}")
            ctx.run.update_meta(budget=ctx.budget.as_dict())
            continue
        ctx.ledger.group = group.name
        before = set(ctx.run.measurements_dir.glob("*.json"))
        failures_before = len(ctx.failures)
        ended = False  # the group ended by itself (not stopped by a signal or a lost engine)
        start = time.perf_counter()
        try:
            with ctx.only(in_shard):
                load(group.measure)(ctx)
            ended = True
        except UserError as exc:
            ctx.fail(group.name, "group", exc)
        except UNFORESEEN as exc:
            _unforeseen(ctx, group.name, exc)
        finally:
            # What the group timed against its wall time: the harness's own share (run.json).
            wall = time.perf_counter() - start
            timed = timed_seconds(set(ctx.run.measurements_dir.glob("*.json")) - before)
            harness[group.name] = accounting(wall, timed, ctx.ledger.untimed.get(group.name, {}))
            ctx.run.update_meta(harness=harness)
            if ctx.budget is not None:
                # A failed or stopped group's cost is not what it costs: not kept.
                typical = ended and len(ctx.failures) == failures_before
                ctx.budget.group_done(group.name, wall, representative=typical)
                ctx.run.update_meta(budget=ctx.budget.as_dict())
        checkpoints.finish()


#: What a group may raise that no handler of one measurement foresaw: a full disk, an engine
#: error outside :meth:`Engine.run`, a value a tool printed wrong. The group is recorded as
#: failed and the run goes on with the next one.
UNFORESEEN = (
    OSError,
    ValueError,
    docker.errors.DockerException,
    requests.exceptions.RequestException,
)


def _unforeseen(ctx: RunContext, group: str, exc: BaseException) -> None:
    """A group's unforeseen error: a failure of that group, unless the engine has gone."""
    if not ctx.engine.answers():
        raise EngineLost(f"the Docker engine stopped answering ({group}: {exc})") from None
    ctx.fail(group, "group", f"{type(exc).__name__}: {exc}")


@dataclass
class Plan:
    """What one run measures, beyond its configuration (``basebench validate`` shapes it)."""

    #: Turns the base images of the configuration into the list the run measures.
    shape_bases: Callable[[list[BaseImage]], list[BaseImage]] = list
    #: Known slowdowns by variant name.
    injections: dict[str, Injection] = field(default_factory=dict)
    #: Extra facts for run.json (what the run is for).
    meta: dict[str, Any] = field(default_factory=dict)
    #: ``--shard I/N``: the shard and the cells it measures (None: the whole matrix).
    shard: Shard | None = None
    cells: list[Cell] | None = None


def measure_run(
    config: Config,
    catalogue: Catalogue,
    engine: Engine,
    results: Path,
    console: Console,
    plan: Plan | None = None,
) -> tuple[Run, list[Failure]]:
    """A new run folder under ``results``: base images, every group, host probes, status."""
    plan = plan or Plan()
    run_ = ResultStore(results).create_run(
        config=config.as_dict(), host=host_metadata(engine.server_info())
    )
    console.print(f"run [bold]{run_.run_id}[/bold] → {run_.dir}")
    console.print(engine.network.why)
    run_.update_meta(network={"mode": engine.network.mode, "why": engine.network.why})
    if plan.meta:
        run_.update_meta(**plan.meta)
    run_.update_meta(
        matrix_id=matrix_id(config),
        machine_id=machine_id(run_.meta()["host"]),
        shard=str(plan.shard) if plan.shard else None,
        cells=[list(cell) for cell in plan.cells] if plan.cells is not None else None,
    )
    return _measure_into(run_, config, catalogue, engine, console, plan)


def resume_run(
    run_dir: Path, config: Config, catalogue: Catalogue, engine: Engine, console: Console
) -> tuple[Run, list[Failure]]:
    """Measure what an interrupted run is missing, into its own folder (``--resume``)."""
    run_ = Run(run_dir)
    meta = run_.meta()
    refuse_resume(meta, config, engine)
    run_.reopen()
    console.print(f"run [bold]{run_.run_id}[/bold] → {run_.dir} (resumed)")
    plan = Plan()
    if meta.get("shard"):
        plan.shard = Shard.parse(str(meta["shard"]))
    if meta.get("cells") is not None:
        plan.cells = [(str(p), str(v), str(g)) for p, v, g in meta["cells"]]
    earlier = [Failure(**f) for f in meta.get("failures") or [] if isinstance(f, dict)]
    return _measure_into(
        run_,
        config,
        catalogue,
        engine,
        console,
        plan,
        source=meta.get("base_source"),
        failures=earlier,
    )


def refuse_resume(meta: dict[str, Any], config: Config, engine: Engine) -> None:
    """Exit 2 with one line when ``meta``'s run cannot be resumed as it is asked."""
    run_id = meta.get("run_id", "?")
    if meta.get("finished") and str(meta.get("status", "")).startswith("finished"):
        raise UserError(f"run {run_id} is {meta.get('status')}: nothing to resume")
    problems = config_changes(meta.get("config") or {}, config.as_dict())
    problems += image_changes(meta.get("images") or {}, lambda ref: _image_id(engine, ref))
    if problems:
        raise UserError(
            f"cannot resume run {run_id}: {'; '.join(problems)} since it was interrupted "
            "(its rounds would not compare); start a new run"
        )


def _image_id(engine: Engine, reference: str) -> str | None:
    """The id of the image ``reference`` names on the engine now (None: no such image)."""
    if not engine.image_exists(reference):
        return None
    return str(engine.inspect_image(reference)["Id"])


def _measure_into(
    run_: Run,
    config: Config,
    catalogue: Catalogue,
    engine: Engine,
    console: Console,
    plan: Plan,
    *,
    source: str | None = None,
    failures: list[Failure] | None = None,
) -> tuple[Run, list[Failure]]:
    """Base images, every group not yet finished, host probes and the status, into ``run_``;
    ``source``: the base source a resumed run already chose."""
    engine.run_id = run_.run_id
    lock.note_run(run_.run_id)  # for the message of a run that waits for this one
    engine.log_dir = run_.logs_dir
    progress = Progress(console)
    ledger = Ledger()
    engine.observer = ConsoleObserver(progress, ledger=ledger)
    failures = list(failures or [])
    status = "interrupted"  # what run.json says if Ctrl-C or a crash ends the run early
    ctx: RunContext | None = None
    try:
        recorded = run_.meta().get("images") or {}
        resuming = source is not None
        if source is None:
            source, why = _base_source(console, engine, config, catalogue)
            run_.update_meta(base_source=source, base_source_reason=why)
        bases, base_failures = _bases(console, engine, config, catalogue, source, plan.cells)
        failures += base_failures
        bases = plan.shape_bases(bases)
        if resuming and recorded:  # (stopped before any base was had: nothing to compare)
            _as_recorded(bases, recorded)
        # A second name for one image (validate's twins) adds no image.
        run_.update_meta(images={b.reference: b.metadata() for b in bases if not b.alias_of})
        if not bases:
            raise UserError("no base image could be had; nothing to measure")
        ctx = RunContext(engine, run_, config, catalogue, bases, failures=failures, ledger=ledger)
        ctx.progress = progress
        if config.time_budget:
            # Counted from here: base images a first run has to build are not measuring.
            ctx.budget = make_budget(config, bases, plan.cells)
            ctx.say(
                f"time budget {config.time_budget}: rounds decided as the run goes "
                f"(see the report's Conditions); {ctx.budget.seconds:.0f} s from now"
            )
        ctx.injections = dict(plan.injections)
        ctx.enable_container_probe()
        _measure(ctx, plan.cells)
        status = "finished" if not failures else "finished with failures"
    except KeyboardInterrupt as exc:
        # Ctrl-C, SIGTERM or SIGHUP (basebench.stopping): say what stopped the run, when and
        # in which step, and what it had not measured yet; the cleanup blocks on the way up
        # have removed its containers.
        step = ctx.progress.current if ctx is not None else "base images"
        signal_name = exc.name if isinstance(exc, Stopped) else "SIGINT"
        left = missing(run_.dir, _groups_of(config, plan.cells), _cell_labels(config, plan.cells))
        run_.update_meta(
            interrupted={"signal": signal_name, "at": now(), "step": step, "missing": left}
        )
        raise
    except EngineLost as exc:
        status = "engine lost"
        step = ctx.progress.current if ctx is not None else "base images"
        left = missing(run_.dir, _groups_of(config, plan.cells), _cell_labels(config, plan.cells))
        run_.update_meta(
            engine_lost={"at": now(), "step": step, "message": str(exc), "missing": left}
        )
        raise EngineLost(f"{exc}; the run ended there, what it measured is in {run_.dir}") from None
    finally:
        if ctx is not None:
            # Even after Ctrl-C: the probes describe the part of the run that did finish.
            ctx.host_probe.write(run_)
        unique = {tuple(f.as_dict().values()): f.as_dict() for f in failures}
        finish_run(run_, status=status, failures=list(unique.values()))
    return run_, failures


def make_budget(config: Config, bases: list[BaseImage], cells: list[Cell] | None) -> Budget:
    """The run's time budget: its groups in the order they run, their least rounds, and
    first guesses of their cost scaled to the number of base images."""
    order = _groups_of(config, cells)
    registry = {g.name: g for g in GROUPS}
    least = {
        name: load(registry[name].rounds)(config).least if registry[name].rounds else 1
        for name in order
    }
    count = max(1, len(bases))
    guess = {
        name: GroupCost(
            registry[name].guess_per_base[0] * count, registry[name].guess_per_base[1] * count
        )
        for name in order
    }
    return Budget(
        parse_duration(config.time_budget),
        order,
        cost_signature(config.as_dict()),
        least,
        guess,
        precision=config.precision,
    )


def _as_recorded(bases: list[BaseImage], recorded: dict[str, Any]) -> None:
    """Resumed: the bases must be the images the run measured before its interruption (a
    base it had pulled was pulled again, a local one may have been rebuilt)."""
    changed = image_changes(
        {b.reference: recorded[b.reference] for b in bases if b.reference in recorded},
        {b.reference: b.image_id for b in bases}.get,
    )
    changed += [f"base image {b.reference} is new" for b in bases if b.reference not in recorded]
    if changed:
        raise UserError(f"cannot resume: {'; '.join(changed)} since the run was interrupted")
    for base in bases:
        # An image the run pulled before its interruption is here now, but it is still the
        # run's own to pull again (not a user's).
        base.pulled = base.pulled or bool(recorded[base.reference].get("pulled_by_basebench"))


def _base_source(
    console: Console, engine: Engine, config: Config, catalogue: Catalogue
) -> tuple[str, str]:
    """(source, why) of a new run's base images, said on the console."""
    reference_to_try = catalogue.get(config.variants[0]).official_reference(
        config.pythons[0], config.registry_mirror
    )
    source, why = resolve_base_source(engine, config.base_source, reference_to_try)
    style = "bold yellow" if source == "local" else "bold green"
    console.print(f"[{style}]base images: {source.upper()}[/{style}] — {why}")
    return source, why


def _groups_of(config: Config, cells: list[Cell] | None) -> list[str]:
    """The run's groups in the order they run (a shard's own only)."""
    wanted = {g for _, _, g in cells} if cells is not None else set(config.groups)
    return [g.name for g in GROUPS if g.name in config.groups and g.name in wanted]


def _cell_labels(config: Config, cells: list[Cell] | None) -> list[str]:
    """``python-variant`` of every base the run measures."""
    if cells is not None:
        return list(dict.fromkeys(f"{p}-{v}" for p, v, _ in cells))
    return [f"{p}-{v}" for p in config.pythons for v in config.variants]


def load_run_config(args: argparse.Namespace, catalogue: Catalogue) -> Config:
    kwargs = {"path": args.config} if args.config else {}
    return load_config(args.profile or "quick", _overrides(args), catalogue=catalogue, **kwargs)


def invocation(args: argparse.Namespace) -> dict[str, Any]:
    """How the run's configuration was asked for (run.json), so that --resume asks again."""
    return {
        "profile": args.profile or "quick",
        "config": str(args.config.resolve()) if args.config else None,
        "overrides": _overrides(args),
    }


def resumed_config(args: argparse.Namespace, meta: dict[str, Any], catalogue: Catalogue) -> Config:
    """The configuration of ``--resume``: the interrupted run's own flags when none are given
    (its invocation in run.json), else the flags given (refused later if they differ)."""
    asked = meta.get("invocation")
    if not isinstance(asked, dict) or args.profile or args.config or _overrides(args):
        return load_run_config(args, catalogue)
    kwargs = {"path": Path(asked["config"])} if asked.get("config") else {}
    return load_config(
        str(asked["profile"]), dict(asked["overrides"]), catalogue=catalogue, **kwargs
    )


def find_run(name: str, results: Path) -> Path:
    """The folder of run ``name``: a path to it, or a run id under ``results``."""
    for candidate in (Path(name), results / name):
        if (candidate / "run.json").is_file():
            return candidate.resolve()
    raise UserError(f"--resume {name}: no run folder there or under {results} (a run id or path)")


def engine_lock(
    args: argparse.Namespace, console: Console
) -> AbstractContextManager[lock.EngineLock]:
    """This engine's lock for ``run``/``validate``: waits with a message, or --no-wait refuses."""
    command = getattr(args, "command", "run")
    return lock.engine_lock(command, wait=not args.no_wait, on_wait=console.print)


def check_requirements_on_index(config: Config) -> None:
    """Every project of the team's file has a matching release for each Python (exit 2 and a
    line per problem otherwise), before the engine is asked for anything."""
    problems = Problems()
    path = resolve(config.requirements)
    for line in check_index(path, config.pythons, "--requirements"):
        problems.add(line + " (fix the line, or --no-index-check to skip this check)")
    problems.raise_if_any()


def run(args: argparse.Namespace) -> int:
    catalogue = load_catalogue()
    if getattr(args, "resume", None):
        return _resume(args, catalogue)
    config = load_run_config(args, catalogue)  # every input checked before anything else
    if config.requirements and not args.no_index_check:
        check_requirements_on_index(config)
    plan = Plan(meta={"invocation": invocation(args)})
    if args.shard:
        plan.shard = Shard.parse(args.shard)
        plan.cells = shard_cells(config, plan.shard)
    console = Console(highlight=False)
    with engine_lock(args, console):
        return _run(args, config, catalogue, console, plan)


def _resume(args: argparse.Namespace, catalogue: Catalogue) -> int:
    run_dir = find_run(args.resume, args.results)
    config = resumed_config(args, read_run_meta(run_dir), catalogue)
    console = Console(highlight=False)
    with engine_lock(args, console):
        engine = Engine(network=network_settings(config.network, args.ca_bundle))
        run_, failures = resume_run(run_dir, config, catalogue, engine, console)
        return _conclude(args, run_, failures, console)


def _run(
    args: argparse.Namespace, config: Config, catalogue: Catalogue, console: Console, plan: Plan
) -> int:
    engine = Engine(
        network=network_settings(config.network, args.ca_bundle), ceiling=config.ceiling
    )
    run_, failures = measure_run(config, catalogue, engine, args.results, console, plan)
    return _conclude(args, run_, failures, console)


def _conclude(
    args: argparse.Namespace, run_: Run, failures: list[Failure], console: Console
) -> int:
    """The report (unless --no-report), the failures, the folder; the exit code."""
    if not args.no_report:
        from basebench.report import make_report
        from basebench.report.doc import markdown_table

        start = time.perf_counter()
        report = make_report([run_.dir])
        signature = (run_.meta().get("budget") or {}).get("signature")
        if signature:  # the next budgeted run sets this much aside for its report
            CostEstimates().record(
                "report", str(signature), GroupCost(time.perf_counter() - start, 0.0)
            )
        print(markdown_table(report.summary))
        console.print(f"report: {report.markdown}")
    for failure in failures:
        first = failure.message.splitlines()[0] if failure.message else ""
        console.print(f"[red]failed[/red] {failure.group} {escape(failure.what)}: {escape(first)}")
    console.print(f"results: {run_.dir}")
    return 0 if not failures else 1
