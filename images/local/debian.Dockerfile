# Local stand-ins for the official python:X (full) and python:X-slim images,
# built from a Debian rootfs (debootstrap, imported locally) and CPython's
# upstream tarball as shipped in Debian's source packages. No registry needed.
#
# Build context: this directory (images/local). Targets: source, full, slim.
# Build args:
#   ROOTFS              rootfs image the result is based on (basebench/rootfs:trixie)
#   SOURCE_ROOTFS       rootfs image used to download the sources
#   PYTHON_SRC_PACKAGE  Debian source package, e.g. python3.13
#   PYTHON_SRC_VERSION  its Debian version, e.g. 3.13.5-2+deb13u5
#   PYTHON_SRC_SUITE    suite serving it, e.g. trixie
#   PYTHON_ORIG_SHA256  sha256 of the .orig.tar.xz (build fails on mismatch)
#   PYTHON_VERSION      upstream version, e.g. 3.13.5 (ENV PYTHON_VERSION; checked
#                       against the tarball because a Dockerfile cannot derive it)
#   OPT_LEVEL           none | lto | pgo | pgo-lto
# Helper scripts are bind-mounted, never copied, so they leave no layer behind.

ARG ROOTFS=basebench/rootfs:trixie
ARG SOURCE_ROOTFS=${ROOTFS}

############################################################################
# source: upstream CPython tarball, verified, unpacked to /usr/src/python.
# musl.Dockerfile has the identical stage; same instructions + same context
# files, so BuildKit's cache serves one from the other.
FROM ${SOURCE_ROOTFS} AS source
ARG PYTHON_SRC_PACKAGE
ARG PYTHON_SRC_VERSION
ARG PYTHON_SRC_SUITE
ARG PYTHON_ORIG_SHA256
RUN --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=fetch-python-source.sh,target=/tmp/bb/fetch-python-source.sh \
    --mount=type=bind,source=apt-sources.sh,target=/tmp/bb/apt-sources.sh \
	[ ! -f /run/secrets/basebench_proxy ] || . /run/secrets/basebench_proxy; \
	sh /tmp/bb/fetch-python-source.sh

