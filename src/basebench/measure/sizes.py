"""Image sizes: uncompressed, compressed as a registry stores it, layers, and wasted bytes.

- uncompressed: the engine's ``Size`` of the image (what ``docker image inspect`` says).
- compressed: every layer tar of ``docker save`` gzip-compressed at level 6 (Go's default,
  which ``docker push`` uses) and summed: what a registry stores and a pull downloads.
- layers: the non-empty layers, each with its size and the instruction that made it (history).
- wasted: bytes of files that a later layer deletes (whiteout) or overwrites, as dive reports
  them: they are shipped in a lower layer but can never be seen.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from basebench.engine import Engine
from basebench.measure import ImageUnderTest, RunContext
from basebench.results import Measurement

GZIP_LEVEL = 6
_PYTHON_LAYER = re.compile(r"python|pip|/usr/local|PYTHON_|GPG_KEY", re.IGNORECASE)


@dataclass
class LayerSize:
    diff_id: str
    size: int  # uncompressed tar bytes of the layer as saved
    compressed: int
    created_by: str = ""
    kind: str = ""  # os | python | app


@dataclass
class ImageSizes:
    reference: str
    uncompressed: int
    compressed: int
    wasted: int
    layers: list[LayerSize] = field(default_factory=list)


class _Tee(io.RawIOBase):
    """A read-only stream that feeds every byte read through a compressor, counting output."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing
        self.raw_bytes = 0
        self.compressed_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.raw_bytes += n
        self.compressed_bytes += len(self.compressor.compress(data))
        return n

    def finish(self) -> None:
        while self.read(1 << 20):
            pass  # the rest (tar padding) counts too
        self.compressed_bytes += len(self.compressor.flush())


def _scan_layer(stream: IO[bytes]) -> tuple[int, int, dict[str, int], set[str], set[str]]:
    """(raw, gzip bytes, {path: size}, whiteouts, opaque dirs) of one layer tar, in one pass."""
    tee = _Tee(stream)
    files: dict[str, int] = {}
    whiteouts: set[str] = set()
    opaque: set[str] = set()
    with tarfile.open(fileobj=io.BufferedReader(tee, 1 << 20), mode="r|") as layer:
        for member in layer:
            path = posixpath.normpath("/" + member.name)
            name = posixpath.basename(path)
            if name == ".wh..wh..opq":
                opaque.add(posixpath.dirname(path))
            elif name.startswith(".wh."):
                whiteouts.add(posixpath.join(posixpath.dirname(path), name[4:]))
            elif member.isfile():
                files[path] = member.size
    tee.finish()
    return tee.raw_bytes, tee.compressed_bytes, files, whiteouts, opaque


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def wasted_bytes(
    layers: list[tuple[dict[str, int], set[str], set[str]]],
) -> int:
    """Bytes in lower layers hidden by a later layer (overwritten, deleted, or opaque dir)."""
    wasted = 0
    visible: dict[str, int] = {}  # path -> size of the version currently on top
    for files, whiteouts, opaque in layers:
        hidden = [p for p in visible if p in whiteouts or any(_under(p, w) for w in whiteouts)]
        hidden += [p for p in visible if any(_under(p, d) and p != d for d in opaque)]
        for path in set(hidden):
            wasted += visible.pop(path)
        for path, size in files.items():
            if path in visible:
                wasted += visible[path]
            visible[path] = size
    return wasted


def _classify(layers: list[LayerSize], base_layers: list[str]) -> None:
    """os until the first layer that installs Python, python up to the base's top, app after."""
    in_base = set(base_layers)
    kind = "os"
    for layer in layers:
        if layer.diff_id not in in_base:
            layer.kind = "app"
            continue
        if kind == "os" and _PYTHON_LAYER.search(layer.created_by):
            kind = "python"
        layer.kind = kind


LayerScan = tuple[int, int, dict[str, int], set[str], set[str]]


