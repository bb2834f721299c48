# Strategy "pip-cache-copy", the pattern the 2020 post warns against: install on the builder,
# COPY --from=builder /root/.cache into the runner and pip install again there. The runner
# needs no compiler (uWSGI's wheel comes from pip's wheel cache), but the cache stays in a layer
# of the shipped image: the size group shows how many bytes that costs.
#
# Build args: BASE_IMAGE (the runner), BUILDER_IMAGE (same Python).
ARG BASE_IMAGE
ARG BUILDER_IMAGE=${BASE_IMAGE}

# The download fills pip's HTTP cache (/root/.cache/pip/http*).
FROM ${BUILDER_IMAGE} AS download
RUN --mount=type=secret,id=basebench_ca \
    --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=bb,target=/tmp/bb \
    --mount=type=bind,source=requirements.lock,target=/tmp/req/requirements.lock \
    sh /tmp/bb/fetch.sh --cache /tmp/req/requirements.lock

# The install builds uWSGI's wheel and leaves it in pip's wheel cache (/root/.cache/pip/wheels).
FROM download AS builder
# A requirements file of wheels only may leave no pip cache at all; the pattern copies whatever
# there is, so the folder must exist (mkdir -p).
RUN --mount=type=secret,id=basebench_ca \
    --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=bb,target=/tmp/bb \
    --mount=type=bind,source=requirements.lock,target=/tmp/req/requirements.lock \
    COLLECT=/out sh /tmp/bb/install.sh online /tmp/req/requirements.lock \
    && mkdir -p /root/.cache

FROM ${BASE_IMAGE} AS runner
COPY --from=builder /root/.cache /root/.cache
RUN --mount=type=secret,id=basebench_ca \
    --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,from=builder,source=/out,target=/tmp/out \
    --mount=type=bind,source=bb,target=/tmp/bb \
    sh /tmp/bb/runtime-libs.sh install /tmp/out/runtime-packages.txt
# pip asks the index again, then takes the files and the built wheel from the copied cache.
RUN --mount=type=secret,id=basebench_ca \
    --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=bb,target=/tmp/bb \
    --mount=type=bind,source=requirements.lock,target=/tmp/req/requirements.lock \
    sh /tmp/bb/install.sh online /tmp/req/requirements.lock \
    && sh /tmp/bb/runtime-libs.sh check
COPY app /opt/app
RUN --mount=type=bind,source=bb,target=/tmp/bb sh /tmp/bb/app-setup.sh
WORKDIR /opt/app
USER app
EXPOSE 8000
CMD ["uwsgi", "--ini", "/opt/app/deploy/uwsgi.ini"]
