"""A CPython source the mirror's pool still has when the tarballs its index lists are missing.

A mirror that is a partial or lagging copy of Debian's archive can list a release in a suite's
Sources index whose files it does not have (seen: forky and sid listing python3.14 3.14.8-1 and
3.14.10-1, the pool holding 3.14.4 to 3.14.7 only). The index is then no help: it lists only the
newest revision. What is left is the pool itself and the chain of trust ``dget``/``dscverify``
use: the source package's ``.dsc`` is signed by its uploader, whose key is in the
``debian-keyring`` package, which apt installs from the signed archive. A ``.dsc`` with a good
signature names the orig tarball's sha256; the source stage then checks the tarball against it
exactly as it checks an indexed one.

Which older releases to look for: the pool cannot be listed, so the names are derived from the
newest release the index lists, counting down (X.Y.Z-R, then X.Y.(Z-1)-R, ... and the
pre-releases of X.Y.0), newest first; the first one that exists and verifies wins.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from basebench.cache import cache_dir
from basebench.engine import Engine
from basebench.errors import UserError
from basebench.local.sources import CACHE_MAX_AGE_S, PythonSource, run_with_apt
from basebench.results import atomic_write_json

#: What a pool copy is called in labels and reports (it comes from no suite's index).
POOL_SUITE = "pool"
REVISIONS = (3, 2, 1)
PRERELEASES = ("rc3", "rc2", "rc1", "b4", "b3", "b2", "b1", "a7", "a6", "a5", "a4", "a3", "a2")

_SCRIPT = """
set -eu
sh /tmp/bb/apt-sources.sh update >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\
    debian-keyring gpgv >/dev/null
uri="$(sh /tmp/bb/apt-sources.sh uri)"
pkg={package}
dir="$uri/pool/main/$(printf %s "$pkg" | cut -c1)/$pkg"
cd /tmp
for v in {versions}; do
    dsc="${{pkg}}_$v.dsc"
    /usr/lib/apt/apt-helper download-file "$dir/$dsc" "$dsc" >/dev/null 2>&1 || continue
    if gpgv --keyring /usr/share/keyrings/debian-keyring.gpg "$dsc" 2>/tmp/gpgv.txt; then
        echo "### FOUND $v"
        sed -n 's/.*Good signature from "\\([^"]*\\)".*/signed-by: \\1/p' /tmp/gpgv.txt | head -n1
        sed -n '/^Checksums-Sha256:/,/^[A-Z]/p' "$dsc"
        exit 0
    fi
    echo "### BAD-SIGNATURE $v"
done
echo "### NONE"
"""


def probe_versions(listed: list[PythonSource]) -> list[str]:
    """Debian versions to look for, newest first, below the newest release the index lists."""
    newest = max(listed, key=lambda s: _numbers(s.upstream_version))
    major, minor, patch = _numbers(newest.upstream_version)
    known = {s.version for s in listed}
    out = []
    for z in range(patch, -1, -1):
        out += [f"{major}.{minor}.{z}-{r}" for r in REVISIONS]
    out += [f"{major}.{minor}.0~{pre}-{r}" for pre in PRERELEASES for r in REVISIONS]
    return [v for v in out if v not in known]


def _numbers(upstream: str) -> tuple[int, int, int]:
    """(3, 14, 8) from 3.14.8 (and from 3.14.8~rc1: the release it leads to)."""
    parts = [int(p) for p in re.findall(r"\d+", upstream.split("~")[0])][:3]
    parts += [0] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


def parse_found(output: str, python: str, package: str) -> PythonSource | None:
    """The PythonSource a successful probe printed (None when it found nothing)."""
    m = re.search(r"^### FOUND (\S+)$", output, re.M)
    if not m:
        return None
    version = m.group(1)
    signer = re.search(r"^signed-by: (.+)$", output, re.M)
    for line in output[m.end() :].splitlines():
        parts = line.split()
        if len(parts) == 3 and ".orig.tar." in parts[2] and not parts[2].endswith(".asc"):
            return PythonSource(
                python=python,
                package=package,
                version=version,
                suite=POOL_SUITE,
                orig_tarball=parts[2],
                orig_sha256=parts[0],
                signed_by=signer.group(1) if signer else "",
            )
    return None


def _missing_path() -> Path:
    return cache_dir() / "python-sources-missing.json"


def known_missing() -> dict[str, str]:
    """orig_sha256 -> why, for tarballs this mirror did not deliver within the last day (so
    that every run does not download-attempt them again before taking the next candidate)."""
    path = _missing_path()
    if not path.is_file() or time.time() - path.stat().st_mtime > CACHE_MAX_AGE_S:
        return {}
    found: dict[str, str] = json.loads(path.read_text())
    return found


def remember_missing(source: PythonSource, why: str) -> None:
    missing = known_missing()
    missing[source.orig_sha256] = why
    path = _missing_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, missing, overwrite=True)


def _cache_path(python: str) -> Path:
    return cache_dir() / f"python-pool-{python}.json"


def find_in_pool(engine: Engine, listed: list[PythonSource]) -> PythonSource:
    """The newest signed, present release of ``listed[0].python`` in the mirror's pool."""
    python, package = listed[0].python, listed[0].package
    cache = _cache_path(python)
    if cache.is_file() and time.time() - cache.stat().st_mtime < CACHE_MAX_AGE_S:
        return PythonSource(**json.loads(cache.read_text()))
    script = _SCRIPT.format(package=package, versions=" ".join(probe_versions(listed)))
    result = run_with_apt(engine, script)
    found = parse_found(result.output, python, package) if result.exit_code == 0 else None
    if found is None:
        last = (result.output.strip().splitlines() or ["no output"])[-1]
        raise UserError(
            f"the mirror has none of the {package} tarballs its index lists, and no older "
            f"signed release of it in its pool ({last}); use another mirror or "
            "--base-source official"
        )
    cache.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(cache, found.__dict__, overwrite=True)
    return found
