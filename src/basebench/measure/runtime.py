"""Runtime group: the pyperf workloads of benchmarks/runtime, inside each base image.

Axes: base image (variant, Python, libc, compile flags) x allocator. The allocators are CPython's
default (``pymalloc``), ``PYTHONMALLOC=malloc`` (libc malloc only), ``PYTHONMALLOC=mimalloc``
(3.13+ builds that have it) and, where the workload image has them, jemalloc or mimalloc
replacing the libc malloc by ``LD_PRELOAD`` under pymalloc (``pymalloc+jemalloc``,
``pymalloc+mimalloc``). Only what a probe inside the image shows to work is measured.

pyperf inside containers, done so that variants compare fairly on a noisy shared machine:

- every container of a variant has the same hostname (``basebench-<python>-<variant>``), so
  pyperf's metadata agree and the runs of one variant merge into one file;
- the same CPU set for every variant: ``--cpuset-cpus`` on the container and pyperf's own
  ``--affinity`` with the same CPUs (the workers are pinned too). A workload gets as many
  CPUs as it has workers running at once (the manifest's ``cpus``): the configured cpuset
  first, then the engine's other CPUs in order (``workload_cpuset``), so a 2-thread workload
  really runs 2 threads at once; one needing more CPUs than the engine has is not run. The
  set of each workload is in its pyperf file (``basebench_cpuset``) and in run.json
  (``runtime_cpus``), where the report reads it;
- variants interleaved: pyperf's worker processes are split into rounds; each round runs every
  (workload, variant, allocator) once, in an order rotated each round, with a few processes and
  ``--append`` into one JSON per (workload, variant, allocator). The first round calibrates the
  loops; later rounds reuse them (``--loops``), so every value of a file is comparable;
- warmups as pyperf does them (one warmup value per process);
- pyperf's stability check (``python -m pyperf check``) is run on each merged file; its
  warnings go into the file's metadata (``basebench_pyperf_warnings``) and the run's logs,
  where each invocation's own output is kept too.

A round (one container) is the unit of replication: values of one container share its state
(its page cache, its CPU phase on a shared host) and differ less than values of two containers.
So every mode runs at least four rounds, enough for a test between two variants, and the file
records which runs each round added (``basebench_round_runs``). "quick" is 4 rounds x 1
process x 3 values (the least a test can use, for a time budget), "fast" is about pyperf's
``--fast`` (4 rounds x 3 processes x 2 values), "default" pyperf's defaults (20 x 3) and
"rigorous" those of ``--rigorous`` (40 x 3): pyperf's ``--fast`` and ``--rigorous`` override
``--processes``, so the counts are passed explicitly, split into rounds. Peak RSS per worker is
pyperf's ``mem_max_rss`` run metadata.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.markup import escape

from basebench.budget import RoundRange
from basebench.checkpoints import GroupCheckpoints
from basebench.config import Config
from basebench.cpus import parse_cpus
from basebench.errors import MeasurementFailed, UserError
from basebench.labels import WORKLOAD as WORKLOAD_LABEL
from basebench.labels import label
from basebench.measure._context import RunContext, container_hostname
from basebench.measure._workload_image import Allocator, WorkloadImage, ensure_workload_image
from basebench.paths import IMAGES_DIR
from basebench.report.stats import MIN_ROUNDS
from basebench.results import PYPERF_TAG_PREFIX, ROUND_RUNS_KEY, RUNTIME_ALLOCATORS_KEY
from basebench.results import RUNTIME_CPUS_KEY as CPUS_META_KEY
from basebench.runtime_manifest import RUNTIME_DIR, Workload, load_manifest

GROUP = "runtime"
CONTAINER_BENCH_DIR = "/opt/basebench/runtime"
CONTAINER_APP_DIR = "/opt/app"
CONTAINER_OUT_DIR = "/opt/basebench/out"
INVOCATION_TIMEOUT_S = 1800.0


def format_cpus(cpus: Collection[int]) -> str:
    """{1, 0} -> "0,1": what docker's --cpuset-cpus and pyperf's --affinity both read."""
    return ",".join(map(str, sorted(cpus)))


def workload_cpuset(configured: str, needed: int, engine_cpus: int) -> str:
    """The CPUs of a workload that runs ``needed`` workers at once, for every variant alike.

    The configured cpuset's first ``needed`` CPUs, completed by the engine's other CPUs in
    order (CPUs 0..engine_cpus-1) when it has fewer: with cpuset "1", one worker gets "1" and
    two get "0,1". An empty configured cpuset (any CPU) stays empty: the containers are not
    pinned. The caller makes sure ``needed <= engine_cpus`` (:func:`cpus_skip_reason`).
    """
    if not configured:
        return ""
    chosen = sorted(parse_cpus(configured))[:needed]
    others = [cpu for cpu in range(engine_cpus) if cpu not in chosen]
    return format_cpus(chosen + others[: max(0, needed - len(chosen))])


def cpus_skip_reason(workload: Workload, engine_cpus: int) -> str:
    """Why ``workload`` cannot get a CPU per worker on this engine; "" if it can."""
    if workload.cpus > engine_cpus:
        return (
            f"needs {workload.cpus} CPUs (one per worker running at once), the engine has "
            f"{engine_cpus}: its workers would share CPUs"
        )
    return ""


@dataclass(frozen=True)
class PyperfPlan:
    """How one pyperf mode is run: rounds, and the options of each invocation."""

    mode: str
    rounds: int
    options: tuple[str, ...]  # per invocation (one round)
    calibrate_once: bool = True  # pass the first round's --loops to the later rounds

    def describe(self) -> str:
        return f"{self.mode}: {self.rounds} round(s) of pyperf {' '.join(self.options)}"

    def round_range(self) -> RoundRange:
        """The mode's rounds; under a time budget at least the rounds a test needs, the
        mode's when they fit, and up to twice as many while a series' interval is wide."""
        if self.rounds <= 1:
            return RoundRange.constant(self.rounds)
        least = min(self.rounds, MIN_ROUNDS)
        return RoundRange(self.rounds, least, self.rounds, self.rounds * 2)


PYPERF_PLANS = {
    # the least a test can use: 4 rounds of one process (one warmup, 3 values), so a round
    # costs a container start and about half a second of work; the rounds, not the
    # processes, are the replication (the time budget adds rounds where a series is wide)
    "quick": PyperfPlan("quick", 4, ("--processes", "1", "--values", "3")),
    # about pyperf --fast (10 processes x 2 values, +1 warmup each) as 4 rounds of 3 processes:
    # the round is the unit of replication, and a test needs a few of them per side
    "fast": PyperfPlan("fast", 4, ("--processes", "3", "--values", "2")),
    # pyperf's defaults: 20 processes x 3 values
    "default": PyperfPlan("default", 4, ("--processes", "5", "--values", "3")),
    # pyperf --rigorous: 40 processes x 3 values
    "rigorous": PyperfPlan("rigorous", 8, ("--processes", "5", "--values", "3")),
    # tests: one value, no warmup, one round
    "debug": PyperfPlan("debug", 1, ("--debug-single-value",), calibrate_once=False),
}


@dataclass
class Job:
    """One (workload, variant, allocator): one pyperf JSON, filled round after round."""

    workload: Workload
    image: WorkloadImage
    allocator: Allocator
    out_dir: Path
    #: The CPUs its containers get (workload_cpuset; "" = any), the same for every variant.
    cpuset: str = ""
    log_path: Path = Path()  # set by plan_jobs: logs/runtime/<file name>.log
    loops: int | None = None
    rounds_done: int = 0
    #: pyperf runs in the file after each round: which round (container) each value came from,
    #: since the round, not the value, is the unit of replication (see basebench.report.stats).
    runs_after_round: list[int] = field(default_factory=list)
    failed: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        b = self.image.base
        return f"{self.workload.name} {b.python}-{b.variant} {self.allocator.name}"

    @property
    def file_name(self) -> str:
        b = self.image.base
        return f"{self.workload.name}--{b.python}-{b.variant}--{self.allocator.name}.json"

    @property
    def host_file(self) -> Path:
        return self.out_dir / self.file_name


def _loops_of(path: Path) -> int | None:
    import pyperf

    suite = pyperf.BenchmarkSuite.load(str(path))
    for bench in suite.get_benchmarks():
        for run in bench.get_runs():
            if run.values:  # calibration runs have no values
                return int(run.get_loops())
    return None


def _run_count(path: Path) -> int:
    import pyperf

    benchmarks = pyperf.BenchmarkSuite.load(str(path)).get_benchmarks()
    return len(benchmarks[0].get_runs()) if benchmarks else 0


def _command(job: Job, plan: PyperfPlan) -> list[str]:
    cmd = [
        "python3",
        "-u",
        f"{CONTAINER_BENCH_DIR}/{job.workload.script}",
        *job.workload.args,
        *plan.options,
        *(["--affinity", job.cpuset] if job.cpuset else []),
        "--append",
        f"{CONTAINER_OUT_DIR}/{job.file_name}",
    ]
    if plan.calibrate_once and job.loops:
        cmd += ["--loops", str(job.loops)]
    return cmd


def _run_once(ctx: RunContext, job: Job, plan: PyperfPlan) -> None:
    base = job.image.base
    cmd = _command(job, plan)
    result = ctx.engine.run(
        job.image.reference,
        cmd,
        kind="workload",
        environment={
            "PYTHONDONTWRITEBYTECODE": "1",
            "BASEBENCH_APP_DIR": CONTAINER_APP_DIR,
            **job.allocator.environment,
            **ctx.injection(base).environment(),
        },
        volumes={
            str(RUNTIME_DIR): {"bind": CONTAINER_BENCH_DIR, "mode": "ro"},
            str(IMAGES_DIR / "app"): {"bind": CONTAINER_APP_DIR, "mode": "ro"},
            str(job.out_dir): {"bind": CONTAINER_OUT_DIR, "mode": "rw"},
        },
        limits=replace(ctx.limits, cpuset=job.cpuset),
        labels={WORKLOAD_LABEL: job.workload.name},
        timeout_s=INVOCATION_TIMEOUT_S,
        hostname=container_hostname(base),
    )
    job.log_path.parent.mkdir(parents=True, exist_ok=True)
    with job.log_path.open("a", encoding="utf-8") as log:
        env = job.allocator.environment
        log.write(f"$ {' '.join(cmd)}  # round {job.rounds_done + 1}, env {env}\n")
        log.write(result.output)
        log.write(f"[exit {result.exit_code}, {result.seconds:.1f} s]\n\n")
    if result.exit_code != 0:
        tail = "\n".join(result.output.strip().splitlines()[-15:])
        raise MeasurementFailed(f"{result.reason}; log {job.log_path}\n{tail}", str(job.log_path))
    if not job.host_file.is_file():
        raise UserError(f"pyperf wrote no {job.file_name}; log {job.log_path}")
    job.rounds_done += 1
    job.runs_after_round.append(_run_count(job.host_file))
    if plan.calibrate_once and job.loops is None:
        job.loops = _loops_of(job.host_file)


def pyperf_check(path: Path) -> list[str]:
    """pyperf's own stability warnings on a merged file (``python -m pyperf check``)."""
    out = subprocess.run(
        [sys.executable, "-m", "pyperf", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [ln.strip() for ln in (out.stdout + out.stderr).splitlines() if ln.strip()]
    noise = ("Benchmark ", "The benchmark seems to be stable", "Try to rerun", "Run '", "Use ")
    return [ln for ln in lines if not ln.startswith(noise)]


def _metadata(ctx: RunContext, job: Job, plan: PyperfPlan) -> dict[str, Any]:
    base = job.image.base
    labels = base.labels
    p = PYPERF_TAG_PREFIX
    meta: dict[str, Any] = {
        f"{p}group": GROUP,
        f"{p}mechanism": job.workload.mechanism,
        f"{p}control": int(job.workload.control),
        f"{p}allocator_env": " ".join(f"{k}={v}" for k, v in job.allocator.environment.items())
        or "(none)",
        f"{p}allocator_description": job.allocator.description,
        f"{p}base_image": base.reference,
        f"{p}base_image_id": base.image_id,
        f"{p}workload_image": job.image.reference,
        f"{p}pyperf_mode": plan.mode,
        f"{p}rounds": job.rounds_done,
        f"{p}{ROUND_RUNS_KEY}": ",".join(map(str, job.runs_after_round)),
        # The CPUs this workload's containers were pinned to (and pyperf's --affinity), and
        # how many it needs; the configured cpuset they were drawn from.
        f"{p}cpuset": job.cpuset or "any",
        f"{p}workload_cpus": job.workload.cpus,
        f"{p}configured_cpuset": ctx.config.cpuset or "any",
        f"{p}cpus": ctx.config.cpus,
        f"{p}mem_limit": ctx.config.mem_limit,
        f"{p}pids_limit": ctx.config.pids_limit,
        f"{p}container_hostname": container_hostname(base),
        f"{p}pyperf_warnings": " | ".join(job.warnings) or "none",
    }
    injected = ctx.injection(base).work_factor
    if injected != 1.0:
        # A known slowdown (basebench validate); the effective factor, after rounding the
        # loops, is in the workload's own metadata (basebench_work_factor_effective).
        meta[f"{p}injected_work_factor"] = injected
    # The compile flags each side had: the report can tell libc from flags with them.
    for key in ("opt_level", "cflags", "configure_args", "ldflags", "cc", "python.version"):
        value = labels.get(label(key), "")
        if value:
            meta[f"{p}{key.replace('.', '_')}"] = " ".join(str(value).split())
    return meta


def _adopt(ctx: RunContext, job: Job, plan: PyperfPlan) -> Path:
    import pyperf

    job.warnings = pyperf_check(job.host_file)
    suite = pyperf.BenchmarkSuite.load(str(job.host_file))
    meta = _metadata(ctx, job, plan)
    for bench in suite.get_benchmarks():
        bench.update_metadata(meta)
    with tempfile.TemporaryDirectory(prefix="basebench-pyperf-") as tmp:
        staged = Path(tmp) / job.file_name
        suite.dump(str(staged))
        base = job.image.base
        return ctx.run.add_pyperf_file(
            staged,
            f"runtime-{job.workload.name}-{base.python}-{base.variant}-{job.allocator.name}",
            ctx.tags(base, allocator=job.allocator.name),
        )


def workload_images(ctx: RunContext) -> list[WorkloadImage]:
    images: list[WorkloadImage] = []
    for i, base in enumerate(ctx.bases, 1):
        what = f"workload image of {ctx.label(base)}"
        try:
            with ctx.step(GROUP, what, i, len(ctx.bases)):
                image = ensure_workload_image(
                    ctx.engine, base, ctx.catalogue, opt_level=ctx.config.opt_level
                )
        except UserError as exc:
            ctx.fail(GROUP, what, exc)
            continue
        allocators = ", ".join(a.name for a in image.allocators)
        ctx.say(f"  {image.reference}: allocators {escape(allocators)}")
        for name, why in image.unavailable.items():
            ctx.say(f"  [yellow]not measured[/yellow] {ctx.label(base)} {name}: {escape(why)}")
        images.append(image)
    record_allocators(ctx, images)
    return images


def record_allocators(ctx: RunContext, images: Sequence[WorkloadImage]) -> None:
    """Which allocators each variant could use, how each is set and built, in run.json."""
    recorded = dict(ctx.run.meta().get(RUNTIME_ALLOCATORS_KEY) or {})
    for image in images:
        recorded[ctx.label(image.base)] = {
            "available": {
                a.name: " ".join([a.description, *(f"{k}={v}" for k, v in a.environment.items())])
                for a in image.allocators
            },
            "unavailable": dict(image.unavailable),
        }
    ctx.run.update_meta(**{RUNTIME_ALLOCATORS_KEY: recorded})


def workload_cpusets(ctx: RunContext, workloads: Sequence[Workload]) -> dict[str, str]:
    """Each workload's CPU set on this engine (the same for every variant); the workloads that
    need more CPUs than the engine has are left out, and the run says so."""
    engine_cpus = ctx.engine.cpu_count()
    cpusets: dict[str, str] = {}
    for workload in workloads:
        why = cpus_skip_reason(workload, engine_cpus)
        if why:
            ctx.say(f"  [yellow]skipped[/yellow] {workload.name}: {escape(why)}")
            continue
        cpusets[workload.name] = workload_cpuset(ctx.config.cpuset, workload.cpus, engine_cpus)
    return cpusets


def plan_jobs(
    ctx: RunContext, images: Sequence[WorkloadImage], workloads: Sequence[Workload], out_dir: Path
) -> list[Job]:
    jobs: list[Job] = []
    logs = ctx.run.logs_dir / GROUP
    cpusets = workload_cpusets(ctx, workloads)
    for image in images:
        for workload in workloads:
            if workload.name not in cpusets:
                continue
            why = workload.skip_reason(image.python_version, set(image.packages))
            if why:
                where = ctx.label(image.base)
                ctx.say(f"  [yellow]skipped[/yellow] {workload.name} on {where}: {escape(why)}")
                continue
            for allocator in image.allocators:
                job = Job(workload, image, allocator, out_dir, cpusets[workload.name])
                job.log_path = logs / (job.file_name.removesuffix(".json") + ".log")
                jobs.append(job)
    return jobs


def interleaved(jobs: Sequence[Job], round_index: int) -> list[Job]:
    """Round ``round_index``'s order: workload by workload, (variant, allocator) rotated."""
    by_workload: dict[str, list[Job]] = {}
    for job in jobs:
        by_workload.setdefault(job.workload.name, []).append(job)
    order: list[Job] = []
    for group in by_workload.values():
        shift = round_index % len(group)
        order.extend(group[shift:] + group[:shift])
    return order


def describe_cpusets(jobs: Sequence[Job]) -> str:
    """ "CPUs 1: 9 workloads; CPUs 0,1: medium_threads_2, medium_processes_2" """
    by_set: dict[str, list[str]] = {}
    for job in jobs:
        names = by_set.setdefault(job.cpuset or "any", [])
        if job.workload.name not in names:
            names.append(job.workload.name)
    parts = [
        f"CPUs {cpuset}: " + (f"{len(names)} workloads" if len(names) > 3 else ", ".join(names))
        for cpuset, names in by_set.items()
    ]
    return "; ".join(parts) or "no workload"


def record_cpusets(ctx: RunContext, jobs: Sequence[Job]) -> None:
    """Each workload's CPUs in run.json, for the report (which reads files, not pyperf's)."""
    recorded = dict(ctx.run.meta().get(CPUS_META_KEY) or {})
    for job in jobs:
        recorded[job.workload.name] = {"cpus": job.workload.cpus, "cpuset": job.cpuset or "any"}
    ctx.run.update_meta(**{CPUS_META_KEY: recorded})


def run_runtime(
    ctx: RunContext,
    *,
    mode: str | None = None,
    workloads: Sequence[Workload] | None = None,
    allocators: Collection[str] | None = None,
) -> list[Path]:
    """Measure (all workloads and allocators unless narrowed); return the files added to the run."""
    plan = PYPERF_PLANS[mode or ctx.config.pyperf_mode]
    selected = list(workloads) if workloads is not None else load_manifest()
    images = workload_images(ctx)
    if not images:
        return []
    if allocators is not None:
        for image in images:
            image.allocators = [a for a in image.allocators if a.name in allocators]
    written: list[Path] = []
    out_dir = Path(tempfile.mkdtemp(prefix="pyperf-", dir=ctx.run.dir))
    try:
        jobs = plan_jobs(ctx, images, selected, out_dir)
        ctx.say(
            f"[bold]{GROUP}[/bold] {len(jobs)} series ({plan.describe()}), "
            f"{describe_cpusets(jobs)}, the same for every variant"
        )
        record_cpusets(ctx, jobs)
        checkpoints = ctx.checkpoints(GROUP)
        resumed = _restore(checkpoints, jobs)
        limits = plan.round_range()

        def spread() -> list[list[float]]:
            return [round_medians(j) for j in jobs if not j.failed and j.host_file.is_file()]

        for r in ctx.rounds(GROUP, resumed, limits, spread):
            pending = [j for j in interleaved(jobs, r) if not j.failed]
            label = ctx.round_label(limits, r)
            with ctx.step(GROUP, f"{label}: {len(pending)} pyperf runs"):
                for job in pending:
                    try:
                        _run_once(ctx, job, plan)
                    except UserError as exc:
                        job.failed = True
                        ctx.fail(GROUP, job.label, exc)
            # The pyperf files so far, kept in the run folder: a stop in a later round (the
            # temporary folder goes) loses no finished round, and --resume goes on from here.
            files = [j.host_file for j in jobs if j.host_file.is_file()]
            total = ctx.round_total(limits, r + 1)
            checkpoints.save_with_files(r + 1, total, _jobs_state(jobs), files)
        for job in jobs:
            if job.failed or not job.host_file.is_file():
                continue
            try:
                written.append(_adopt(ctx, job, plan))
            except (UserError, ValueError, OSError) as exc:
                ctx.fail(GROUP, f"{job.label}: adopt", exc)
            if job.warnings:
                warnings = escape("; ".join(job.warnings)[:200])
                ctx.say(f"  pyperf check {escape(job.label)}: {warnings}")
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    return written


def round_medians(job: Job) -> list[float]:
    """The median value of each finished round of ``job`` (the unit of replication)."""
    data = json.loads(job.host_file.read_text())
    runs = [run for bench in data.get("benchmarks", []) for run in bench.get("runs", [])]
    ends = job.runs_after_round
    medians: list[float] = []
    for i, end in enumerate(ends):
        start = ends[i - 1] if i else 0
        values = [v for run in runs[start:end] for v in run.get("values") or []]
        if values:
            medians.append(statistics.median(values))
    return medians


_JOB_FIELDS = ("loops", "rounds_done", "runs_after_round", "failed")


def _jobs_state(jobs: Sequence[Job]) -> dict[str, Any]:
    """What a checkpoint keeps of each job (its pyperf file is copied beside it)."""
    return {"jobs": {j.file_name: {f: getattr(j, f) for f in _JOB_FIELDS} for j in jobs}}


def _restore(checkpoints: GroupCheckpoints, jobs: Sequence[Job]) -> int:
    """Jobs and their pyperf files as the last checkpoint left them; the rounds it holds."""
    last = checkpoints.last()
    if last is None:
        return 0
    saved = last.state.get("jobs", {})
    for job in jobs:
        for name, value in saved.get(job.file_name, {}).items():
            if name in _JOB_FIELDS:
                setattr(job, name, value)
    files = {path.name: path for path in checkpoints.files_of(last)}
    for job in jobs:
        if job.file_name in files:
            shutil.copy2(files[job.file_name], job.host_file)
    return last.done


def round_range(config: Config) -> RoundRange:
    """The pyperf mode's rounds (see :meth:`PyperfPlan.round_range`)."""
    return PYPERF_PLANS[config.pyperf_mode].round_range()


def measure(ctx: RunContext) -> None:
    # Empty lists in the configuration mean every workload of the manifest, and every
    # allocator the image can have.
    names = set(ctx.config.workloads)
    workloads = [w for w in load_manifest() if not names or w.name in names]
    run_runtime(ctx, workloads=workloads, allocators=ctx.config.allocators or None)
