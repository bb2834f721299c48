#!/bin/sh
# The ONE apt sources configuration of every image recipe and of source discovery on the host
# (src/basebench/local/sources.py), so that an expired suite cannot break one step and not another.
#
#   apt-sources.sh uri                  print the mirror URI the image's own apt configuration
#                                       uses (one-line or deb822 format), so deb-src lines are
#                                       derived from it without naming any mirror host
#   apt-sources.sh update [SUITE...]    apt-get update, with a deb-src line for each SUITE on that
#                                       mirror (in /etc/apt/sources.list.d/basebench-src.list)
#   apt-sources.sh drop-src             remove that deb-src list again
#
# Signatures are always checked; only the Release files' Valid-Until date is not, because a
# mirror that is a frozen snapshot serves unstable suites (forky, sid) and security suites whose
# Release files have expired. apt checks that date at `update` only, so this is the one place.
set -eu
SRC_LIST=/etc/apt/sources.list.d/basebench-src.list

mirror_uri() {
	uri=''
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		[ "$f" != "$SRC_LIST" ] || continue
		# "deb [opts] URI SUITE COMPONENTS..." -> URI
		uri="$(sed -n -e 's/^[[:space:]]*deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]\{1,\}\).*/\2/p' "$f" | head -n1)"
		[ -z "$uri" ] || break
	done
	if [ -z "$uri" ]; then
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			uri="$(sed -n -e 's/^URIs:[[:space:]]*\([^[:space:]]\{1,\}\).*/\1/p' "$f" | head -n1)"
			[ -z "$uri" ] || break
		done
	fi
	if [ -z "$uri" ]; then
		echo >&2 "apt-sources.sh: no 'deb' line / URIs: found in the image's apt sources"
		exit 1
	fi
	echo "$uri"
}

case "${1:-}" in
uri)
	mirror_uri
	;;
update)
	shift
	if [ "$#" -gt 0 ]; then
		uri="$(mirror_uri)"
		: > "$SRC_LIST"
		for suite in "$@"; do
			echo "deb-src $uri $suite main" >> "$SRC_LIST"
		done
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -q -o Acquire::Check-Valid-Until=false
	;;
drop-src)
	rm -f "$SRC_LIST"
	;;
*)
	echo >&2 "usage: apt-sources.sh uri | update [SUITE...] | drop-src"
	exit 2
	;;
esac
