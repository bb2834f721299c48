"""pip download into a wheelhouse, with the build requirements of every sdist fetched.

    python3 fetch.py DEST [pip download arguments: -r FILE, PKG...]

Runs inside the image whose pip and platform tags decide what is fetched (a manylinux or
musllinux wheel, or an sdist). ``pip download`` saves the packages but not what building an
sdist needs (setuptools, Cython, meson-python...), which pip fetches into a throw-away build
environment. So for every sdist in DEST this reads ``[build-system] requires`` from its
pyproject.toml (setuptools and wheel when it has none, as pip assumes) and downloads those too,
until no new sdist appears. A later ``pip install --no-index --find-links DEST`` then builds
offline with build isolation, and its time is install/compile time only.

Limits (honest, printed when hit): requirements a backend asks for dynamically
(get_requires_for_build_wheel) are guessed for setuptools (wheel) and meson-python (ninja);
others would make the offline install fail with "no matching distribution", reported as such.
Standard library only: it runs on every base's own Python.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile

SDIST_SUFFIXES = (".tar.gz", ".tar.bz2", ".tgz", ".zip")
LEGACY_REQUIRES = ["setuptools>=40.8.0", "wheel"]
DYNAMIC = {"setuptools.build_meta": ["wheel"], "mesonpy": ["ninja"]}


def read_pyproject(path: str) -> str | None:
    try:
        if path.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.count("/") == 1]
                for name in names:
                    if name.endswith("/pyproject.toml"):
                        return archive.read(name).decode("utf-8", "replace")
            return None
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                if member.name.count("/") == 1 and member.name.endswith("/pyproject.toml"):
                    handle = archive.extractfile(member)
                    return handle.read().decode("utf-8", "replace") if handle else None
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        print(f"fetch.py: cannot read {path}: {exc}", file=sys.stderr)
    return None


def build_requires(text: str | None) -> list[str]:
    """[build-system] requires (+ what the backend is known to ask for), else pip's default."""
    if text is None:
        return list(LEGACY_REQUIRES)
    try:
        import tomllib

        table = tomllib.loads(text).get("build-system")
    except ImportError:  # Python < 3.11: a small parser for the two keys we need
        table = _parse_build_system(text)
    except ValueError:
        return list(LEGACY_REQUIRES)
    if not isinstance(table, dict) or "requires" not in table:
        return list(LEGACY_REQUIRES)
    requires = [str(r) for r in table.get("requires") or []]
    backend = str(table.get("build-backend") or "setuptools.build_meta")
    return requires + DYNAMIC.get(backend, [])


def _parse_build_system(text: str) -> dict[str, object] | None:
    match = re.search(r"^\[build-system\](.*?)(?=^\[|\Z)", text, re.S | re.M)
    if not match:
        return None
    body = match.group(1)
    table: dict[str, object] = {}
    requires = re.search(r"requires\s*=\s*\[(.*?)\]", body, re.S)
    if requires:
        table["requires"] = re.findall(r"[\"']([^\"']+)[\"']", requires.group(1))
    backend = re.search(r"build-backend\s*=\s*[\"']([^\"']+)[\"']", body)
    if backend:
        table["build-backend"] = backend.group(1)
    return table


def pip_download(dest: str, args: list[str]) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--dest", dest, *args]
    print("+", " ".join(cmd), flush=True)
    code = subprocess.call(cmd)
    if code:
        sys.exit(code)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    dest, args = argv[0], argv[1:]
    os.makedirs(dest, exist_ok=True)
    pip_download(dest, args)
    seen: set[str] = set()
    for _ in range(6):
        sdists = sorted(f for f in os.listdir(dest) if f.endswith(SDIST_SUFFIXES) and f not in seen)
        if not sdists:
            break
        requires: list[str] = []
        for name in sdists:
            seen.add(name)
            for req in build_requires(read_pyproject(os.path.join(dest, name))):
                if req not in requires:
                    requires.append(req)
        print(f"fetch.py: build requirements of {', '.join(sdists)}: {', '.join(requires)}")
        if requires:
            pip_download(dest, requires)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
