"""Stopping a real run: SIGTERM (tox, CI), SIGINT (Ctrl-C) and SIGHUP leave nothing behind.

Each test starts ``basebench run`` as a child process on the local slim-trixie stand-in (built
when missing), waits until a given step is under way, sends the signal, and checks: the exit
code is 128 + the signal, run.json is valid and says "interrupted" with the signal and the
step, the measurements finished before the signal are on disk, and no container of the run is
left on the engine.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from basebench.bases import ensure_local
from basebench.engine import Engine
from basebench.labels import RUN
from basebench.paths import CONFIG_FILE
from basebench.variants import load_catalogue
from integration.cli_runs import PYTHON, child_environment, slim_run

#: The whole run must stop within this after the signal (containers removed, run.json written).
STOP_WITHIN_S = 90.0


def _start(
    tmp_path: Path, *args: str, environment: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        slim_run(tmp_path / "results", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_environment(environment),
    )


def _wait_for(proc: subprocess.Popen[str], marker: str, timeout_s: float) -> str:
    """Read the child's output until ``marker`` appears; everything read so far."""
    assert proc.stdout is not None
    seen = ""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    while marker not in seen:
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail(f"never saw {marker!r}; output so far:\n{seen}")
        if selector.select(timeout=1.0):
            line = proc.stdout.readline()
            seen += line
    return seen


