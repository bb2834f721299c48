"""Group "build": cold builds of the application with each strategy on each base.

For every strategy (images/strategies/strategies.toml, or the user's own Dockerfile as
"custom") and every base of the run, a cold build (``--no-cache``; the base and builder images
are already present) is timed by pytest-benchmark in pedantic mode in a subprocess running
benchmarks/bench_builds.py, one round at a time (``rounds`` from the profile): each round builds
every (strategy, base) once, in a rotated order, and its JSON is adopted into the run. Each
benchmark's extra_info carries the round, the tags, the image id, BuildKit's per-step timings
and the split of the build into download time (the ``fetch.sh`` steps) and install/compile time
(the ``install.sh`` steps).

What each build uses (builder, runner, context) is planned in
:mod:`basebench.measure._app_image`; the hand-over to the subprocess is
:mod:`basebench.measure._build_work`. A strategy that cannot work on a base is written as a
``not_applicable`` row with the reason; a failed build is a ``ctx.fail`` (the log's last lines
and path) and the run goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, TextIO

from basebench.budget import RoundRange, repeated_rounds
from basebench.config import Config
from basebench.engine import StepTiming
from basebench.errors import UserError
from basebench.measure._app_image import (
    BuildPlan,
    plan,
    prepare_context,
    register_app_image,
    scratch_dir,
    work_item,
)
from basebench.measure._build_work import (
    PROGRESS_PREFIX,
    WORK_ENV,
    Outcome,
    WorkFile,
    WorkItem,
    read_outcomes,
)
from basebench.measure._context import RunContext
from basebench.measure._strategies import CUSTOM, load_strategies
from basebench.paths import BENCHMARKS_DIR, PROJECT_ROOT
from basebench.results import Measurement
from basebench.stopping import stop_child

GROUP = "build"
BENCH_FILE = BENCHMARKS_DIR / "bench_builds.py"

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
# Running the timed builds through pytest-benchmark
# --------------------------------------------------------------------------------------------


def strategies(ctx: RunContext) -> list[str]:
    names = list(ctx.config.strategies) or load_strategies().names()
    if ctx.config.dockerfile and CUSTOM not in names:
        names.append(CUSTOM)
    return names


def run_benchmarks(
    ctx: RunContext, items: Sequence[WorkItem], workdir: Path
) -> tuple[Path | None, dict[str, Outcome]]:
    """Run benchmarks/bench_builds.py on ``items``: (pytest-benchmark JSON, outcomes by id)."""
    work = workdir / "work.json"
    outcomes = workdir / "outcomes.jsonl"
    out = workdir / "bench-builds.json"
    WorkFile.for_engine(ctx.engine, items, outcomes).write(work)
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
    log = workdir / "pytest.log"
    with open(log, "w", encoding="utf-8") as log_file:
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=str(PROJECT_ROOT),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        _follow(ctx, proc, log_file)
    results = read_outcomes(outcomes)
    # Exit 1 is pytest's "some tests failed": the failed builds are in the outcomes.
    if proc.returncode not in (0, 1) and not results:
        raise UserError(f"pytest on {BENCH_FILE} failed (exit {proc.returncode}); see {log}")
    return (out if out.exists() else None), results


def _follow(ctx: RunContext, proc: subprocess.Popen[str], log: TextIO) -> None:
    """Keep the subprocess's output in its log (pytest-benchmark's wide table among it) and
    print only its progress lines, one per build."""
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            log.write(line)
            # Not only at the start: pytest's "." for the test before has no newline of its own.
            _, found, message = line.partition(PROGRESS_PREFIX)
            if found:
                ctx.say(message.rstrip("\n"))
        proc.wait()
    except BaseException as exc:
        # Stopped (Ctrl-C, SIGTERM, SIGHUP): the child stops its build and removes what it
        # made, given a bounded time, instead of being killed mid-build.
        stop_child(proc, exc)
        raise


def _tags_row(ctx: RunContext, p: BuildPlan, metric: str, detail: str) -> Measurement:
    return Measurement(
        GROUP, p.strategy, metric, "", [1.0], ctx.tags(p.base, strategy=p.strategy), detail
    )


def _plans(
    ctx: RunContext, names: Sequence[str], context: Path, rows: list[Measurement]
) -> list[BuildPlan]:
    """The builds to time; a not_applicable row in ``rows`` for each one that is not built."""
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
    return plans


def _time_builds(
    ctx: RunContext, plans: Sequence[BuildPlan], workdir: Path, rows: list[Measurement]
) -> None:
    """Time ``plans`` round after round, register what was built; a failed row in ``rows`` for
    each failure (a build that failed is not tried again in later rounds). Each round's
    pytest-benchmark file is adopted when the round ends, with a checkpoint of what failed
    and what was built: a resumed run goes on after the last finished round."""
    limits = round_range(ctx.config)
    checkpoints = ctx.checkpoints(GROUP)
    resumed = checkpoints.resume_from()
    failed: dict[str, str] = dict(resumed.state.get("failed", {}))
    # The build log of each failed plan, when it has one.
    failed_logs: dict[str, str] = dict(resumed.state.get("failed_logs", {}))
    built: set[str] = set(resumed.state.get("built", []))
    # Each plan's build times so far (the time budget's precision rule reads them).
    seconds: dict[str, list[float]] = {
        k: list(v) for k, v in resumed.state.get("seconds", {}).items()
    }

    def spread() -> list[list[float]]:
        return [seconds.get(p.id, []) for p in plans if p.id not in failed]

    for r in ctx.rounds(GROUP, resumed.done, limits, spread):
        # One cold build of every plan per round, in an order rotated each round (ABC, BCA...):
        # the round is the unit of replication, and a slow minute of the host then falls on
        # every variant alike instead of on all the rounds of one of them.
        live = [p for p in plans if p.id not in failed]
        if not live:
            break
        order = live[r % len(live) :] + live[: r % len(live)]
        items = [replace(work_item(ctx, p), rounds=1, round=r) for p in order]
        round_dir = workdir / f"round-{r + 1}"
        round_dir.mkdir(parents=True, exist_ok=True)
        with ctx.step(GROUP, f"{ctx.round_label(limits, r)}: {len(items)} cold builds"):
            bench_json, outcomes = run_benchmarks(ctx, items, round_dir)
        for plan_id, took in build_seconds(bench_json, order).items():
            seconds.setdefault(plan_id, []).append(took)
        for p in order:
            outcome = outcomes.get(p.id)
            if outcome and outcome.image_id:
                built.add(p.id)
            else:
                failed[p.id] = (outcome.error if outcome else "") or (
                    "the build did not report (see above)"
                )
                failed_logs[p.id] = outcome.log if outcome else ""
        if bench_json is not None:
            # A stem per round: a resumed run keeps a round adopted before the signal.
            ctx.run.add_pytest_benchmark_file(bench_json, f"build-round-{r + 1}")
        state = {
            "failed": failed,
            "failed_logs": failed_logs,
            "built": sorted(built),
            "seconds": seconds,
        }
        checkpoints.save(r + 1, ctx.round_total(limits, r + 1), state)
    for p in plans:
        if p.id in failed:
            what = f"{p.strategy} on {ctx.label(p.base)}"
            ctx.fail(GROUP, what, failed[p.id], log=failed_logs.get(p.id, ""))
            rows.append(_tags_row(ctx, p, "failed", last_line(failed[p.id])))
        elif p.id in built:
            register_app_image(ctx, p)


def round_range(config: Config) -> RoundRange:
    """Cold builds: the configured rounds, or under a budget as :func:`repeated_rounds` says."""
    return repeated_rounds(config.rounds)


def build_seconds(bench_json: Path | None, plans: Sequence[BuildPlan]) -> dict[str, float]:
    """Each plan's timed build in one round's pytest-benchmark file (plan id -> seconds)."""
    if bench_json is None or not bench_json.is_file():
        return {}
    # By variant name, not image: validate's A/A twins are one image under two names.
    by_key = {(p.strategy, p.base.python, p.base.variant): p.id for p in plans}
    found: dict[str, float] = {}
    for bench in json.loads(bench_json.read_text()).get("benchmarks", []):
        info = bench.get("extra_info") or {}
        key = (str(info.get("benchmark")), str(info.get("python")), str(info.get("variant")))
        plan_id = by_key.get(key)
        data = (bench.get("stats") or {}).get("data") or []
        if plan_id and data:
            found[plan_id] = float(data[-1])
    return found


def restore(ctx: RunContext) -> None:
    """A resumed run whose builds had finished: their app images, for the groups after."""
    last = ctx.checkpoints(GROUP).last()
    built = set(last.state.get("built", [])) if last else set()
    names = strategies(ctx)
    context = scratch_dir(ctx, "builds-")
    for p in _plans(ctx, names, context, []):
        if p.id in built:
            register_app_image(ctx, p)


def measure(ctx: RunContext) -> None:
    names = strategies(ctx)
    workdir = scratch_dir(ctx, "builds-")
    # A user's own Dockerfile builds from --app as it is; only our strategies need the context.
    context = workdir
    if any(name != CUSTOM for name in names):
        try:
            context = prepare_context(ctx, workdir)
        except UserError as exc:
            ctx.fail(GROUP, "built-in strategies", exc)
            names = [name for name in names if name == CUSTOM]
    rows: list[Measurement] = []
    plans = _plans(ctx, names, context, rows)
    if plans:
        _time_builds(ctx, plans, workdir, rows)
    if rows:
        ctx.run.write_measurements("build-status", rows)


def last_line(message: str) -> str:
    """The last non-empty line of a build failure before the "full log:" pointer."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("full log:")]
    return lines[-1] if lines else message
