"""Image sizes: uncompressed, compressed as a registry stores it, layers, and wasted bytes.

- uncompressed: the engine's ``Size`` of the image (what ``docker image inspect`` says).
- compressed: every layer tar of ``docker save`` gzip-compressed at level 6 (Go's default,
  which ``docker push`` uses) and summed: what a registry stores and a pull downloads. A layer's
  compressed size is a function of its content (its diff id), so it is computed once per layer
  on this machine and kept in ``~/.cache/basebench/layer-sizes.json`` (:class:`LayerSizeCache`):
  the base layers every image and every run share are compressed once.
- layers: the non-empty layers, each with its size and the instruction that made it (history).
- wasted: bytes of files that a later layer deletes (whiteout) or overwrites, as dive reports
  them: they are shipped in a lower layer but can never be seen.
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import tarfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from basebench.cache import JsonCache
from basebench.engine import Engine
from basebench.layers import KINDS, Layer, classify, leading_matches
from basebench.measure._context import ImageUnderTest, RunContext
from basebench.results import Measurement

GZIP_LEVEL = 6


@dataclass
class LayerSize:
    diff_id: str
    size: int  # uncompressed bytes of the layer, as the engine counts them
    compressed: int
    created_by: str = ""
    kind: str = ""  # one of basebench.layers.KINDS


@dataclass
class ImageSizes:
    reference: str
    uncompressed: int
    compressed: int
    wasted: int
    layers: list[LayerSize] = field(default_factory=list)
    #: Layers gzip-compressed by this measurement (the others came from the layer-size cache),
    #: and the seconds that compression took: harness time, not a measured value.
    layers_compressed: int = 0
    compress_seconds: float = 0.0


class LayerSizeCache:
    """gzip -6 size of each layer tar by diff id, kept on disk between runs.

    ``docker save`` names a layer tar by an id of its own (20.10) or by its digest (OCI
    layout), and some engines write layers in directory order rather than stack order, so a
    layer is recognised by its byte count among the image's known layers and then proved by
    its sha256 (a layer tar's digest is its diff id), which costs a hash, not a compression. A
    wrong guess makes the caller measure again without the cache: never a wrong size.
    """

    FILE = "layer-sizes.json"

    def __init__(self, store: JsonCache | None = None) -> None:
        self.store = store or JsonCache(self.FILE)

    def known_by_size(self, diff_ids: list[str]) -> dict[int, tuple[str, int]]:
        """{raw bytes: (diff id, gzip bytes)} of the image's layers the cache knows, for sizes
        that only one of them has: a layer tar of that size is then most likely that layer."""
        found: dict[int, list[tuple[str, int]]] = {}
        for diff_id in dict.fromkeys(diff_ids):
            entry = self.store.get(diff_id)
            if isinstance(entry, dict) and "raw" in entry and "gzip6" in entry:
                found.setdefault(int(entry["raw"]), []).append((diff_id, int(entry["gzip6"])))
        return {raw: hits[0] for raw, hits in found.items() if len(hits) == 1}

    def remember(self, sizes: dict[str, tuple[int, int]]) -> None:
        """Store ``{diff id: (raw bytes, gzip bytes)}``."""
        self.store.put_many(
            {
                d: {"raw": raw, "gzip6": gz}
                for d, (raw, gz) in sizes.items()
                if d.startswith("sha256:")
            }
        )


class _Tee(io.RawIOBase):
    """A read-only stream that feeds every byte read through a compressor, counting output.

    With ``compress=False`` (a layer whose size the cache knows) it only counts."""

    def __init__(self, source: IO[bytes], compress: bool = True) -> None:
        self.source = source
        self.compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31) if compress else None
        self.raw_bytes = 0
        self.compressed_bytes = 0
        self.compress_seconds = 0.0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.raw_bytes += n
        self.digest.update(data)
        if self.compressor is not None:
            start = time.perf_counter()
            self.compressed_bytes += len(self.compressor.compress(data))
            self.compress_seconds += time.perf_counter() - start
        return n

    def finish(self) -> None:
        while self.read(1 << 20):
            pass  # the rest (tar padding) counts too
        if self.compressor is not None:
            self.compressed_bytes += len(self.compressor.flush())


@dataclass
class LayerScan:
    raw: int
    compressed: int
    files: dict[str, int]
    whiteouts: set[str]
    opaque: set[str]
    #: sha256 of the layer tar: its diff id.
    digest: str = ""
    #: The diff id the cache's compressed size was taken for ("" when it was computed).
    cached_as: str = ""
    compress_seconds: float = 0.0

    @property
    def from_cache(self) -> bool:
        return bool(self.cached_as)


def _scan_layer(stream: IO[bytes], known: tuple[str, int] | None = None) -> LayerScan:
    """Sizes, digest, {path: size}, whiteouts and opaque dirs of one layer tar, in one pass;
    the gzip size is taken from ``known`` (diff id, gzip bytes) when given, else computed."""
    tee = _Tee(stream, compress=known is None)
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
    return LayerScan(
        tee.raw_bytes,
        tee.compressed_bytes if known is None else known[1],
        files,
        whiteouts,
        opaque,
        digest="sha256:" + tee.digest.hexdigest(),
        cached_as=known[0] if known else "",
        compress_seconds=tee.compress_seconds,
    )


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


def _classify(layers: list[LayerSize], runs_on_layers: list[str]) -> None:
    """Each layer's kind (:func:`basebench.layers.classify`): the layers at the bottom that are
    the runs-on image's (``runs_on_layers``, its diff ids) are its OS and Python, the rest app."""
    runs_on = leading_matches([layer.diff_id for layer in layers], runs_on_layers)
    kinds = classify([Layer(layer.created_by, layer.size) for layer in layers], runs_on)
    for layer, kind in zip(layers, kinds, strict=True):
        layer.kind = kind


class _StaleGuess(Exception):
    """A layer's size came from the cache under a diff id its digest then contradicted."""


def _scan_saved_layers(
    engine: Engine, reference: str, diff_ids: list[str], cache: LayerSizeCache | None
) -> tuple[list[LayerScan], list[dict[str, Any]]]:
    """Scan every layer tar of ``docker save`` as it streams by; return them in stack order.

    Layers are scanned in archive order (no layer is held in memory) and put in the order the
    image stacks them from manifest.json, which some engines write last. A layer the cache
    knows (:class:`LayerSizeCache`) is read for its file list and digest, not compressed.
    Also returns the image config's history entries that made a layer (``empty_layer`` ones
    left out), which line up one to one with the layers.
    """
    scans: dict[str, LayerScan] = {}
    small_files: dict[str, bytes] = {}
    manifest: list[dict[str, Any]] | None = None
    known = cache.known_by_size(diff_ids) if cache else {}
    with tarfile.open(fileobj=_ChunkReader(engine.save_image(reference)), mode="r|") as archive:
        for member in archive:
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is None:
                continue
            if member.name == "manifest.json":
                manifest = json.loads(extracted.read())
            elif member.name.endswith(".json") or member.size < 1 << 20:
                # The image config (<id>.json, or a small blob in the OCI layout); a layer
                # this small is cheap to keep until manifest.json says which is which.
                small_files[member.name] = extracted.read()
            else:
                scans[member.name] = _scan_layer(extracted, known.get(member.size))
    if manifest is None:
        raise ValueError(f"docker save of {reference} has no manifest.json")
    names = manifest[0]["Layers"]
    for name in names:
        if name not in scans:
            data = small_files[name]
            scans[name] = _scan_layer(io.BytesIO(data), known.get(len(data)))
    if any(scan.from_cache and scan.cached_as != scan.digest for scan in scans.values()):
        raise _StaleGuess(reference)
    if cache is not None:
        cache.remember({scans[n].digest: (scans[n].raw, scans[n].compressed) for n in names})
    config = json.loads(small_files[manifest[0]["Config"]])
    history = [h for h in config.get("history", []) if not h.get("empty_layer")]
    return [scans[name] for name in names], history


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


def _layer_sizes(engine_sizes: list[int], layer_files: list[dict[str, int]]) -> list[int]:
    """Per-layer sizes from docker history, matched to the layers; [] when they do not match.

    The API's history does not flag empty layers, so entries are matched in order: a layer
    with files takes the next non-zero entry, a layer of only whiteouts takes a zero one.
    """
    sizes: list[int] = []
    entries = iter(engine_sizes)
    for files in layer_files:
        want_zero = not files
        for size in entries:
            if (size == 0) == want_zero or (size == 0 and sum(files.values()) == 0):
                sizes.append(size)
                break
        else:
            return []
    return sizes


def image_sizes(
    engine: Engine,
    reference: str,
    runs_on_reference: str = "",
    cache: LayerSizeCache | None = None,
) -> ImageSizes:
    """Sizes of ``reference``; its layers are classified against ``runs_on_reference``, the
    image its final stage was built FROM (default: itself, as for a base image). ``cache``
    (default: this machine's layer-size cache) spares compressing a layer seen before."""
    attrs = engine.inspect_image(reference)
    diff_ids = list(attrs["RootFS"]["Layers"])
    cache = cache or LayerSizeCache()
    try:
        scans, history = _scan_saved_layers(engine, reference, diff_ids, cache)
    except _StaleGuess:
        scans, history = _scan_saved_layers(engine, reference, diff_ids, None)
    # The engine's own per-layer sizes (docker history), so the layers add up to inspect's Size
    # exactly; they line up with the layers once the empty (metadata-only) entries are dropped.
    engine_sizes = [int(h.get("Size", 0)) for h in reversed(engine.image_history(reference))]
    layer_sizes = _layer_sizes(engine_sizes, [scan.files for scan in scans])
    layers: list[LayerSize] = []
    for index, scan in enumerate(scans):
        entry = history[index] if index < len(history) else {}
        diff_id = diff_ids[index] if index < len(diff_ids) else ""
        size = layer_sizes[index] if layer_sizes else scan.raw
        layers.append(LayerSize(diff_id, size, scan.compressed, str(entry.get("created_by", ""))))
    runs_on_layers = (
        list(engine.inspect_image(runs_on_reference)["RootFS"]["Layers"])
        if runs_on_reference and runs_on_reference != reference
        else diff_ids
    )
    _classify(layers, runs_on_layers)
    return ImageSizes(
        reference,
        uncompressed=int(attrs["Size"]),
        compressed=sum(layer.compressed for layer in layers),
        wasted=wasted_bytes([(scan.files, scan.whiteouts, scan.opaque) for scan in scans]),
        layers=layers,
        layers_compressed=sum(not scan.from_cache for scan in scans),
        compress_seconds=sum(scan.compress_seconds for scan in scans),
    )


def measure(ctx: RunContext) -> None:
    seen: set[str] = set()
    images = [image for image in ctx.images if image.reference not in seen]
    # One checkpoint per image sized: a resumed run does not size (and write) it again.
    checkpoints = ctx.checkpoints("size")
    sized = list(checkpoints.resume_from().state.get("sized", []))
    for index, image in enumerate(images, 1):
        seen.add(image.reference)
        what = f"{image.role} {ctx.label(image.base)}"
        if what in sized:
            continue
        with ctx.step("size", what, index, len(images)):
            start = time.perf_counter()
            try:
                sizes = image_sizes(ctx.engine, image.reference, image.runs_on_reference)
            except Exception as exc:  # a broken image must not cost the others their sizes
                ctx.fail("size", what, exc)
                continue
            finally:
                took = time.perf_counter() - start
        # Sizes time nothing: all of it is the harness's, the gzip part said apart.
        ctx.ledger.add("size", "compressing layers (gzip -6)", sizes.compress_seconds)
        ctx.ledger.add(
            "size", "docker save, reading layers, inspect", took - sizes.compress_seconds
        )
        ctx.run.write_measurements(
            f"size-{image.role}-{ctx.label(image.base)}", _rows(ctx, image, sizes)
        )
        sized.append(what)
        checkpoints.save(len(sized), len(images), {"sized": sized}, unit="image")


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
    for kind in KINDS:
        of_kind = [layer for layer in sizes.layers if layer.kind == kind]
        if of_kind:
            rows.append(
                row("layer_compressed", "bytes", [sum(x.compressed for x in of_kind)], kind)
            )
            rows.append(row("layer_uncompressed", "bytes", [sum(x.size for x in of_kind)], kind))
    for position, layer in enumerate(sizes.layers):
        detail = f"{position}:{layer.kind}:{layer.created_by[:200]}"
        rows.append(row("layer_size", "bytes", [layer.size], detail))
    manifest = image.base.registry if image.role == "base" else {}
    if manifest.get("layers"):
        stored = int(manifest["compressed"])
        detail = registry_agreement(sizes.compressed, stored, len(manifest["layers"]))
        rows.append(row("registry_compressed", "bytes", [stored], detail))
    return rows


#: How far the gzip estimate may stray from the registry's stored size and still be called
#: the same figure.
REGISTRY_TOLERANCE = 0.03


def registry_agreement(estimate: int, stored: int, layers: int) -> str:
    """The registry's compressed size next to the suite's gzip estimate, in words."""
    off = (estimate - stored) / stored if stored else float("inf")
    said = f"registry manifest, {layers} layers; the gzip -{GZIP_LEVEL} estimate is {off:+.1%}"
    if abs(off) <= REGISTRY_TOLERANCE:
        return f"{said} (within {REGISTRY_TOLERANCE:.0%})"
    return (
        f"{said}, beyond {REGISTRY_TOLERANCE:.0%}: the registry stores each layer as the "
        "engine that pushed it compressed it (its gzip implementation and level, or zstd), "
        "not as gzip -6 of the saved tar"
    )
