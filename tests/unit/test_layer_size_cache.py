"""The layer-size cache: a layer is gzip-compressed once per machine, never a wrong size."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from basebench.cache import JsonCache
from basebench.measure.sizes import LayerSizeCache, image_sizes


def _layer_tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


class SavingEngine:
    """What image_sizes asks of an engine, for one image whose ``docker save`` is built here
    in the 20.10 layout: layer directories in name order, not in stack order."""

    def __init__(self, layers: list[bytes]) -> None:
        self.layers = layers
        self.diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
        # Directory names sort against the stack: the top layer comes first in the archive.
        self.names = [f"{chr(ord('z') - i)}/layer.tar" for i in range(len(layers))]
        self.saves = 0

    def inspect_image(self, reference: str) -> dict[str, Any]:
        return {"RootFS": {"Layers": self.diff_ids}, "Size": sum(map(len, self.layers))}

    def image_history(self, reference: str) -> list[dict[str, Any]]:
        return [{"Size": len(layer), "CreatedBy": "RUN x"} for layer in reversed(self.layers)]

    def save_image(self, reference: str) -> Iterator[bytes]:
        self.saves += 1
        config = {"history": [{"created_by": f"RUN step {i}"} for i in range(len(self.layers))]}
        members = sorted(zip(self.names, self.layers, strict=True))
        members.append(("config.json", json.dumps(config).encode()))
        manifest = [{"Config": "config.json", "Layers": self.names}]
        members.append(("manifest.json", json.dumps(manifest).encode()))
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w") as tar:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        yield out.getvalue()


def _engine() -> SavingEngine:
    # Incompressible bytes above the 1 MiB line (streamed) and a small layer (kept in memory).
    return SavingEngine(
        [
            _layer_tar({"bin/a": os.urandom(1_500_000), "etc/conf": b"x" * 1000}),
            _layer_tar({"usr/b": os.urandom(1_200_000)}),
            _layer_tar({"app/c": b"hello" * 100}),
        ]
    )


def _gzip_total(layers: list[bytes]) -> int:
    return sum(len(gzip.compress(layer, compresslevel=6)) for layer in layers)


def test_a_second_measurement_compresses_no_layer(tmp_path: Path) -> None:
    engine = _engine()
    cache = LayerSizeCache(JsonCache("layer-sizes.json", tmp_path))
    first = image_sizes(engine, "img", cache=cache)  # type: ignore[arg-type]
    again = LayerSizeCache(JsonCache("layer-sizes.json", tmp_path))
    second = image_sizes(engine, "img", cache=again)  # type: ignore[arg-type]

    assert first.layers_compressed == 3 and first.compress_seconds > 0
    assert second.layers_compressed == 0 and second.compress_seconds == 0
    assert second.compressed == first.compressed
    assert abs(first.compressed - _gzip_total(engine.layers)) < 100  # gzip headers differ
    assert [layer.compressed for layer in second.layers] == [
        layer.compressed for layer in first.layers
    ]
    assert [layer.diff_id for layer in first.layers] == engine.diff_ids


def test_an_entry_that_is_not_the_layer_costs_a_compression_not_a_wrong_size(
    tmp_path: Path,
) -> None:
    engine = _engine()
    # A diff id whose cached byte count matches a layer that does not have that digest: only
    # the sha256 of what streams by can tell.
    engine.diff_ids[0] = "sha256:" + "0" * 64
    store = JsonCache("layer-sizes.json", tmp_path)
    store.put(engine.diff_ids[0], {"raw": len(engine.layers[0]), "gzip6": 1})

    sizes = image_sizes(engine, "img", cache=LayerSizeCache(store))  # type: ignore[arg-type]

    assert sizes.layers[0].compressed > 1_000_000  # random bytes do not shrink to 1 byte
    assert sizes.layers_compressed == 3
    assert engine.saves == 2  # measured again without the cache


def test_the_cache_file_keeps_what_two_writers_added(tmp_path: Path) -> None:
    one, two = JsonCache("c.json", tmp_path), JsonCache("c.json", tmp_path)
    assert one.get("a") is None  # read before the other writes
    two.put("b", 2)
    one.put("a", 1)
    assert JsonCache("c.json", tmp_path).entries == {"a": 1, "b": 2}


def test_an_unreadable_cache_file_is_an_empty_cache(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text("{not json")
    cache = JsonCache("c.json", tmp_path)
    assert cache.get("a") is None
    cache.put("a", 1)
    assert JsonCache("c.json", tmp_path).get("a") == 1
