#!/bin/sh
# Runtime libraries of compiled code, for a runner stage that gets site-packages copied in.
#   runtime-libs.sh list [--with-stdlib]  print "apt PKG" / "apk PKG" lines: the distribution packages
#                                  owning the shared libraries that the extensions in
#                                  site-packages and the programs in /usr/local/bin link to
#                                  (libraries under /usr/local and /opt, and those wheels
#                                  vendor, are skipped). The post installed libxml2/libpq5 by
#                                  hand; this finds them.
#   runtime-libs.sh install FILE   install the listed packages the runner lacks (apt or apk).
#   runtime-libs.sh check          fail if /usr/local/bin/uwsgi (when present) misses a library.
set -eu
# Files to scan: the installed packages (site-packages) and /usr/local/bin; with
# --with-stdlib also Python's own extension modules (single-slim keeps their libraries too).
targets() {
	PYTHON=$(command -v python3 || command -v python)
	"$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"]); print(sysconfig.get_paths()["platlib"])'
	echo /usr/local/bin
	if [ "${1:-}" = "--with-stdlib" ]; then
		"$PYTHON" -c 'import os, sysconfig; print(os.path.join(sysconfig.get_paths()["platstdlib"], "lib-dynload"))'
	fi
}
libs() {
	targets "$@" | sort -u | while read -r dir; do
		if [ -d "$dir" ]; then find "$dir" -type f \( -name "*.so*" -o -perm -u+x \) 2>/dev/null; fi
	done \
		| while read -r f; do ldd "$f" 2>/dev/null || true; done \
		| awk '/=>/ { so = $(NF-1); if (so ~ /^\/(usr\/local|opt)\// || so !~ /^\//) next; print so }' \
		| sort -u
}
case "$1" in
list)
	command -v ldd > /dev/null || exit 0
	if command -v dpkg-query > /dev/null; then
		libs "${2:-}" | awk '{ sub("^/(usr/)?", ""); print "*" $0 }' \
			| xargs -r dpkg-query --search 2> /dev/null | grep -v '^diversion ' \
			| cut -d: -f1 | sort -u | sed 's/^/apt /' || true
	elif command -v apk > /dev/null; then
		libs "${2:-}" | xargs -r apk info --who-owns 2> /dev/null | awk '{print "apk " $NF}' | sort -u || true
	fi
	;;
install)
	if command -v apt-get > /dev/null && command -v dpkg-query > /dev/null; then
		missing=""
		for p in $(awk '$1 == "apt" {print $2}' "$2"); do
			dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "ok installed" || missing="$missing $p"
		done
		if [ -n "$missing" ]; then
			echo "installing runtime packages:$missing"
			. /tmp/bb/env.sh
			sh /tmp/bb/apt-sources.sh update > /dev/null
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
			apt-get clean
			rm -rf /var/lib/apt/lists/*
		else
			echo "runtime packages: all present"
		fi
	elif command -v apk > /dev/null; then
		pkgs=$(awk '$1 == "apk" {print $2}' "$2" | tr '\n' ' ')
		[ -z "$pkgs" ] || apk add --no-cache $pkgs
	else
		echo "no package manager here: runtime libraries must already be in the image"
	fi
	;;
check)
	if [ -x /usr/local/bin/uwsgi ] && command -v ldd > /dev/null; then
		if ldd /usr/local/bin/uwsgi | grep "not found"; then
			echo "uwsgi misses the libraries above in this image" >&2
			exit 1
		fi
	fi
	;;
esac