def _scan_saved_layers(engine: Engine, reference: str) -> list[LayerScan]:
    """Scan every layer tar of ``docker save`` as it streams by; return them in stack order.

    Layers are scanned in archive order (no layer is held in memory) and put in the order the
    image stacks them from manifest.json, which some engines write last.
    """
    scans: dict[str, LayerScan] = {}
    manifest: list[dict[str, Any]] | None = None
    with tarfile.open(fileobj=_ChunkReader(engine.save_image(reference)), mode="r|") as archive:
        for member in archive:
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is None:
                continue
            if member.name == "manifest.json":
                manifest = json.loads(extracted.read())
            elif member.name.endswith(".tar") or member.name.startswith("blobs/"):
                scans[member.name] = _scan_layer(extracted)
    if manifest is None:
        raise ValueError(f"docker save of {reference} has no manifest.json")
    return [scans[name] for name in manifest[0]["Layers"]]


class _ChunkReader(io.RawIOBase):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, out: Any) -> int:
        while not self.buffer:
            try:
                self.buffer = next(self.chunks)
            except StopIteration:
                return 0
        n = min(len(out), len(self.buffer))
        out[:n] = self.buffer[:n]
        self.buffer = self.buffer[n:]
        return n


def image_sizes(engine: Engine, reference: str, base_reference: str = "") -> ImageSizes:
    attrs = engine.inspect_image(reference)
    diff_ids = list(attrs["RootFS"]["Layers"])
    history = [h for h in engine.image_history(reference) if h.get("Size", 0) > 0]
    history.reverse()  # docker lists newest first
    layers: list[LayerSize] = []
    scanned = []
    for index, (raw, compressed, files, whiteouts, opaque) in enumerate(
        _scan_saved_layers(engine, reference)
    ):
        created_by = history[index]["CreatedBy"] if index < len(history) else ""
        diff_id = diff_ids[index] if index < len(diff_ids) else ""
        layers.append(LayerSize(diff_id, raw, compressed, created_by))
        scanned.append((files, whiteouts, opaque))
    base_layers = (
        list(engine.inspect_image(base_reference)["RootFS"]["Layers"])
        if base_reference and base_reference != reference
        else diff_ids
    )
    _classify(layers, base_layers)
    return ImageSizes(
        reference,
        uncompressed=int(attrs["Size"]),
        compressed=sum(layer.compressed for layer in layers),
        wasted=wasted_bytes(scanned),
        layers=layers,
    )


def measure(ctx: RunContext) -> None:
    seen: set[str] = set()
    images = [image for image in ctx.images if image.reference not in seen]
    for index, image in enumerate(images, 1):
        seen.add(image.reference)
        what = f"{image.role} {ctx.label(image.base)}"
        with ctx.step("size", what, index, len(images)):
            try:
                sizes = image_sizes(ctx.engine, image.reference, image.base.reference)
            except Exception as exc:  # a broken image must not cost the others their sizes
                ctx.fail("size", what, exc)
                continue
        ctx.run.write_measurements(
            f"size-{image.role}-{ctx.label(image.base)}", _rows(ctx, image, sizes)
        )


def _rows(ctx: RunContext, image: ImageUnderTest, sizes: ImageSizes) -> list[Measurement]:
    tags = ctx.tags(image.base, strategy=image.strategy)
    role = image.role

    def row(metric: str, unit: str, values: list[float], detail: str = "") -> Measurement:
        return Measurement("size", role, metric, unit, values, tags, detail)

    rows = [
        row("uncompressed", "bytes", [sizes.uncompressed]),
        row("compressed", "bytes", [sizes.compressed], f"gzip -{GZIP_LEVEL} of each layer tar"),
        row("layers", "count", [len(sizes.layers)]),
        row("wasted", "bytes", [sizes.wasted]),
    ]
    for kind in ("os", "python", "app"):
        of_kind = [layer for layer in sizes.layers if layer.kind == kind]
        if of_kind:
            rows.append(
                row("layer_compressed", "bytes", [sum(x.compressed for x in of_kind)], kind)
            )
            rows.append(row("layer_uncompressed", "bytes", [sum(x.size for x in of_kind)], kind))
    for position, layer in enumerate(sizes.layers):
        detail = f"{position}:{layer.kind}:{layer.created_by[:200]}"
        rows.append(row("layer_size", "bytes", [layer.size], detail))
    return rows
