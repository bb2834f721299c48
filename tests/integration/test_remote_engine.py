"""A remote engine through DOCKER_HOST: docker-py, the BuildKit CLI, the CLI's ``docker save``,
the engine lock and the ``basebench`` command all go to the engine it names, and nothing goes
to the main engine. The engine is the second dockerd of the ``second_engine`` fixture; it has no
registry, so its images are built there from the host's ``true`` (the container probe's image).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from basebench import lock
from basebench.engine import Engine
from basebench.labels import label
from basebench.measure._host_probe import ensure_probe_image
from basebench.measure.crosscheck import save_gzip_size
from basebench.measure.sizes import image_sizes
from basebench.netconf import network_settings

if TYPE_CHECKING:
    from integration.conftest import SecondEngine


def _basebench(*args: str) -> subprocess.CompletedProcess[str]:
    """The ``basebench`` command in a new process, with this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "basebench", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_call_goes_to_the_engine_docker_host_names(
    second_engine: SecondEngine,
    engine: Engine,
    test_run_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", second_engine.address)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    # A run id of its own: a `clean --run` that reached the main engine would find nothing.
    run_id = f"{test_run_id}-remote"
    remote = Engine(network=network_settings("host"), run_id=run_id, log_dir=tmp_path / "logs")
    assert remote.server_info()["docker_root_dir"] == str(second_engine.data_root)

    probe, true = ensure_probe_image(remote)  # docker-py: an import
    context = tmp_path / "context"
    context.mkdir()
    (context / "marker").write_text(run_id)  # so no other engine has an image with its id
    (context / "Dockerfile").write_text(f'FROM {probe}\nCOPY marker /marker\nRUN ["{true}"]\n')
    built = remote.build(context, tag=f"basebench/remote-engine:{run_id}", kind="test")
    assert remote.run(built.tag, [true]).exit_code == 0  # docker-py: a container
    base_tag = f"{built.tag}-base"
    base_id = remote.commit_labels(
        built.tag, base_tag, {label("variant"): "remote-engine"}, kind="base"
    )
    sizes = image_sizes(remote, built.tag)  # docker-py: docker save, layer by layer
    saved = save_gzip_size(remote, built.tag, sizes.compressed)  # the CLI's docker save
    assert saved.measured.startswith("whole archive"), saved.measured
    for image in (built.image_id, base_id):
        assert remote.image_exists(image)
        assert not engine.image_exists(image)

    listed = _basebench("images", "list")
    assert listed.returncode == 0 and base_tag in listed.stdout, listed.stdout + listed.stderr

    with lock.engine_lock("test", wait=False):  # the second engine's lock, not the main one's
        refused = _basebench("clean", "--run", run_id, "--include-bases")
    assert refused.returncode == 2 and f"pid {os.getpid()}" in refused.stderr, refused.stderr
    cleaned = _basebench("clean", "--run", run_id, "--include-bases")
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert f"image {base_tag}" in cleaned.stdout
    assert not remote.image_exists(built.image_id) and not remote.image_exists(probe)


def test_the_second_engine_leaves_the_main_engines_bridge(second_engine: SecondEngine) -> None:
    # A dockerd started with --bridge=none deletes docker0, the main engine's bridge: its
    # containers on the bridge network then fail to start until it is restarted.
    main = Engine()
    options = main.client.networks.get("bridge").attrs.get("Options") or {}
    interface = options.get("com.docker.network.bridge.name", "docker0")
    shown = subprocess.run(["ip", "link", "show", interface], capture_output=True, text=True)
    assert shown.returncode == 0, f"the main engine's bridge {interface} is gone: {shown.stderr}"
    tag, command = ensure_probe_image(main)
    container = main.client.containers.create(tag, [command], network="bridge")
    try:
        container.start()  # "could not find bridge docker0" when it is gone
        assert container.wait(timeout=60)["StatusCode"] == 0
    finally:
        container.remove(force=True)
