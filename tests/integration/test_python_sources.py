"""Every CPython version Debian's archive serves can be fetched for a local stand-in.

The source stage only (download the orig tarball, check its sha256, unpack): seconds per
version, so every served version is checked in CI without compiling any of them. A version
whose listed tarballs the mirror lacks must still be fetched (an older signed release from the
pool) or fail here with the reason, never after minutes of compiling.
"""

import pytest

from basebench.bases import SOURCE_TARGET, available_source, ensure_local
from basebench.engine import Engine
from basebench.local.pool import POOL_SUITE
from basebench.local.sources import discover
from basebench.variants import load_catalogue
from basebench.versions import version_key

VARIANT = "slim-trixie"


@pytest.fixture(scope="module")
def served(engine: Engine) -> list[str]:
    return sorted({s.python for s in discover(engine)}, key=version_key)


def test_discovery_finds_the_current_stable_python_and_newer_ones(served: list[str]):
    # trixie's 3.13 and at least one newer release (forky/sid): the list is read, not written.
    assert "3.13" in served
    assert any(version_key(v) > version_key("3.13") for v in served), served


def test_every_served_version_fetches_its_source(engine: Engine, served: list[str]):
    variant = load_catalogue().get(VARIANT)
    for python in served:
        source = available_source(engine, variant, python)
        assert source.python == python
        if source.suite == POOL_SUITE:
            # Only a release whose .dsc carries a good signature is taken from the pool.
            assert source.signed_by, source
        image = ensure_local(engine, variant, python, target=SOURCE_TARGET, source=source)
        result = engine.run(image.reference, ["cat", "/usr/src/python/.basebench-source"])
        assert result.exit_code == 0, result.output
        assert f"orig_sha256={source.orig_sha256}" in result.output
        # The tarball's own version (patchlevel.h) is the one the labels will carry.
        assert f"python_version={source.python_version}" in result.output
