"""How builds and containers reach the network: CA bundle, proxy variables, network mode.

Corporate networks (and these development machines) intercept HTTPS with their own CA. pip inside
a build or a container must trust that CA, yet the bundle must never land in an image layer or in
``docker history``: builds get it as a BuildKit secret, containers as a read-only bind mount.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from basebench.errors import ConfigError

# Where the bundle appears inside builds (BuildKit secret) and containers (read-only mount).
CA_SECRET_ID = "basebench_ca"
CA_CONTAINER_PATH = "/run/secrets/basebench_ca"
CA_ENV_VARS = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
PROXY_ENV_VARS = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
)


@dataclass(frozen=True)
class CABundle:
    path: Path
    origin: str  # "--ca-bundle", or the environment variable it came from

    def describe(self) -> str:
        return f"{self.path} (from {self.origin})"


@dataclass(frozen=True)
class NetworkSettings:
    mode: str = "host"
    ca_bundle: CABundle | None = None
    proxies: dict[str, str] = field(default_factory=dict)

    def container_environment(self) -> dict[str, str]:
        """Environment for a container: proxies, plus the CA variables pointing at the mount."""
        env = dict(self.proxies)
        if self.ca_bundle is not None:
            env.update({name: CA_CONTAINER_PATH for name in CA_ENV_VARS})
        return env

    def container_mounts(self) -> dict[str, dict[str, str]]:
        """docker-py ``volumes=`` mapping that shows the bundle read-only inside containers."""
        if self.ca_bundle is None:
            return {}
        return {str(self.ca_bundle.path): {"bind": CA_CONTAINER_PATH, "mode": "ro"}}


def detect_ca_bundle(explicit: str | Path | None = None) -> CABundle | None:
    """``--ca-bundle`` wins; else the first of PIP_CERT, SSL_CERT_FILE, REQUESTS_CA_BUNDLE set."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"--ca-bundle {explicit}: no such file")
        return CABundle(path.resolve(), "--ca-bundle")
    for name in CA_ENV_VARS:
        value = os.environ.get(name)
        if not value:
            continue
        path = Path(value).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"{name}={value} names no file; fix the variable or pass --ca-bundle PATH"
            )
        return CABundle(path.resolve(), name)
    return None


def detect_proxies() -> dict[str, str]:
    return {name: os.environ[name] for name in PROXY_ENV_VARS if os.environ.get(name)}


def network_settings(mode: str = "host", ca_bundle: str | Path | None = None) -> NetworkSettings:
    if mode not in ("host", "bridge", "none", "default") and not mode.startswith("container:"):
        raise ConfigError(f"network mode {mode!r}: use host, bridge, none or default")
    return NetworkSettings(
        mode=mode, ca_bundle=detect_ca_bundle(ca_bundle), proxies=detect_proxies()
    )
