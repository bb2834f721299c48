#!/bin/sh
# Configure, build and install CPython from /usr/src/python into /usr/local,
# the way docker-library/python's Dockerfile-linux.template does it.
#
# Usage: build-python.sh full|slim|musl
#   full  glibc, unstripped, gdb auto-load helper (python:X / buildpack-deps based)
#   slim  glibc, LDFLAGS -Wl,--strip-all          (python:X-slim)
#   musl  musl-gcc wrapper, --strip-all, 1 MiB thread stacks (python:X-alpine)
# Env: OPT_LEVEL = none | lto | pgo | pgo-lto   (default none)
#      FLAGS = official (each image's own official flags, default) | debian (musl
#              only: the Debian images' dpkg-buildflags, for a same-flags pair)
#      PYTHON_VERSION = expected upstream version (must match the tarball)
#      CC (musl only) = compiler wrapper; its name must contain "gcc" (see below)
# Writes /usr/local/share/basebench/build-info.json with the exact flags used.
set -eu
flavour="${1:?usage: build-python.sh full|slim|musl}"
OPT_LEVEL="${OPT_LEVEL:-none}"
src=/usr/src/python
. "$src/.basebench-source"   # source_package, source_version, ..., python_version

if [ -z "${PYTHON_VERSION:-}" ]; then
	echo >&2 "ERROR: build-arg PYTHON_VERSION is required (the tarball is $python_version)"; exit 1
fi
if [ "$PYTHON_VERSION" != "$python_version" ]; then
	echo >&2 "ERROR: PYTHON_VERSION=$PYTHON_VERSION but the source tarball is $python_version"; exit 1
fi

# --enable-optimizations = PGO (runs the test-suite as a training run), --with-lto = LTO.
case "$OPT_LEVEL" in
	none)    opt_args='' ;;
	lto)     opt_args='--with-lto' ;;
	pgo)     opt_args='--enable-optimizations' ;;
	pgo-lto) opt_args='--enable-optimizations --with-lto' ;;
	*) echo >&2 "ERROR: OPT_LEVEL must be none|lto|pgo|pgo-lto, not '$OPT_LEVEL'"; exit 1 ;;
esac

arch="$(dpkg --print-architecture)"; arch="${arch##*-}"
case "$flavour" in
	full|slim)
		gnuArch="$(dpkg-architecture --query DEB_BUILD_GNU_TYPE)"
		# Debian's hardening/optimisation flags, as the official Debian-based images.
		EXTRA_CFLAGS="$(dpkg-buildflags --get CFLAGS)"
		LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
		;;
	musl)
		: "${CC:?CC must name the musl compiler wrapper}"
		# Native musl build (the binaries run here through the musl loader), so
		# build=host=*-linux-musl: no cross-compiling, configure can run its tests.
		gnuArch="$(dpkg-architecture --query DEB_BUILD_GNU_CPU)-linux-musl"
		# musl's default thread stack is 128k: Alpine's python raises it to 1 MiB
		# so deep recursion hits RecursionError before a segfault.
		EXTRA_CFLAGS="-DTHREAD_STACK_SIZE=0x100000"
		LDFLAGS=''
		if [ "${FLAGS:-official}" = debian ]; then
			# The libc-controlled twin of the Debian images: the very flags
			# dpkg-buildflags gives them, so glibc vs musl is the only difference.
			EXTRA_CFLAGS="$(dpkg-buildflags --get CFLAGS) $EXTRA_CFLAGS"
			LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
		fi
		;;
	*) echo >&2 "unknown flavour $flavour"; exit 1 ;;
esac
case "$flavour" in
	slim|musl) LDFLAGS="${LDFLAGS:+$LDFLAGS }-Wl,--strip-all" ;;
esac
# Frame pointers (perf profiler support, 3.12+), as the official images.
case "$python_version" in 3.[0-9].*|3.1[01].*) ;; *)
	case "$arch" in
		amd64|arm64) EXTRA_CFLAGS="$EXTRA_CFLAGS -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer" ;;
		i386) ;;
		*) EXTRA_CFLAGS="$EXTRA_CFLAGS -fno-omit-frame-pointer" ;;
	esac ;;
esac

configure_args="--build=$gnuArch --enable-loadable-sqlite-extensions $opt_args --enable-option-checking=fatal --enable-shared --with-ensurepip"
configure_args="$(echo $configure_args)"   # squeeze blanks

