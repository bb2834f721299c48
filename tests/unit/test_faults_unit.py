"""Faults of one measurement are recorded and the run goes on; an engine that has gone ends
the run with one message. Engine.run against a fake docker-py client (the real engine's
behaviour is in tests/integration/test_faults.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker.errors
import pytest
import requests.exceptions

from basebench import cli
from basebench.engine import TIMEOUT_EXIT, Engine
from basebench.errors import EngineLost, MeasurementFailed
from basebench.measure._context import Failure


class FakeContainer:
    def __init__(self, client: FakeClient) -> None:
        self.client = client
        self.attrs: dict[str, Any] = {"State": {}, "HostConfig": {"Memory": 16 * 2**20}}
        self.killed = self.removed = False

    def start(self) -> None:
        pass

    def wait(self, timeout: float) -> dict[str, int]:
        if self.client.on_wait is not None:
            raise self.client.on_wait
        return {"StatusCode": self.client.exit_code}

    def reload(self) -> None:
        self.attrs["State"]["OOMKilled"] = self.client.oom

    def kill(self) -> None:
        self.killed = True

    def logs(self, **_: Any) -> bytes:
        return b"some output\n"

    def remove(self, force: bool = False) -> None:
        self.removed = True


class FakeClient:
    def __init__(self) -> None:
        self.exit_code = 0
        self.oom = False
        self.on_wait: BaseException | None = None
        self.on_create: BaseException | None = None
        self.alive = True
        self.created: list[FakeContainer] = []
        self.containers = self

    def create(self, image: str, command: list[str], **kwargs: Any) -> FakeContainer:
        if self.on_create is not None:
            raise self.on_create
        self.created.append(FakeContainer(self))
        return self.created[-1]

    def ping(self) -> bool:
        if not self.alive:
            raise requests.exceptions.ConnectionError("connection refused")
        return True

    def info(self) -> dict[str, Any]:
        return {"NCPU": 2}


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


@pytest.fixture
def engine(client: FakeClient, tmp_path: Path) -> Engine:
    return Engine(client=client, log_dir=tmp_path)  # type: ignore[arg-type]


def test_a_clean_exit_has_no_reason_and_no_log(engine: Engine) -> None:
    result = engine.run("img", ["true"])
    assert (result.exit_code, result.killed, result.log_path) == (0, "", "")


def test_a_failed_container_keeps_its_output_in_a_log(engine: Engine, client: FakeClient) -> None:
    client.exit_code = 3
    result = engine.run("img", ["false"])
    assert result.reason == "exit 3"
    assert "some output" in Path(result.log_path).read_text()
    assert client.created[0].removed


def test_oom_kill_is_said(engine: Engine, client: FakeClient) -> None:
    client.exit_code, client.oom = 137, True
    result = engine.run("img", ["eat"])
    assert result.reason == "exit 137: killed by the kernel's OOM killer (memory limit 16 MiB)"
    assert result.reason in Path(result.log_path).read_text()


def test_timeout_kills_the_container(engine: Engine, client: FakeClient) -> None:
    client.on_wait = requests.exceptions.ConnectionError("Read timed out.")
    result = engine.run("img", ["sleep", "99"], timeout_s=2)
    assert client.created[0].killed and client.created[0].removed
    assert result.exit_code == TIMEOUT_EXIT
    assert result.killed == "timed out after 2 s and killed"


def test_engine_gone_while_waiting(engine: Engine, client: FakeClient) -> None:
    client.on_wait = requests.exceptions.ConnectionError("connection refused")
    client.alive = False
    with pytest.raises(EngineLost, match="stopped answering"):
        engine.run("img", ["sleep", "99"])


def test_engine_error_is_one_failed_measurement(engine: Engine, client: FakeClient) -> None:
    client.on_create = docker.errors.APIError("500 Server Error: no space left on device")
    with pytest.raises(MeasurementFailed, match="engine error: 500 .*no space left"):
        engine.run("img", ["true"])
    assert not issubclass(EngineLost, MeasurementFailed)  # per-measurement handlers skip it


def test_failure_records_its_log() -> None:
    failure = Failure("runtime", "x", "exit 137", "/logs/x.log")
    assert failure.as_dict()["log"] == "/logs/x.log"
    assert "log" not in Failure("size", "y", "boom").as_dict()


def test_engine_lost_exits_3_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from basebench.commands import doctor

    def lose(args: Any) -> int:
        raise EngineLost("the Docker engine stopped answering (x); the run ended there")

    monkeypatch.setattr(doctor, "run", lose)
    assert cli.main(["doctor"]) == cli.ENGINE_LOST_EXIT == 3
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "stopped answering" in err


def _run_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> tuple[Any, list[str]]:
    """_measure over two groups, the first raising ``error``: the context afterwards, and the
    groups that ran."""
    from fakes import FakeEngine, make_context

    from basebench.commands import run as run_command
    from basebench.config import Config

    calls: list[str] = []

    def measure_for(reference: str) -> Any:
        def measure(ctx: Any) -> None:
            calls.append(reference)
            if reference.startswith("basebench.measure.startup"):
                raise error

        return measure

    monkeypatch.setattr(run_command, "load", measure_for)
    ctx = make_context(tmp_path, FakeEngine(), Config(cpuset="", groups=["startup", "size"]))
    run_command._measure(ctx)
    return ctx, calls


def test_an_unforeseen_group_error_is_recorded_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, ran = _run_groups(tmp_path, monkeypatch, OSError(28, "No space left on device"))
    assert [f.group for f in ctx.failures] == ["startup"]
    assert "No space left on device" in ctx.failures[0].message
    assert len(ran) == 2  # the next group ran


def test_a_group_error_with_the_engine_gone_ends_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fakes import FakeEngine

    monkeypatch.setattr(FakeEngine, "answers", lambda self: False)
    with pytest.raises(EngineLost):
        _run_groups(tmp_path, monkeypatch, requests.exceptions.ConnectionError("refused"))
