"""Version strings compared as numbers: "3.9" before "3.13", "3.14.0~rc3" before "3.14.0"."""

from __future__ import annotations

import re


def version_key(version: str) -> tuple[int, ...]:
    """The numbers in ``version`` as a tuple (string order would put 3.13 before 3.9);
    ``(0,)`` when it has none, so that unknown versions sort first.

    A pre-release after ``~`` (Debian's spelling: ``3.14.0~rc3``) sorts before its release.
    """
    release, _, pre = version.partition("~")
    numbers = tuple(int(part) for part in re.findall(r"\d+", release)) or (0,)
    if not pre:
        return (*numbers, 0)
    return (*numbers, -1, *(int(part) for part in re.findall(r"\d+", pre)))
