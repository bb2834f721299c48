"""How close the local stand-ins come to the official images: sizes and bootstrap times.

The official figures are published data (images/official-sizes.toml); the local ones are
measured here the same way the size group measures every image.
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass

from basebench.bases import ensure_local
from basebench.engine import Engine
from basebench.labels import label
from basebench.measure.sizes import image_sizes
from basebench.paths import IMAGES_DIR
from basebench.variants import Catalogue

MB = 1_000_000


@dataclass
class FidelityRow:
    variant: str
    python: str
    local_reference: str
    local_compressed_mb: float
    local_uncompressed_mb: float
    official: str
    official_compressed_mb: float | None
    official_uncompressed_mb: float | None
    cold_build_s: float | None
    warm_s: float

    @property
    def compressed_ratio(self) -> float | None:
        if not self.official_compressed_mb:
            return None
        return self.local_compressed_mb / self.official_compressed_mb


def official_sizes() -> dict[str, dict[str, object]]:
    data = tomllib.loads((IMAGES_DIR / "official-sizes.toml").read_text())
    sizes: dict[str, dict[str, object]] = data["sizes"]
    return sizes


def fidelity(
    engine: Engine, catalogue: Catalogue, python: str, variants: list[str], opt_level: str
) -> list[FidelityRow]:
    published = official_sizes()
    rows = []
    for name in variants:
        variant = catalogue.get(name)
        start = time.perf_counter()
        base = ensure_local(engine, variant, python, opt_level=opt_level)
        warm = time.perf_counter() - start
        sizes = image_sizes(engine, base.reference)
        recorded = base.labels.get(label("build_seconds"))
        ref = published.get(name, {})
        rows.append(
            FidelityRow(
                variant=name,
                python=python,
                local_reference=base.reference,
                local_compressed_mb=sizes.compressed / MB,
                local_uncompressed_mb=sizes.uncompressed / MB,
                official=str(ref.get("official", "")),
                official_compressed_mb=_float(ref.get("compressed_mb")),
                official_uncompressed_mb=_float(ref.get("uncompressed_mb")),
                cold_build_s=float(recorded) if recorded else base.build_seconds,
                warm_s=warm if base.build_seconds is None else 0.0,
            )
        )
    return rows


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def markdown(rows: list[FidelityRow]) -> str:
    def num(value: float | None, fmt: str = "{:.1f}") -> str:
        return "–" if value is None else fmt.format(value)

    lines = [
        "| variant | python | local compressed MB | official compressed MB | local/official "
        "| local uncompressed MB | official uncompressed MB | cold build s | warm s |",
        "|:--|:--|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.variant} | {r.python} | {r.local_compressed_mb:.1f} | "
            f"{num(r.official_compressed_mb)} ({r.official or 'no figure'}) | "
            f"{num(r.compressed_ratio, '{:.2f}×')} | {r.local_uncompressed_mb:.1f} | "
            f"{num(r.official_uncompressed_mb, '{:.0f}')} | {num(r.cold_build_s, '{:.0f}')} | "
            f"{r.warm_s:.1f} |"
        )
    return "\n".join(lines)
