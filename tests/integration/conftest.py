import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

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
        _wait_for_registry(address, process, folder / "registry.log")
        yield address
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_for_registry(address: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://{address}/v2/", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"docker-registry did not answer on {address} within 30 s")
