"""The resolved set of a team's requirements on one base, read from pip's own JSON report.

``pip install --report FILE`` lists every distribution pip resolved: the file it chose
(``download_info.url``), its metadata (name, version, ``Requires-Dist``) and whether it was
asked for (``requested``, with ``requested_extras``). Run inside a base's container, the file's
tags are what that libc and Python get: a manylinux or musllinux wheel (with the libc version it
needs), a pure wheel (``any``) or an sdist that pip builds. Whether an sdist holds compiled code
is only known once it is built: pip's ``Created wheel for NAME: filename=...`` line names the
wheel it made, and a platform tag there (``linux_x86_64``) means a C extension.

Which top-level requirement pulled each distribution in is a walk of ``Requires-Dist`` from the
requested distributions, markers evaluated in the report's own environment (with the extras
asked for), like pipdeptree's reverse view.

Pure functions and data only: the install group (measure/installs.py) runs pip, the report
(report/own_app.py) reads what is stored here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

#: The tidy group of the whole set installed together (measure/install_set.py writes it).
SET_GROUP = "install_set"
SDIST_SUFFIXES = (".tar.gz", ".tar.bz2", ".tgz", ".zip")
#: The platform "tag" of an sdist, and of a pure wheel.
SDIST = "sdist"
PURE = "any"
#: pip's line for a wheel it built from an sdist (its INFO log).
_CREATED = re.compile(r"Created wheel for (\S+): filename=(\S+\.whl)")


def wheel_tags(filename: str) -> tuple[str, ...]:
    """The platform tags of a wheel's (compressed) tag set, as the file name spells them."""
    stem = filename.rsplit("/", 1)[-1].removesuffix(".whl")
    return tuple(stem.split("-")[-1].split("."))


def wheel_platform_tag(filename: str) -> str:
    """``orjson-3.10-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`` ->
    ``manylinux_2_17_x86_64`` (the first of a compressed tag set); ``any`` for pure wheels."""
    tags = wheel_tags(filename)
    # A compressed set names one platform twice (manylinux2014 = manylinux_2_17): prefer the
    # PEP 600/656 spelling, which says the glibc or musl version.
    modern = [t for t in tags if t.startswith(("manylinux_", "musllinux_"))]
    return (modern or list(tags))[0]


def built_wheels(output: str) -> dict[str, str]:
    """name -> the file name of the wheel pip built from an sdist, from pip's output."""
    return {canonicalize_name(m.group(1)): m.group(2) for m in _CREATED.finditer(output)}


@dataclass(frozen=True)
class Distribution:
    """One distribution of a resolved set, as one base got it."""

    name: str  # canonical (PEP 503)
    version: str
    file: str  # the file pip chose
    #: ``manylinux_2_17_x86_64``, ``musllinux_1_1_x86_64``, ``any`` or ``sdist``.
    platform: str
    #: Every platform tag of the wheel's compressed tag set (empty for an sdist).
    tags: tuple[str, ...] = ()
    #: True: a platform wheel, or an sdist pip built into one; False: pure Python; None: an
    #: sdist that was not built (the install failed before), so nobody knows yet.
    compiled: bool | None = False
    requested: bool = False
    #: The top-level requirements whose dependencies include it (itself when requested).
    pulled_in_by: tuple[str, ...] = ()
    #: An sdist pip built: the wheel it made ("" when none was made).
    built: str = ""
    #: An sdist: what its build needs on this base (build-deps.toml's line), "" for a wheel.
    build_needs: str = ""

    @property
    def from_sdist(self) -> bool:
        return self.platform == SDIST

    @property
    def may_compile(self) -> bool:
        """Compiled code, or an sdist that may hold some (not built, so not known)."""
        return self.compiled is not False


@dataclass(frozen=True)
class ResolvedSet:
    """A base's resolved set (the run, Python and variant name its report column)."""

    run: str
    variant: str
    python: str
    libc: str
    base_source: str
    #: The team's own top-level requirements (canonical names), in file order.
    team: tuple[str, ...]
    distributions: tuple[Distribution, ...] = ()
    #: Why there is no resolved set ("" when there is one).
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResolvedSet:
        dists = tuple(
            Distribution(
                **{
                    **d,
                    "tags": tuple(d.get("tags", ())),
                    "pulled_in_by": tuple(d.get("pulled_in_by", ())),
                }
            )
            for d in data.get("distributions", ())
        )
        plain = {k: str(data.get(k, "")) for k in ("run", "variant", "python", "libc")}
        return cls(
            **plain,
            base_source=str(data.get("base_source", "")),
            team=tuple(data.get("team", ())),
            distributions=dists,
            error=str(data.get("error", "")),
        )

    @property
    def compiled(self) -> list[Distribution]:
        return [d for d in self.distributions if d.may_compile]

    def of_team(self) -> list[Distribution]:
        """The distributions the team's own requirements pull in."""
        team = set(self.team)
        return [d for d in self.distributions if team & set(d.pulled_in_by)]


def _name(item: Mapping[str, Any]) -> str:
    return canonicalize_name(str((item.get("metadata") or {}).get("name", "?")))


