# Sourced by every step of the strategies that runs pip (images/strategies/*.Dockerfile).
#
# The CA bundle of an intercepting proxy arrives as a BuildKit secret (Engine.build passes
# --secret id=basebench_ca when one is configured): it is visible to one RUN step only and never
# lands in a layer. Point pip at it only when the build was given one.
if [ -f /run/secrets/basebench_ca ]; then
	PIP_CERT=/run/secrets/basebench_ca
	SSL_CERT_FILE=/run/secrets/basebench_ca
	REQUESTS_CA_BUNDLE=/run/secrets/basebench_ca
	export PIP_CERT SSL_CERT_FILE REQUESTS_CA_BUNDLE
fi
# The proxy variables come the same way (Engine.build passes --secret id=basebench_proxy when the
# environment names any): in this step's environment only, never in a layer, a log or the history.
if [ -f /run/secrets/basebench_proxy ]; then
	. /run/secrets/basebench_proxy
fi
PIP_DISABLE_PIP_VERSION_CHECK=1
PIP_ROOT_USER_ACTION=ignore
PIP_NO_WARN_SCRIPT_LOCATION=1
PIP_PROGRESS_BAR=off
export PIP_DISABLE_PIP_VERSION_CHECK PIP_ROOT_USER_ACTION PIP_NO_WARN_SCRIPT_LOCATION PIP_PROGRESS_BAR
PYTHON=$(command -v python3 || command -v python)
