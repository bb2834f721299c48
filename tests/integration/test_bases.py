"""Local stand-ins against the real engine: a glibc slim and the musl stand-in, one Python.

The first run on a machine builds them (minutes); later runs reuse them (seconds), which is
itself checked: asking again with nothing changed must do no work.
"""

import time

import pytest

from basebench.bases import BaseImage, ensure_base, resolve_base_source
from basebench.engine import Engine
from basebench.local.sources import choose, discover
from basebench.variants import load_catalogue

PYTHON = "3.13"
STDLIB = "import ssl, zlib, ctypes, sqlite3, lzma, bz2, json, decimal, hashlib"


@pytest.fixture(scope="module", params=["slim-trixie", "alpine"])
def base(request: pytest.FixtureRequest, engine: Engine) -> BaseImage:
    variant = load_catalogue().get(request.param)
    return ensure_base(engine, variant, PYTHON, "local")


def test_second_call_does_no_work(engine: Engine, base: BaseImage):
    variant = load_catalogue().get(base.variant)
    start = time.perf_counter()
    again = ensure_base(engine, variant, PYTHON, "local")
    assert time.perf_counter() - start < 30
    assert again.reference == base.reference and again.image_id == base.image_id
    assert again.build_seconds is None


def test_interpreter_and_stdlib(engine: Engine, base: BaseImage):
    result = engine.run(
        base.reference, ["python", "-c", f"{STDLIB}; import sys; print(sys.version)"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(base.labels["org.basebench.python.version"])


def test_layout_matches_the_official_images(engine: Engine, base: BaseImage):
    script = (
        "set -e; test -x /usr/local/bin/python3; test -L /usr/local/bin/python; "
        "test -x /usr/local/bin/pip; test -x /usr/local/bin/pip3; "
        f"test -d /usr/local/lib/python{PYTHON}/site-packages; "
        "! ls /usr/local/lib/libpython*.a 2>/dev/null; "
        f"! test -d /usr/local/lib/python{PYTHON}/test; echo layout-ok"
    )
    result = engine.run(base.reference, ["sh", "-c", script])
    assert result.exit_code == 0 and "layout-ok" in result.output, result.output


def test_pip_tags_follow_the_libc(engine: Engine, base: BaseImage):
    result = engine.run(base.reference, ["python", "-m", "pip", "debug", "--verbose"])
    assert result.exit_code == 0, result.output
    if base.libc == "musl":
        assert "musllinux_1_2_x86_64" in result.output
        assert "manylinux" not in result.output
    else:
        assert "manylinux_2_17_x86_64" in result.output
        assert "musllinux" not in result.output


def test_pip_installs_a_wheel_from_pypi_over_https(engine: Engine, base: BaseImage):
    # Through the CA bundle handling when the host has one (a read-only mount, never a layer).
    result = engine.run(
        base.reference,
        [
            "sh",
            "-c",
            "pip install --no-cache-dir --only-binary=:all: six "
            "&& python -c 'import six; print(six.__version__)'",
        ],
        network="index",  # a container reaches the package index only when it asks to
    )
    assert result.exit_code == 0, result.output[-2000:]


def test_labels_carry_flags_libc_and_source(engine: Engine, base: BaseImage):
    labels = engine.inspect_image(base.reference)["Config"]["Labels"]
    source = choose(discover(engine), PYTHON)
    assert labels["org.basebench.source.sha256"] == source.orig_sha256
    assert labels["org.basebench.libc"] == base.libc
    assert labels["org.basebench.libc.version"].startswith(base.libc)
    assert "--enable-shared" in labels["org.basebench.configure_args"]
    assert labels["org.basebench.opt_level"] == "none"
    assert "org.basebench.cflags" in labels
    assert labels["org.basebench.base_source"] == "local"


def test_slim_has_no_compiler(engine: Engine, base: BaseImage):
    result = engine.run(base.reference, ["sh", "-c", "command -v gcc cc || echo none"])
    assert result.output.strip() == "none"


def test_auto_source_says_local_without_a_registry(engine: Engine):
    # These machines reach no registry; on a machine that does, auto takes the official path.
    source, why = resolve_base_source(engine, "auto", "python:3.13-slim-trixie")
    if engine.registry_answers("python:3.13-slim-trixie"):
        assert source == "official"
    else:
        assert source == "local" and "LOCAL" in why


def test_a_pinned_level_is_the_catalogue_variants_image_at_that_level(
    engine: Engine, base: BaseImage
):
    # The run's level is as-shipped (PGO + LTO or LTO: tens of minutes to build); the pin
    # "@none" wins, so this is the image built above, under the run's own name for it.
    pinned = load_catalogue().get(f"{base.variant}@none")
    again = ensure_base(engine, pinned, PYTHON, "local", opt_level="as-shipped")
    assert again.variant == f"{base.variant}@none"
    assert again.reference == base.reference and again.build_seconds is None
    assert again.labels["org.basebench.opt_level"] == "none"
    assert again.labels["org.basebench.variant"] == base.variant
