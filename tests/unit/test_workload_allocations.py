"""Every runtime workload allocates what its manifest entry says it does.

tests/unit/alloc_probe.py runs one loop of each workload under tracemalloc, in a process of its
own, and reports the blocks above pymalloc's 512-byte limit that the loop kept past a line of
its files, and the largest rise of traced memory within a line (which also catches temporary
buffers inside C calls). A workload declaring ``block_sizes = [low, high]`` must keep blocks
above the limit, all within [low, high]; a control (``[0, 512]``) must never rise by more than
512 bytes in a line; a mixed-size workload must allocate both small and larger blocks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from platform import python_version
from typing import Any

import pytest
from test_workloads import APP_DIR, WORKLOADS, requirements_missing

from basebench.runtime_manifest import PYMALLOC_LIMIT, RUNTIME_DIR, Workload

PROBE = Path(__file__).with_name("alloc_probe.py")
TIMEOUT_S = 180
MIB = 1024 * 1024


def allocations(workload: Workload, tmp_path: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["BASEBENCH_APP_DIR"] = str(APP_DIR)
    env["DJANGO_DB_PATH"] = str(tmp_path / "missing" / "db.sqlite3")
    cmd = [sys.executable, str(PROBE), str(RUNTIME_DIR / workload.script), *workload.args]
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    assert proc.returncode == 0, f"{cmd}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    found: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["events"] > 0, "the probe saw no line of the workload run"
    return found


@pytest.mark.parametrize("workload", WORKLOADS, ids=[w.name for w in WORKLOADS])
def test_workload_allocates_what_it_declares(workload: Workload, tmp_path: Path) -> None:
    if not workload.python_ok(python_version()):
        pytest.skip(f"needs Python >= {workload.min_python}")
    missing = requirements_missing(workload)
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed on this Python")
    found = allocations(workload, tmp_path)
    sizes: list[int] = found["sizes"]
    if workload.block_sizes is None:
        # Mixed sizes: both pymalloc's small objects and blocks for the libc malloc.
        assert sizes, f"{workload.name} kept no block above {PYMALLOC_LIMIT} B"
        assert found["small_blocks"] > 0, f"{workload.name} kept no small block"
        return
    low, high = workload.block_sizes
    if high <= PYMALLOC_LIMIT:
        assert sizes == [], f"{workload.name} allocated blocks above {PYMALLOC_LIMIT} B: {sizes}"
        assert found["max_rise"] <= PYMALLOC_LIMIT, (
            f"{workload.name}: a line raised traced memory by {found['max_rise']} B "
            f"(a block above {PYMALLOC_LIMIT} B, perhaps a temporary one)"
        )
        return
    assert sizes, f"{workload.name} kept no block above {PYMALLOC_LIMIT} B"
    outside = [s for s in sizes if not low <= s <= high]
    assert not outside, f"{workload.name}: blocks outside [{low}, {high}] B: {outside[:20]}"


def _probe(name: str, tmp_path: Path) -> dict[str, Any]:
    (workload,) = [w for w in WORKLOADS if w.name == name]
    return allocations(workload, tmp_path)


def test_medium_and_large_objects_stay_on_their_side_of_the_mmap_thresholds(
    tmp_path: Path,
) -> None:
    medium = _probe("medium_objects", tmp_path)
    # musl maps blocks above ~128 KiB; medium blocks stay below half of that.
    assert max(medium["sizes"]) <= 64 * 1024
    assert min(medium["sizes"]) > PYMALLOC_LIMIT
    # Spread over the range, not bunched at one end.
    assert min(medium["sizes"]) < 1024 and max(medium["sizes"]) > 32 * 1024
    large = _probe("large_objects", tmp_path)
    assert min(large["sizes"]) > 256 * 1024
    assert max(large["sizes"]) > 2 * MIB


def test_realloc_growth_reaches_several_mb(tmp_path: Path) -> None:
    found = _probe("realloc_growth", tmp_path)
    assert found["largest"] >= 8 * MIB  # the bytearray and the list's array: 8 MiB each
    # Grown step by step: many distinct sizes on the way, not one allocation at the end.
    assert len(found["sizes"]) >= 50


def test_controls_are_the_declared_ones() -> None:
    controls = {w.name for w in WORKLOADS if w.control}
    assert controls == {"interpreter_loop", "small_objects"}
    for w in WORKLOADS:
        if w.control:
            assert w.block_sizes == (0, PYMALLOC_LIMIT), w.name
