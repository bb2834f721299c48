"""Reading Debian's Sources index: which CPython source packages each suite serves."""

from __future__ import annotations

import pytest

from basebench.errors import UserError
from basebench.local.sources import PythonSource, choose, parse_sources

LISTS = "/var/lib/apt/lists/mirror.invalid_debian_dists_{suite}_main_source_Sources"


def header(suite: str) -> str:
    return f"### {LISTS.format(suite=suite)}\n"


def paragraph(package: str, version: str, upstream: str, sha: str = "ab" * 32) -> str:
    """A Sources paragraph as the discovery script prints it (awk, paragraph mode)."""
    return (
        f"Package: {package}\n"
        f"Binary: {package}, lib{package}-dev\n"
        f"Version: {version}\n"
        "Maintainer: Python maintainers <python@maintainers.invalid>\n"
        "Files:\n"
        f" 0123 2000 {package}_{version}.dsc\n"
        f" 4567 3000 {package}_{upstream}.orig.tar.xz\n"
        "Checksums-Sha256:\n"
        f" {'cd' * 32} 2000 {package}_{version}.dsc\n"
        f" {sha} 22000000 {package}_{upstream}.orig.tar.xz\n"
        f" {'ef' * 32} 833 {package}_{upstream}.orig.tar.xz.asc\n"
        f" {'01' * 32} 250000 {package}_{version}.debian.tar.xz\n"
        "Directory: pool/main/p/python\n"
        "\n"
    )


INDEX = (
    header("trixie")
    + paragraph("python3.13", "3.13.5-2", "3.13.5", sha="13" * 32)
    + paragraph("python3-defaults", "3.13.5-1", "3.13.5")  # not a CPython source package
    + paragraph("python3.13-doc", "3.13.5-2", "3.13.5")
    + header("forky")
    + paragraph("python3.13", "3.13.7-1", "3.13.7")
    + paragraph("python3.14", "1:3.14.0-1", "3.14.0", sha="14" * 32)
    + header("trixie")  # an index listed twice
    + paragraph("python3.13", "3.13.5-2", "3.13.5", sha="13" * 32)
)


def test_cpython_packages_per_suite() -> None:
    sources = parse_sources(INDEX)
    assert [(s.suite, s.package, s.version) for s in sources] == [
        ("trixie", "python3.13", "3.13.5-2"),
        ("forky", "python3.13", "3.13.7-1"),
        ("forky", "python3.14", "1:3.14.0-1"),
    ]
    trixie = sources[0]
    assert trixie == PythonSource(
        python="3.13",
        package="python3.13",
        version="3.13.5-2",
        suite="trixie",
        orig_tarball="python3.13_3.13.5.orig.tar.xz",
        orig_sha256="13" * 32,
    )
    assert [s.upstream_version for s in sources] == ["3.13.5", "3.13.7", "3.14.0"]


def test_what_is_left_out() -> None:
    # Before any ### header the suite is unknown; without a Checksums-Sha256 orig tarball
    # there is nothing to build from; the signature (.asc) is never taken for the tarball.
    no_orig = "Package: python3.12\nVersion: 3.12.1-1\nChecksums-Sha256:\n aa 1 x.dsc\n\n"
    text = paragraph("python3.11", "3.11.2-6", "3.11.2") + header("bookworm") + no_orig
    assert parse_sources(text) == []
    assert parse_sources("") == []
    assert all(not s.orig_tarball.endswith(".asc") for s in parse_sources(INDEX))


def test_a_suite_without_cpython_does_not_take_the_next_suites_packages() -> None:
    text = (
        header("trixie-updates") + header("forky") + paragraph("python3.14", "3.14.0-1", "3.14.0")
    )
    assert [s.suite for s in parse_sources(text)] == ["forky"]


def test_choose_prefers_the_most_stable_suite_then_the_newest_release() -> None:
    sources = parse_sources(INDEX)
    assert choose(sources, "3.13").suite == "trixie"
    assert choose(sources, "3.14").version == "1:3.14.0-1"
    sid = [
        PythonSource("3.15", "python3.15", v, "sid", f"python3.15_{v}.orig.tar.xz", "00")
        for v in ("3.15.0~a2-1", "3.15.1-1", "3.15.0-3")
    ]
    assert choose(sid, "3.15").upstream_version == "3.15.1"
    with pytest.raises(UserError, match="serves no CPython 3.9 .* it serves 3.13, 3.14"):
        choose(sources, "3.9")


def test_choose_takes_a_release_over_its_release_candidate() -> None:
    sid = [
        PythonSource("3.14", "python3.14", v, "sid", f"python3.14_{v}.orig.tar.xz", "00")
        for v in ("3.14.0-1", "3.14.0~rc3-1")
    ]
    assert choose(sid, "3.14").version == "3.14.0-1"


def test_a_failed_index_download_on_the_bridge_suggests_the_hosts_network(tmp_path, monkeypatch):
    from fakes import FakeEngine

    from basebench.engine import RunResult
    from basebench.local import sources

    monkeypatch.setattr(sources, "ensure_rootfs", lambda engine, suite: "rootfs:trixie")
    monkeypatch.setattr(sources, "_cache_path", lambda: tmp_path / "python-sources.json")
    failed = RunResult(100, "W: Failed to fetch ... Temporary failure resolving\n", 1.0)
    with pytest.raises(UserError, match="add --network host") as caught:
        sources.discover(FakeEngine(failed), refresh=True)
    assert "could not read Debian's Sources index" in str(caught.value)
    assert not (tmp_path / "python-sources.json").exists()
