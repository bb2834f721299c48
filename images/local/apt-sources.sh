#!/bin/sh
# Print the mirror URI the rootfs's own apt configuration uses, so that other
# suites / deb-src lines can be derived from it without naming any mirror host.
# Handles both the one-line format (what debootstrap writes) and deb822 .sources.
set -eu
uri=''
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
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
	echo >&2 "apt-sources.sh: no 'deb' line / URIs: found in the rootfs's apt sources"
	exit 1
fi
echo "$uri"
