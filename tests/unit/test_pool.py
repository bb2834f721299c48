"""Finding a CPython release in the mirror's pool when the tarballs its index lists are gone."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from basebench.local import pool
from basebench.local.pool import POOL_SUITE, parse_found, probe_versions
from basebench.local.sources import CACHE_MAX_AGE_S, PythonSource


def _listed(*versions: str) -> list[PythonSource]:
    return [
        PythonSource(
            "3.14", "python3.14", v, "sid", f"python3.14_{v.split('-')[0]}.orig.tar.xz", "0"
        )
        for v in versions
    ]


def test_probes_count_down_from_the_newest_listed_release() -> None:
    probes = probe_versions(_listed("3.14.8-1", "3.14.10-1"))
    # Newest first, every revision before the previous release; the listed one left out.
    assert probes[:5] == ["3.14.10-3", "3.14.10-2", "3.14.9-3", "3.14.9-2", "3.14.9-1"]
    assert "3.14.10-1" not in probes and "3.14.8-1" not in probes
    assert probes.index("3.14.7-1") < probes.index("3.14.0-1") < probes.index("3.14.0~rc3-3")
    assert probes[-1] == "3.14.0~a2-1"


def test_a_prerelease_listing_probes_its_own_prereleases() -> None:
    probes = probe_versions(_listed("3.15.0~rc1-1"))
    assert probes[:3] == ["3.15.0-3", "3.15.0-2", "3.15.0-1"]
    assert "3.15.0~rc1-1" not in probes and "3.15.0~b4-1" in probes


# What the probe script prints for a .dsc with a good signature (abridged from a real run).
SHA_ORIG = "3b48dac8fb59f62eaa67ac83c1eb12bda1b7a08406dd286e252c11a66be27f81"
SHA_DEBIAN = "43187e8f368dfdcb77ef1f879c50dcacfb1438ca01657859f2a06cfaf9c3cd2a"
FOUND = (
    "### FOUND 3.14.7-1\n"
    "signed-by: Matthias Klose <doko@debian.org>\n"
    "Checksums-Sha256:\n"
    f" {SHA_ORIG} 24053924 python3.14_3.14.7.orig.tar.xz\n"
    f" {SHA_DEBIAN} 223864 python3.14_3.14.7-1.debian.tar.xz\n"
    "Files:\n"
)


def test_a_signed_dsc_gives_the_tarball_and_its_sha256() -> None:
    found = parse_found(FOUND, "3.14", "python3.14")
    assert found == PythonSource(
        python="3.14",
        package="python3.14",
        version="3.14.7-1",
        suite=POOL_SUITE,
        orig_tarball="python3.14_3.14.7.orig.tar.xz",
        orig_sha256=SHA_ORIG,
        signed_by="Matthias Klose <doko@debian.org>",
    )
    assert found.python_version == "3.14.7" and not found.prerelease


def test_nothing_found_or_only_bad_signatures_give_none() -> None:
    assert parse_found("### BAD-SIGNATURE 3.14.7-1\n### NONE\n", "3.14", "python3.14") is None
    assert parse_found("", "3.14", "python3.14") is None


def test_a_prerelease_from_the_pool_is_one() -> None:
    text = FOUND.replace("3.14.7-1", "3.15.0~rc1-1").replace("3.14.7.orig", "3.15.0~rc1.orig")
    found = parse_found(text.replace("python3.14", "python3.15"), "3.15", "python3.15")
    assert found is not None and found.prerelease and found.python_version == "3.15.0rc1"


def test_a_missing_tarball_is_remembered_for_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "cache_dir", lambda: tmp_path)
    source = _listed("3.14.8-1")[0]
    assert pool.known_missing() == {}
    pool.remember_missing(source, "404 Not Found")
    assert pool.known_missing() == {source.orig_sha256: "404 Not Found"}
    # A day later the mirror may have caught up: the file is tried again.
    old = time.time() - CACHE_MAX_AGE_S - 60
    os.utime(tmp_path / "python-sources-missing.json", (old, old))
    assert pool.known_missing() == {}
