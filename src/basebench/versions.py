"""Version strings compared as numbers: "3.9" before "3.13", "1.2.5" before "1.2.10"."""

from __future__ import annotations

import re


def version_key(version: str) -> tuple[int, ...]:
    """The numbers in ``version`` as a tuple (string order would put 3.13 before 3.9);
    ``(0,)`` when it has none, so that unknown versions sort first."""
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)
