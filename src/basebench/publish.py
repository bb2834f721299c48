"""Local stand-ins published to a registry under their official names (`basebench images push`).

An air-gapped team serves its own mirror this way: ``python:3.13-slim-trixie`` on
``HOST:PORT/PREFIX`` is then what ``--base-source official --registry-mirror HOST:PORT/PREFIX``
pulls. The published image keeps every label of the stand-in (``base_source=local``, its
recipe, flags and sources) and gains two more: that it is a stand-in, and the official name it
was published under; tests add a third that marks it as a fixture. So a run that pulls it
records what it is, and a report never calls it the official image.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from basebench.bases import BaseImage
from basebench.engine import Engine
from basebench.errors import ConfigError
from basebench.labels import label
from basebench.registry import ImageReference
from basebench.variants import Variant

STAND_IN = label("stand_in")
PUBLISHED_AS = label("published_as")
FIXTURE = label("fixture")
STAND_IN_NOTE = "a local stand-in built by basebench from Debian's sources, not the official image"


@dataclass(frozen=True)
class Published:
    official_name: str  # python:3.13-slim-trixie
    reference: str  # HOST:PORT/PREFIX/python:3.13-slim-trixie
    digest: str  # the manifest's digest, as the registry answered the push
    stand_in: str  # the local image it was published from


def check_registry_prefix(prefix: str) -> str:
    """``HOST:PORT[/PREFIX]`` without a trailing slash; ConfigError when it names no host."""
    prefix = prefix.strip().rstrip("/")
    if not ImageReference.parse(f"{prefix}/python:x").registry:
        raise ConfigError(
            f"--registry {prefix!r}: name the registry host first, e.g. 127.0.0.1:5000/mirror "
            "(a host with a port or a dot, or localhost)"
        )
    return prefix


def publish(
    engine: Engine, variant: Variant, base: BaseImage, prefix: str, *, fixture: str = ""
) -> Published:
    """Push the stand-in ``base`` as ``PREFIX/python:<official tag>``, labelled as a stand-in."""
    variant.check_official(base.python)  # only names the official images have (or had)
    official_name = variant.official_reference(base.python)
    target = variant.official_reference(base.python, check_registry_prefix(prefix))
    labels = {STAND_IN: STAND_IN_NOTE, PUBLISHED_AS: official_name}
    if fixture:
        labels[FIXTURE] = fixture
    staging = f"basebench/publish:{secrets.token_hex(6)}"
    engine.commit_labels(base.reference, staging, labels, kind="publish")
    try:
        digest = engine.push(staging, target)
    finally:
        engine.untag(staging)
    return Published(official_name, target, digest, base.reference)
