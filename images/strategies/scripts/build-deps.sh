#!/bin/sh
# single-slim: a compiler and headers go in and out again WITHIN ONE RUN, so no layer keeps them.
#   build-deps.sh install   apt: BUILD_PACKAGES (default gcc libc6-dev);
#                           apk: BUILD_PACKAGES_APK in a virtual package .build-deps
#                           (default gcc musl-dev linux-headers)
#   build-deps.sh purge     keep the packages owning the libraries the new extensions link
#                           to (like the official images' Dockerfiles do), remove the rest,
#                           clean the package lists.
# Exit status 3: no package manager (the local musl stand-in): the strategy does not apply.
set -eu
case "$1" in
install)
	. /tmp/bb/env.sh # the CA bundle and the proxies, for apt and apk alike
	if command -v apt-get > /dev/null; then
		apt-mark showmanual > /tmp/bb-apt-manual
		sh /tmp/bb/apt-sources.sh update > /dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			${BUILD_PACKAGES:-gcc libc6-dev}
	elif command -v apk > /dev/null; then
		apk add --no-cache --virtual .build-deps ${BUILD_PACKAGES_APK:-gcc musl-dev linux-headers}
	else
		echo "no package manager in this image: cannot install a compiler" >&2
		exit 3
	fi
	;;
purge)
	if command -v apt-get > /dev/null; then
		apt-mark auto '.*' > /dev/null
		xargs -r apt-mark manual < /tmp/bb-apt-manual > /dev/null
		sh /tmp/bb/runtime-libs.sh list --with-stdlib | awk '{print $2}' | xargs -r apt-mark manual > /dev/null
		DEBIAN_FRONTEND=noninteractive apt-get purge -y --auto-remove \
			-o APT::AutoRemove::RecommendsImportant=false
		apt-get clean
		rm -rf /var/lib/apt/lists/* /tmp/bb-apt-manual
	elif command -v apk > /dev/null; then
		runtime=$(sh /tmp/bb/runtime-libs.sh list --with-stdlib | awk '{print $2}' | tr '\n' ' ')
		[ -z "$runtime" ] || apk add --no-cache --virtual .rundeps $runtime
		apk del --no-network .build-deps
	fi
	;;
esac
