# Local stand-in for python:X-alpine: CPython and its C libraries built with
# Debian trixie's musl 1.2.5 (the musl release current Alpine ships), put into
# a tiny FROM-scratch tree with a static busybox. No Alpine package needed.
#
# Build context: this directory (images/local). Targets: source, musl-builder, musl.
# Build args: as debian.Dockerfile (ROOTFS must be a trixie rootfs: musl 1.2.5).

ARG ROOTFS=basebench/rootfs:trixie
ARG SOURCE_ROOTFS=${ROOTFS}

############################################################################
# source: identical to debian.Dockerfile's stage (same instructions, same
# context files), so BuildKit reuses the cached result across both files.
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
# musl-builder: Debian + musl toolchain; zlib, bzip2, xz, libffi, openssl,
# sqlite, ncurses, readline built with musl-gcc into /opt/musl; CPython built
# with the same compiler into /usr/local. Usable as an Alpine-like build stage:
# `pip install` of an sdist compiles C extensions with the musl compiler.
FROM ${ROOTFS} AS musl-builder
RUN --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=apt-sources.sh,target=/tmp/bb/apt-sources.sh \
	[ ! -f /run/secrets/basebench_proxy ] || . /run/secrets/basebench_proxy; \
	set -eux; \
	export DEBIAN_FRONTEND=noninteractive; \
	sh /tmp/bb/apt-sources.sh update; \
	apt-get install -y --no-install-recommends \
		musl musl-dev musl-tools gcc make dpkg-dev pkgconf file patch perl \
		autoconf automake libtool libltdl-dev linux-libc-dev tcl \
		xz-utils bzip2 ca-certificates tzdata busybox-static ncurses-base \
	; \
	rm -rf /var/lib/apt/lists/*
COPY x86_64-linux-musl-gcc /opt/musl/bin/x86_64-linux-musl-gcc
RUN set -eux; \
	mkdir -p /opt/musl/include /opt/musl/lib; \
# Kernel headers for musl-gcc (openssl, CPython need linux/*.h; musl-gcc's
# specs use -nostdinc, so the glibc include dir is not searched).
	for d in linux asm-generic mtd rdma sound video xen drm misc scsi; do \
		[ ! -d "/usr/include/$d" ] || ln -s "/usr/include/$d" "/opt/musl/include/$d"; \
	done; \
	ln -s "/usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/asm" /opt/musl/include/asm; \
# Let the musl loader find our libraries while building/testing here (the
# final image instead uses musl's default path /lib:/usr/local/lib:/usr/lib).
	printf '%s\n' /opt/musl/lib /usr/local/lib >> /etc/ld-musl-x86_64.path; \
	cat /etc/ld-musl-x86_64.path; \
	echo 'int main(void){return 0;}' > /tmp/t.c; /opt/musl/bin/x86_64-linux-musl-gcc -o /tmp/t /tmp/t.c; /tmp/t; rm /tmp/t /tmp/t.c
ENV CC=/opt/musl/bin/x86_64-linux-musl-gcc \
    PKG_CONFIG_LIBDIR=/opt/musl/lib/pkgconfig
# One RUN per library so a failure or a change only redoes that library.
RUN --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=build-musl-deps.sh,target=/tmp/bb/build-musl-deps.sh \
    --mount=type=bind,source=apt-sources.sh,target=/tmp/bb/apt-sources.sh \
	[ ! -f /run/secrets/basebench_proxy ] || . /run/secrets/basebench_proxy; \
	sh /tmp/bb/build-musl-deps.sh fetch
RUN --mount=type=bind,source=build-musl-deps.sh,target=/tmp/bb/build-musl-deps.sh \
	sh /tmp/bb/build-musl-deps.sh zlib bzip2 xz libffi
RUN --mount=type=bind,source=build-musl-deps.sh,target=/tmp/bb/build-musl-deps.sh \
	sh /tmp/bb/build-musl-deps.sh openssl
RUN --mount=type=bind,source=build-musl-deps.sh,target=/tmp/bb/build-musl-deps.sh \
	sh /tmp/bb/build-musl-deps.sh sqlite
RUN --mount=type=bind,source=build-musl-deps.sh,target=/tmp/bb/build-musl-deps.sh \
	sh /tmp/bb/build-musl-deps.sh ncurses readline
ENV PATH=/usr/local/bin:$PATH
ENV LANG=C.UTF-8
ARG PYTHON_VERSION
ENV PYTHON_VERSION=${PYTHON_VERSION}
ARG OPT_LEVEL=none
# official: Alpine-like flags; debian: the Debian images' flags (same-flags pair)
ARG FLAGS=official
RUN --mount=type=bind,from=source,source=/usr/src/python,target=/usr/src/python,rw \
    --mount=type=bind,source=build-python.sh,target=/tmp/bb/build-python.sh \
	OPT_LEVEL="$OPT_LEVEL" FLAGS="$FLAGS" sh /tmp/bb/build-python.sh musl; \
	PYTHONDONTWRITEBYTECODE=1 python3 -c 'import ssl, zlib, ctypes, sqlite3, lzma, bz2, readline, curses; print(ssl.OPENSSL_VERSION, sqlite3.sqlite_version)'

# Alpine's musl-dev ships empty libcrypt.a, libdl.a, libm.a... because musl keeps all of them
# in libc; Debian's does not, so `-lcrypt` (uWSGI, among others) fails to link. Empty
# archives, as on Alpine, make sdist builds link the same way they do there. /opt/musl/lib is
# where the compiler wrapper ($CC) looks; musl's own libc.a is in /usr/lib/x86_64-linux-musl.
RUN set -eux; \
	for l in crypt dl m pthread resolv rt util xnet; do \
		[ -e "/usr/lib/x86_64-linux-musl/lib$l.a" ] || ar rc "/opt/musl/lib/lib$l.a"; \
	done; \
	echo 'int main(void){return 0;}' > /tmp/t.c; \
	"$CC" -o /tmp/t /tmp/t.c -lcrypt -ldl -lm -lpthread -lrt -lutil; /tmp/t; rm /tmp/t /tmp/t.c

############################################################################
# musl-assemble: lay out the final tree in /out (Alpine-like paths).
FROM musl-builder AS musl-assemble
RUN --mount=type=bind,source=assemble-musl.sh,target=/tmp/bb/assemble-musl.sh \
	sh /tmp/bb/assemble-musl.sh /out

############################################################################
# musl: the final image, one layer on top of nothing.
FROM scratch AS musl
COPY --from=musl-assemble /out/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENV LANG=C.UTF-8
ARG PYTHON_VERSION
ENV PYTHON_VERSION=${PYTHON_VERSION}
# checks only: PYTHONDONTWRITEBYTECODE keeps __pycache__ out of this layer
RUN set -eux; \
	export PYTHONDONTWRITEBYTECODE=1; \
	python3 -c 'import ssl, zlib, ctypes, sqlite3, lzma, bz2; print(ssl.OPENSSL_VERSION)'; \
	pip --version; \
	python3 -m pip debug --verbose 2>/dev/null | grep -q musllinux_1_2_x86_64
CMD ["python3"]
