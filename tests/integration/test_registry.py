"""The official path end to end through a real registry (Debian's docker-registry on loopback,
the ``registry`` fixture): a local stand-in published under its official name, a run that
pulls it with --base-source official, the repo digest and the registry's manifest in run.json,
the registry's compressed size next to the gzip estimate, pull times, and a report that never
calls the stand-in the official image.

Cheap on purpose: the musl stand-in (the smallest the bases tests build, ~46 MB) is the only
image pushed, once as it is and once flattened into a layer of its own, so that no image left
on the engine holds that layer and the run's pulls are cold.
"""

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from basebench.bases import BaseImage, ensure_base, ensure_local
from basebench.cli import main
from basebench.engine import Engine
from basebench.labels import BOOKKEEPING, PREFIX
from basebench.measure.sizes import REGISTRY_TOLERANCE
from basebench.publish import FIXTURE, PUBLISHED_AS, STAND_IN, publish
from basebench.registry import MANIFEST_V2, ImageReference, fetch_manifest
from basebench.variants import load_catalogue

PYTHON = "3.13"
VARIANT = "alpine"
GZIP_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


@pytest.fixture(scope="module")
def stand_in(engine: Engine) -> BaseImage:
    return ensure_local(engine, load_catalogue().get(VARIANT), PYTHON)


def _flattened(engine: Engine, base: BaseImage) -> BaseImage:
    """The stand-in's tree as one new layer (same files, a layer digest of its own), with its
    environment and labels: exported and imported, no build, so no build cache keeps it."""
    attrs = engine.inspect_image(base.reference)
    env = dict(e.split("=", 1) for e in attrs["Config"]["Env"])
    labels = {
        k: v
        for k, v in (attrs["Config"]["Labels"] or {}).items()
        if k.startswith(PREFIX) and k not in BOOKKEEPING
    }
    container = engine.client.containers.create(base.reference)
    try:
        tree = b"".join(container.export())  # type: ignore[arg-type]  # chunks of bytes
    finally:
        container.remove(force=True)
    tag = f"basebench-test/flat-musl:{engine.run_id}"
    engine.import_rootfs(tree, tag=tag, labels=labels, kind="test", command=["python3"], env=env)
    return replace(base, reference=tag)


@pytest.fixture(scope="module")
def mirror(engine: Engine, registry: str, stand_in: BaseImage) -> Iterator[str]:
    """``127.0.0.1:PORT/mirror`` serving python:3.13-alpine: the flattened stand-in, labelled
    as a test fixture. Its layer is on no image of the engine once the flattened tag is gone."""
    prefix = f"{registry}/mirror"
    flat = _flattened(engine, stand_in)
    published = publish(
        engine, load_catalogue().get(VARIANT), flat, prefix, fixture=f"pytest {engine.run_id}"
    )
    engine.untag(flat.reference)
    yield prefix
    if engine.image_exists(published.reference):  # pulled by the run: ours to remove
        engine.untag(published.reference)


def test_push_publishes_a_stand_in_under_its_official_name(
    engine: Engine, registry: str, stand_in: BaseImage
) -> None:
    argv = ["images", "push", "--registry", f"{registry}/cli", "--python", PYTHON]
    assert main([*argv, "--variant", VARIANT, "--fixture", "pytest"]) == 0
    reference = f"{registry}/cli/python:{PYTHON}-alpine"
    manifest = fetch_manifest(reference)
    assert manifest.media_type == MANIFEST_V2
    assert manifest.digest.startswith("sha256:")
    assert [layer.media_type for layer in manifest.layers] == [GZIP_LAYER] * len(
        engine.inspect_image(stand_in.reference)["RootFS"]["Layers"]
    )
    assert not engine.image_exists(reference)  # the pushed name is not left on the engine


def test_seed_variants_resolve_to_their_official_tags(
    engine: Engine, registry: str, stand_in: BaseImage, capsys: pytest.CaptureFixture[str]
) -> None:
    # A registry that serves python:3.8-buster and 3.8-slim-buster (fixtures: the musl
    # stand-in under those names; nothing here can build a buster image).
    prefix = f"{registry}/seed"
    catalogue = load_catalogue()
    references = [f"{prefix}/python:3.8-{name}" for name in ("buster", "slim-buster")]
    for name in ("buster", "slim-buster"):
        fixture = "pytest: the musl stand-in under a buster name"
        publish(
            engine, catalogue.get(name), replace(stand_in, python="3.8"), prefix, fixture=fixture
        )
    argv = ["images", "bootstrap", "--base-source", "official", "--registry-mirror", prefix]
    try:
        assert (
            main([*argv, "--python", "3.8", "--variant", "buster", "--variant", "slim-buster"]) == 0
        )
        out = capsys.readouterr().out
        for reference in references:
            assert "pulled          3.8-" in out and reference in out
            assert engine.image_exists(reference)
        base = ensure_base(
            engine, catalogue.get("buster"), "3.8", "official", registry_mirror=prefix
        )
        assert base.reference == references[0] and not base.pulled  # already here: not ours
        assert "frozen since 2023-06-13" in base.metadata()["lifecycle"]
        assert base.metadata()["registry_manifest"]["digest"].startswith("sha256:")
    finally:
        for reference in references:
            if engine.image_exists(reference):
                engine.untag(reference)


