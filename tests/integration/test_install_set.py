"""A team's requirements on real images: the resolved set per base and the whole-set install.

The requirements (pydantic, requests) are pure Python; their compiled code sits in dependencies
only (pydantic-core, charset-normalizer). On the local slim-trixie (glibc) and the musl
stand-in, the tags the install group reports must be the ones pip on this host downloads for
that platform tag, Python and implementation (``pip download --only-binary=:all: --platform``),
and a wheel reported as musllinux_1_1 must have no musllinux_1_2 build of that version.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from basebench.bases import ensure_local
from basebench.config import Config
from basebench.engine import Engine
from basebench.measure import installs
from basebench.measure._context import RunContext
from basebench.measure.resolved import SET_GROUP, ResolvedSet
from basebench.results import ResultStore, load_resolved, load_run_rows
from basebench.variants import load_catalogue

PYTHON = "3.13"
REQUIREMENTS = "pydantic\nrequests\n"


@pytest.fixture(scope="module")
def measured(engine: Engine, tmp_path_factory: pytest.TempPathFactory):
    """(resolved sets by variant, whole-set rows by (variant, metric)) of one install group."""
    catalogue = load_catalogue()
    bases = [ensure_local(engine, catalogue.get(v), PYTHON) for v in ("slim-trixie", "alpine")]
    folder = tmp_path_factory.mktemp("install-set")
    requirements = folder / "requirements.txt"
    requirements.write_text(REQUIREMENTS)
    cfg = Config(pythons=[PYTHON], variants=["slim-trixie", "alpine"], groups=["install"])
    cfg.requirements = str(requirements)
    run = ResultStore(folder / "results").create_run(config=cfg.as_dict(), host={})
    installs.measure(RunContext(engine, run, cfg, catalogue, bases))
    sets = {s["variant"]: ResolvedSet.from_dict(s) for s in load_resolved([run.dir])}
    rows = {
        (r["variant"], r["metric"]): r for r in load_run_rows(run.dir) if r["group"] == SET_GROUP
    }
    packages = {r["benchmark"] for r in load_run_rows(run.dir) if r["group"] == "install"}
    return sets, rows, packages, bases


def _host_download(name: str, version: str, platform: str, dest: Path) -> list[str]:
    """The files pip on this host downloads for one wheel of ``platform`` (empty: none)."""
    dest.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        platform,
        "--python-version",
        PYTHON,
        "--implementation",
        "cp",
        "--dest",
        str(dest),
        f"{name}=={version}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    return sorted(p.name for p in dest.glob("*.whl")) if result.returncode == 0 else []


def test_only_the_team_set_is_measured(measured):
    _sets, _rows, packages, _bases = measured
    assert packages == {"pydantic", "requests"}


def test_compiled_dependencies_and_their_tags_match_pip_download(measured, tmp_path):
    sets, _rows, _packages, bases = measured
    for base in bases:
        one = sets[base.variant]
        assert not one.error, one.error
        by_name = {d.name: d for d in one.distributions}
        # Pure at the top, compiled underneath, attributed to the requirement that pulled it.
        assert by_name["pydantic"].compiled is False and by_name["pydantic"].requested
        core = by_name["pydantic-core"]
        assert core.compiled and core.pulled_in_by == ("pydantic",)
        prefix = "musllinux_" if base.libc == "musl" else "manylinux"
        for dist in one.compiled:
            assert dist.platform.startswith(prefix), (base.variant, dist)
            where = tmp_path / base.variant / dist.name
            files = _host_download(dist.name, dist.version, dist.platform, where)
            assert files == [dist.file], (base.variant, dist.platform, files)


def test_a_musllinux_1_1_wheel_is_reported_as_such(measured, tmp_path):
    sets, _rows, _packages, _bases = measured
    older = [d for d in sets["alpine"].compiled if d.platform.startswith("musllinux_1_1_")]
    assert older, [(d.name, d.platform) for d in sets["alpine"].compiled]
    for dist in older:
        newer = dist.platform.replace("musllinux_1_1_", "musllinux_1_2_")
        assert _host_download(dist.name, dist.version, newer, tmp_path / dist.name) == []


def test_the_whole_set_installs_offline_with_its_time(measured):
    _sets, rows, _packages, bases = measured
    for base in bases:
        assert rows[(base.variant, "failed")]["value"] == 0, rows[(base.variant, "failed")]
        wall, pip = rows[(base.variant, "wall_time")], rows[(base.variant, "pip_time")]
        assert wall["detail"].endswith("; offline")
        assert 0 < pip["value"] < wall["value"]
