#!/bin/sh
# pip install the workload requirements: requirements.txt (pyperf) + the app's lock without uWSGI
# (uWSGI compiles from source; the runtime workloads call Django through WSGI in-process).
# Behind an HTTPS-intercepting proxy the CA bundle comes as the BuildKit secret basebench_ca:
# used only when present, never copied into a layer.
set -eu
if [ -f /run/secrets/basebench_ca ]; then
	export PIP_CERT=/run/secrets/basebench_ca SSL_CERT_FILE=/run/secrets/basebench_ca
fi
# The proxy variables come the same way (Engine.build passes --secret id=basebench_proxy when the
# environment names any): in this step's environment only, never in a layer, a log or the history.
if [ -f /run/secrets/basebench_proxy ]; then
	. /run/secrets/basebench_proxy
fi
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
export PYTHONDONTWRITEBYTECODE=1
grep -iv '^uwsgi' /tmp/bb/app-requirements.lock > /tmp/bb-app-requirements.txt
python3 -m pip install -r /tmp/bb/requirements.txt -r /tmp/bb-app-requirements.txt
rm -f /tmp/bb-app-requirements.txt
# The official images delete every .pyc (and the local stand-ins do the same): each pyperf worker
# process would then compile the stdlib modules it imports again, seconds per process on a busy
# machine. Compile them once here; the timed loops are the same either way.
unset PYTHONDONTWRITEBYTECODE
python3 -m compileall -q -j0 "$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')" >/dev/null || true
python3 -m pip list --format=freeze > /usr/local/share/basebench/workload-packages.txt
cat /usr/local/share/basebench/workload-packages.txt
