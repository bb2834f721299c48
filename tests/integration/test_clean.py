"""clean removes the dangling images it made (a tag that moved on), and spares a user's child."""

from __future__ import annotations

import contextlib
import io
import tarfile

import docker
from docker.models.images import Image

from basebench.engine import Engine


def _context(dockerfile: str, content: str) -> io.BytesIO:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for name, text in (("Dockerfile", dockerfile), ("f", content)):
            raw = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    data.seek(0)
    return data


def _build(engine: Engine, dockerfile: str, content: str, tag: str | None, ref: str) -> Image:
    image, _ = engine.client.images.build(
        fileobj=_context(dockerfile, content),
        custom_context=True,
        tag=tag,
        labels=engine.labels("test", ref=ref),
        rm=True,
        network_mode="none",
    )
    return image


def test_clean_removes_our_dangling_images_only(engine: Engine) -> None:
    tag = f"basebench/test-dangling:{engine.run_id}"
    first = _build(engine, "FROM scratch\nCOPY f /f\n", "one", tag, tag)
    second = _build(engine, "FROM scratch\nCOPY f /f\n", "two", tag, tag)
    assert first.id != second.id
    # A user's image FROM ours, left untagged: it inherits our labels but is not ours.
    child = _build(engine, f"FROM {tag}\nCOPY f /g\n", "user", None, tag)
    try:
        dangling = [image.id for image in engine.dangling_managed(engine.run_id)]
        assert first.id in dangling
        assert child.id not in dangling and second.id not in dangling
        report = engine.remove_managed(run_id=engine.run_id)
        assert f"image {tag}" in report.removed
        assert any(item.startswith(f"dangling image {first.short_id}") for item in report.removed)
        ids = {image.id for image in engine.client.images.list(all=True)}
        assert first.id not in ids
        assert child.id in ids
    finally:
        for image in (child, second, first):
            with contextlib.suppress(docker.errors.APIError):  # already removed by the clean
                engine.client.images.remove(str(image.id), force=True)
