"""Engine pieces that need no engine: BuildKit log parsing and finding a BuildKit CLI."""

import os
import stat
from pathlib import Path

import pytest

from basebench.engine import BuildKitCLI, check_buildkit_cli, find_buildkit_cli, parse_step_timings
from basebench.errors import EngineUnavailable

PLAIN_LOG = """\
#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 120B done
#1 DONE 0.0s

#5 [builder 1/3] FROM docker.io/basebench/rootfs:trixie
#5 DONE 0.1s

#6 [builder 2/3] RUN apt-get update && apt-get install -y gcc
#6 0.512 Get:1 something
#6 DONE 12.3s

#7 [builder 3/3] RUN pip install numpy
#7 CACHED
"""


def test_step_timings_from_plain_progress():
    steps = parse_step_timings(PLAIN_LOG.splitlines())
    by_number = {s.number: s for s in steps}
    assert by_number[6].name == "[builder 2/3] RUN apt-get update && apt-get install -y gcc"
    assert by_number[6].seconds == 12.3
    assert by_number[7].cached and by_number[7].seconds is None
    assert by_number[1].name.startswith("[internal]") and by_number[1].seconds == 0.0
    assert [s.number for s in steps] == [1, 5, 6, 7]


def _fake_cli(directory: Path, version: str, buildx: bool) -> str:
    path = directory / f"docker-{version}"
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = version ]; then echo {version}; exit 0; fi\n'
        f'if [ "$1" = buildx ]; then {"echo buildx v0.12; exit 0" if buildx else "exit 1"}; fi\n'
        "exit 2\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_probe_tells_which_cli_can_build(tmp_path: Path):
    new_without_buildx = _fake_cli(tmp_path, "28.2.2", buildx=False)
    new_with_buildx = _fake_cli(tmp_path, "27.0.1", buildx=True)
    old = _fake_cli(tmp_path, "20.10.24", buildx=False)
    assert "has no buildx plugin" in str(check_buildkit_cli(new_without_buildx))
    assert isinstance(check_buildkit_cli(new_with_buildx), BuildKitCLI)
    found = check_buildkit_cli(old)
    assert isinstance(found, BuildKitCLI) and "DOCKER_BUILDKIT=1" in found.how
    assert found.environment()["DOCKER_BUILDKIT"] == "1"


def test_no_usable_cli_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(_fake_cli(tmp_path, "28.2.2", buildx=False), bin_dir / "docker")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("BASEBENCH_DOCKER_CLI", raising=False)
    monkeypatch.setattr("basebench.engine.os.access", lambda p, m: str(p).startswith(str(tmp_path)))
    with pytest.raises(EngineUnavailable) as info:
        find_buildkit_cli()
    assert "has no buildx plugin" in str(info.value)
    assert "docker-buildx" in str(info.value) and "BASEBENCH_DOCKER_CLI" in str(info.value)


def test_explicit_cli_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    chosen = _fake_cli(tmp_path, "20.10.5", buildx=False)
    monkeypatch.setenv("BASEBENCH_DOCKER_CLI", chosen)
    assert find_buildkit_cli().path == chosen
