#!/bin/sh
# The INSTALL step of a strategy: everything pip does after the download (wheel unpacking,
# compiling sdists such as uWSGI). Its BuildKit step time is the build's install time.
#   install.sh offline WHEELS REQUIREMENTS   pip install --no-index --find-links WHEELS
#   install.sh online REQUIREMENTS           pip install from the index (pip-cache-copy: the
#                                            files come from the copied cache)
# With COLLECT=DIR set, console scripts the install added to /usr/local/bin are copied to
# DIR/bin and the runtime libraries they and the installed extensions need are listed in
# DIR/runtime-packages.txt (for a runner stage, see runtime-libs.sh).
set -eu
. /tmp/bb/env.sh
if [ -n "${COLLECT:-}" ]; then
	mkdir -p "$COLLECT/bin"
	ls /usr/local/bin > /tmp/bb-bin-before
fi
case "$1" in
offline) "$PYTHON" -m pip install --no-index --find-links "$2" -r "$3" ;;
online) "$PYTHON" -m pip install -r "$2" ;;
*) echo "install.sh: offline|online" >&2; exit 2 ;;
esac
if [ -n "${COLLECT:-}" ]; then
	for f in $(ls /usr/local/bin); do
		grep -qx "$f" /tmp/bb-bin-before || cp -a "/usr/local/bin/$f" "$COLLECT/bin/"
	done
	rm -f /tmp/bb-bin-before
	sh /tmp/bb/runtime-libs.sh list > "$COLLECT/runtime-packages.txt"
	echo "console scripts copied: $(ls "$COLLECT/bin" | tr '\n' ' ')"
	echo "runtime packages needed: $(tr '\n' ' ' < "$COLLECT/runtime-packages.txt")"
fi
