# Strategy "single-full": one stage on the full image (compilers and -dev packages included),
# what you ship is what you built on. On musl: the musl-builder image (musl toolchain + CPython).
#
# Build context (basebench.measure._app_image makes it): requirements.lock, app/, bb/ (the
# scripts of images/strategies/scripts, bind-mounted into RUN steps, never copied into a layer).
# The download stage is separate so BuildKit's step times split download from install/compile;
# its wheelhouse is bind-mounted into the install step and leaves no layer behind.
ARG BASE_IMAGE
ARG BUILDER_IMAGE=${BASE_IMAGE}

FROM ${BUILDER_IMAGE} AS download
RUN --mount=type=secret,id=basebench_ca \
    --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=bb,target=/tmp/bb \
    --mount=type=bind,source=requirements.lock,target=/tmp/req/requirements.lock \
    sh /tmp/bb/fetch.sh /wheels /tmp/req/requirements.lock

FROM ${BUILDER_IMAGE} AS app
RUN --mount=type=bind,from=download,source=/wheels,target=/wheels \
    --mount=type=bind,source=bb,target=/tmp/bb \
    --mount=type=bind,source=requirements.lock,target=/tmp/req/requirements.lock \
    sh /tmp/bb/install.sh offline /wheels /tmp/req/requirements.lock
COPY app /opt/app
RUN --mount=type=bind,source=bb,target=/tmp/bb sh /tmp/bb/app-setup.sh
WORKDIR /opt/app
USER app
EXPOSE 8000
CMD ["uwsgi", "--ini", "/opt/app/deploy/uwsgi.ini"]