def test_a_registry_prefix_must_name_a_host(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["images", "push", "--registry", "mirror", "--python", PYTHON, "--variant", VARIANT]
    assert main(argv) == 2
    assert "name the registry host first" in capsys.readouterr().err


@pytest.fixture(scope="module")
def official_run(engine: Engine, mirror: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    results = tmp_path_factory.mktemp("results")
    argv = ["run", "--profile", "sizes", "--group", "size", "--group", "pull", "--rounds", "2"]
    argv += ["--python", PYTHON, "--variant", VARIANT, "--base-source", "official"]
    assert main([*argv, "--registry-mirror", mirror, "--results", str(results)]) == 0
    (run_dir,) = results.iterdir()
    return run_dir


def _rows(run_dir: Path, group: str) -> dict[str, dict[str, object]]:
    rows: dict[str, dict[str, object]] = {}
    for path in (run_dir / "measurements").glob(f"{group}-*.json"):
        for row in json.loads(path.read_text())["rows"]:
            if row["benchmark"] == "base":
                rows[row["metric"]] = row
    return rows


def test_run_json_records_digest_manifest_and_stand_in(official_run: Path, mirror: str) -> None:
    meta = json.loads((official_run / "run.json").read_text())
    assert meta["base_source"] == "official"
    reference = f"{mirror}/python:{PYTHON}-alpine"
    image = meta["images"][reference]
    manifest = image["registry_manifest"]
    # The repo digest the engine recorded names the manifest the registry serves.
    assert image["digest"] == f"{mirror}/python@{manifest['digest']}"
    assert manifest["digest"] == fetch_manifest(reference).digest
    assert [layer["media_type"] for layer in manifest["layers"]] == [GZIP_LAYER]
    assert manifest["compressed"] == sum(layer["size"] for layer in manifest["layers"]) > 10**6
    # What the image is: a stand-in, a fixture, published under the official name.
    assert image["source"] == "official" and image["base_source"] == "local"
    assert image[STAND_IN.removeprefix(PREFIX)] and image[FIXTURE.removeprefix(PREFIX)]
    assert image[PUBLISHED_AS.removeprefix(PREFIX)] == f"python:{PYTHON}-alpine"
    assert image["pulled_by_basebench"] is True


def test_registry_size_agrees_with_the_gzip_estimate(official_run: Path) -> None:
    rows = _rows(official_run, "size")
    stored = rows["registry_compressed"]["values"][0]  # type: ignore[index]
    estimate = rows["compressed"]["values"][0]  # type: ignore[index]
    meta = json.loads((official_run / "run.json").read_text())
    (image,) = meta["images"].values()
    assert stored == image["registry_manifest"]["compressed"]
    assert abs(estimate - stored) / stored <= REGISTRY_TOLERANCE
    assert "within 3%" in str(rows["registry_compressed"]["detail"])


def test_pulls_are_timed_cold_on_loopback(official_run: Path) -> None:
    rows = _rows(official_run, "pull")
    assert len(rows["pull"]["values"]) == 2  # type: ignore[arg-type]
    assert all(v > 0 for v in rows["pull"]["values"])  # type: ignore[attr-defined]
    assert rows["layers_present"]["values"] == [0, 0]  # cold: the engine had none of them
    assert "loopback" in str(rows["pull"]["detail"])
    assert "layers downloaded 1," in str(rows["pull"]["detail"])


def test_report_says_stand_in_not_official(official_run: Path, registry: str) -> None:
    report = (official_run / "report" / "report.md").read_text()
    assert "**local stand-ins**" in report and "**not the official images**" in report
    assert "test fixtures" in report
    assert "official** Docker Hub images" not in report
    assert "## Pull" in report and "download plus extraction" in report
    assert "registry_compressed" in report and "as the registry stores it" in report
    assert ImageReference.parse(f"{registry}/mirror/python:x").loopback
