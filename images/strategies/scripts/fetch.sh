#!/bin/sh
# The DOWNLOAD step of a strategy (its BuildKit step time is the build's download time).
#   fetch.sh DEST REQUIREMENTS   pip download the requirements and the build requirements of
#                                every sdist among them into DEST (a wheelhouse), so the install
#                                step can run with --no-index.
#   fetch.sh --cache REQUIREMENTS  pip download into a throw-away folder: only pip's HTTP cache
#                                (/root/.cache/pip) keeps the files (the pip-cache-copy pattern).
set -eu
. /tmp/bb/env.sh
if [ "$1" = "--cache" ]; then
	"$PYTHON" -m pip download --dest /tmp/bb-download -r "$2"
	rm -rf /tmp/bb-download
else
	"$PYTHON" /tmp/bb/fetch.py "$1" -r "$2"
fi
