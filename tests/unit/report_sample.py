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
    TAG_COLUMNS,
)
from basebench.results import CPU_PROBE_METRIC as PROBE_METRIC
from basebench.results import HOST_PROBE_GROUP as CALIBRATION_GROUP
from basebench.results import TIDY_COLUMNS as COLUMNS

VARIANTS = {"slim-trixie": "glibc", "trixie": "glibc", "alpine3.23": "musl"}
STRATEGIES = {"single-full": 1.0, "single-slim": 0.8, "multistage": 0.9, "pip-cache-copy": 0.6}
PACKAGES = ("numpy", "pandas", "lxml", "cryptography", "pyarrow")
WORKLOADS = {"large_object_churn": 1.35, "json_roundtrip": 1.05, "regex_scan": 1.0}


def _wheel(variant: str, package: str) -> tuple[str, float, int]:
    """(detail, seconds, failed) of one pip install."""
    if VARIANTS[variant] == "glibc":
        return "wheel:manylinux_2_17_x86_64", 4.0, 0
    if package == "lxml":
        return "sdist", 95.0, 0
    if package == "pyarrow":
        return "failed: error: command 'cmake' failed: No such file or directory", 30.0, 1
    return "wheel:musllinux_1_2_x86_64", 4.5, 0


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

    ``host_slowdown`` scales the host probes (a busier host); None leaves them out, as in
    runs made before basebench took them.
    """
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []

    def add(
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
            rows.append(
                {
                    "run": run,
                    "group": group,
                    "benchmark": benchmark,
                    "variant": variant,
                    "python": python,
                    "libc": VARIANTS[variant],
                    "base_source": base_source,
                    "strategy": strategy,
                    "allocator": allocator,
                    "metric": metric,
                    "value": float(value),
                    "unit": unit,
                    "sample": i,
                    "detail": detail,
                }
            )

    def noisy(center: float, n: int, rel: float = 0.03) -> list[float]:
        return [float(x) for x in center * (1.0 + rng.normal(0.0, rel, n))]

    for python in pythons:
        py_factor = 0.95 if python >= "3.14" else 1.0
        for variant, libc in VARIANTS.items():
            musl = libc == "musl"
            full = variant == "trixie"
            for strategy, factor in STRATEGIES.items():
                center = 60.0 * factor * (1.8 if musl else 1.0) * (1.2 if full else 1.0)
                add(
                    "build",
                    strategy,
                    variant,
                    python,
                    "wall_time",
                    noisy(center * slowdown, 5, 0.05),
                    "s",
                    strategy=strategy,
                )
            for package in PACKAGES:
                detail, seconds, failed = _wheel(variant, package)
                add(
                    "install",
                    package,
                    variant,
                    python,
                    "wall_time",
                    noisy(seconds * slowdown, 3, 0.05),
                    "s",
                    detail=detail,
                )
                add("install", package, variant, python, "failed", [failed], "", detail=detail)
            os_mb = {"slim-trixie": 28.0, "trixie": 330.0, "alpine3.23": 3.6}[variant]
            py_mb = 14.0 if musl else 16.0
            for role, app_mb in (
                ("base", 0.0),
                ("app:multistage", 38.0),
                ("app:single-full", 61.0),
            ):
                compressed = (os_mb + py_mb + app_mb) * 1e6
                add("size", role, variant, python, "compressed", [compressed], "bytes")
                add("size", role, variant, python, "uncompressed", [compressed * 2.6], "bytes")
                add("size", role, variant, python, "layers", [4 + (3 if app_mb else 0)], "count")
                add("size", role, variant, python, "wasted", [1.5e6 if app_mb else 0.0], "bytes")
                for kind, mb in (("os", os_mb), ("python", py_mb), ("app", app_mb)):
                    if mb:
                        add(
                            "size",
                            role,
                            variant,
                            python,
                            "layer_compressed",
                            [mb * 1e6],
                            "bytes",
                            detail=kind,
                        )
            add(
                "startup",
                "python -c pass",
                variant,
                python,
                "wall_time",
                noisy(0.018 * (0.9 if musl else 1.0) * slowdown, 20, 0.08),
                "s",
            )
            add(
                "startup",
                "import heavy",
                variant,
                python,
                "wall_time",
                noisy(0.32 * (1.1 if musl else 1.0) * slowdown, 20, 0.06),
                "s",
            )
            for allocator in ("pymalloc", "mimalloc"):
                for workload, musl_penalty in WORKLOADS.items():
                    penalty = musl_penalty if musl and allocator == "pymalloc" else 1.0
                    if allocator == "mimalloc":
                        penalty *= 0.97
                    add(
                        "runtime",
                        workload,
                        variant,
                        python,
                        "time",
                        noisy(0.25 * penalty * py_factor * slowdown, samples, 0.02),
                        "s",
                        allocator=allocator,
                    )
                    add(
                        "runtime",
                        workload,
                        variant,
                        python,
                        "mem_max_rss",
                        noisy(48e6 * (1.08 if allocator == "mimalloc" else 1.0), 3, 0.01),
                        "bytes",
                        allocator=allocator,
                    )
            add(
                "http",
                "uwsgi",
                variant,
                python,
                "requests_per_s",
                noisy(2400.0 / (1.15 if musl else 1.0) / slowdown, 5, 0.04),
                "req/s",
            )
            add(
                "http",
                "uwsgi",
                variant,
                python,
                "latency_p50_ms",
                noisy(3.1 * (1.1 if musl else 1.0) * slowdown, 5, 0.05),
                "ms",
            )
            add(
                "http",
                "uwsgi",
                variant,
                python,
                "latency_p99_ms",
                noisy(9.5 * (1.2 if musl else 1.0) * slowdown, 5, 0.08),
                "ms",
            )
    if host_slowdown is not None:
        for group in ("build", "install", "size", "startup", "runtime", "http"):
            probes = {
                (PROBE_METRIC, "s", "cpus 1, 120000 iterations"): noisy(
                    0.023 * host_slowdown, 12, 0.03
                ),
                (CONTAINER_PROBE_METRIC, "s", "true"): noisy(0.35 * host_slowdown, 4, 0.05),
                (LOAD_METRIC, "load", ""): noisy(0.6 * host_slowdown, 4, 0.2),
            }
            for (metric, unit, detail), vals in probes.items():
                for i, value in enumerate(vals):
                    rows.append(
                        {
                            "run": run,
                            "group": CALIBRATION_GROUP,
                            "benchmark": group,
                            **dict.fromkeys(TAG_COLUMNS, ""),
                            "metric": metric,
                            "value": value,
                            "unit": unit,
                            "sample": i,
                            "detail": detail,
                        }
                    )
    return pd.DataFrame(rows, columns=list(COLUMNS))


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
