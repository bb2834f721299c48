"""Registry references and manifests (against a tiny HTTP fake of the API v2), the pull group
on a fake engine, the size group's agreement wording and the report's stand-in sentence."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEngine, base_image, make_context, said

from basebench.config import Config
from basebench.engine import PullResult
from basebench.errors import ConfigError
from basebench.measure import pulls
from basebench.measure.sizes import registry_agreement
from basebench.publish import check_registry_prefix
from basebench.registry import (
    MANIFEST_LIST_V2,
    MANIFEST_V2,
    ImageReference,
    RegistryError,
    RegistryManifest,
    fetch_manifest,
)
from basebench.report.build import _base_source_sentence, _label_text, _published_stand_ins


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("python:3.13-slim", ("", "python", "3.13-slim")),
        ("library/python", ("", "library/python", "latest")),
        ("127.0.0.1:5000/hub/python:3.8-buster", ("127.0.0.1:5000", "hub/python", "3.8-buster")),
        ("localhost/python:3", ("localhost", "python", "3")),
        ("mirror.example/python:3.13", ("mirror.example", "python", "3.13")),
    ],
)
def test_references_split_like_the_engine(reference: str, expected: tuple[str, str, str]) -> None:
    ref = ImageReference.parse(reference)
    assert (ref.registry, ref.repository, ref.tag) == expected


def test_loopback_registries_are_plain_http() -> None:
    assert ImageReference.parse("127.0.0.1:5000/python:3").base_url().startswith("http://")
    assert ImageReference.parse("localhost:5000/python:3").loopback
    assert ImageReference.parse("mirror.example/python:3").base_url().startswith("https://")
    with pytest.raises(RegistryError, match="registry_mirror"):
        ImageReference.parse("python:3.13").base_url()


def test_a_registry_prefix_names_a_host() -> None:
    assert check_registry_prefix("127.0.0.1:5000/mirror/") == "127.0.0.1:5000/mirror"
    with pytest.raises(ConfigError, match="name the registry host first"):
        check_registry_prefix("mirror")


LAYERS = [
    {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 700, "digest": "a"},
    {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 300, "digest": "b"},
]
ANSWERS: dict[str, tuple[str, dict[str, Any]]] = {
    "/v2/hub/python/manifests/3.13-alpine": (
        "sha256:list",
        {
            "mediaType": MANIFEST_LIST_V2,
            "manifests": [
                {"digest": "sha256:arm", "platform": {"os": "linux", "architecture": "arm64"}},
                {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}},
            ],
        },
    ),
    "/v2/hub/python/manifests/sha256:amd": (
        "sha256:amd",
        {"mediaType": MANIFEST_V2, "layers": LAYERS},
    ),
}


class _FakeRegistry(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path not in ANSWERS:
            self.send_error(404)
            return
        digest, body = ANSWERS[self.path]
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", body["mediaType"])
        self.send_header("Docker-Content-Digest", digest)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_registry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_manifest_list_resolves_to_this_platform(fake_registry: str) -> None:
    manifest = fetch_manifest(f"{fake_registry}/hub/python:3.13-alpine")
    assert manifest.digest == "sha256:amd" and manifest.list_digest == "sha256:list"
    assert manifest.compressed == 1000 and len(manifest.layers) == 2
    assert RegistryManifest.from_dict(manifest.as_dict()) == manifest
    with pytest.raises(RegistryError, match="no linux/s390x"):
        fetch_manifest(f"{fake_registry}/hub/python:3.13-alpine", architecture="s390x")
    with pytest.raises(RegistryError, match="404"):
        fetch_manifest(f"{fake_registry}/hub/python:2.7")


def test_agreement_is_said_with_its_sign_and_reason() -> None:
    assert registry_agreement(980, 1000, 2).endswith("-2.0% (within 3%)")
    beyond = registry_agreement(900, 1000, 2)
    assert "-10.0%, beyond 3%" in beyond and "compressed it" in beyond


class _PullingEngine(FakeEngine):
    def __init__(self, present: int = 0) -> None:
        super().__init__()
        self.present = present
        self.untagged: list[str] = []
        self.pulled: list[str] = []

    def untag(self, reference: str) -> None:
        self.untagged.append(reference)

    def pull_timed(self, reference: str) -> PullResult:
        self.pulled.append(reference)
        return PullResult(reference, 0.5, 3 - self.present, self.present, f"id-{reference}")


def _official(variant: str, *, pulled: bool) -> Any:
    base = base_image(variant)
    reference = f"127.0.0.1:5000/hub/python:3.13-{variant}"
    return replace(
        base, source="official", reference=reference, image_id=f"id-{reference}", pulled=pulled
    )


def _rows(ctx: Any, stem: str) -> dict[str, dict[str, Any]]:
    (path,) = (ctx.run.dir / "measurements").glob(f"{stem}*.json")
    return {row["metric"]: row for row in json.loads(path.read_text())["rows"]}


def test_pull_group_removes_only_what_the_run_pulled(tmp_path: Path) -> None:
    engine = _PullingEngine()
    mine, users = _official("slim-trixie", pulled=True), _official("trixie", pulled=False)
    ctx = make_context(tmp_path, engine, Config(cpuset="", rounds=2), [mine, users])
    pulls.measure(ctx)
    assert engine.untagged == [mine.reference] * 2 == engine.pulled
    assert "was on this engine before the run" in said(ctx)
    rows = _rows(ctx, "pull-base-3.13-slim-trixie")
    assert rows["pull"]["values"] == [0.5, 0.5] and rows["layers_present"]["values"] == [0, 0]
    assert "loopback" in rows["pull"]["detail"] and "downloaded 3" in rows["pull"]["detail"]


def test_pull_group_says_when_there_is_nothing_to_pull(tmp_path: Path) -> None:
    engine = _PullingEngine()
    ctx = make_context(tmp_path, engine, Config(cpuset=""), [base_image()])
    pulls.measure(ctx)
    assert engine.pulled == [] and "nothing to measure" in said(ctx)


def test_a_changed_image_fails_the_pull_not_the_run(tmp_path: Path) -> None:
    engine = _PullingEngine()
    moved = replace(_official("slim-trixie", pulled=True), image_id="id-before")
    ctx = make_context(tmp_path, engine, Config(cpuset=""), [moved])
    pulls.measure(ctx)
    assert ctx.failures and "changed on the registry" in ctx.failures[0].message


STAND_IN = {
    "reference": "127.0.0.1:5000/hub/python:3.13-alpine",
    "source": "official",
    "base_source": "local",
    "fixture": "pytest",
}


def test_report_never_calls_a_published_stand_in_official() -> None:
    metas = [{"base_source": "official", "images": {STAND_IN["reference"]: STAND_IN}}]
    sentence = _base_source_sentence(["official"], _published_stand_ins(metas))
    assert "**not the official images**" in sentence and "test fixtures (pytest)" in sentence
    really = {**STAND_IN, "base_source": "official"}
    metas = [{"base_source": "official", "images": {"python:3.13-alpine": really}}]
    assert _published_stand_ins(metas) == []
    assert "**official** Docker Hub" in _base_source_sentence(["official"])


def test_a_manifest_reads_as_one_line() -> None:
    manifest = {
        "layers": [{"media_type": "gzip", "size": 5}],
        "compressed": 2_000_000,
        "digest": "sha256:" + "a" * 64,
    }
    assert _label_text(manifest).startswith("1 layers, 2.0 MB as stored (gzip); manifest")
    assert _label_text({"error": "no host"}) == "none read: no host"
