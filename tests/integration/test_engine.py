"""The engine layer against the real Docker engine: builds, labels, secrets, clean."""

import io
import secrets
import subprocess
import tarfile
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from basebench.cli import main
from basebench.engine import Engine, connect
from basebench.errors import BuildFailed, EngineUnavailable
from basebench.labels import KIND as KIND_LABEL
from basebench.labels import MANAGED as MANAGED_LABEL
from basebench.labels import OBJECT as OBJECT_LABEL
from basebench.labels import REF as REF_LABEL
from basebench.labels import RUN as RUN_LABEL
from basebench.limits import Limits
from basebench.netconf import CA_CONTAINER_PATH, network_settings

SECRET_DOCKERFILE = """\
ARG BASE
FROM ${BASE}
# The bundle is visible to this step only, as a BuildKit secret.
RUN --mount=type=secret,id=basebench_ca \\
    grep -q "$MARKER_CHECK" /run/secrets/basebench_ca && echo seen > /secret-check
RUN echo hello > /hello
"""


@pytest.fixture
def marker_bundle(tmp_path: Path) -> tuple[Path, str]:
    marker = f"BASEBENCH-TEST-CA-{secrets.token_hex(8)}"
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text(f"-----BEGIN CERTIFICATE-----\n{marker}\n-----END CERTIFICATE-----\n")
    return bundle, marker


def _secret_engine(engine: Engine, bundle: Path) -> Engine:
    return Engine(
        client=engine.client,
        network=network_settings("host", bundle),
        run_id=engine.run_id,
        log_dir=engine.log_dir,
    )


