"""Size figures against the engine's own numbers and an independent docker save + gzip."""

import gzip
import json
import subprocess
import tarfile
from pathlib import Path

from basebench.cache import JsonCache
from basebench.engine import Engine
from basebench.measure.sizes import LayerSizeCache, image_sizes


def _gzip_sizes_of_saved_layers(engine: Engine, reference: str, tmp: Path) -> int:
    archive_path = tmp / "image.tar"
    subprocess.run([engine.cli.path, "save", "-o", str(archive_path), reference], check=True)
    total = 0
    with tarfile.open(archive_path) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
        for name in manifest[0]["Layers"]:
            data = archive.extractfile(name).read()  # type: ignore[union-attr]
            total += len(gzip.compress(data, compresslevel=6))
    return total


def test_sizes_match_inspect_and_save(engine: Engine, rootfs: str, tmp_path: Path):
    # An image with a file overwritten and one deleted in later layers: 3 MB + 2 MB wasted.
    (tmp_path / "Dockerfile").write_text(
        f"FROM {rootfs}\n"
        "RUN head -c 3000000 /dev/urandom > /big && head -c 2000000 /dev/urandom > /gone\n"
        "RUN head -c 1000000 /dev/urandom > /big\n"
        "RUN rm /gone\n"
    )
    tag = f"basebench-test/sizes:{engine.run_id}"
    engine.build(tmp_path, tag=tag, kind="test")
    sizes = image_sizes(engine, tag, rootfs)

    assert sizes.uncompressed == engine.inspect_image(tag)["Size"]  # exact
    independent = _gzip_sizes_of_saved_layers(engine, tag, tmp_path)
    assert abs(sizes.compressed - independent) / independent < 0.03
    assert len(sizes.layers) == 4  # rootfs + three RUN layers (rm leaves a whiteout layer)
    assert [layer.kind for layer in sizes.layers] == ["os", "app", "app", "app"]
    assert "head -c 1000000" in sizes.layers[2].created_by
    assert 5_000_000 <= sizes.wasted <= 5_000_000 + 64 * 1024
    assert sum(layer.size for layer in sizes.layers) == sizes.uncompressed


def test_a_second_measurement_of_an_image_compresses_no_layer(
    engine: Engine, rootfs: str, tmp_path: Path
):
    (tmp_path / "Dockerfile").write_text(f"FROM {rootfs}\nRUN echo size-cache > /marker\n")
    tag = f"basebench-test/size-cache:{engine.run_id}"
    engine.build(tmp_path, tag=tag, kind="test")
    store = JsonCache("layer-sizes.json", tmp_path / "cache")

    first = image_sizes(engine, tag, rootfs, cache=LayerSizeCache(store))
    second = image_sizes(engine, tag, rootfs, cache=LayerSizeCache(store))

    assert first.layers_compressed == len(first.layers) == 2
    assert second.layers_compressed == 0
    assert second.compressed == first.compressed
    assert second.wasted == first.wasted
    assert set(store.entries) == {layer.diff_id for layer in first.layers}
