"""The engine lock between processes: a second run waits or refuses; clean refuses."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from basebench import cli, lock
from basebench import engine as engine_module
from basebench.commands import clean
from basebench.errors import UserError

#: A second process: takes the lock, names its run, says "held", releases on a line of stdin.
HOLDER = textwrap.dedent(
    """
    import sys
    from basebench import lock
    with lock.engine_lock("run"):
        lock.note_run("20990101-000000-test")
        print("held", flush=True)
        sys.stdin.readline()
    """
)


@pytest.fixture
def lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lock of its own: never the real engine's, which a real run may hold."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/test.sock")
    return tmp_path


@pytest.fixture
def holder(lock_dir: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def test_the_path_is_per_engine(lock_dir: Path) -> None:
    assert lock.lock_path("unix:///a.sock") != lock.lock_path("tcp://b:2375")
    assert lock.lock_path().parent == lock_dir


def test_no_wait_refuses_naming_the_holder(holder: subprocess.Popen[str]) -> None:
    with pytest.raises(UserError) as info, lock.engine_lock("run", wait=False):
        pass
    message = str(info.value)
    assert f"run 20990101-000000-test (pid {holder.pid}) is using this Docker engine" in message
    assert "without --no-wait" in message


def test_a_second_run_waits_then_goes(holder: subprocess.Popen[str]) -> None:
    said: list[str] = []

    def on_wait(message: str) -> None:
        said.append(message)
        assert holder.stdin is not None
        holder.stdin.write("go\n")  # the first run ends while the second waits
        holder.stdin.flush()

    with lock.engine_lock("run", on_wait=on_wait) as held:
        assert held.holder.pid == os.getpid()
        assert lock.read_holder(held.path).pid == os.getpid()
    assert said == [
        f"waiting for run 20990101-000000-test (pid {holder.pid}) to finish; --no-wait to refuse"
    ]
    assert holder.wait(timeout=10) == 0


def test_a_killed_holder_leaves_no_lock(holder: subprocess.Popen[str]) -> None:
    assert lock.busy() is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    assert lock.busy() is None
    with lock.engine_lock("run", wait=False):
        assert lock.busy() is not None  # this process holds it now


def test_run_no_wait_exits_2(
    holder: subprocess.Popen[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse() -> None:
        raise AssertionError("the engine was contacted by a run that had to refuse")

    monkeypatch.setattr(engine_module, "connect", refuse)
    results = tmp_path / "results"
    code = cli.main(["run", "--no-wait", "--group", "size", "--results", str(results)])
    assert code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "is using this Docker engine" in lines[0]
    assert not results.exists()


def _clean_args(**given: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "run": None,
        "include_bases": False,
        "include_cache": False,
        "dry_run": False,
        "force": False,
    }
    return argparse.Namespace(**{**values, **given})


def test_clean_refuses_during_a_run(holder: subprocess.Popen[str]) -> None:
    with pytest.raises(UserError, match=r"clean would remove what it is measuring; .*--force"):
        clean.run(_clean_args())
    # What does not touch the running run's objects goes on.
    clean._refuse_during_a_run(_clean_args(force=True))
    clean._refuse_during_a_run(_clean_args(dry_run=True))
    clean._refuse_during_a_run(_clean_args(run="19990101-000000-old"))
    with pytest.raises(UserError):
        clean._refuse_during_a_run(_clean_args(run="20990101-000000-test"))


def test_include_cache_prunes_through_the_buildkit_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    from basebench.engine import BuildKitCLI, Engine

    engine = Engine.__new__(Engine)
    engine._cli = BuildKitCLI("/usr/bin/docker", "20.10", "built-in BuildKit (DOCKER_BUILDKIT=1)")
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "ID\nTotal:\t1.2GB\n", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert engine.prune_build_cache(dry_run=True) == "would run: /usr/bin/docker builder prune -f"
    assert calls == []
    assert engine.prune_build_cache() == "Total:\t1.2GB"
    assert calls == [["/usr/bin/docker", "builder", "prune", "-f"]]