############################################################################
# full: buildpack-deps (curl + scm + the -dev libraries) + CPython in
# /usr/local, built in place exactly like python:X.
FROM ${ROOTFS} AS full
# The three buildpack-deps layers (curl, scm, full), in one RUN; then the
# python:X extras libbluetooth-dev tk-dev uuid-dev. Package names are the same
# in bookworm and trixie. `apt-get clean` + `rm -rf lists` (bookworm's apt has
# no dist-clean) drops the .debs and pkgcache.bin too: the official Debian
# images get that from their docker-clean apt config, a debootstrap tree does not.
RUN --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=apt-sources.sh,target=/tmp/bb/apt-sources.sh \
	[ ! -f /run/secrets/basebench_proxy ] || . /run/secrets/basebench_proxy; \
	set -eux; \
	export DEBIAN_FRONTEND=noninteractive; \
	sh /tmp/bb/apt-sources.sh update; \
	apt-get install -y --no-install-recommends \
		ca-certificates curl gnupg netbase sq wget \
		git mercurial openssh-client subversion procps \
		autoconf automake bzip2 default-libmysqlclient-dev dpkg-dev file g++ gcc \
		imagemagick libbz2-dev libc6-dev libcurl4-openssl-dev libdb-dev libevent-dev \
		libffi-dev libgdbm-dev libglib2.0-dev libgmp-dev libjpeg-dev libkrb5-dev \
		liblzma-dev libmagickcore-dev libmagickwand-dev libmaxminddb-dev \
		libncurses5-dev libncursesw5-dev libpng-dev libpq-dev libreadline-dev \
		libsqlite3-dev libssl-dev libtool libwebp-dev libxml2-dev libxslt-dev \
		libyaml-dev make patch unzip xz-utils zlib1g-dev \
		libbluetooth-dev tk-dev uuid-dev \
	; \
	apt-get clean; rm -rf /var/lib/apt/lists/*

# ensure local python is preferred over distribution python
ENV PATH=/usr/local/bin:$PATH
# The official images set LANG only for <= 3.12; harmless for 3.13+, so always.
ENV LANG=C.UTF-8
ARG PYTHON_VERSION
ENV PYTHON_VERSION=${PYTHON_VERSION}
ARG OPT_LEVEL=none
# The source tree is bind-mounted read-write: the build writes into it, and
# those writes are thrown away with the mount, so no source layer is left.
RUN --mount=type=bind,from=source,source=/usr/src/python,target=/usr/src/python,rw \
    --mount=type=bind,source=build-python.sh,target=/tmp/bb/build-python.sh \
	OPT_LEVEL="$OPT_LEVEL" sh /tmp/bb/build-python.sh full
CMD ["python3"]

############################################################################
# slim-builder: the official slim image's build dependencies, CPython built
# the same way (plus --strip-all), and the list of runtime packages it needs.
FROM ${ROOTFS} AS slim-builder
RUN --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=apt-sources.sh,target=/tmp/bb/apt-sources.sh \
	[ ! -f /run/secrets/basebench_proxy ] || . /run/secrets/basebench_proxy; \
	set -eux; \
	export DEBIAN_FRONTEND=noninteractive; \
	sh /tmp/bb/apt-sources.sh update; \
	apt-get install -y --no-install-recommends \
		dpkg-dev gcc libbluetooth-dev libbz2-dev libc6-dev libdb-dev libffi-dev \
		libgdbm-dev liblzma-dev libncursesw5-dev libreadline-dev libsqlite3-dev \
		libssl-dev make tk-dev uuid-dev xz-utils zlib1g-dev \
	; \
	apt-get clean; rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/local/bin:$PATH
ARG PYTHON_VERSION
ARG OPT_LEVEL=none
RUN --mount=type=bind,from=source,source=/usr/src/python,target=/usr/src/python,rw \
    --mount=type=bind,source=build-python.sh,target=/tmp/bb/build-python.sh \
    --mount=type=bind,source=runtime-packages.sh,target=/tmp/bb/runtime-packages.sh \
	set -eu; \
	PYTHON_VERSION="$PYTHON_VERSION" OPT_LEVEL="$OPT_LEVEL" sh /tmp/bb/build-python.sh slim; \
	sh /tmp/bb/runtime-packages.sh > /usr/local/share/basebench/runtime-packages.txt; \
	echo "runtime packages:"; cat /usr/local/share/basebench/runtime-packages.txt

############################################################################
# slim-base: the rootfs made like debian:X-slim (no docs/man/locales: what
# debuerreotype's "slimify" does) + runtime libraries found by slim-builder +
# ca-certificates netbase tzdata. No compiler, no -dev packages.
FROM ${ROOTFS} AS slim-base
RUN --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=apt-sources.sh,target=/tmp/bb/apt-sources.sh \
    --mount=type=bind,source=slimify.sh,target=/tmp/bb/slimify.sh \
    --mount=type=bind,from=slim-builder,source=/usr/local/share/basebench/runtime-packages.txt,target=/tmp/bb/runtime-packages.txt \
	[ ! -f /run/secrets/basebench_proxy ] || . /run/secrets/basebench_proxy; \
	set -eux; \
	sh /tmp/bb/slimify.sh; \
	export DEBIAN_FRONTEND=noninteractive; \
	sh /tmp/bb/apt-sources.sh update; \
	apt-get install -y --no-install-recommends \
		ca-certificates netbase tzdata \
		$(cat /tmp/bb/runtime-packages.txt) \
	; \
	apt-get clean; rm -rf /var/lib/apt/lists/*

############################################################################
# slim: slim-base flattened into one layer (files slimify deleted would
# otherwise still weigh in the rootfs layer underneath), then /usr/local.
FROM scratch AS slim
COPY --from=slim-base / /
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENV LANG=C.UTF-8
ARG PYTHON_VERSION
ENV PYTHON_VERSION=${PYTHON_VERSION}
COPY --from=slim-builder /usr/local /usr/local
# Check only (no compiler may be left); PYTHONDONTWRITEBYTECODE keeps
# __pycache__ out of the layer. ldconfig: /usr/local/lib/libpython3.X.so.
RUN set -eux; ldconfig; \
	export PYTHONDONTWRITEBYTECODE=1; python3 --version; pip --version; \
	if command -v gcc || command -v cc; then echo >&2 'compiler left in slim'; exit 1; fi
CMD ["python3"]