if [ "$flavour" = musl ]; then
	# CPython <= 3.11 builds its extensions with setup.py, which asks
	# dpkg-architecture for the multiarch triplet and adds /usr/include/<it>:
	# glibc's headers ahead of musl's (3.9's unicodedata then compiled for over
	# 17 min without ending). dpkg-architecture answers with this variable when
	# it is set: musl's own directories. Set after dpkg-buildflags has run.
	export DEB_HOST_MULTIARCH="$gnuArch"
fi

cd "$src"
echo "== configure"
echo "+ ./configure $configure_args"
# shellcheck disable=SC2086
./configure $configure_args
nproc="$(nproc)"
echo "== make"
make -j "$nproc" "EXTRA_CFLAGS=$EXTRA_CFLAGS" "LDFLAGS=$LDFLAGS"
# Relink the interpreter with an $ORIGIN rpath so it can never pick up a
# system libpython of the same version (docker-library/python#784).
rm python
make -j "$nproc" "EXTRA_CFLAGS=$EXTRA_CFLAGS" "LDFLAGS=$LDFLAGS -Wl,-rpath='\$\$ORIGIN/../lib'" python
echo "== install"
make install

if [ "$flavour" = full ]; then
	# let gdb load CPython's helpers (official full images do this)
	bin="$(readlink -ve /usr/local/bin/python3)"
	dir="$(dirname "$bin")"
	mkdir -p "/usr/share/gdb/auto-load/$dir"
	cp -vL Tools/gdb/libpython.py "/usr/share/gdb/auto-load/$bin-gdb.py"
fi

cd /
# Same trimming as the official images: test suites, bytecode, static libpython.
find /usr/local -depth \
	\( \
		\( -type d -a \( -name test -o -name tests -o -name idle_test \) \) \
		-o \( -type f -a \( -name '*.pyc' -o -name '*.pyo' -o -name 'libpython*.a' \) \) \
	\) -exec rm -rf '{}' +
[ "$flavour" = musl ] || ldconfig

# "python", "pip", ... symlinks expected by users of the official images.
for s in idle3 pip3 pydoc3 python3 python3-config; do
	d="$(echo "$s" | tr -d 3)"
	[ -s "/usr/local/bin/$s" ]
	[ ! -e "/usr/local/bin/$d" ]
	ln -svT "$s" "/usr/local/bin/$d"
done

# Provenance, read back by the orchestration into image labels.
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }
cc_version="$(${CC:-gcc} --version 2>/dev/null | head -n1 || true)"
case "$flavour" in
	musl) libc="musl $(dpkg-query -W -f '${Version}' musl 2>/dev/null || echo unknown)" ;;
	*)    libc="glibc $(dpkg-query -W -f '${Version}' libc6 2>/dev/null || echo unknown)" ;;
esac
os_release="$(. /etc/os-release && echo "${PRETTY_NAME:-unknown}")"
mkdir -p /usr/local/share/basebench
{
	echo '{'
	echo "  \"flavour\": $(json_str "$flavour"),"
	echo "  \"python_version\": $(json_str "$python_version"),"
	echo "  \"source_package\": $(json_str "$source_package"),"
	echo "  \"source_version\": $(json_str "$source_version"),"
	echo "  \"source_suite\": $(json_str "$source_suite"),"
	echo "  \"orig_tarball\": $(json_str "$orig_tarball"),"
	echo "  \"orig_sha256\": $(json_str "$orig_sha256"),"
	echo "  \"opt_level\": $(json_str "$OPT_LEVEL"),"
	echo "  \"flags\": $(json_str "${FLAGS:-official}"),"
	echo "  \"configure_args\": $(json_str "$configure_args"),"
	echo "  \"cc\": $(json_str "${CC:-gcc}"),"
	echo "  \"cc_version\": $(json_str "$cc_version"),"
	echo "  \"extra_cflags\": $(json_str "$EXTRA_CFLAGS"),"
	echo "  \"ldflags\": $(json_str "$LDFLAGS"),"
	echo "  \"libc\": $(json_str "$libc"),"
	echo "  \"build_os\": $(json_str "$os_release")"
	echo '}'
} > /usr/local/share/basebench/build-info.json
cat /usr/local/share/basebench/build-info.json

export PYTHONDONTWRITEBYTECODE=1
python3 --version
pip3 --version
