# Strategy "multistage", the 2020 post's: build on the full image, run on the slim one.
# site-packages and the console scripts the install added (uwsgi, django-admin...) are copied
# across; the runtime libraries they link to (the post installed libxml2 and libpq5 by hand)
# are found with ldd in the builder and installed in the runner. On musl: musl-builder ->
# musl stand-in (or python:X-alpine with its build deps for the official image).
#
# Build args: BASE_IMAGE (the runner), BUILDER_IMAGE (same Python), PYTHON_VERSION (e.g. 3.13).
ARG BASE_IMAGE
ARG BUILDER_IMAGE=${BASE_IMAGE}

FROM ${BUILDER_IMAGE} AS download
RUN --mount=type=secret,id=basebench_ca \
    --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=bb,target=/tmp/bb \
    --mount=type=bind,source=requirements.lock,target=/tmp/req/requirements.lock \
    sh /tmp/bb/fetch.sh /wheels /tmp/req/requirements.lock

FROM ${BUILDER_IMAGE} AS builder
RUN --mount=type=bind,from=download,source=/wheels,target=/wheels \
    --mount=type=bind,source=bb,target=/tmp/bb \
    --mount=type=bind,source=requirements.lock,target=/tmp/req/requirements.lock \
    COLLECT=/out sh /tmp/bb/install.sh offline /wheels /tmp/req/requirements.lock

FROM ${BASE_IMAGE} AS runner
ARG PYTHON_VERSION
COPY --from=builder /usr/local/lib/python${PYTHON_VERSION}/site-packages/ /usr/local/lib/python${PYTHON_VERSION}/site-packages/
COPY --from=builder /out/bin/ /usr/local/bin/
RUN --mount=type=secret,id=basebench_ca \
    --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,from=builder,source=/out,target=/tmp/out \
    --mount=type=bind,source=bb,target=/tmp/bb \
    sh /tmp/bb/runtime-libs.sh install /tmp/out/runtime-packages.txt \
    && sh /tmp/bb/runtime-libs.sh check
COPY app /opt/app
RUN --mount=type=bind,source=bb,target=/tmp/bb sh /tmp/bb/app-setup.sh
WORKDIR /opt/app
USER app
EXPOSE 8000
CMD ["uwsgi", "--ini", "/opt/app/deploy/uwsgi.ini"]
