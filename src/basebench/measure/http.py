"""HTTP group: the sample app served by uWSGI in a container, loaded from the host.

For every base image, the app image of the build group (strategy "multistage", what the 2020
post shipped) runs uWSGI with host networking on a free port of 127.0.0.1, pinned to the run's
CPU set like the runtime group. The load comes from ``benchmarks/runtime/loadgen.py`` on the
host (it refuses anything but loopback), with a fixed concurrency, a bounded number of requests
and a time limit, on the CPUs outside the server's set when there are any. All servers start
first; then each round loads every variant once, in a rotated order, so that the variants share
the machine's noise. One round gives one sample of each metric: ``requests_per_s``,
``latency_p50_ms``, ``latency_p99_ms`` (group "http", benchmark "uwsgi").
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from docker.models.containers import Container

from basebench.bases import BaseImage
from basebench.checkpoints import GroupCheckpoints
from basebench.cpus import pinned_elsewhere
from basebench.errors import UserError
from basebench.labels import WORKLOAD as WORKLOAD_LABEL
from basebench.measure._context import RunContext, container_hostname
from basebench.results import Measurement, atomic_write_json
from basebench.runtime_manifest import RUNTIME_DIR

GROUP = "http"
BENCHMARK = "uwsgi"
STRATEGY = "multistage"
PATH = "/polls/?limit=50"  # the HTML list: an annotated query, a prefetch, a template
HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class LoadPlan:
    rounds: int
    requests: int
    warmup: int
    concurrency: int = 4
    timeout_s: float = 10.0
    time_limit_s: float = 60.0


LOAD_PLANS = {
    "fast": LoadPlan(rounds=5, requests=1000, warmup=100),
    "default": LoadPlan(rounds=7, requests=3000, warmup=300, time_limit_s=120.0),
    "rigorous": LoadPlan(rounds=10, requests=5000, warmup=500, time_limit_s=180.0),
    "debug": LoadPlan(rounds=1, requests=100, warmup=10, time_limit_s=30.0),
}


@dataclass
class Server:
    base: BaseImage
    image: str
    port: int
    container: Container | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    failed: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"


def load_loadgen() -> ModuleType:
    """benchmarks/runtime/loadgen.py, imported by path (it is not part of the package)."""
    name = "basebench_loadgen"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, RUNTIME_DIR / "loadgen.py")
    if spec is None or spec.loader is None:
        raise UserError(f"cannot import {RUNTIME_DIR / 'loadgen.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(server: Server, timeout_s: float = HEALTH_TIMEOUT_S) -> None:
    assert server.container is not None
    deadline = time.monotonic() + timeout_s
    url = f"http://127.0.0.1:{server.port}{HEALTH_PATH}"
    last = ""
    while time.monotonic() < deadline:
        server.container.reload()
        if server.container.status not in ("created", "running"):
            logs = server.container.logs().decode("utf-8", "replace")
            tail = "\n".join(logs.strip().splitlines()[-15:])
            raise UserError(f"uWSGI exited ({server.container.status}) before answering:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.5)
    raise UserError(f"{url} did not answer within {timeout_s:.0f} s (last: {last})")


def start_server(ctx: RunContext, server: Server) -> None:
    base = server.base
    server.container = ctx.engine.start(
        server.image,
        None,  # the image's CMD: uwsgi --ini /opt/app/deploy/uwsgi.ini
        kind="workload",
        environment={
            "APP_HTTP": f"127.0.0.1:{server.port}",
            "APP_STATS": f"127.0.0.1:{free_port()}",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        },
        limits=ctx.limits,
        labels={WORKLOAD_LABEL: BENCHMARK},
        hostname=container_hostname(base),
        # The load generator runs on the host and targets 127.0.0.1: the one container of a
        # run on the host's network, so that no NAT sits in the measured path.
        network="host",
    )
    wait_healthy(server)


def stop_server(ctx: RunContext, server: Server) -> None:
    if server.container is None:
        return
    log = ctx.run.logs_dir / GROUP / f"uwsgi-{ctx.label(server.base)}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(Exception):
        log.write_bytes(server.container.logs())
    with contextlib.suppress(Exception):
        server.container.remove(force=True)
    server.container = None


def load_once(
    server: Server, plan: LoadPlan, run_load: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    result = run_load(
        server.url,
        requests=plan.requests,
        concurrency=plan.concurrency,
        timeout_s=plan.timeout_s,
        warmup=plan.warmup,
        time_limit_s=plan.time_limit_s,
    )
    result.pop("latencies_ms", None)
    if not result["completed"]:
        raise UserError(f"no request succeeded: errors {result['error_kinds']}")
    return result


def measurements(
    ctx: RunContext, server: Server, plan: LoadPlan, loadgen_cpus: str
) -> list[Measurement]:
    tags = ctx.tags(server.base, strategy=STRATEGY)
    errors = sum(int(r["errors"]) for r in server.results)
    detail = (
        f"GET {PATH}, concurrency {plan.concurrency}, {plan.requests} requests + {plan.warmup} "
        f"warmup per round, {len(server.results)} rounds; server CPUs {ctx.config.cpuset}, "
        f"load generator CPUs {loadgen_cpus}; errors {errors}; image {server.image}"
    )
    metrics = (
        ("requests_per_s", "req/s", "requests_per_s"),
        ("latency_p50_ms", "ms", "p50_ms"),
        ("latency_p99_ms", "ms", "p99_ms"),
    )
    return [
        Measurement(GROUP, BENCHMARK, metric, unit, [r[key] for r in server.results], tags, detail)
        for metric, unit, key in metrics
    ]


def run_http(ctx: RunContext, *, mode: str | None = None) -> list[Path]:
    """Measure every base; return the paths of the measurement files written."""
    plan = LOAD_PLANS.get(mode or ctx.config.pyperf_mode, LOAD_PLANS["fast"])
    run_load = load_loadgen().run_load
    servers = _app_servers(ctx)
    written: list[Path] = []
    try:
        for server in servers:
            try:
                with ctx.step(GROUP, f"start uWSGI on {ctx.label(server.base)}"):
                    start_server(ctx, server)
            except Exception as exc:  # docker errors too: one broken variant never stops the rest
                server.failed = True
                ctx.fail(GROUP, f"uwsgi {ctx.label(server.base)}", exc)
                stop_server(ctx, server)
        live = [s for s in servers if not s.failed]
        checkpoints = ctx.checkpoints(GROUP)
        done = _restore(ctx, checkpoints, servers)
        with pinned_elsewhere(ctx.config.cpuset) as loadgen_cpus:
            for r in range(done, plan.rounds):
                _load_round(ctx, live, plan, run_load, r)
                checkpoints.save(r + 1, plan.rounds, _state(ctx, servers))
        for server in servers:
            if server.results:
                written.append(_write(ctx, server, plan, loadgen_cpus))
    finally:
        for server in servers:
            stop_server(ctx, server)
    return written


def _state(ctx: RunContext, servers: list[Server]) -> dict[str, Any]:
    """A checkpoint: each server's load results so far, and whether it failed."""
    return {ctx.label(s.base): {"results": s.results, "failed": s.failed} for s in servers}


