"""Which CPython versions Debian's archive serves as source packages, read from its Sources index.

Nothing is hard-coded: a container of a Debian root filesystem gets deb-src lines for every
served suite (derived from the mirror its own apt configuration names), runs ``apt-get update``
and prints the ``python3.X`` paragraphs of the Sources indexes. The answer is cached on disk for
a day, so asking again costs nothing.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from basebench.cache import cache_dir
from basebench.engine import Engine, RunResult
from basebench.errors import UserError
from basebench.local.rootfs import SERVED_SUITES, ensure_rootfs
from basebench.paths import IMAGES_DIR
from basebench.results import atomic_write_json
from basebench.versions import version_key

CACHE_MAX_AGE_S = 24 * 3600
_PACKAGE = re.compile(r"^python3\.(\d+)$")

_DISCOVER_SCRIPT = """
set -eu
# The same apt configuration as every image recipe (images/local/apt-sources.sh says why).
sh /tmp/bb/apt-sources.sh update {suites} >/dev/null
for f in /var/lib/apt/lists/*_source_Sources; do
    echo "### $f"
    awk 'BEGIN {{ RS = ""; ORS = "\\n\\n" }} /^Package: python3\\.[0-9]+\\n/' "$f"
done
"""


@dataclass(frozen=True)
class PythonSource:
    """One CPython source package as a suite of Debian's archive serves it."""

    python: str  # "3.13"
    package: str  # "python3.13"
    version: str  # Debian version "3.13.5-2+deb13u5"
    suite: str
    orig_tarball: str
    orig_sha256: str
    #: A release found in the pool, not in an index (basebench.local.pool): who signed its
    #: .dsc, the signature that vouches for orig_sha256 ("" for an indexed one).
    signed_by: str = ""

    @property
    def upstream_version(self) -> str:
        """3.13.5 from 1:3.13.5-2+deb13u5 (epoch and Debian revision dropped)."""
        return self.version.split(":", 1)[-1].rsplit("-", 1)[0]

    @property
    def python_version(self) -> str:
        """CPython's own spelling of the release: Debian's 3.15.0~a2 is CPython's 3.15.0a2
        (what ``python --version`` and the tarball's patchlevel.h say)."""
        return self.upstream_version.replace("~", "")

    @property
    def prerelease(self) -> bool:
        """An alpha, beta or release candidate (Debian spells them 3.15.0~a2, 3.14.0~rc1)."""
        return "~" in self.upstream_version


def parse_sources(text: str) -> list[PythonSource]:
    """PythonSource entries from ``### <lists file>`` headers followed by Sources paragraphs."""
    found: list[PythonSource] = []
    suite = ""
    for block in re.split(r"\n\s*\n", text):
        lines = block.strip().splitlines()
        # A lists file with no CPython paragraph leaves its header right above the next one:
        # the last header before a paragraph names its suite.
        while lines and lines[0].startswith("### "):
            m = re.search(r"_dists_([^_]+)_", lines[0])
            suite = m.group(1) if m else ""
            lines = lines[1:]
        fields: dict[str, str] = {}
        key = ""
        for line in lines:
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        package = fields.get("Package", "")
        m = _PACKAGE.match(package)
        if not m or not suite:
            continue
        for entry in fields.get("Checksums-Sha256", "").splitlines():
            parts = entry.split()
            if len(parts) == 3 and ".orig.tar." in parts[2] and not parts[2].endswith(".asc"):
                found.append(
                    PythonSource(
                        python=f"3.{m.group(1)}",
                        package=package,
                        version=fields["Version"],
                        suite=suite,
                        orig_tarball=parts[2],
                        orig_sha256=parts[0],
                    )
                )
    return list(dict.fromkeys(found))  # a suite's index may be listed twice


def candidates(sources: list[PythonSource], python: str) -> list[PythonSource]:
    """Every source of ``python``, best first: the most stable suite (stable gets security
    updates first), within a suite the newest upstream release (a suite may list two
    revisions for a while, sid does). The next ones are for when a mirror lists a file it
    does not have: a snapshot's unstable suites may index a release whose tarball is gone."""
    found = [s for s in sources if s.python == python]
    if not found:
        served = sorted({s.python for s in sources}, key=version_key)
        raise UserError(
            f"Debian's archive serves no CPython {python} source package; it serves "
            + ", ".join(served)
            + ". Pick one of those, or use --base-source official with a registry."
        )
    order = {suite: i for i, suite in enumerate(SERVED_SUITES)}
    return sorted(
        found,
        key=lambda s: (order.get(s.suite, len(order)), _negated(version_key(s.upstream_version))),
    )


def _negated(key: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(-part for part in key)


def choose(sources: list[PythonSource], python: str) -> PythonSource:
    """The best source of ``python`` (see :func:`candidates`)."""
    return candidates(sources, python)[0]


def _cache_path() -> Path:
    return cache_dir() / "python-sources.json"


def run_with_apt(engine: Engine, script: str) -> RunResult:
    """``script`` in a trixie rootfs container, with the one apt helper of every recipe at
    /tmp/bb/apt-sources.sh (so the host asks the mirror exactly as the recipes do)."""
    return engine.run(
        ensure_rootfs(engine, "trixie"),
        ["sh", "-c", script],
        kind="workload",
        volumes={
            str(IMAGES_DIR / "local" / "apt-sources.sh"): {
                "bind": "/tmp/bb/apt-sources.sh",
                "mode": "ro",
            }
        },
        timeout_s=600,
        network="index",
        package_manager=True,
    )


def discover(engine: Engine, *, refresh: bool = False) -> list[PythonSource]:
    cache = _cache_path()
    if not refresh and cache.is_file() and time.time() - cache.stat().st_mtime < CACHE_MAX_AGE_S:
        return [PythonSource(**entry) for entry in json.loads(cache.read_text())]
    result = run_with_apt(engine, _DISCOVER_SCRIPT.format(suites=" ".join(SERVED_SUITES)))
    if result.exit_code != 0:
        hint = ""
        if engine.network.mode == "bridge":
            # Seen on a second dockerd started with --bridge=none: names do not resolve there.
            hint = (
                "\nThe container ran on Docker's bridge network: on an engine without one "
                "(dockerd --bridge=none), or whose bridge cannot resolve names, add --network host."
            )
        raise UserError(
            "could not read Debian's Sources index (apt-get update failed in a container):\n"
            + "\n".join(result.output.splitlines()[-10:])
            + hint
        )
    sources = parse_sources(result.output)
    if not sources:
        raise UserError("Debian's Sources index lists no python3.X source package")
    cache.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(cache, [asdict(s) for s in sources], overwrite=True)
    return sources
