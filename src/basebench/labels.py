"""The labels basebench puts on Docker objects, all under one prefix.

Bookkeeping labels (managed, kind, run, ref, object) decide what ``basebench clean`` may remove
(see :mod:`basebench.engine`); the others record facts about an image (its variant, its
CPython build flags, the recipe it came from) that run.json and the report read back.
"""

from __future__ import annotations

PREFIX = "org.basebench."


def label(name: str) -> str:
    """``"variant"`` -> ``"org.basebench.variant"``."""
    return PREFIX + name


MANAGED = label("managed")
RUN = label("run")
KIND = label("kind")  # "rootfs", "base", "app", "workload", "probe", "test"
# Images pass their labels on to every image built FROM them and to every container run from
# them, so "managed=true" alone cannot tell our objects from a user's. Two labels that are not
# inherited in a way that could fool us decide what `clean` may remove:
#   - images carry the tag we gave them; an image is ours only while it still has that tag;
#   - containers and volumes carry OBJECT, which we set on creation and images never have.
REF = label("ref")
OBJECT = label("object")
#: Labels that say how an object is managed, not what it is: left out of run.json.
BOOKKEEPING = frozenset({MANAGED, KIND, REF, RUN})

STRATEGY = label("strategy")
GROUP = label("group")
WORKLOAD = label("workload")


def unprefixed(labels: dict[str, str]) -> dict[str, str]:
    """Our labels without their prefix, bookkeeping left out (what run.json records)."""
    return {
        key.removeprefix(PREFIX): value
        for key, value in labels.items()
        if key.startswith(PREFIX) and key not in BOOKKEEPING
    }
