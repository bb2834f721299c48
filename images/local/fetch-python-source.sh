#!/bin/sh
# Stage `source`: fetch CPython's UPSTREAM tarball as Debian ships it (the
# .orig.tar.xz of a Debian source package), verify it, unpack it to /usr/src/python.
#
# Inputs (env): PYTHON_SRC_PACKAGE (python3.13), PYTHON_SRC_VERSION (3.13.5-2+deb13u5),
#               PYTHON_SRC_SUITE (trixie), PYTHON_ORIG_SHA256 (sha256 of the orig tarball)
# Debian's patched tree is deliberately NOT used: the official images build plain upstream.
set -eu
: "${PYTHON_SRC_PACKAGE:?build-arg PYTHON_SRC_PACKAGE is required (e.g. python3.13)}"
: "${PYTHON_SRC_VERSION:?build-arg PYTHON_SRC_VERSION is required (Debian version, e.g. 3.13.5-2)}"
: "${PYTHON_SRC_SUITE:?build-arg PYTHON_SRC_SUITE is required (e.g. trixie)}"
: "${PYTHON_ORIG_SHA256:?build-arg PYTHON_ORIG_SHA256 is required (sha256 of the .orig.tar.xz)}"
here="$(dirname "$0")"

upstream="${PYTHON_SRC_VERSION#*:}"     # drop epoch
upstream="${upstream%-*}"               # drop Debian revision

# deb-src line for the requested suite, on the same mirror the rootfs already uses, with the
# same apt configuration as source discovery (an expired unstable suite must not stop us here).
# PYTHON_SRC_SUITE=pool: a release no index lists any more, found in the mirror's pool, whose
# sha256 comes from its uploader's signed .dsc (src/basebench/local/pool.py): no deb-src line.
if [ "$PYTHON_SRC_SUITE" = pool ]; then
	sh "$here/apt-sources.sh" update
else
	sh "$here/apt-sources.sh" update "$PYTHON_SRC_SUITE"
fi
export DEBIAN_FRONTEND=noninteractive
# xz-utils: a minbase rootfs cannot unpack .tar.xz without it.
apt-get install -y --no-install-recommends xz-utils

mkdir -p /usr/src/debian-src
cd /usr/src/debian-src
if [ "$PYTHON_SRC_SUITE" = pool ]; then
	uri="$(sh "$here/apt-sources.sh" uri)"
	pkg="$PYTHON_SRC_PACKAGE"
	orig="${pkg}_${upstream}.orig.tar.xz"
	# apt-helper checks the hash while it downloads; the sha256 check below says it again.
	/usr/lib/apt/apt-helper download-file "$uri/pool/main/$(printf %s "$pkg" | cut -c1)/$pkg/$orig" \
		"$orig" "SHA256:$PYTHON_ORIG_SHA256"
else
	# --download-only --tar-only: no dpkg-source run, we only want the orig
	# tarball (a mirror may also lack the .dsc/.debian.tar of a listed revision).
	# apt itself checks the files against the suite's Sources index.
	apt-get source --download-only --tar-only "$PYTHON_SRC_PACKAGE=$PYTHON_SRC_VERSION"
fi
orig=''
for f in "${PYTHON_SRC_PACKAGE}_${upstream}".orig.tar.*; do
	case "$f" in *.asc) continue ;; esac
	[ -f "$f" ] && orig="$f"
done
if [ -z "$orig" ]; then
	echo >&2 "ERROR: no ${PYTHON_SRC_PACKAGE}_${upstream}.orig.tar.* downloaded:"; ls -l >&2; exit 1
fi
actual="$(sha256sum "$orig" | cut -d' ' -f1)"
if [ "$actual" != "$PYTHON_ORIG_SHA256" ]; then
	echo >&2 "ERROR: sha256 mismatch for $orig"
	echo >&2 "  expected (PYTHON_ORIG_SHA256): $PYTHON_ORIG_SHA256"
	echo >&2 "  actual:                        $actual"
	exit 1
fi
echo "OK: $orig sha256 $actual"

mkdir -p /usr/src/python
tar --extract --directory /usr/src/python --strip-components=1 --file "$orig"
# Provenance for build-python.sh (read back into build-info.json).
pyver="$(sed -n 's/^#define[[:space:]]*PY_VERSION[[:space:]]*"\(.*\)".*/\1/p' /usr/src/python/Include/patchlevel.h)"
cat > /usr/src/python/.basebench-source <<EOT
source_package=$PYTHON_SRC_PACKAGE
source_version=$PYTHON_SRC_VERSION
source_suite=$PYTHON_SRC_SUITE
orig_tarball=$orig
orig_sha256=$actual
python_version=$pyver
EOT
cat /usr/src/python/.basebench-source
rm -rf /usr/src/debian-src
# The suites' indexes (hundreds of MB for sid) are not needed once the tarball is here, and
# this stage is kept as an image by the source check (basebench images sources --check).
sh "$here/apt-sources.sh" drop-src
rm -rf /var/lib/apt/lists/*
