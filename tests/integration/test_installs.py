"""The install group on real images: what pip chose, on glibc and on musl.

glibc: orjson on the local slim-trixie -> a manylinux wheel. musl: orjson on the musl stand-in
-> a musllinux wheel, and an sdist-only C package (crcmod) compiled on the musl-builder image.
Python 3.13, opt level none; the images are built when missing.
"""

from pathlib import Path
from typing import Any

import pytest

from basebench.bases import BaseImage, ensure_local
from basebench.config import Config
from basebench.engine import Engine
from basebench.measure import installs
from basebench.measure._context import RunContext
from basebench.results import ResultStore, load_run_rows
from basebench.variants import load_catalogue

PYTHON = "3.13"


def _install(
    engine: Engine, tmp_path: Path, base: BaseImage, *packages: str
) -> dict[str, dict[str, Any]]:
    """package -> {metric: row} after the install group ran on ``base`` alone."""
    package_file = tmp_path / f"packages-{base.variant}-{len(packages)}.txt"
    package_file.write_text("# test set\n" + "\n".join(packages) + "\n")
    cfg = Config(pythons=[PYTHON], variants=[base.variant], groups=["install"])
    cfg.packages = str(package_file)
    run = ResultStore(tmp_path / "results").create_run(config=cfg.as_dict(), host={})
    ctx = RunContext(engine, run, cfg, load_catalogue(), [base])
    installs.measure(ctx)
    out: dict[str, dict[str, Any]] = {}
    for row in load_run_rows(run.dir):
        assert row["group"] == "install"
        assert (row["variant"], row["python"], row["libc"]) == (base.variant, PYTHON, base.libc)
        out.setdefault(row["benchmark"], {})[row["metric"]] = row
    return out


def test_glibc_slim_gets_a_manylinux_wheel(engine: Engine, tmp_path):
    base = ensure_local(engine, load_catalogue().get("slim-trixie"), PYTHON)
    rows = _install(engine, tmp_path, base, "orjson")
    assert rows["orjson"]["failed"]["value"] == 0
    assert rows["orjson"]["wall_time"]["detail"].startswith("wheel:manylinux_")
    assert rows["orjson"]["wall_time"]["value"] > 0


@pytest.fixture(scope="module")
def musl_variant():
    return load_catalogue().get("alpine")


def test_musl_gets_a_musllinux_wheel(engine: Engine, tmp_path, musl_variant):
    base = ensure_local(engine, musl_variant, PYTHON)
    rows = _install(engine, tmp_path, base, "orjson")
    assert rows["orjson"]["failed"]["value"] == 0, rows["orjson"]["failed"]["detail"]
    assert rows["orjson"]["wall_time"]["detail"].startswith("wheel:musllinux_")


def test_musl_builder_compiles_an_sdist(engine: Engine, tmp_path, musl_variant):
    builder = ensure_local(engine, musl_variant, PYTHON, target="musl-builder")
    rows = _install(engine, tmp_path, builder, "crcmod==1.7")
    assert rows["crcmod"]["failed"]["value"] == 0, rows["crcmod"]["failed"]["detail"]
    assert rows["crcmod"]["wall_time"]["detail"] == "sdist"


def test_an_sdist_on_slim_gets_its_build_deps_timed_apart(engine: Engine, tmp_path):
    # crcmod 1.7 is an sdist with a C extension: the slim image has no compiler, so the install
    # brings gcc and the libc headers first (benchmarks/build-deps.toml's default), as a team's
    # Dockerfile would, and times that step apart from the compile.
    base = ensure_local(engine, load_catalogue().get("slim-trixie"), PYTHON)
    rows = _install(engine, tmp_path, base, "crcmod==1.7")
    crcmod = rows["crcmod"]
    assert crcmod["failed"]["value"] == 0, crcmod["failed"]["detail"]
    assert crcmod["wall_time"]["detail"] == "sdist; build deps: apt gcc libc6-dev"
    deps, pip = crcmod["deps_time"]["value"], crcmod["pip_time"]["value"]
    assert deps > 0 and pip > 0
    assert crcmod["wall_time"]["value"] > deps + pip
