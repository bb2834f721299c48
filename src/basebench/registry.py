"""Container registries over the distribution HTTP API v2: image references, and manifests with
each layer's media type and compressed size *as the registry stores it*.

The engine keeps no compressed sizes once an image is pulled, so the size group's
``compressed`` figure is an estimate (gzip -6 of each layer tar). A registry's manifest is the
measured figure; run.json records it next to the repo digest, and the size group compares the
two.

A registry on a loopback address is spoken to over plain HTTP, as the engine itself does (it
treats 127.0.0.0/8 as an insecure registry without configuration); any other over HTTPS, with
the bearer-token challenge the registry answers a 401 with.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any

from basebench.errors import UserError

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST_V2 = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_ACCEPT = ", ".join((MANIFEST_V2, MANIFEST_LIST_V2, OCI_MANIFEST, OCI_INDEX))
_LISTS = (MANIFEST_LIST_V2, OCI_INDEX)


class RegistryError(UserError):
    """A registry that does not answer, or answers something that is not a manifest."""


@dataclass(frozen=True)
class ImageReference:
    """``host:port/prefix/python:3.13-slim-trixie`` split the way the engine splits it."""

    registry: str  # "" for the engine's default registry (Docker Hub)
    repository: str
    tag: str

    @classmethod
    def parse(cls, reference: str) -> ImageReference:
        name, _, tag = reference.rpartition(":")
        if not name or "/" in tag:
            name, tag = reference, "latest"
        first, _, rest = name.partition("/")
        # The engine's rule: the first component names a registry when it has a dot or a
        # port, or is "localhost".
        if rest and ("." in first or ":" in first or first == "localhost"):
            return cls(first, rest, tag)
        return cls("", name, tag)

    @property
    def loopback(self) -> bool:
        host = self.registry.rsplit(":", 1)[0] if self.registry else ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host.strip("[]")).is_loopback
        except ValueError:
            return False

    def base_url(self) -> str:
        if not self.registry:
            raise RegistryError(
                f"{self.repository}:{self.tag} names no registry host: its manifest is read from "
                "a registry named in the reference (set registry_mirror to your mirror)"
            )
        return f"{'http' if self.loopback else 'https'}://{self.registry}/v2/{self.repository}"


@dataclass(frozen=True)
class RegistryLayer:
    media_type: str
    size: int  # compressed bytes, as the registry stores and serves the blob
    digest: str


@dataclass
class RegistryManifest:
    """One platform's image manifest as a registry serves it."""

    reference: str
    digest: str  # the manifest's digest: what a repo digest (name@sha256:...) names
    media_type: str
    layers: list[RegistryLayer] = field(default_factory=list)
    #: The manifest list's digest when the tag names a multi-platform list ("" otherwise).
    list_digest: str = ""

    @property
    def compressed(self) -> int:
        return sum(layer.size for layer in self.layers)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "compressed": self.compressed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegistryManifest:
        layers = [RegistryLayer(**layer) for layer in data.get("layers", [])]
        return cls(
            str(data["reference"]),
            str(data["digest"]),
            str(data["media_type"]),
            layers,
            str(data.get("list_digest", "")),
        )


def _bearer_token(challenge: str, timeout_s: float) -> str:
    """A token for the ``WWW-Authenticate: Bearer realm=...,service=...,scope=...`` challenge."""
    scheme, _, params = challenge.partition(" ")
    if scheme.lower() != "bearer":
        raise RegistryError(f"registry asks for {scheme} authentication, which basebench lacks")
    fields = dict(
        (key.strip(), value.strip().strip('"'))
        for key, _, value in (part.partition("=") for part in params.split(","))
    )
    realm = fields.pop("realm", "")
    query = urllib.parse.urlencode(fields)
    with urllib.request.urlopen(f"{realm}?{query}", timeout=timeout_s) as answer:
        body = json.load(answer)
    return str(body.get("token") or body.get("access_token") or "")


def _opener(ref: ImageReference) -> urllib.request.OpenerDirector:
    """A loopback registry is reached directly, whatever proxy the environment names."""
    if ref.loopback:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _get(
    opener: urllib.request.OpenerDirector, url: str, timeout_s: float
) -> tuple[dict[str, Any], str, str]:
    """(manifest JSON, its media type, its digest) of one manifest URL."""
    headers = {"Accept": _ACCEPT}
    for attempt in range(2):
        request = urllib.request.Request(url, headers=headers)
        try:
            with opener.open(request, timeout=timeout_s) as answer:
                body = json.load(answer)
                media_type = answer.headers.get("Content-Type", "").split(";")[0]
                digest = answer.headers.get("Docker-Content-Digest", "")
                return body, body.get("mediaType", media_type), digest
        except urllib.error.HTTPError as exc:
            challenge = exc.headers.get("WWW-Authenticate", "")
            if exc.code == 401 and challenge and attempt == 0:
                headers["Authorization"] = f"Bearer {_bearer_token(challenge, timeout_s)}"
                continue
            raise RegistryError(f"registry answered {exc.code} {exc.reason} for {url}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RegistryError(f"no manifest at {url}: {exc}") from None
    raise RegistryError(f"registry refused the token it issued for {url}")


def fetch_manifest(
    reference: str, *, os_name: str = "linux", architecture: str = "amd64", timeout_s: float = 30
) -> RegistryManifest:
    """The manifest ``reference`` names; of a multi-platform list, the one for the platform."""
    ref = ImageReference.parse(reference)
    base = ref.base_url()
    opener = _opener(ref)
    body, media_type, digest = _get(opener, f"{base}/manifests/{ref.tag}", timeout_s)
    list_digest = ""
    if media_type in _LISTS:
        wanted = [
            m
            for m in body.get("manifests", [])
            if (m.get("platform") or {}).get("os") == os_name
            and (m.get("platform") or {}).get("architecture") == architecture
        ]
        if not wanted:
            raise RegistryError(f"{reference} has no {os_name}/{architecture} image")
        list_digest = digest
        body, media_type, digest = _get(
            opener, f"{base}/manifests/{wanted[0]['digest']}", timeout_s
        )
    layers = [
        RegistryLayer(str(layer["mediaType"]), int(layer["size"]), str(layer["digest"]))
        for layer in body.get("layers", [])
    ]
    if not layers:
        raise RegistryError(f"{reference}: the registry's manifest lists no layers ({media_type})")
    return RegistryManifest(reference, digest, media_type, layers, list_digest)
