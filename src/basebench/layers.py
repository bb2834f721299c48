"""What each layer of an image is: the OS, CPython, both at once, or the application.

One rule for the measuring side (:mod:`basebench.measure.sizes`, which stores each layer's
kind) and the report (which re-derives kinds from the stored per-layer rows of older runs). An
image is the image its final stage runs on, plus the layers its own Dockerfile added (``app``).
The final stage runs on the base under test, or for a strategy with ``runs_on = "builder"`` on
the builder (on the local musl stand-in: a Debian image with a musl toolchain, so that image's
layers are not the stand-in's). Within the runs-on image:

- ``os`` until the first layer that installs CPython;
- ``python`` from that layer up (what follows builds on the interpreter);
- ``os+python``: a layer that holds both, seen when a layer runs Python (``python3 -c``,
  ``pip --version``) before any layer installed it. The local musl stand-in is one
  ``COPY /out/ /`` of a whole tree (busybox, musl, CPython) followed by such a check, so its
  single big layer is both; the check after it adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

OS = "os"
PYTHON = "python"
OS_PYTHON = "os+python"
APP = "app"
#: Bottom-up, as an image is built: the order of a stacked bar.
KINDS = (OS, OS_PYTHON, PYTHON, APP)

#: An instruction that builds, copies or installs CPython (or runs it: see RUNS_PYTHON).
MENTIONS_PYTHON = re.compile(
    r"python|\bpip3?\b|PYTHON_|GPG_KEY|\b(?:COPY|ADD)\b.*?/usr/local\b", re.IGNORECASE
)
#: An instruction that only runs an interpreter already there.
RUNS_PYTHON = re.compile(r"\b(?:python3?(?:\.\d+)?|pip3?)\s+(?:-c|-m|-V|--version)\b")
#: A layer that runs Python and adds at least this much installed something after all.
INSTALL_BYTES = 1_000_000


@dataclass(frozen=True)
class Layer:
    created_by: str
    #: Uncompressed bytes the layer adds.
    size: int = 0


def classify(layers: Sequence[Layer], runs_on: int) -> list[str]:
    """The kind of each layer, bottom-up; the first ``runs_on`` layers are the runs-on image's."""
    kinds = [APP] * len(layers)
    installed = False
    for index, layer in enumerate(layers[:runs_on]):
        if installed:
            kinds[index] = PYTHON
            continue
        kinds[index] = OS
        if not MENTIONS_PYTHON.search(layer.created_by):
            continue
        installed = True
        kinds[index] = PYTHON
        if RUNS_PYTHON.search(layer.created_by) and layer.size < INSTALL_BYTES:
            # Python ran before any layer installed it: the last layer with files brought it.
            holders = [i for i in range(index) if layers[i].size > 0]
            if holders:
                kinds[holders[-1]] = OS_PYTHON
    return kinds


def leading_matches(image: Sequence[str], runs_on_image: Sequence[str]) -> int:
    """How many layers at the bottom of ``image`` are the runs-on image's, position by position
    (by membership, an empty layer on top would pass for the base's own empty layer)."""
    count = 0
    for mine, theirs in zip(image, runs_on_image, strict=False):
        if mine != theirs:
            break
        count += 1
    return count


def recover_runs_on(stored: Sequence[str], own_layers: int | None) -> int | None:
    """How many layers of an app image are its runs-on image's, from the kinds a run stored.

    Runs made before the measuring side knew which image a strategy's final stage runs on
    compared an image built on the builder with the base, found no common layer and stored
    every layer as ``app``. Such an app image (an image is never all app: its final stage
    runs on an image with layers) gets its split from ``own_layers``, the number of layers the
    same strategy added on top of another base (one Dockerfile adds as many everywhere).
    None: it cannot be told.
    """
    below = sum(kind != APP for kind in stored)
    if below:
        return below
    if own_layers is None or not 0 < own_layers < len(stored):
        return None
    return len(stored) - own_layers
