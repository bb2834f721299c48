# Workload image: a base image + pyperf + Django (pip) + allocators to LD_PRELOAD (apt/apk).
# Used by `basebench run --group runtime` for every base that has a package manager.
#
# Build context: images/ (this file reads workload/* and app/requirements.lock).
# Build arg: BASE_IMAGE, the base image (python:X-... or a local stand-in).
# Scripts are bind-mounted, never copied; the CA bundle and the proxies are BuildKit secrets.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=workload/allocators.sh,target=/tmp/bb/allocators.sh \
    --mount=type=bind,source=local/apt-sources.sh,target=/tmp/bb/apt-sources.sh \
	sh /tmp/bb/allocators.sh
RUN --mount=type=secret,id=basebench_ca \
    --mount=type=secret,id=basebench_proxy \
    --mount=type=bind,source=workload/pip-install.sh,target=/tmp/bb/pip-install.sh \
    --mount=type=bind,source=workload/requirements.txt,target=/tmp/bb/requirements.txt \
    --mount=type=bind,source=app/requirements.lock,target=/tmp/bb/app-requirements.lock \
	sh /tmp/bb/pip-install.sh