def test_build_labels_and_ca_secret_stays_out_of_layers(
    engine: Engine, rootfs: str, tmp_path: Path, marker_bundle: tuple[Path, str]
):
    bundle, marker = marker_bundle
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(SECRET_DOCKERFILE)
    tag = f"basebench-test/secret:{engine.run_id}"
    built = _secret_engine(engine, bundle).build(
        context,
        tag=tag,
        kind="test",
        build_args={"BASE": rootfs, "MARKER_CHECK": marker},
        no_cache=True,
    )
    assert built.image_id.startswith("sha256:")
    assert built.log_path.is_file() and built.seconds > 0
    assert any("RUN echo hello" in s.name for s in built.steps)

    labels = engine.inspect_image(tag)["Config"]["Labels"]
    assert labels[MANAGED_LABEL] == "true"
    assert labels[RUN_LABEL] == engine.run_id
    assert labels[KIND_LABEL] == "test"
    assert labels[REF_LABEL] == tag

    # The step saw the secret...
    seen = engine.run(tag, ["cat", "/secret-check"])
    assert seen.exit_code == 0 and seen.output.strip() == "seen"
    # ...but neither the history nor any layer holds the bundle or its path.
    history = subprocess.run(
        [engine.cli.path, "history", "--no-trunc", tag],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "RUN echo hello" in history or "echo hello" in history
    assert marker not in history
    assert str(bundle) not in history and "corporate-ca" not in history
    saved = b"".join(engine.save_image(tag))
    assert marker.encode() not in saved
    with tarfile.open(fileobj=io.BytesIO(saved)) as archive:
        layers = [m for m in archive.getmembers() if m.name.endswith("layer.tar")]
        assert layers  # the search above did look inside the layers


def test_containers_get_the_bundle_read_only(
    engine: Engine, rootfs: str, marker_bundle: tuple[Path, str]
):
    bundle, marker = marker_bundle
    result = _secret_engine(engine, bundle).run(
        rootfs,
        ["sh", "-c", f'cat "$PIP_CERT"; echo x > {CA_CONTAINER_PATH} || echo read-only'],
        network="index",  # only a container that downloads gets the bundle
    )
    assert result.exit_code == 0
    assert marker in result.output
    assert "read-only" in result.output.lower()


def test_run_applies_labels_limits_and_network(engine: Engine, rootfs: str):
    result = engine.run(
        rootfs,
        [
            "sh",
            "-c",
            "cat /sys/fs/cgroup/cpuset.cpus.effective 2>/dev/null "
            "|| cat /sys/fs/cgroup/cpuset/cpuset.effective_cpus; "
            "cat /sys/fs/cgroup/cpu.max 2>/dev/null "
            "|| echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) "
            "$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us); "
            "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max",
        ],
        limits=Limits(cpuset="0", cpus=0.5, memory="256m", pids=64),
    )
    assert result.exit_code == 0, result.output
    cpuset, quota, pids = (line.strip() for line in result.output.splitlines()[:3])
    assert cpuset == "0"
    # --cpus 0.5: half of each scheduler period
    allowed, period = (int(x) for x in quota.split())
    assert allowed / period == 0.5
    assert pids == "64"


def test_failed_build_says_why_and_where(engine: Engine, rootfs: str, tmp_path: Path):
    (tmp_path / "Dockerfile").write_text(f"FROM {rootfs}\nRUN echo about-to-fail && exit 3\n")
    with pytest.raises(BuildFailed) as info:
        engine.build(tmp_path, tag=f"basebench-test/fail:{engine.run_id}", kind="test")
    message = str(info.value)
    assert "failed" in message and "about-to-fail" in message
    assert Path(info.value.log_path).is_file()
    assert info.value.log_path in message


def test_engine_down_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(EngineUnavailable, match="no Docker engine answers.*DOCKER_HOST"):
        connect()


def _id(container: Container) -> str:
    """A created container's id (docker-py types it as optional)."""
    assert container.id is not None
    return container.id


def test_clean_removes_only_what_basebench_created(
    own_run_engine: Engine, rootfs: str, tmp_path: Path
):
    # Its own run: `clean --run` of the session's run would also remove the images (app,
    # workload) that other tests built in it, and that later tests may reuse.
    engine = own_run_engine
    (tmp_path / "Dockerfile").write_text(f"FROM {rootfs}\nRUN echo ours > /ours\n")
    ours = f"basebench-test/clean:{engine.run_id}"
    engine.build(tmp_path, tag=ours, kind="test")
    our_container = engine.start(ours, ["sleep", "300"], kind="test")
    our_volume = engine.create_volume(f"basebench-test-{engine.run_id}", kind="test")

    # A user's image built FROM ours inherits all our labels; so does a user's container.
    client = docker.from_env()
    user_image_tag = f"user-test/derived:{engine.run_id}"
    user_image, _ = client.images.build(
        fileobj=io.BytesIO(f"FROM {ours}\nRUN echo mine > /mine\n".encode()),
        tag=user_image_tag,
        network_mode="host",
        rm=True,
        forcerm=True,
    )
    user_container = client.containers.create(ours, ["sleep", "300"])
    plain_container = client.containers.create(rootfs, ["true"])
    try:
        inherited = client.images.get(user_image_tag).labels
        assert inherited[MANAGED_LABEL] == "true"  # the trap clean must not fall into
        assert OBJECT_LABEL not in client.containers.get(_id(user_container)).labels

        assert main(["clean", "--run", engine.run_id]) == 0

        with pytest.raises(docker.errors.NotFound):
            client.containers.get(_id(our_container))
        with pytest.raises(docker.errors.NotFound):
            client.volumes.get(our_volume)
        # The user's objects are all there. Our image is still used by the user's image and
        # container, so docker refuses to remove it, and clean reports that instead of forcing.
        assert client.images.get(user_image_tag).id == user_image.id
        client.containers.get(_id(user_container))
        client.containers.get(_id(plain_container))
        assert client.images.get(rootfs)
    finally:
        for container in (user_container, plain_container):
            container.remove(force=True)
        client.images.remove(user_image_tag)
    # With the user's objects gone, our image goes too.
    assert main(["clean", "--run", engine.run_id]) == 0
    assert not engine.image_exists(ours)


def test_doctor_reports_engine_cli_registry_and_bundle(capsys: pytest.CaptureFixture[str]):
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "engine" in out and "BuildKit CLI" in out and "registry" in out
    assert "CA bundle" in out
