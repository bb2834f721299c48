"""How builds and containers reach the network: CA bundle, proxy variables, network mode.

Corporate networks (and these development machines) intercept HTTPS with their own CA. pip inside
a build or a container must trust that CA, yet the bundle must never land in an image layer or in
``docker history``: builds get it as a BuildKit secret, containers as a read-only bind mount.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from basebench.errors import ConfigError

# Where the bundle appears inside builds (BuildKit secret) and containers (read-only mount).
CA_SECRET_ID = "basebench_ca"
#: The proxy variables reach builds as this BuildKit secret (a file of ``export`` lines the
#: network steps source), never as build args: those show in logs, ``ps`` and history.
PROXY_SECRET_ID = "basebench_proxy"
NETWORK_MODES = ("auto", "host", "bridge", "none", "default")
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
    """How builds and the containers that download (pip, apt) reach the package index and the
    mirror. Containers that need no network get none, whatever this says (Engine.run), and the
    HTTP group's servers the host's network (a measurement need, not a download's)."""

    mode: str = "bridge"
    ca_bundle: CABundle | None = None
    proxies: dict[str, str] = field(default_factory=dict)
    #: Why these modes (said on the console and in run.json).
    why: str = ""
    #: The mode of builds when it differs from ``mode`` ("": the same).
    build: str = ""

    @property
    def build_mode(self) -> str:
        """The mode for ``docker build --network``: BuildKit calls its own bridge "default"."""
        if self.build:
            return self.build
        return "default" if self.mode == "bridge" else self.mode

    def proxy_script(self) -> str:
        """The proxies as ``export NAME='value'`` lines: the content of the build secret."""
        return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(self.proxies.items()))

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


def _on_loopback(proxy: str) -> bool:
    """Does a proxy variable's value name this machine's loopback (127.0.0.1:3128, localhost)?"""
    host = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def choose_mode(mode: str, proxies: dict[str, str]) -> tuple[str, str, str]:
    """(mode of downloading containers, mode of builds, why). "auto": containers on Docker's
    bridge (they cannot reach the host's services or see its interfaces) unless a proxy listens
    on the host's loopback, which only the host's network reaches; builds on the host's
    network, because BuildKit offers no bridge but its own ("default"), and that one failed on
    the engines this suite is developed on (dockerd 20.10: "could not find bridge docker0")."""
    if mode != "auto":
        return mode, "", f"network mode {mode} (configured)"
    on_loopback = sorted(
        k for k, v in proxies.items() if k.lower() != "no_proxy" and _on_loopback(v)
    )
    if on_loopback:
        return (
            "host",
            "host",
            (
                f"host network for builds and downloads: {on_loopback[0]} names a proxy on this "
                "machine's loopback, which a bridge network cannot reach"
            ),
        )
    return (
        "bridge",
        "host",
        (
            "downloads on the bridge network; builds on the host's (BuildKit has no other "
            "working choice here); measured containers on none"
        ),
    )


def network_settings(mode: str = "auto", ca_bundle: str | Path | None = None) -> NetworkSettings:
    if mode not in NETWORK_MODES and not mode.startswith("container:"):
        raise ConfigError(f"network mode {mode!r}: use {', '.join(NETWORK_MODES)}")
    proxies = detect_proxies()
    chosen, build, why = choose_mode(mode, proxies)
    return NetworkSettings(
        mode=chosen, ca_bundle=detect_ca_bundle(ca_bundle), proxies=proxies, why=why, build=build
    )