def _restore(ctx: RunContext, checkpoints: GroupCheckpoints, servers: list[Server]) -> int:
    """Load results of rounds finished before an interruption; how many rounds."""
    last = checkpoints.last()
    if last is None:
        return 0
    for server in servers:
        saved = last.state.get(ctx.label(server.base), {})
        server.results = list(saved.get("results", []))
        server.failed = server.failed or bool(saved.get("failed"))
    return last.done


def _app_servers(ctx: RunContext) -> list[Server]:
    """A server (not yet started) per base, on the app image of STRATEGY."""
    from basebench.measure._app_image import ensure_app_image

    servers: list[Server] = []
    for i, base in enumerate(ctx.bases, 1):
        what = f"app image ({STRATEGY}) of {ctx.label(base)}"
        try:
            with ctx.step(GROUP, what, i, len(ctx.bases)):
                servers.append(Server(base, ensure_app_image(ctx, base, STRATEGY), free_port()))
        except UserError as exc:
            ctx.fail(GROUP, what, exc)
    return servers


def _load_round(
    ctx: RunContext,
    live: list[Server],
    plan: LoadPlan,
    run_load: Callable[..., dict[str, Any]],
    round_index: int,
) -> None:
    """Load every live server once, in an order rotated each round (they share the noise)."""
    shift = round_index % len(live) if live else 0
    for server in live[shift:] + live[:shift]:
        if server.failed:
            continue
        try:
            result = load_once(server, plan, run_load)
        except (UserError, ValueError) as exc:
            server.failed = True
            ctx.fail(GROUP, f"uwsgi {ctx.label(server.base)} round {round_index + 1}", exc)
            continue
        server.results.append(result)
        ctx.say(
            f"[bold]{GROUP}[/bold] round {round_index + 1}/{plan.rounds} "
            f"{ctx.label(server.base)}: {result['requests_per_s']:.0f} req/s, "
            f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms"
            + (f", {result['errors']} errors" if result["errors"] else "")
        )


def _write(ctx: RunContext, server: Server, plan: LoadPlan, loadgen_cpus: str) -> Path:
    label = ctx.label(server.base)
    atomic_write_json(
        ctx.run.logs_dir / GROUP / f"loadgen-{label}.json",
        {"url": server.url, "image": server.image, "rounds": server.results},
        overwrite=True,
    )
    return ctx.run.write_measurements(
        f"http-{BENCHMARK}-{label}", measurements(ctx, server, plan, loadgen_cpus)
    )


def measure(ctx: RunContext) -> None:
    run_http(ctx)
