#!/bin/sh
# Build CPython's C dependencies with musl-gcc into /opt/musl, from the
# upstream (orig) tarballs of Debian's source packages of the rootfs's suite.
#   build-musl-deps.sh fetch        download + verify all orig tarballs
#   build-musl-deps.sh <name>...    build one/more of: zlib bzip2 xz libffi openssl sqlite ncurses readline
# Shared libraries only where possible: the final image copies /opt/musl/lib/*.so*.
set -eu
P=/opt/musl
SRC=/usr/src/musl-deps
: "${CC:=$P/bin/x86_64-linux-musl-gcc}"
export CC
export PKG_CONFIG_LIBDIR="$P/lib/pkgconfig"   # never pick up glibc .pc files
# musl's multilib-free layout + optimisation close to Alpine's defaults
export CFLAGS="${CFLAGS:--O2 -fstack-clash-protection -Wformat -Werror=format-security}"
nproc="$(nproc)"

# Debian source package name for each dependency
srcpkg() {
	case "$1" in
		xz) echo xz-utils ;;
		sqlite) echo sqlite3 ;;
		*) echo "$1" ;;
	esac
}
ALL="zlib bzip2 xz libffi openssl sqlite ncurses readline"

fetch() {
	here="$(dirname "$0")"
	suite="$(. /etc/os-release && echo "$VERSION_CODENAME")"
	sh "$here/apt-sources.sh" update "$suite"
	mkdir -p "$SRC"; cd "$SRC"
	for d in $ALL; do
		pkg="$(srcpkg "$d")"
		# apt checks every downloaded file against the suite's Sources index.
		# --tar-only: we only need the orig tarball. Newest version first, but a
		# mirror may list a revision (e.g. a fresh security update) whose files
		# are not there yet (404): then fall back to the next listed version.
		ok=''
		for v in $(apt-cache showsrc "$pkg" | sed -n 's/^Version: //p' | sort -u -r -V); do
			if apt-get source --download-only --tar-only "$pkg=$v"; then
				ok="$v"; break
			fi
			echo >&2 "WARNING: $pkg=$v could not be downloaded, trying an older version"
			rm -f "${pkg}"_*
		done
		[ -n "$ok" ] || { echo >&2 "ERROR: no version of source package $pkg could be downloaded"; exit 1; }
		echo "$pkg $ok" >> versions.txt
	done
	cat versions.txt
	sh "$here/apt-sources.sh" drop-src
	rm -rf /var/lib/apt/lists/*
	ls -l
}

# unpack <name>: unpack the UPSTREAM orig tarball (not Debian's patched tree)
# into $SRC/<name> and cd there.
unpack() {
	pkg="$(srcpkg "$1")"
	orig=''
	for f in "$SRC/${pkg}"_*.orig.tar.*; do
		case "$f" in *.asc) continue ;; esac
		orig="$f"
	done
	[ -n "$orig" ] || { echo >&2 "no orig tarball for $pkg"; exit 1; }
	rm -rf "$SRC/$1"; mkdir -p "$SRC/$1"
	tar -xf "$orig" -C "$SRC/$1" --strip-components=1
	cd "$SRC/$1"
	echo "== building $1 from $(basename "$orig")"
}

build() {
	unpack "$1"
	case "$1" in
	zlib)
		./configure --prefix="$P"
		make -j "$nproc"
		make install
		rm -f "$P/lib/libz.a"
		;;
	bzip2)
		# no configure: the shared library has its own Makefile
		make -f Makefile-libbz2_so -j "$nproc" CC="$CC" CFLAGS="$CFLAGS -fPIC -D_FILE_OFFSET_BITS=64"
		install -D -m 644 bzlib.h "$P/include/bzlib.h"
		cp -a libbz2.so.1.0.* "$P/lib/"
		ln -sf "$(ls libbz2.so.1.0.* | head -n1)" "$P/lib/libbz2.so.1.0"
		ln -sf libbz2.so.1.0 "$P/lib/libbz2.so.1"
		ln -sf libbz2.so.1.0 "$P/lib/libbz2.so"
		;;
	xz)
		# only liblzma is needed
		./configure --prefix="$P" --disable-static --disable-doc --disable-nls \
			--disable-xz --disable-xzdec --disable-lzmadec --disable-lzmainfo \
			--disable-lzma-links --disable-scripts
		make -j "$nproc"
		make install
		;;
	libffi)
		# the orig tarball is a git snapshot without configure (libltdl-dev for autoreconf)
		[ -x configure ] || autoreconf -fi
		# --disable-builddir: libffi's AX_ENABLE_BUILDDIR otherwise builds in a
		# $host subdir whose wrapper Makefile fails ("No rule ... all-configured")
		./configure --prefix="$P" --disable-static --disable-docs --disable-multi-os-directory \
			--disable-builddir
		make -j "$nproc"
		make install
		;;
	openssl)
		# openssldir=/etc/ssl like Alpine: cert.pem / certs/ there.
		# Needs the kernel headers linked into $P/include.
		./Configure linux-x86_64 --prefix="$P" --libdir=lib --openssldir=/etc/ssl \
			shared no-tests no-docs no-apps no-module
		make -j "$nproc" build_libs
		make install_dev
		rm -f "$P"/lib/libssl.a "$P"/lib/libcrypto.a
		;;
	sqlite)
		# Debian's orig is the full source tree: generating the amalgamation needs
		# tclsh (the glibc tcl package is fine, it only runs at build time).
		CFLAGS="$CFLAGS -DSQLITE_ENABLE_COLUMN_METADATA=1 -DSQLITE_ENABLE_UNLOCK_NOTIFY -DSQLITE_SECURE_DELETE -DSQLITE_ENABLE_DBSTAT_VTAB -DSQLITE_USE_URI=1" \
		./configure --prefix="$P" --disable-static --disable-tcl --disable-readline \
			--enable-threadsafe --enable-fts3 --enable-fts4 --enable-fts5 --enable-rtree \
			--enable-math --enable-json
		make -j "$nproc" libsqlite3.la
		make install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA \
			|| make install
		;;
	ncurses)
		# wide-char ncurses (what CPython's _curses and readline want); terminfo
		# is looked up in /etc/terminfo then /usr/share/terminfo, like Alpine. No
		# database install: the final image copies a few entries from Debian.
		./configure --prefix="$P" --with-shared --without-normal --without-debug \
			--without-ada --without-cxx --without-cxx-binding --without-tests \
			--without-manpages --without-progs --enable-widec --enable-pc-files \
			--with-pkg-config-libdir="$P/lib/pkgconfig" --disable-stripping --disable-db-install \
			--with-terminfo-dirs=/etc/terminfo:/usr/share/terminfo \
			--with-default-terminfo-dir=/usr/share/terminfo
		make -j "$nproc"
		make install
		;;
	readline)
		./configure --prefix="$P" --disable-static --with-curses --disable-install-examples
		make -j "$nproc" SHLIB_LIBS=-lncursesw
		make install
		;;
	*) echo >&2 "unknown dependency $1"; exit 1 ;;
	esac
	cd /; rm -rf "$SRC/$1"
}

case "${1:-}" in
	fetch) fetch ;;
	'') echo >&2 "usage: $0 fetch | <name>..."; exit 1 ;;
	*) for d in "$@"; do build "$d"; done ;;
esac
