# Workload image for the local musl stand-in, which has no package manager: jemalloc is built
# from Debian's source package with the musl compiler of the musl-builder stand-in and copied
# in. mimalloc's source is not in Debian's pool, so no LD_PRELOAD mimalloc here (CPython 3.13+
# brings its own: PYTHONMALLOC=mimalloc).
#
# Build context: images/. Build args: BASE_IMAGE (the musl stand-in), BUILDER_IMAGE (its
# musl-builder target: Debian + musl-gcc as $CC).
ARG BASE_IMAGE
ARG BUILDER_IMAGE

FROM ${BUILDER_IMAGE} AS jemalloc
RUN --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=local/apt-sources.sh,target=/tmp/bb/apt-sources.sh \
	set -eux; \
	[ ! -f /run/secrets/basebench_proxy ] || . /run/secrets/basebench_proxy; \
	sh /tmp/bb/apt-sources.sh update "$(. /etc/os-release && echo "$VERSION_CODENAME")"; \
	mkdir -p /usr/src/jemalloc; cd /usr/src/jemalloc; \
# Only the upstream (orig) tarball, checked by apt against the Sources index. Newest version
# first; a mirror may list a revision whose files are not there (404): then the next one.
	ok=''; \
	for v in $(apt-cache showsrc jemalloc | sed -n 's/^Version: //p' | sort -rV | uniq); do \
		if apt-get source --tar-only "jemalloc=$v"; then ok="$v"; break; fi; \
	done; \
	[ -n "$ok" ] || { echo >&2 "no jemalloc source could be downloaded"; exit 1; }; \
	echo "$ok" > /usr/src/jemalloc/debian-version; \
	tar xf jemalloc_*.orig.tar.*; \
	cd "$(find . -maxdepth 1 -type d -name 'jemalloc-*' | head -n1)"; \
	./configure CC="$CC" CFLAGS="-O2" --prefix=/opt/jemalloc --disable-cxx --disable-static \
		--disable-doc >/tmp/jemalloc-configure.log 2>&1 || { tail -n 60 config.log; exit 1; }; \
	make -j"$(nproc)" build_lib_shared; \
	make install_lib_shared; \
	cp /usr/src/jemalloc/debian-version /opt/jemalloc/debian-version; \
	ls -l /opt/jemalloc/lib

FROM ${BASE_IMAGE}
COPY --from=jemalloc /opt/jemalloc/lib/libjemalloc.so.2 /usr/local/lib/libjemalloc.so.2
COPY --from=jemalloc /opt/jemalloc/debian-version /usr/local/share/basebench/jemalloc-debian-version
RUN --mount=type=bind,source=workload/allocators.sh,target=/tmp/bb/allocators.sh \
	JEMALLOC_NOTE="built with musl-gcc from Debian source jemalloc $(cat /usr/local/share/basebench/jemalloc-debian-version)" \
	MIMALLOC_NOTE="no mimalloc source in Debian's pool to build for musl" \
	sh /tmp/bb/allocators.sh
RUN --mount=type=secret,id=basebench_ca \
    --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=workload/pip-install.sh,target=/tmp/bb/pip-install.sh \
    --mount=type=bind,source=workload/requirements.txt,target=/tmp/bb/requirements.txt \
    --mount=type=bind,source=app/requirements.lock,target=/tmp/bb/app-requirements.lock \
	sh /tmp/bb/pip-install.sh