def _stop(proc: subprocess.Popen[str], signum: int) -> tuple[int, str]:
    proc.send_signal(signum)
    try:
        out, _ = proc.communicate(timeout=STOP_WITHIN_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the run did not stop within {STOP_WITHIN_S} s of {signum}")
    return proc.returncode, out


def _run_dir(tmp_path: Path) -> Path:
    [run_dir] = (tmp_path / "results").iterdir()
    return run_dir


def _left_behind(engine: Engine, run_id: str) -> list[str]:
    containers = engine.client.containers.list(all=True, filters={"label": f"{RUN}={run_id}"})
    return [str(c.name) for c in containers]


def _run_id(output: str) -> str:
    # "run 20261129-220139-vm-5aaa → ..." is the run's first line.
    for line in output.splitlines():
        if line.startswith("run "):
            return line.split()[1]
    pytest.fail(f"no run id in:\n{output}")


def _wait_for_container(engine: Engine, run_id: str, timeout_s: float = 300) -> None:
    """Until a container of the run is running: the signal must find one to clean up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        running = engine.client.containers.list(filters={"label": f"{RUN}={run_id}"})
        if running:
            return
        time.sleep(0.2)
    pytest.fail(f"no container of run {run_id} started within {timeout_s} s")


@pytest.fixture(scope="module", autouse=True)
def slim_base(engine: Engine) -> None:
    ensure_local(engine, load_catalogue().get("slim-trixie"), PYTHON)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_start_up_removes_its_containers(
    engine: Engine, tmp_path: Path, signum: signal.Signals
) -> None:
    proc = _start(tmp_path, "--group", "startup")
    seen = _wait_for(proc, "startup 1 images", timeout_s=600)
    time.sleep(2)  # some rounds done
    _wait_for_container(engine, _run_id(seen))
    code, out = _stop(proc, signum)
    assert code == 128 + signum, out
    assert f"stopped by {signum.name}" in out
    run_dir = _run_dir(tmp_path)
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "interrupted"
    assert meta["interrupted"]["signal"] == signum.name
    assert meta["interrupted"]["step"].startswith("startup")
    assert meta["finished"]
    assert _left_behind(engine, meta["run_id"]) == []


def test_ctrl_c_during_runtime_stops_pyperf_and_keeps_the_run_valid(
    engine: Engine, tmp_path: Path
) -> None:
    proc = _start(
        tmp_path,
        "--group",
        "runtime",
        "--workload",
        "json_roundtrip",
        "--pyperf-mode",
        "default",
    )
    seen = _wait_for(proc, "runtime", timeout_s=900)
    _wait_for_container(engine, _run_id(seen), timeout_s=900)
    time.sleep(3)  # pyperf's worker processes are running in it
    code, out = _stop(proc, signal.SIGINT)
    assert code == 130, out
    run_dir = _run_dir(tmp_path)
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "interrupted" and meta["interrupted"]["signal"] == "SIGINT"
    assert _left_behind(engine, meta["run_id"]) == []


#: Forwards a unix socket to the engine's, until it is killed: an engine that "disappears"
#: for the run behind it, while the real one (and every other user of it) carries on.
FORWARDER = """
import socket, sys, threading
listener = socket.socket(socket.AF_UNIX)
listener.bind(sys.argv[1])
listener.listen()
def pipe(a, b):
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    client, _ = listener.accept()
    engine = socket.socket(socket.AF_UNIX)
    engine.connect(sys.argv[2])
    threading.Thread(target=pipe, args=(client, engine), daemon=True).start()
    threading.Thread(target=pipe, args=(engine, client), daemon=True).start()
"""


def test_an_engine_that_disappears_ends_the_run_with_its_data(
    engine: Engine, tmp_path: Path
) -> None:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    assert host.startswith("unix://"), "this test forwards the engine's unix socket"
    socket_path = tmp_path / "engine.sock"
    forwarder = subprocess.Popen(
        [sys.executable, "-c", FORWARDER, str(socket_path), host.removeprefix("unix://")]
    )
    run_id = ""
    try:
        deadline = time.monotonic() + 10
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc = _start(
            tmp_path, "--group", "startup", environment={"DOCKER_HOST": f"unix://{socket_path}"}
        )
        seen = _wait_for(proc, "startup 1 images", timeout_s=600)
        run_id = _run_id(seen)
        _wait_for_container(engine, run_id)
        forwarder.kill()  # the engine is gone, for the run
        try:
            out, _ = proc.communicate(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"the run did not end within {STOP_WITHIN_S} s of losing its engine")
        assert proc.returncode == 3, seen + out
        errors = [line for line in out.splitlines() if "error:" in line]
        assert len(errors) == 1 and "stopped answering" in errors[0], out
        assert "Traceback" not in out
        meta = json.loads((_run_dir(tmp_path) / "run.json").read_text())
        assert meta["status"] == "engine lost" and meta["finished"]
        assert meta["engine_lost"]["step"].startswith("startup")
    finally:
        forwarder.kill()
        forwarder.wait()
        if run_id:  # what the run could no longer remove itself
            engine.remove_managed(run_id=run_id)


def _wait_for_file(pattern: str, root: Path, proc: subprocess.Popen[str], timeout_s: float) -> Path:
    """Until a file matching ``pattern`` exists under ``root`` (the child still running)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = sorted(root.glob(pattern))
        if found:
            return found[0]
        if proc.poll() is not None:
            pytest.fail(f"the run ended before {pattern} appeared:\n{proc.communicate()[0]}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"no {pattern} under {root} within {timeout_s} s")


RESUME_PROFILE = """
[profiles.resume]
description = "a run to interrupt and resume"
startup_rounds = 4
"""


def test_sigterm_keeps_finished_rounds_and_resume_completes_the_run(
    engine: Engine, tmp_path: Path
) -> None:
    # Four start-up rounds (a profile of its own): the signal comes after the first.
    config = tmp_path / "basebench.toml"
    config.write_text(CONFIG_FILE.read_text() + RESUME_PROFILE)
    proc = _start(tmp_path, "--config", str(config), "--profile", "resume", "--group", "startup")
    first = _wait_for_file("*/rounds/startup/round-0001.json", tmp_path / "results", proc, 600)
    code, out = _stop(proc, signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, out
    run_dir = _run_dir(tmp_path)
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "interrupted" and meta["interrupted"]["signal"] == "SIGTERM"
    assert _left_behind(engine, meta["run_id"]) == []
    # The finished rounds are on disk, and run.json says which are missing.
    kept = sorted(first.parent.glob("round-*.json"))
    done = json.loads(kept[-1].read_text())["done"]
    rounds = meta["config"]["startup_rounds"]
    assert 1 <= done < rounds, (done, out)
    [missing] = meta["interrupted"]["missing"]
    assert missing.startswith("startup: round") and f"{done + 1}" in missing, (missing, out)
    assert missing.endswith(f"of {rounds} missing ({PYTHON}-slim-trixie)"), (missing, out)

    resumed = subprocess.run(
        [sys.executable, "-m", "basebench.cli", "run", "--resume", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "finished" and meta["finished"]
    assert [i["signal"] for i in meta["interruptions"]] == ["SIGTERM"]
    # Every round once: the rounds kept from before the signal and those measured after.
    [startup] = run_dir.glob("measurements/startup-base-*.json")
    rows = json.loads(startup.read_text())["rows"]
    assert rows and all(len(row["values"]) == rounds for row in rows)
    # The first round's values are the ones measured before the signal, not measured again.
    first_round = {s[3]: s[4] for s in json.loads(kept[0].read_text())["state"]["samples"]}
    for row in rows:
        assert row["values"][:1] == first_round[row["benchmark"]]
    report = (run_dir / "report" / "report.md").read_text()
    assert "**interrupted**" not in report and "measures them" not in report
    assert "resumed after 1 interruption" in report
