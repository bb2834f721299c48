"""Faults on the real engine: a container killed for its memory limit or its timeout says so,
and a run whose measurements fail records each one (reason and log) and goes on, exit 1.

The run reuses the local slim-trixie stand-in; its only build is a two-line Dockerfile that
fails on purpose, and its start-up containers get a memory limit too small for Python.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from basebench.bases import ensure_local
from basebench.cli import main
from basebench.engine import TIMEOUT_EXIT, Engine
from basebench.labels import RUN
from basebench.limits import Limits
from basebench.paths import CONFIG_FILE
from basebench.variants import load_catalogue

PYTHON = "3.13"
#: Memory a shell pipe can fill in a second, far beyond the limit below.
EAT_MEMORY = "head -c 400000000 /dev/zero | tail -n 1 > /dev/null"


def test_out_of_memory_is_said(engine: Engine, rootfs: str) -> None:
    result = engine.run(rootfs, ["sh", "-c", EAT_MEMORY], limits=Limits(memory="32m"))
    assert result.exit_code == 137
    assert "OOM killer (memory limit 32 MiB)" in result.killed
    assert result.reason in Path(result.log_path).read_text()


def test_timeout_kills_and_removes_the_container(engine: Engine, rootfs: str) -> None:
    start = time.monotonic()
    result = engine.run(rootfs, ["sleep", "120"], timeout_s=2, labels={"org.test.timeout": "1"})
    assert time.monotonic() - start < 60
    assert result.exit_code == TIMEOUT_EXIT and result.killed == "timed out after 2 s and killed"
    left = engine.client.containers.list(all=True, filters={"label": "org.test.timeout=1"})
    assert left == []


def test_a_run_records_each_failure_and_goes_on(engine: Engine, tmp_path: Path) -> None:
    ensure_local(engine, load_catalogue().get("slim-trixie"), PYTHON)  # shared with other tests
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN exit 3\n")
    # The project's own configuration, with a memory limit Python cannot start in.
    config = tmp_path / "basebench.toml"
    text = CONFIG_FILE.read_text()
    assert 'mem_limit = "4g"' in text and "startup_rounds = 15" in text
    text = text.replace('mem_limit = "4g"', 'mem_limit = "6m"')
    config.write_text(text.replace("startup_rounds = 15", "startup_rounds = 2"))
    results = tmp_path / "results"
    argv = ["run", "--config", str(config), "--profile", "validate"]
    argv += ["--group", "build", "--group", "startup", "--no-report"]
    argv += ["--python", PYTHON, "--variant", "slim-trixie", "--base-source", "local"]
    argv += ["--rounds", "1", "--dockerfile", str(app / "Dockerfile"), "--app", str(app)]
    argv += ["--results", str(results)]
    assert main(argv) == 1  # something failed, the run still finished
    (run_dir,) = results.iterdir()
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "finished with failures"
    by_group = {f["group"]: f for f in meta["failures"]}
    assert "failed (exit" in by_group["build"]["message"]
    assert "OOM killer" in by_group["startup"]["message"]
    for failure in by_group.values():
        assert Path(failure["log"]).is_file(), failure
    # Both groups ran: the build's failure did not stop the start-up group.
    left = engine.client.containers.list(all=True, filters={"label": f"{RUN}={meta['run_id']}"})
    assert left == []
