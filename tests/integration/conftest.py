import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import pytest

from basebench.engine import Engine
from basebench.local.rootfs import ensure_rootfs


@pytest.fixture(scope="session")
def rootfs(engine: Engine) -> str:
    """A debootstrap minbase trixie image: built once per machine, reused afterwards."""
    return ensure_rootfs(engine, "trixie")


@pytest.fixture
def own_run_engine(engine: Engine) -> Iterator[Engine]:
    """The session's engine under a run id of this test's own, for a test that cleans "its
    run": the session's run id is also on the rootfs, the stand-ins and the builders that the
    later tests reuse. Cleaning the session's run removed them, so on a cold engine every later
    test that needed one debootstrapped again and recompiled CPython on the new rootfs (no
    BuildKit cache survives a new FROM): about 15 minutes of CI. Whatever the test leaves
    behind under its run id is removed afterwards."""
    own = Engine(
        client=engine.client,
        network=engine.network,
        run_id=f"{engine.run_id}-{secrets.token_hex(2)}",
        log_dir=engine.log_dir,
    )
    yield own
    own.remove_managed(run_id=own.run_id)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real registry (Debian's docker-registry, the CNCF distribution registry) on a free
    loopback port, its storage in a temporary folder: ``127.0.0.1:PORT``. The engine pushes to
    and pulls from a loopback registry without TLS. Started here rather than by .ci/setup so
    that every test session starts from an empty registry it owns (no port a user's registry
    may hold, no blobs left from an earlier session) on a developer's machine as in CI; a
    missing binary is an error, never a skip."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError(
            "docker-registry is not installed: `apt-get install docker-registry` (.ci/setup does)"
        )
    folder = tmp_path_factory.mktemp("registry")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'storage'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: {address}\n"
    )
    log = (folder / "registry.log").open("w")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
    try:
        _wait_until_answers(
            f"docker-registry on {address}",
            lambda: _registry_answers(address),
            process,
            folder / "registry.log",
        )
        yield address
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_until_answers(
    what: str, answers: Callable[[], bool], process: subprocess.Popen[bytes], log: Path
) -> None:
    """Until ``answers()`` (a service the fixture started): its log's end if it exits first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()[-2000:]}")
        if answers():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer within 60 s")


def _registry_answers(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=2):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class SecondEngine:
    address: str  # what DOCKER_HOST says to reach it
    data_root: Path
    log: Path


@pytest.fixture(scope="module")
def second_engine() -> Iterator[SecondEngine]:
    """A second dockerd (Debian's docker.io; root) with a socket, data root, exec root, pid file,
    config and bridge interface of its own, and no iptables rules: the main engine's data,
    network and configuration are never touched. It has no registry and starts empty. Stopped,
    its bridge and its folder removed, at the end; a missing dockerd is an error, never a skip.

    Not ``--bridge=none``: a dockerd started so deletes the interface ``docker0``, the main
    engine's, whose containers on the bridge network then fail to start ("could not find bridge
    docker0") until it is restarted. That is how a cold bootstrap on a second engine broke this
    machine's engine for every later download."""
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise RuntimeError("dockerd is not installed: `apt-get install docker.io` (.ci/setup does)")
    # /var/tmp: the data root holds overlay2 layers, which a tmpfs /tmp may refuse.
    folder = Path(tempfile.mkdtemp(prefix="basebench-dockerd-", dir="/var/tmp"))
    (folder / "daemon.json").write_text("{}\n")  # none of /etc/docker/daemon.json's settings
    address = f"unix://{folder}/docker.sock"
    log = folder / "dockerd.log"
    bridge = f"bbt{secrets.token_hex(4)}"  # an interface name has at most 15 characters
    command = [
        dockerd,
        f"--host={address}",
        f"--data-root={folder / 'data'}",
        f"--exec-root={folder / 'exec'}",
        f"--pidfile={folder / 'dockerd.pid'}",
        f"--config-file={folder / 'daemon.json'}",
        f"--bridge={bridge}",
        "--iptables=false",
        "--ip-masq=false",
    ]
    _add_bridge(bridge)
    with log.open("w") as log_file:
        # A session of its own: its containerd goes with it, and no Ctrl-C meant for pytest.
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_answers(
            f"the second dockerd on {address}", lambda: _engine_answers(address), process, log
        )
        yield SecondEngine(address, folder / "data", log)
    finally:
        _stop_daemon(process)
        subprocess.run(["ip", "link", "delete", bridge], check=False, capture_output=True)
        _remove_daemon_folder(folder)


def _add_bridge(name: str) -> None:
    """A bridge interface with an address of its own (dockerd takes its subnet from it)."""
    subnet = f"10.213.{secrets.randbelow(250) + 1}"
    for command in (
        ["ip", "link", "add", name, "type", "bridge"],
        ["ip", "addr", "add", f"{subnet}.1/24", "dev", name],
        ["ip", "link", "set", name, "up"],
    ):
        subprocess.run(command, check=True, capture_output=True)


def _engine_answers(address: str) -> bool:
    try:
        # The client asks the engine for its API version as it is made.
        docker.DockerClient(base_url=address, timeout=5).close()
    except docker.errors.DockerException:
        return False
    return True


def _stop_daemon(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (dockerd stops its containerd itself); its whole session if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _mounts_under(folder: Path) -> list[str]:
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    return [p for p in points if p == str(folder) or p.startswith(f"{folder}/")]


def _remove_daemon_folder(folder: Path) -> None:
    """Unmount what the daemon left mounted (its netns file at least), deepest first, then
    remove the folder; never remove through a mount."""
    for point in sorted(_mounts_under(folder), key=len, reverse=True):
        subprocess.run(["umount", point], check=False, capture_output=True)
    left = _mounts_under(folder)
    if left:
        raise RuntimeError(f"{folder} kept: still mounted there: {', '.join(left)}")
    shutil.rmtree(folder)
