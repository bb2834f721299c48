"""A synthetic but realistic results frame and run.json, for tests and report previews.

It has the shape :func:`basebench.results.load_runs` returns, with the effects the suite looks
for (musl's malloc slower on allocation-heavy work, mimalloc closing the gap, sdists and
failures on musl, slim images smaller), so the report can be developed and checked without
Docker. Never mix it with real results: every row's ``run`` says "synthetic".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from basebench.results import (
    CONTAINER_PROBE_METRIC,
    LOAD_METRIC,
    MEASUREMENTS_FORMAT,
    RUN_FORMAT,
    RUNTIME_ALLOCATORS_KEY,
    RUNTIME_CPUS_KEY,
    TAG_COLUMNS,
)
from basebench.results import CPU_PROBE_METRIC as PROBE_METRIC
from basebench.results import HOST_PROBE_GROUP as CALIBRATION_GROUP
from basebench.results import TIDY_COLUMNS as COLUMNS

VARIANTS = {"slim-trixie": "glibc", "trixie": "glibc", "alpine3.23": "musl"}
STRATEGIES = {"single-full": 1.0, "single-slim": 0.8, "multistage": 0.9, "pip-cache-copy": 0.6}
PACKAGES = ("numpy", "pandas", "lxml", "cryptography", "pyarrow")
#: workload -> musl's slowdown under pymalloc. regex_scan is in no manifest: an older run's
#: workload, "unclassified" in the report.
WORKLOADS = {
    "interpreter_loop": 1.0,
    "medium_objects": 1.35,
    "json_roundtrip": 1.05,
    "medium_threads_1": 1.3,
    "medium_threads_2": 1.6,
    "regex_scan": 1.0,
}


def _wheel(variant: str, package: str) -> tuple[str, float, int]:
    """(detail, seconds, failed) of one pip install."""
    if VARIANTS[variant] == "glibc":
        return "wheel:manylinux_2_17_x86_64", 4.0, 0
    if package == "lxml":
        return "sdist", 95.0, 0
    if package == "pyarrow":
        return "failed: error: command 'cmake' failed: No such file or directory", 30.0, 1
    return "wheel:musllinux_1_2_x86_64", 4.5, 0


class _Rows:
    """The rows of one synthetic run, drawn from one random generator in a fixed order."""

    def __init__(self, run: str, base_source: str, seed: int) -> None:
        self.run, self.base_source = run, base_source
        self.rng = np.random.default_rng(seed)
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        group: str,
        benchmark: str,
        variant: str,
        python: str,
        metric: str,
        vals: Sequence[float],
        unit: str,
        *,
        strategy: str = "",
        allocator: str = "",
        detail: str = "",
    ) -> None:
        for i, value in enumerate(vals):
            self.rows.append(
                {
                    "run": self.run,
                    "group": group,
                    "benchmark": benchmark,
                    "variant": variant,
                    "python": python,
                    "libc": VARIANTS[variant],
                    "base_source": self.base_source,
                    "strategy": strategy,
                    "allocator": allocator,
                    "metric": metric,
                    "value": float(value),
                    "unit": unit,
                    "sample": i,
                    "round": i,
                    "detail": detail,
                }
            )

    def noisy(self, center: float, n: int, rel: float = 0.03) -> list[float]:
        return [float(x) for x in center * (1.0 + self.rng.normal(0.0, rel, n))]


def synthetic_frame(
    run: str = "synthetic-1",
    *,
    pythons: Sequence[str] = ("3.13",),
    seed: int = 1,
    slowdown: float = 1.0,
    base_source: str = "local",
    samples: int = 10,
    host_slowdown: float | None = 1.0,
) -> pd.DataFrame:
    """One run's tidy frame; ``slowdown`` scales every time (for regression tests).

    Every value is its own round (as basebench's own measurements are). ``host_slowdown``
    scales the host probes (a busier host); None leaves them out, as in runs made before
    basebench took them.
    """
    out = _Rows(run, base_source, seed)
    for python in pythons:
        for variant in VARIANTS:
            _builds_and_installs(out, python, variant, slowdown)
            _sizes(out, python, variant)
            _startup(out, python, variant, slowdown)
            _runtime(out, python, variant, slowdown, samples)
            _http(out, python, variant, slowdown)
    if host_slowdown is not None:
        _probes(out, host_slowdown)
    return pd.DataFrame(out.rows, columns=list(COLUMNS))


def _builds_and_installs(out: _Rows, python: str, variant: str, slowdown: float) -> None:
    musl, full = VARIANTS[variant] == "musl", variant == "trixie"
    for strategy, factor in STRATEGIES.items():
        center = 60.0 * factor * (1.8 if musl else 1.0) * (1.2 if full else 1.0)
        times = out.noisy(center * slowdown, 5, 0.05)
        out.add("build", strategy, variant, python, "wall_time", times, "s", strategy=strategy)
    for package in PACKAGES:
        detail, seconds, failed = _wheel(variant, package)
        times = out.noisy(seconds * slowdown, 3, 0.05)
        out.add("install", package, variant, python, "wall_time", times, "s", detail=detail)
        out.add("install", package, variant, python, "failed", [failed], "", detail=detail)


def _sizes(out: _Rows, python: str, variant: str) -> None:
    musl = VARIANTS[variant] == "musl"
    os_mb = {"slim-trixie": 28.0, "trixie": 330.0, "alpine3.23": 3.6}[variant]
    py_mb = 14.0 if musl else 16.0
    for role, app_mb in (("base", 0.0), ("app:multistage", 38.0), ("app:single-full", 61.0)):
        compressed = (os_mb + py_mb + app_mb) * 1e6
        out.add("size", role, variant, python, "compressed", [compressed], "bytes")
        out.add("size", role, variant, python, "uncompressed", [compressed * 2.6], "bytes")
        out.add("size", role, variant, python, "layers", [4 + (3 if app_mb else 0)], "count")
        out.add("size", role, variant, python, "wasted", [1.5e6 if app_mb else 0.0], "bytes")
        for kind, mb in (("os", os_mb), ("python", py_mb), ("app", app_mb)):
            if mb:
                metric = "layer_compressed"
                out.add("size", role, variant, python, metric, [mb * 1e6], "bytes", detail=kind)


def _startup(out: _Rows, python: str, variant: str, slowdown: float) -> None:
    musl = VARIANTS[variant] == "musl"
    for command, seconds, musl_factor, rel in (
        ("python -c pass", 0.018, 0.9, 0.08),
        ("import heavy", 0.32, 1.1, 0.06),
    ):
        times = out.noisy(seconds * (musl_factor if musl else 1.0) * slowdown, 20, rel)
        out.add("startup", command, variant, python, "wall_time", times, "s")


def _runtime(out: _Rows, python: str, variant: str, slowdown: float, samples: int) -> None:
    musl = VARIANTS[variant] == "musl"
    py_factor = 0.95 if python >= "3.14" else 1.0
    for allocator in ("pymalloc", "mimalloc"):
        for workload, musl_penalty in WORKLOADS.items():
            penalty = musl_penalty if musl and allocator == "pymalloc" else 1.0
            if allocator == "mimalloc":
                penalty *= 0.97
            times = out.noisy(0.25 * penalty * py_factor * slowdown, samples, 0.02)
            out.add("runtime", workload, variant, python, "time", times, "s", allocator=allocator)
            rss = out.noisy(48e6 * (1.08 if allocator == "mimalloc" else 1.0), 3, 0.01)
            metric = "mem_max_rss"
            out.add("runtime", workload, variant, python, metric, rss, "bytes", allocator=allocator)


def _http(out: _Rows, python: str, variant: str, slowdown: float) -> None:
    musl = VARIANTS[variant] == "musl"
    rates = out.noisy(2400.0 / (1.15 if musl else 1.0) / slowdown, 5, 0.04)
    out.add("http", "uwsgi", variant, python, "requests_per_s", rates, "req/s")
    for metric, ms, musl_factor, rel in (
        ("latency_p50_ms", 3.1, 1.1, 0.05),
        ("latency_p99_ms", 9.5, 1.2, 0.08),
    ):
        latencies = out.noisy(ms * (musl_factor if musl else 1.0) * slowdown, 5, rel)
        out.add("http", "uwsgi", variant, python, metric, latencies, "ms")


def _probes(out: _Rows, host_slowdown: float) -> None:
    for group in ("build", "install", "size", "startup", "runtime", "http"):
        probes = {
            (PROBE_METRIC, "s", "cpus 1, 120000 iterations"): out.noisy(
                0.023 * host_slowdown, 12, 0.03
            ),
            (CONTAINER_PROBE_METRIC, "s", "true"): out.noisy(0.35 * host_slowdown, 4, 0.05),
            (LOAD_METRIC, "load", ""): out.noisy(0.6 * host_slowdown, 4, 0.2),
        }
        for (metric, unit, detail), vals in probes.items():
            for i, value in enumerate(vals):
                out.rows.append(
                    {
                        "run": out.run,
                        "group": CALIBRATION_GROUP,
                        "benchmark": group,
                        **dict.fromkeys(TAG_COLUMNS, ""),
                        "metric": metric,
                        "value": value,
                        "unit": unit,
                        "sample": i,
                        "round": i,
                        "detail": detail,
                    }
                )


def synthetic_meta(
    run: str = "synthetic-1",
    *,
    pythons: Sequence[str] = ("3.13",),
    base_source: str = "local",
    cpu_model: str = "Synthetic CPU @ 2.0GHz",
    kernel: str = "6.1.0-synthetic",
) -> dict[str, Any]:
    images = {}
    for python in pythons:
        for variant, libc in VARIANTS.items():
            images[f"basebench/python:{python}-{variant}"] = {
                "org.basebench.python.version": f"{python}.0",
                "org.basebench.python.configure": "--enable-optimizations --with-lto"
                if libc == "glibc"
                else "--with-lto",
                "org.basebench.libc": "glibc 2.41" if libc == "glibc" else "musl 1.2.5",
                "org.basebench.source.sha256": "0" * 64,
            }
    return {
        "run_id": run,
        "started": "2025-01-01T10:00:00Z",
        "finished": "2025-01-01T11:00:00Z",
        "basebench_version": "0.1.0",
        "git_commit": "0123456789abcdef0123",
        "host": {
            "cpu_model": cpu_model,
            "cores": 2,
            "memory_bytes": 24 * 2**30,
            "kernel": kernel,
            "docker_server_version": "20.10.24",
            "storage_driver": "overlay2",
        },
        "config": {
            "profile": "quick",
            "variants": list(VARIANTS),
            "pythons": list(pythons),
            "baseline_variant": "slim-trixie",
            "cpuset": "1",
        },
        RUNTIME_CPUS_KEY: {
            name: {
                "cpus": 2 if name.endswith("_2") else 1,
                "cpuset": "0,1" if name.endswith("_2") else "1",
            }
            for name in WORKLOADS
            if name != "regex_scan"
        },
        RUNTIME_ALLOCATORS_KEY: {
            f"{python}-{variant}": {
                "available": {
                    "pymalloc": "CPython's default: pymalloc + libc malloc",
                    "mimalloc": "CPython's bundled mimalloc PYTHONMALLOC=mimalloc",
                },
                "unavailable": {}
                if libc == "glibc"
                else {"pymalloc+mimalloc": "no libmimalloc in this image"},
            }
            for python in pythons
            for variant, libc in VARIANTS.items()
        },
        "base_source": base_source,
        "images": images,
    }


# --- synthetic run folders ------------------------------------------------------------------
# Tests and previews write the synthetic data as real run folders, read by basebench.results.


def write_run(run_dir: Path, frame: pd.DataFrame, meta: dict[str, Any]) -> Path:
    """Write the synthetic frame as a real run folder, in the store's own formats."""
    run_dir.mkdir(parents=True, exist_ok=True)
    meta = {"format": RUN_FORMAT, **meta, "run_id": run_dir.name}
    (run_dir / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    keys = ["group", "benchmark", *TAG_COLUMNS, "metric", "unit", "detail"]
    rows = []
    for key, series in frame.sort_values("sample").groupby(keys, sort=False):
        row = dict(zip(keys, key, strict=True))
        rows.append({**row, "values": series["value"].astype(float).tolist()})
    measurements = run_dir / "measurements"
    measurements.mkdir(exist_ok=True)
    payload = {"format": MEASUREMENTS_FORMAT, "run": run_dir.name, "rows": rows}
    (measurements / "synthetic.json").write_text(json.dumps(payload), encoding="utf-8")
    return run_dir
