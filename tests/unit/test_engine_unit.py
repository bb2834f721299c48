"""Engine pieces that need no engine: BuildKit log parsing, finding a BuildKit CLI, the CLI's
environment and the names of build logs (a fake CLI stands in for the builds)."""

import os
import stat
import threading
from pathlib import Path

import pytest

from basebench.engine import (
    DEFAULT_ENGINE,
    BuildKitCLI,
    BuildResult,
    Engine,
    check_buildkit_cli,
    find_buildkit_cli,
    parse_step_timings,
)
from basebench.errors import EngineUnavailable
from basebench.paths import new_log_path

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


def test_the_cli_is_sent_to_the_engine_docker_py_uses(monkeypatch: pytest.MonkeyPatch):
    cli = BuildKitCLI("/usr/bin/docker", "20.10.24", "built-in BuildKit (DOCKER_BUILDKIT=1)")
    # A docker context would send the CLI elsewhere; docker-py knows only DOCKER_HOST.
    monkeypatch.setenv("DOCKER_CONTEXT", "some-remote")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert cli.environment()["DOCKER_HOST"] == DEFAULT_ENGINE
    assert "DOCKER_CONTEXT" not in cli.environment()
    monkeypatch.setenv("DOCKER_HOST", "tcp://builder.example:2376")
    assert cli.environment()["DOCKER_HOST"] == "tcp://builder.example:2376"


@pytest.fixture
def one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every log name is stamped with the same second, as two processes started together are."""
    monkeypatch.setattr("time.strftime", lambda fmt: "20261130-040000")


def test_log_names_taken_in_one_second_differ(tmp_path: Path, one_second: None):
    names = [new_log_path(tmp_path, "build-step").name for _ in range(3)]
    assert names == [
        "build-step-20261130-040000.log",
        "build-step-20261130-040000-2.log",
        "build-step-20261130-040000-3.log",
    ]


#: A docker CLI that "builds": writes an image id named after the tag into --iidfile, slowly.
FAKE_BUILD = """#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in
    --iidfile) iid="$2"; shift ;;
    --tag) tag="$2"; shift ;;
  esac
  shift
done
echo "#1 [1/1] RUN build $tag"
echo "sha256:$tag" > "$iid"
sleep 0.3
echo "#1 DONE 0.3s"
"""


def test_two_builds_of_one_step_in_one_second_keep_their_own_files(
    tmp_path: Path, one_second: None
):
    fake = tmp_path / "docker"
    fake.write_text(FAKE_BUILD)
    fake.chmod(0o755)
    results: dict[str, BuildResult] = {}
    errors: list[BaseException] = []

    def build(tag: str) -> None:
        # Two engines, as two `basebench images bootstrap` processes in one folder have.
        engine = Engine(client=object(), log_dir=tmp_path / "logs")  # type: ignore[arg-type]
        engine._cli = BuildKitCLI(str(fake), "20.10.24", "built-in BuildKit (DOCKER_BUILDKIT=1)")
        try:
            results[tag] = engine.build(tmp_path, tag=tag, kind="base", log_name="same-step")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(tag,)) for tag in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {tag: r.image_id for tag, r in results.items()} == {
        "first": "sha256:first",
        "second": "sha256:second",
    }
    assert results["first"].log_path != results["second"].log_path
    for tag, result in results.items():
        assert f"RUN build {tag}" in result.log_path.read_text()
    assert not list((tmp_path / "logs").glob("*.iid"))  # each read and removed its own
