"""Least privilege: what every container and every build gets, checked on the arguments the
engine hands to docker-py and to the docker CLI (no Docker here)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from basebench.engine import PACKAGE_MANAGER_CAPS, Engine
from basebench.limits import Limits
from basebench.netconf import (
    CA_CONTAINER_PATH,
    PROXY_SECRET_ID,
    CABundle,
    NetworkSettings,
    choose_mode,
)

PROXY = "http://user:s3cret@proxy.invalid:3128"


class _Info:
    def info(self) -> dict[str, Any]:
        return {"NCPU": 2}


def engine(tmp_path: Path, **network: Any) -> Engine:
    settings = NetworkSettings(**network)
    return Engine(network=settings, client=_Info(), log_dir=tmp_path)  # type: ignore[arg-type]


def kwargs(e: Engine, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "environment": None,
        "volumes": None,
        "limits": None,
        "labels": None,
        "kind": "workload",
        "network": "none",
        "package_manager": False,
    }
    return e._container_kwargs(**(arguments | overrides))


def test_every_container_is_limited_and_unprivileged(tmp_path: Path) -> None:
    got = kwargs(engine(tmp_path))
    assert got["security_opt"] == ["no-new-privileges"]
    assert got["cap_drop"] == ["ALL"]
    assert "cap_add" not in got
    # No limits asked for: the engine's ceiling, CPU quota = the engine's CPUs.
    assert (got["mem_limit"], got["pids_limit"], got["nano_cpus"]) == ("4g", 512, 2 * 10**9)
    assert got["memswap_limit"] == got["mem_limit"]


def test_measured_limits_win_and_a_cpuset_is_the_cpu_limit(tmp_path: Path) -> None:
    got = kwargs(engine(tmp_path), limits=Limits(cpuset="1", memory="256m", pids=64))
    assert (got["cpuset_cpus"], got["mem_limit"], got["pids_limit"]) == ("1", "256m", 64)
    assert "nano_cpus" not in got  # pinned to one CPU already: no quota on top


def test_only_a_package_manager_gets_capabilities_back(tmp_path: Path) -> None:
    got = kwargs(engine(tmp_path), package_manager=True, network="index")
    assert got["cap_drop"] == ["ALL"]
    assert got["cap_add"] == list(PACKAGE_MANAGER_CAPS)


def test_network_by_need(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("CA")
    e = engine(
        tmp_path,
        mode="bridge",
        ca_bundle=CABundle(bundle, "PIP_CERT"),
        proxies={"HTTPS_PROXY": PROXY},
    )
    offline = kwargs(e)
    assert offline["network_mode"] == "none"
    # Nothing to reach: neither the proxy nor the CA bundle.
    assert offline["environment"] == {} and offline["volumes"] == {}
    index = kwargs(e, network="index")
    assert index["network_mode"] == "bridge"
    assert index["environment"]["HTTPS_PROXY"] == PROXY
    assert index["environment"]["PIP_CERT"] == CA_CONTAINER_PATH
    assert kwargs(e, network="host")["network_mode"] == "host"


@pytest.mark.parametrize(
    ("proxies", "mode"),
    [
        ({}, "bridge"),
        ({"HTTPS_PROXY": PROXY}, "bridge"),
        ({"HTTPS_PROXY": "http://127.0.0.1:3128"}, "host"),
        ({"http_proxy": "localhost:8080"}, "host"),
        ({"no_proxy": "localhost,127.0.0.1"}, "bridge"),
    ],
)
def test_auto_mode_is_bridge_unless_the_proxy_is_on_loopback(
    proxies: dict[str, str], mode: str
) -> None:
    chosen, build, why = choose_mode("auto", proxies)
    assert chosen == mode
    assert build == "host"  # BuildKit's own bridge does not work on these engines
    assert ("loopback" in why) == (mode == "host")
    assert choose_mode("bridge", proxies)[:2] == ("bridge", "")


def _build_command(e: Engine, tmp_path: Path) -> tuple[list[str], str]:
    """The docker build command line, and the proxy secret file's content during the build."""
    seen: dict[str, Any] = {}

    def stream(cmd: Sequence[str], log_path: Path, on_line: Any) -> Any:
        seen["cmd"] = list(cmd)
        secret = [c for c in cmd if c.startswith(f"id={PROXY_SECRET_ID},src=")]
        seen["secret"] = Path(secret[0].split("src=")[1]).read_text() if secret else ""
        iid = Path(cmd[cmd.index("--iidfile") + 1])
        iid.write_text("sha256:x")
        return 0, 0.1, [], []

    e._stream_build = stream  # type: ignore[method-assign]
    e._cli = type("CLI", (), {"path": "docker"})()
    e.build(tmp_path, tag="t:1", kind="app", build_args={"BASE_IMAGE": "b"})
    return seen["cmd"], seen["secret"]


def test_proxies_reach_builds_as_a_secret_never_as_build_args(tmp_path: Path) -> None:
    e = engine(tmp_path, mode="bridge", proxies={"HTTPS_PROXY": PROXY})
    cmd, secret = _build_command(e, tmp_path)
    assert not any(PROXY in part for part in cmd)
    assert cmd[cmd.index("--build-arg") + 1] == "BASE_IMAGE=b"
    sourced = subprocess.run(
        ["sh", "-c", '. /dev/stdin; printf %s "$HTTPS_PROXY"'],
        input=secret,
        capture_output=True,
        text=True,
        check=True,
    )
    assert sourced.stdout == PROXY  # what a RUN step that sources the secret sees
    assert "--network" not in cmd  # bridge: BuildKit's own ("default")
    e = engine(tmp_path, mode="bridge", build="host")
    assert _build_command(e, tmp_path)[0].count("host") == 1
    # The secret file is gone once the build has ended.
    secret_arg = next(c for c in cmd if c.startswith(f"id={PROXY_SECRET_ID}"))
    assert not Path(secret_arg.split("src=")[1]).exists()


def test_no_proxy_no_secret_and_host_mode_said(tmp_path: Path) -> None:
    cmd, secret = _build_command(engine(tmp_path, mode="host"), tmp_path)
    assert secret == "" and cmd[cmd.index("--network") + 1] == "host"
