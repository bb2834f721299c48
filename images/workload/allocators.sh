#!/bin/sh
# Install the allocators that can be LD_PRELOADed into Python, where the image can get them,
# and list them in /usr/local/share/basebench/preload-allocators.tsv:
#     name <TAB> path of the shared library (empty: not available) <TAB> where from / why not
# Debian-based images: apt packages libjemalloc2 and libmimalloc<N> (the name changes per suite:
# libmimalloc2.0 in bookworm, libmimalloc3 in trixie, so it is looked up). Alpine images (apk):
# jemalloc and mimalloc2. Images without a package manager (the local musl stand-in) keep what
# the Dockerfile copied into /usr/local/lib (see workload-musl.Dockerfile).
set -eu
OUT=/usr/local/share/basebench/preload-allocators.tsv
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
note_jemalloc='' note_mimalloc=''
tab="$(printf '\t')"

# The proxy variables come the same way (Engine.build passes --secret id=basebench_proxy when the
# environment names any): in this step's environment only, never in a layer, a log or the history.
if [ -f /run/secrets/basebench_proxy ]; then
	. /run/secrets/basebench_proxy
fi
if command -v apt-get >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	sh /tmp/bb/apt-sources.sh update
	mim="$(apt-cache search --names-only '^libmimalloc[0-9][0-9.]*$' | cut -d' ' -f1 | sort -V | tail -n1)"
	pkgs="libjemalloc2 $mim"
	apt-get install -y --no-install-recommends $pkgs
	apt-get clean
	rm -rf /var/lib/apt/lists/*
	note_jemalloc="apt libjemalloc2 $(dpkg-query -W -f='${Version}' libjemalloc2)"
	if [ -n "$mim" ]; then
		note_mimalloc="apt $mim $(dpkg-query -W -f='${Version}' "$mim")"
	else
		note_mimalloc="no libmimalloc package in this suite"
	fi
elif command -v apk >/dev/null 2>&1; then
	if apk add --no-cache jemalloc; then note_jemalloc="apk jemalloc"; else note_jemalloc="apk add jemalloc failed"; fi
	if apk add --no-cache mimalloc2; then note_mimalloc="apk mimalloc2"; else note_mimalloc="apk add mimalloc2 failed"; fi
else
	note_jemalloc="${JEMALLOC_NOTE:-no package manager}"
	note_mimalloc="${MIMALLOC_NOTE:-no package manager}"
fi

find_lib() {
	for d in /usr/local/lib /usr/lib /lib /usr/lib/*-linux-gnu /lib/*-linux-gnu; do
		for f in "$d"/$1; do
			[ -f "$f" ] && { echo "$f"; return 0; }
		done
	done
	return 0
}
jem="$(find_lib 'libjemalloc.so.2')"
mi="$(find_lib 'libmimalloc.so.[0-9]*')"
printf '%s\t%s\t%s\n' jemalloc "$jem" "$note_jemalloc" >> "$OUT"
printf '%s\t%s\t%s\n' mimalloc "$mi" "$note_mimalloc" >> "$OUT"
cat "$OUT"