def _dependencies(
    item: Mapping[str, Any], extras: Iterable[str], environment: Mapping[str, str]
) -> list[tuple[str, frozenset[str]]]:
    """(name, extras asked of it) of every Requires-Dist line that applies here."""
    out: list[tuple[str, frozenset[str]]] = []
    asked = ["", *extras]
    for line in (item.get("metadata") or {}).get("requires_dist") or []:
        try:
            requirement = Requirement(str(line))
        except InvalidRequirement:
            continue
        marker = requirement.marker
        try:
            applies = marker is None or any(
                marker.evaluate({**environment, "extra": extra}) for extra in asked
            )
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            applies = True  # unsure: a wider "pulled in by" beats a missing one
        if applies:
            out.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return out


def pulled_in_by(report: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """name -> the requested (top-level) names whose dependency closure holds it."""
    items = {_name(item): item for item in report.get("install", [])}
    environment = {str(k): str(v) for k, v in (report.get("environment") or {}).items()}
    found: dict[str, list[str]] = {name: [] for name in items}
    for top, item in items.items():
        if not item.get("requested"):
            continue
        stack = [(top, frozenset(str(e) for e in item.get("requested_extras") or ()))]
        seen: set[tuple[str, frozenset[str]]] = set()
        while stack:
            name, extras = stack.pop()
            if (name, extras) in seen or name not in items:
                continue
            seen.add((name, extras))
            if top not in found[name]:
                found[name].append(top)
            stack.extend(_dependencies(items[name], extras, environment))
    return {name: tuple(tops) for name, tops in found.items()}


def distributions(
    report: Mapping[str, Any],
    built: Mapping[str, str] | None = None,
    build_needs: Mapping[str, str] | None = None,
) -> list[Distribution]:
    """The resolved set of a pip report; ``built``: :func:`built_wheels` of the install's
    output; ``build_needs``: name -> what its build needs here (for sdists)."""
    built = built or {}
    needs = build_needs or {}
    tops = pulled_in_by(report)
    out = []
    for item in report.get("install", []):
        name = _name(item)
        url = str((item.get("download_info") or {}).get("url", ""))
        filename = url.rsplit("/", 1)[-1]
        made = built.get(name, "")
        if filename.endswith(".whl"):
            platform, tags = wheel_platform_tag(filename), wheel_tags(filename)
            compiled: bool | None = platform != PURE
        elif filename.endswith(SDIST_SUFFIXES):
            platform, tags = SDIST, ()
            compiled = wheel_platform_tag(made) != PURE if made else None
        else:  # a folder or a VCS checkout: pip builds it like an sdist
            platform, tags, compiled = SDIST, (), None
        out.append(
            Distribution(
                name=name,
                version=str((item.get("metadata") or {}).get("version", "")),
                file=filename,
                platform=platform,
                tags=tags,
                compiled=compiled,
                requested=bool(item.get("requested")),
                pulled_in_by=tops.get(name, ()),
                built=made,
                build_needs=needs.get(name, "") if platform == SDIST else "",
            )
        )
    return sorted(out, key=lambda d: d.name)


def sdist_names(filenames: Sequence[str]) -> list[str]:
    """Canonical project names of sdist file names (``psycopg2-2.9.10.tar.gz`` -> psycopg2)."""
    names = []
    for filename in filenames:
        stem = filename
        for suffix in SDIST_SUFFIXES:
            stem = stem.removesuffix(suffix)
        project = stem.rsplit("-", 1)[0] if "-" in stem else stem
        names.append(canonicalize_name(project))
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class RequirementChoice:
    """One requirement of a merged set: the specifier kept, and the set it came from."""

    name: str  # canonical
    spec: str
    source: str  # "requirements" (the team's file) or "reference" (the built-in set)


def pin_rank(spec: str) -> int:
    """How specific a requirement is: 3 an exact pin (== or ===), 2 a bounded range, 1 any
    other specifier, 0 a bare name (URLs and unparsable lines count as exact: they name one
    file)."""
    try:
        requirement = Requirement(spec)
    except InvalidRequirement:
        return 3
    if requirement.url:
        return 3
    operators = {s.operator for s in requirement.specifier}
    wildcard = any(s.version.endswith(".*") for s in requirement.specifier)
    if operators & {"==", "==="} and not wildcard:
        return 3
    if operators & {"<", "<=", "~="} or wildcard:
        return 2
    return 1 if operators else 0


def merge_requirements(sets: Sequence[tuple[str, Sequence[str]]]) -> list[RequirementChoice]:
    """One requirement per project over ``(source, specs)`` sets, in first-seen order: the
    most specific pin wins (:func:`pin_rank`); on a tie, the earlier set (the team's)."""
    chosen: dict[str, RequirementChoice] = {}
    for source, specs in sets:
        for spec in specs:
            try:
                name: str = canonicalize_name(Requirement(spec).name)
            except InvalidRequirement:
                name = spec
            current = chosen.get(name)
            if current is None or pin_rank(spec) > pin_rank(current.spec):
                chosen[name] = RequirementChoice(name, spec, source)
    return list(chosen.values())
