#!/bin/sh
# Print the Debian packages that own the shared libraries /usr/local's binaries
# and extension modules link against (the official slim images' ldd +
# dpkg-query --search trick), one per line. Suite-independent: bookworm gives
# libssl3, trixie libssl3t64, etc. tkinter is skipped, like the official images
# (it would pull in X11/Tk).
set -eu
find /usr/local -type f -executable -not \( -name '*tkinter*' \) -exec ldd '{}' ';' 2>/dev/null \
	| awk '/=>/ { so = $(NF-1); if (index(so, "/usr/local/") == 1) { next }; gsub("^/(usr/)?", "", so); printf "*%s\n", so }' \
	| sort -u \
	| xargs -r dpkg-query --search \
	| awk 'sub(":$", "", $1) { print $1 }' \
	| sort -u
