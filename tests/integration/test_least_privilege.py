"""Least privilege on the real engine: what a container may do, and a run made behind a proxy
with a CA bundle leaves neither anywhere (layers, history, build log, results, report).

The run reuses the local slim-trixie stand-in of the other tests and builds one tiny image of
its own (a user Dockerfile that declares ``ARG HTTP_PROXY``/``ARG HTTPS_PROXY``, the case that
would put build-arg proxies into ``docker history``): about 20 s on a warm engine.
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest

from basebench.bases import ensure_local
from basebench.cli import main
from basebench.engine import PACKAGE_MANAGER_CAPS, UNPRIVILEGED_USER, Engine
from basebench.labels import RUN
from basebench.results import Run
from basebench.variants import load_catalogue

PYTHON = "3.13"


def _status(engine: Engine, image: str, *, package_manager: bool = False, **kw: object) -> str:
    result = engine.run(
        image,
        ["sh", "-c", "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; cat /proc/net/dev"],
        package_manager=package_manager,
        **kw,  # type: ignore[arg-type]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_containers_drop_capabilities_and_network(engine: Engine, rootfs: str) -> None:
    plain = _status(engine, rootfs)
    assert "NoNewPrivs:\t1" in plain
    assert "CapEff:\t0000000000000000" in plain  # root, but with no capability at all
    assert "eth0" not in plain  # no network: the loopback only
    # A package manager gets back only what apt needs; a download gets a network.
    apt = _status(engine, rootfs, package_manager=True, network="index")
    effective = int(apt.split("CapEff:\t")[1].split()[0], 16)
    assert bin(effective).count("1") == len(PACKAGE_MANAGER_CAPS)
    assert "eth0" in apt or "docker0" in apt
    nobody = engine.run(rootfs, ["id", "-u"], user=UNPRIVILEGED_USER)
    assert nobody.output.strip() == "65534"


def test_every_container_has_memory_pids_and_cpu_limits(engine: Engine, rootfs: str) -> None:
    container = engine.start(rootfs, ["sleep", "30"], kind="test")
    try:
        host = engine.client.api.inspect_container(str(container.id))["HostConfig"]
    finally:
        container.remove(force=True)
    assert host["Memory"] > 0 and host["MemorySwap"] == host["Memory"]
    assert host["PidsLimit"] > 0
    assert host["NanoCpus"] == engine.cpu_count() * 10**9
    assert host["SecurityOpt"] == ["no-new-privileges"] and host["CapDrop"] == ["ALL"]
    assert host["NetworkMode"] == "none"


PROXY_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
# A user's Dockerfile may declare the proxy args: a build arg would land in docker history.
ARG HTTP_PROXY
ARG HTTPS_PROXY
RUN --mount=type=secret,id=basebench_proxy --mount=type=secret,id=basebench_ca \\
    . /run/secrets/basebench_proxy \\
    && test -n "$HTTPS_PROXY" && test -s /run/secrets/basebench_ca \\
    && echo "proxy and CA seen" > /srv-check
CMD ["cat", "/srv-check"]
"""


def test_a_run_behind_a_proxy_leaves_no_trace(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_local(engine, load_catalogue().get("slim-trixie"), PYTHON)  # shared with other tests
    proxy_secret = f"pw{secrets.token_hex(8)}"
    proxy = f"http://basebench-user:{proxy_secret}@proxy.invalid:3128"
    ca_marker = f"BASEBENCH-TEST-CA-{secrets.token_hex(8)}"
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text(f"-----BEGIN CERTIFICATE-----\n{ca_marker}\n-----END CERTIFICATE-----\n")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.setenv("NO_PROXY", "*")  # nothing here may really use the invalid proxy
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text(PROXY_DOCKERFILE)
    results = tmp_path / "results"
    argv = ["run", "--profile", "validate", "--group", "build", "--group", "size"]
    argv += ["--python", PYTHON, "--variant", "slim-trixie", "--base-source", "local"]
    argv += ["--rounds", "1", "--dockerfile", str(app / "Dockerfile"), "--app", str(app)]
    argv += ["--ca-bundle", str(bundle), "--results", str(results)]
    assert main(argv) == 0
    (run_dir,) = results.iterdir()
    run_id = Run(run_dir).meta()["run_id"]
    built = engine.client.images.list(filters={"label": f"{RUN}={run_id}"})
    assert built, "the run built no image"
    ids = [str(image.id) for image in built]
    try:
        secrets_in = [proxy_secret.encode(), ca_marker.encode(), b"basebench-user"]
        for image, image_id in zip(built, ids, strict=True):
            # The build did get both: else the search below would prove nothing.
            check = engine.run(image_id, ["cat", "/srv-check"])
            assert check.output.strip() == "proxy and CA seen"
            saved = b"".join(image.save(named=False))
            history = subprocess.run(
                [engine.cli.path, "history", "--no-trunc", image_id],
                capture_output=True,
                check=True,
            ).stdout
            for secret in secrets_in:
                assert secret not in saved and secret not in history, image.tags
        files = [p for p in run_dir.rglob("*") if p.is_file()]
        assert any(p.name.startswith("build-") for p in files)  # the build logs
        assert any(p.suffix == ".md" for p in files)  # the report
        for path in files:
            content = path.read_bytes()
            for secret in secrets_in:
                assert secret not in content, path
    finally:
        for image_id in ids:
            engine.client.images.remove(image_id, force=True)
