# Strategy "single-slim": one stage on the slim image. The compiler and headers are installed,
# used and purged in the SAME RUN, so no layer keeps them (apt: apt-mark + purge --auto-remove,
# keeping the libraries the new extensions link to; official Alpine: apk add --virtual
# .build-deps ... && apk del .build-deps). Images without a package manager (the local musl
# stand-in) cannot do this: basebench reports the strategy as not applicable there.
#
# Build args: BASE_IMAGE; BUILD_PACKAGES (apt, default "gcc libc6-dev"),
# BUILD_PACKAGES_APK (default "gcc musl-dev linux-headers").
ARG BASE_IMAGE

FROM ${BASE_IMAGE} AS download
RUN --mount=type=secret,id=basebench_ca \
    --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=bb,target=/tmp/bb \
    --mount=type=bind,source=requirements.lock,target=/tmp/req/requirements.lock \
    sh /tmp/bb/fetch.sh /wheels /tmp/req/requirements.lock

FROM ${BASE_IMAGE} AS app
ARG BUILD_PACKAGES="gcc libc6-dev"
ARG BUILD_PACKAGES_APK="gcc musl-dev linux-headers"
# Installing the compiler reaches the package mirror; the install itself is offline.
RUN --mount=type=secret,id=basebench_ca \
    --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,from=download,source=/wheels,target=/wheels \
    --mount=type=bind,source=bb,target=/tmp/bb \
    --mount=type=bind,source=requirements.lock,target=/tmp/req/requirements.lock \
    BUILD_PACKAGES="$BUILD_PACKAGES" BUILD_PACKAGES_APK="$BUILD_PACKAGES_APK" \
    sh /tmp/bb/build-deps.sh install \
    && sh /tmp/bb/install.sh offline /wheels /tmp/req/requirements.lock \
    && sh /tmp/bb/build-deps.sh purge \
    && sh /tmp/bb/runtime-libs.sh check
COPY app /opt/app
RUN --mount=type=bind,source=bb,target=/tmp/bb sh /tmp/bb/app-setup.sh
WORKDIR /opt/app
USER app
EXPOSE 8000
CMD ["uwsgi", "--ini", "/opt/app/deploy/uwsgi.ini"]
