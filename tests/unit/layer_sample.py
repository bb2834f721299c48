"""Layers as a committed run recorded them, for the layer-kind tests of both sides."""

from __future__ import annotations

from basebench.layers import Layer

# The musl stand-in's layers as results/20261129-150936-vm-332c recorded them (created_by
# shortened to its first 200 characters there, as here; uncompressed bytes).
MUSL_BASE = [
    Layer("COPY /out/ / # buildkit", 46232700),
    Layer(
        "RUN |1 PYTHON_VERSION=3.13.5 /bin/sh -c set -eux; \texport PYTHONDONTWRITEBYTECODE=1; "
        "\tpython3 -c 'import ssl, zlib, ctypes, sqlite3, lzma, bz2; print(s",
        0,
    ),
]
MUSL_BUILDER = [
    Layer("", 120211914),
    Layer(
        "RUN /bin/sh -c set -eux; \texport DEBIAN_FRONTEND=noninteractive; \tapt-get update; "
        "\tapt-get install -y --no-install-recommends \t\tmusl musl-dev musl-tools g",
        475468691,
    ),
    Layer("COPY x86_64-linux-musl-gcc /opt/musl/bin/x86_64-linux-musl-gcc # buildkit", 756),
    Layer(
        "RUN /bin/sh -c set -eux; \tmkdir -p /opt/musl/include /opt/musl/lib; \tfor d in linux "
        'asm-generic mtd rdma sound video xen drm misc scsi; do \t\t[ ! -d "/usr/',
        79,
    ),
    Layer("RUN /bin/sh -c sh /tmp/bb/build-musl-deps.sh fetch # buildkit", 172273160),
    Layer("RUN /bin/sh -c sh /tmp/bb/build-musl-deps.sh zlib bzip2 xz libffi # buildkit", 865517),
    Layer("RUN /bin/sh -c sh /tmp/bb/build-musl-deps.sh openssl # buildkit", 10070562),
    Layer("RUN /bin/sh -c sh /tmp/bb/build-musl-deps.sh sqlite # buildkit", 4140727),
    Layer("RUN /bin/sh -c sh /tmp/bb/build-musl-deps.sh ncurses readline # buildkit", 1926978),
    Layer(
        "RUN |3 PYTHON_VERSION=3.13.5 OPT_LEVEL=none FLAGS=official /bin/sh -c "
        'OPT_LEVEL="$OPT_LEVEL" FLAGS="$FLAGS" sh /tmp/bb/build-python.sh musl; \tPYTHONDONTWR',
        32786911,
    ),
    Layer(
        "RUN |3 PYTHON_VERSION=3.13.5 OPT_LEVEL=none FLAGS=official /bin/sh -c set -eux; \tfor l "
        'in crypt dl m pthread resolv rt util xnet; do \t\t[ -e "/usr/lib/x86',
        8,
    ),
]
SINGLE_FULL_OWN = [
    Layer(
        "RUN /bin/sh -c sh /tmp/bb/install.sh offline /wheels /tmp/req/requirements.lock "
        "# buildkit",
        42047885,
    ),
    Layer("COPY app /opt/app # buildkit", 20176),
    Layer("RUN /bin/sh -c sh /tmp/bb/app-setup.sh # buildkit", 946494),
    Layer("WORKDIR /opt/app", 0),
]
SLIM_BASE = [
    Layer("COPY / / # buildkit", 81815252),
    Layer("COPY /usr/local /usr/local # buildkit", 32562241),
    Layer(
        "RUN |1 PYTHON_VERSION=3.13.5 /bin/sh -c set -eux; ldconfig; \texport "
        "PYTHONDONTWRITEBYTECODE=1; python3 --version; pip --version; \tif command -v gcc || ",
        9502,
    ),
]
FULL_BASE = [
    Layer("", 120211914),
    Layer(
        "RUN /bin/sh -c set -eux; \texport DEBIAN_FRONTEND=noninteractive; \tapt-get update; "
        "\tapt-get install -y --no-install-recommends \t\tca-certificates curl gnupg ",
        915450737,
    ),
    Layer(
        'RUN |2 PYTHON_VERSION=3.13.5 OPT_LEVEL=none /bin/sh -c OPT_LEVEL="$OPT_LEVEL" sh '
        "/tmp/bb/build-python.sh full # buildkit",
        70738495,
    ),
]
