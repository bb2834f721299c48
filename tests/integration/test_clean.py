"""clean removes the dangling images it made (a tag that moved on), and spares a user's child
and every other run's images."""

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


def test_clean_removes_our_dangling_images_only(engine: Engine, own_run_engine: Engine) -> None:
    # Its own run: cleaning the session's run would take the stand-ins later tests reuse.
    ours = own_run_engine
    tag = f"basebench/test-dangling:{ours.run_id}"
    first = _build(ours, "FROM scratch\nCOPY f /f\n", "one", tag, tag)
    second = _build(ours, "FROM scratch\nCOPY f /f\n", "two", tag, tag)
    assert first.id != second.id
    # A user's image FROM ours, left untagged: it inherits our labels but is not ours.
    child = _build(ours, f"FROM {tag}\nCOPY f /g\n", "user", None, tag)
    # Another run's image (the session's, as the stand-ins are): not this run's to clean.
    other_tag = f"basebench/test-other-run:{engine.run_id}"
    other = _build(engine, "FROM scratch\nCOPY f /f\n", "other run", other_tag, other_tag)
    try:
        dangling = [image.id for image in ours.dangling_managed(ours.run_id)]
        assert first.id in dangling
        assert child.id not in dangling and second.id not in dangling
        report = ours.remove_managed(run_id=ours.run_id)
        assert f"image {tag}" in report.removed
        assert any(item.startswith(f"dangling image {first.short_id}") for item in report.removed)
        assert not any(other_tag in item for item in report.removed)
        ids = {image.id for image in ours.client.images.list(all=True)}
        assert first.id not in ids
        assert child.id in ids and other.id in ids
    finally:
        for image in (child, second, first, other):
            with contextlib.suppress(docker.errors.APIError):  # already removed by the clean
                ours.client.images.remove(str(image.id), force=True)
