"""Group "install": one package at a time, pip install into a fresh container of each base.

For every package of the set (the team's own requirements file when ``requirements`` is set,
with benchmarks/packages.txt beside it only under ``with_reference_set``; else
benchmarks/packages.txt; a project in both once, with the more specific pin) on every base:

1. download (not timed as the result): ``fetch.py /wheelhouse PKG`` runs in a container of the
   base, so the base's own pip and platform tags choose the files (a manylinux or musllinux
   wheel, or the sdist). fetch.py also downloads the build requirements of every sdist
   (``[build-system] requires``; setuptools + wheel for legacy ones) so step 2 can build it
   offline with ordinary build isolation. The wheelhouse is a folder per base under the run's
   logs/ folder, bind-mounted into the containers.
2. the timed step: a fresh container runs ``pip install --no-index --find-links /wheelhouse
   --report /out/report.json PKG``. A package that compiles here (the download fetched an sdist)
   gets its build dependencies first, as a team's Dockerfile would install them
   (benchmarks/build-deps.toml, through measure/build_deps.py: apt on Debian slim, apk on
   official Alpine, nothing on full Debian, which has them; the local musl stand-in has no
   package manager, and a failure there says what it could not provide), timed apart
   (``deps_time``). ``wall_time`` is timed from the host around the container
   (create, start, pip, exit: what a Dockerfile RUN step costs); ``pip_time`` is pip alone,
   timed inside. pip's report says what it installed: a wheel (its platform tag goes into the
   row's detail, ``wheel:manylinux_2_17_x86_64``) or an sdist it built (``sdist``). A failure
   keeps the compiler's last meaningful line (``failed: error: command 'gcc' failed...``).

Rows: group "install", benchmark = package, metrics ``wall_time`` (s), ``pip_time`` (s),
``deps_time`` (s, build dependencies, where installed), ``download_time`` (s, step 1) and
``failed`` (0/1), all with the same detail.

With a team's requirements file, measure/install_set.py adds the resolved set per base and the
whole set installed together (group "install_set").
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from basebench.bases import BaseImage
from basebench.budget import RoundRange, repeated_rounds
from basebench.config import Config
from basebench.engine import UNPRIVILEGED_USER, RunResult
from basebench.errors import UserError
from basebench.labels import GROUP as GROUP_LABEL
from basebench.measure._app_image import stage_scripts
from basebench.measure._context import RunContext
from basebench.measure.build_deps import deps_plan, load_build_deps
from basebench.measure.resolved import (
    SDIST_SUFFIXES,
    RequirementChoice,
    merge_requirements,
    wheel_platform_tag,
)
from basebench.paths import resolve
from basebench.preflight import requirement_lines
from basebench.results import Measurement

GROUP = "install"
PIP_ENV = {
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_ROOT_USER_ACTION": "ignore",
    "PIP_PROGRESS_BAR": "off",
    "PIP_NO_WARN_SCRIPT_LOCATION": "1",
}
# pip run by the image's Python, timed inside the container; the seconds go to stdout. Where
# the package compiles, the build dependencies are installed first (build-deps.sh, the script
# the single-slim strategy uses), timed on their own.
TIMED_PIP = (
    "import os, subprocess, sys, time\n"
    "if os.environ.get('BASEBENCH_BUILD_DEPS'):\n"
    "    t = time.perf_counter()\n"
    "    code = subprocess.call(['sh', '/tmp/bb/build-deps.sh', 'install'])\n"
    "    print('BASEBENCH_DEPS_SECONDS=%.6f' % (time.perf_counter() - t), flush=True)\n"
    "    if code:\n"
    "        print('BASEBENCH_DEPS_FAILED=%d' % code, flush=True)\n"
    "        sys.exit(code)\n"
    "t = time.perf_counter()\n"
    "code = subprocess.call([sys.executable, '-m', 'pip', *sys.argv[1:]])\n"
    "print('BASEBENCH_PIP_SECONDS=%.6f' % (time.perf_counter() - t), flush=True)\n"
    "sys.exit(code)\n"
)
PIP_SECONDS = re.compile(r"^BASEBENCH_PIP_SECONDS=([0-9.]+)$", re.M)
DEPS_SECONDS = re.compile(r"^BASEBENCH_DEPS_SECONDS=([0-9.]+)$", re.M)
DEPS_FAILED = "BASEBENCH_DEPS_FAILED="
# What pip download printed for each file it fetched (or found already there).
_FETCHED = re.compile(r"(?:Saved|already downloaded)\s+(\S+)")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


# --------------------------------------------------------------------------------------------
# The package set
# --------------------------------------------------------------------------------------------


def read_requirement_lines(path: Path) -> list[str]:
    """Requirement specifiers of a packages.txt or requirements file, in order.

    Comments, blank lines and pip options (``-r``, ``-e``, ``--index-url``...) are skipped: a
    team's requirements file is measured one requirement at a time.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UserError(f"package list {path} not found") from None
    return requirement_lines(text)


def canonical_name(spec: str) -> str:
    """PEP 503 name of a requirement specifier (``Pillow>=10`` -> ``pillow``)."""
    match = _NAME.match(spec)
    if not match:
        raise UserError(f"not a requirement: {spec!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def requirement_choices(ctx: RunContext) -> list[RequirementChoice]:
    """What the install group measures: the team's requirements alone when it gave a file
    (with the built-in set beside them under ``with_reference_set``), else the built-in set.
    A project in both is measured once, with the more specific pin."""
    sets: list[tuple[str, list[str]]] = []
    if ctx.config.requirements:
        sets.append(("requirements", read_requirement_lines(resolve(ctx.config.requirements))))
    if not ctx.config.requirements or ctx.config.with_reference_set:
        sets.append(("reference", read_requirement_lines(resolve(ctx.config.packages))))
    return merge_requirements(sets)


def package_set(ctx: RunContext) -> list[str]:
    """The requirement specifiers :func:`requirement_choices` keeps, in order."""
    return [choice.spec for choice in requirement_choices(ctx)]


def team_names(ctx: RunContext) -> tuple[str, ...]:
    """The canonical names of the team's own requirements (none without a file)."""
    if not ctx.config.requirements:
        return ()
    specs = read_requirement_lines(resolve(ctx.config.requirements))
    return tuple(dict.fromkeys(canonical_name(spec) for spec in specs))


# --------------------------------------------------------------------------------------------
# What pip did
# --------------------------------------------------------------------------------------------


def outcome_from_report(report: Mapping[str, Any], name: str) -> str:
    """``wheel:<platform tag>`` or ``sdist`` for the package ``name`` in a pip --report JSON.

    "" when pip installed nothing by that name (an environment marker excluded it).
    """
    for item in report.get("install", []):
        metadata = item.get("metadata", {})
        if canonical_name(str(metadata.get("name", ""))) != name:
            continue
        url = str(item.get("download_info", {}).get("url", ""))
        filename = url.rsplit("/", 1)[-1]
        if filename.endswith(".whl"):
            return f"wheel:{wheel_platform_tag(filename)}"
        if filename.endswith(SDIST_SUFFIXES):
            return "sdist"
        return f"other:{filename}"
    return ""


def built_from_source(report: Mapping[str, Any]) -> list[str]:
    """Every package in the report that pip built from an sdist (dependencies too)."""
    names = []
    for item in report.get("install", []):
        url = str(item.get("download_info", {}).get("url", ""))
        if url.endswith(SDIST_SUFFIXES):
            names.append(canonical_name(str(item.get("metadata", {}).get("name", "?"))))
    return names


# pip's own framing around a failed build: never the line that says what went wrong.
_NOISE = (
    "subprocess-exited-with-error",
    "note: this error originates",
    "failed building wheel",
    "failed to build",
    "could not build wheels",
    "metadata-generation-failed",
    "exit code:",
    "[end of output]",
    "error: failed-wheel-build-for-install",
    "basebench_pip_seconds",
)
_INTERESTING = re.compile(
    r"error|exception|not found|no such file|cannot find|unable to|you need", re.I
)


def failure_line(output: str) -> str:
    """The compiler's (or pip's) last meaningful line of a failed install.

    A ``fatal error:`` wins (the first cause, e.g. a missing header); else the last line that
    names an error and is not pip's framing; else the last non-empty line.
    """
    lines = [ln.strip().lstrip("│║╰─>").strip() for ln in output.splitlines()]
    lines = [ln for ln in lines if ln and not any(n in ln.lower() for n in _NOISE)]
    fatal = [ln for ln in lines if "fatal error:" in ln]
    if fatal:
        return fatal[0]
    errors = [ln for ln in lines if _INTERESTING.search(ln)]
    if errors:
        return errors[-1]
    return lines[-1] if lines else "no output"


def pip_seconds(output: str) -> float | None:
    match = PIP_SECONDS.search(output)
    return float(match.group(1)) if match else None


def deps_seconds(output: str) -> float | None:
    match = DEPS_SECONDS.search(output)
    return float(match.group(1)) if match else None


def fetched_sdists(output: str) -> list[str]:
    """File names of the sdists a download fetched: those packages will compile."""
    names = [m.group(1).rsplit("/", 1)[-1] for m in _FETCHED.finditer(output)]
    return [n for n in dict.fromkeys(names) if n.endswith(SDIST_SUFFIXES)]


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    detail: str = ""
    wall: list[float] = field(default_factory=list)
    pip: list[float] = field(default_factory=list)
    download: float | None = None
    failed: bool = False
    skipped: bool = False
    from_source: list[str] = field(default_factory=list)
    #: Build dependencies installed before pip (empty: none; the package has a wheel here).
    deps: tuple[str, ...] = ()
    deps_manager: str = ""
    #: Why a package that compiles got no build dependencies on this base ("" when it did).
    deps_note: str = ""
    deps_time: list[float] = field(default_factory=list)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:80]


def _volumes(wheelhouse: Path, out: Path | None = None) -> dict[str, dict[str, str]]:
    scripts = stage_scripts(wheelhouse.parent / "scripts").resolve()
    volumes = {
        str(wheelhouse.resolve()): {"bind": "/wheelhouse", "mode": "rw"},
        # /bb for fetch.py; /tmp/bb is where build-deps.sh expects itself, env.sh and the apt
        # helper (the trailing slash only makes it a second key of this dict: Docker ignores it).
        str(scripts): {"bind": "/bb", "mode": "ro"},
        f"{scripts}/": {"bind": "/tmp/bb", "mode": "ro"},
    }
    if out is not None:
        volumes[str(out.resolve())] = {"bind": "/out", "mode": "rw"}
    return volumes


def download(
    ctx: RunContext,
    base: BaseImage,
    requirement: Sequence[str],
    wheelhouse: Path,
    deps: tuple[str, str] = ("", ""),
) -> tuple[bool, str, float]:
    """(ok, output, seconds): fetch ``requirement`` (pip's arguments: a specifier, or ``-r``
    and a file under /wheelhouse) and its build requirements into the wheelhouse; ``deps`` as
    for :func:`timed_install` (pip prepares an sdist's metadata while downloading, and some
    sdists, psycopg2's, need their build dependencies for that)."""
    command = ["python3", "/bb/fetch.py", "/wheelhouse", *requirement]
    environment = _deps_environment(deps)
    user = None
    if deps[0]:
        command = ["sh", "-c", 'sh /tmp/bb/build-deps.sh install && exec "$@"', "fetch", *command]
    else:
        # Nothing to install with a package manager: the download, which runs an sdist's own
        # build code to read its metadata, runs as nobody in a wheelhouse anyone may write.
        user, environment["HOME"] = UNPRIVILEGED_USER, "/tmp"
        wheelhouse.chmod(0o1777)
    try:
        result = ctx.engine.run(
            base.reference,
            command,
            environment=environment,
            volumes=_volumes(wheelhouse),
            labels={GROUP_LABEL: GROUP},
            timeout_s=1800,
            network="index",
            package_manager=bool(deps[0]),
            user=user,
        )
    except UserError as exc:  # the image vanished: a failed download, said as such
        return False, str(exc), 0.0
    return result.exit_code == 0, _with_reason(result), result.seconds


def _with_reason(result: RunResult) -> str:
    """The container's output, ending with why it was killed when it was (out of memory, a
    timeout): the line a failure row quotes."""
    return result.output + (f"\n{result.reason}\n" if result.killed else "")


def _deps_environment(deps: tuple[str, str]) -> dict[str, str]:
    """pip's settings, and the build dependencies build-deps.sh is to install (if any)."""
    manager, packages = deps
    environment = dict(PIP_ENV)
    if manager:
        environment["BUILD_PACKAGES" if manager == "apt" else "BUILD_PACKAGES_APK"] = packages
    return environment


def timed_install(
    ctx: RunContext,
    base: BaseImage,
    requirement: Sequence[str],
    wheelhouse: Path,
    out: Path,
    deps: tuple[str, str] = ("", ""),
    *,
    offline: bool = False,
) -> tuple[int, str, float, dict[str, Any]]:
    """(exit code, output, host seconds, pip report) of one install in a fresh container;
    ``requirement`` as for :func:`download`; ``deps`` = (package manager, its packages) to
    install first ("" = none); ``offline``: the container has no network at all."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    command = [
        "python3",
        "-c",
        TIMED_PIP,
        "install",
        "--no-index",
        "--find-links",
        "/wheelhouse",
        "--report",
        "/out/report.json",
        *requirement,
    ]
    environment = _deps_environment(deps)
    if deps[0]:
        environment["BASEBENCH_BUILD_DEPS"] = "1"
    result = ctx.engine.run(
        base.reference,
        command,
        environment=environment,
        volumes=_volumes(wheelhouse, out),
        labels={GROUP_LABEL: GROUP},
        timeout_s=3600,
        # pip installs from the wheelhouse: only a package manager needs the network.
        network="index" if deps[0] and not offline else "none",
        package_manager=bool(deps[0]),
    )
    output = _with_reason(result)
    (out / "output.txt").write_text(output)
    report: dict[str, Any] = {}
    report_path = out / "report.json"
    if report_path.is_file():
        try:
            report = json.loads(report_path.read_text())
        except json.JSONDecodeError:
            report = {}
    return result.exit_code, output, result.seconds, report


def outcome_rows(
    ctx: RunContext, base: BaseImage, name: str, outcome: Outcome, group: str = GROUP
) -> Iterable[Measurement]:
    tags = ctx.tags(base)
    detail = outcome.detail
    if outcome.wall:
        yield Measurement(group, name, "wall_time", "s", outcome.wall, tags, detail)
    if outcome.pip:
        yield Measurement(group, name, "pip_time", "s", outcome.pip, tags, detail)
    if outcome.deps_time:
        yield Measurement(group, name, "deps_time", "s", outcome.deps_time, tags, detail)
    if outcome.download is not None:
        yield Measurement(group, name, "download_time", "s", [outcome.download], tags, detail)
    yield Measurement(group, name, "failed", "", [1.0 if outcome.failed else 0.0], tags, detail)


def measure(ctx: RunContext) -> None:
    specs = package_set(ctx)
    if not specs:
        ctx.say("install: the package set is empty")
        return
    root = ctx.run.logs_dir / "install"
    wheelhouses = {b.reference: root / "wheelhouse" / slug(ctx.label(b)) for b in ctx.bases}
    whole = None
    if ctx.config.requirements:
        # Imported here: install_set builds on this module's download and timed install.
        from basebench.measure.install_set import WholeSet

        whole = WholeSet(ctx, specs, team_names(ctx), root / "set")
    limits = round_range(ctx.config)
    checkpoints = ctx.checkpoints(GROUP)
    # Checkpoint 0 is the downloads; N the state after N timed rounds (--resume goes on).
    resumed = checkpoints.last()
    if resumed is not None:
        outcomes = restore_outcomes(resumed.state.get("outcomes", {}))
        if whole is not None:
            whole.restore(resumed.state.get("whole_set", {}))
    else:
        outcomes = {}
        # 1. Downloads, per base (the network's share, kept out of the timed installs).
        for base in ctx.bases:
            _download_all(ctx, base, specs, wheelhouses[base.reference], outcomes)
        if whole is not None:
            whole.download()
        checkpoints.save(0, ctx.round_total(limits, 0), _state(outcomes, whole))

    def spread() -> list[list[float]]:
        return [o.wall for o in outcomes.values() if not o.failed and not o.skipped]

    # 2. Timed installs, interleaving the bases package by package.
    for round_no in ctx.rounds(GROUP, resumed.done if resumed else 0, limits, spread):
        for index, spec in enumerate(specs, 1):
            for base in ctx.bases:
                outcome = outcomes[(base.reference, spec)]
                if outcome.failed and not outcome.wall:
                    continue  # download failed, or an earlier round did
                out = root / "runs" / slug(ctx.label(base))
                out = out / f"{slug(canonical_name(spec))}-{round_no + 1}"
                _install_once(ctx, base, spec, wheelhouses[base.reference], out, outcome)
                if not outcome.skipped:
                    ctx.say(f"install ({index}/{len(specs)}) {_describe(outcome, spec, ctx, base)}")
        if whole is not None:
            whole.install_round(round_no)
        checkpoints.save(
            round_no + 1, ctx.round_total(limits, round_no + 1), _state(outcomes, whole)
        )
    rows: list[Measurement] = []
    for base in ctx.bases:
        for spec in specs:
            outcome = outcomes[(base.reference, spec)]
            if not outcome.skipped:
                rows.extend(outcome_rows(ctx, base, canonical_name(spec), outcome))
    ctx.run.write_measurements("install", rows)
    if whole is not None:
        whole.write()


def round_range(config: Config) -> RoundRange:
    """Timed installs: the configured rounds, or under a budget as :func:`repeated_rounds` says."""
    return repeated_rounds(config.rounds)


def _state(outcomes: dict[tuple[str, str], Outcome], whole: Any) -> dict[str, Any]:
    """A checkpoint of the group: every outcome so far (and the whole set's)."""
    return {
        "outcomes": [[ref, spec, asdict(outcome)] for (ref, spec), outcome in outcomes.items()],
        "whole_set": whole.state() if whole is not None else {},
    }


def outcome_from_dict(data: Mapping[str, Any]) -> Outcome:
    """An :class:`Outcome` as a checkpoint stored it (JSON has lists, not tuples)."""
    return Outcome(**{**data, "deps": tuple(data.get("deps", ()))})


def restore_outcomes(saved: Sequence[Sequence[Any]]) -> dict[tuple[str, str], Outcome]:
    return {(str(ref), str(spec)): outcome_from_dict(data) for ref, spec, data in saved}


def _download_all(
    ctx: RunContext,
    base: BaseImage,
    specs: Sequence[str],
    wheelhouse: Path,
    outcomes: dict[tuple[str, str], Outcome],
) -> None:
    wheelhouse.mkdir(parents=True, exist_ok=True)
    with ctx.step(GROUP, f"download {len(specs)} packages for {ctx.label(base)}"):
        for spec in specs:
            outcome = outcomes.setdefault((base.reference, spec), Outcome())
            ok, output, seconds = download(ctx, base, [spec], wheelhouse)
            if not ok:
                # An sdist whose metadata needs its build dependencies (psycopg2: pg_config):
                # again, with them, where this base can install them.
                _plan_build_deps(ctx, base, spec, outcome)
                if outcome.deps:
                    deps = (outcome.deps_manager, " ".join(outcome.deps))
                    ok, output, seconds = download(ctx, base, [spec], wheelhouse, deps)
            elif fetched_sdists(output):
                _plan_build_deps(ctx, base, spec, outcome)
            outcome.download = seconds
            if not ok:
                outcome.failed = True
                outcome.detail = f"failed: download: {failure_line(output)}{_deps_detail(outcome)}"
                ctx.say(f"install {spec} on {ctx.label(base)}: {outcome.detail}")


def _plan_build_deps(ctx: RunContext, base: BaseImage, spec: str, outcome: Outcome) -> None:
    """The package compiles here: what its build needs, and whether this base can get it."""
    variant = ctx.catalogue.get(base.catalogue_name)
    plan = deps_plan(variant.family, base.source)
    wanted = load_build_deps().get(canonical_name(spec))
    if plan.manager:
        outcome.deps_manager = plan.manager
        outcome.deps = wanted.for_manager(plan.manager)
    elif not plan.provided:
        needs = " ".join(wanted.apk or wanted.apt)
        outcome.deps_note = f"build deps {plan.reason}; needs {needs} ({wanted.why})"


def _install_once(
    ctx: RunContext, base: BaseImage, spec: str, wheelhouse: Path, out: Path, outcome: Outcome
) -> None:
    """One timed install of ``spec``; what it did goes into ``outcome``."""
    name = canonical_name(spec)
    deps = (outcome.deps_manager, " ".join(outcome.deps))
    try:
        code, output, seconds, report = timed_install(ctx, base, [spec], wheelhouse, out, deps)
    except UserError as exc:
        code, output, seconds, report = 1, str(exc), 0.0, {}
    chosen = outcome_from_report(report, name) if report else ""
    if code == 0 and not chosen:
        outcome.skipped = True
        ctx.say(f"install {spec} on {ctx.label(base)}: nothing installed (marker)")
        return
    outcome.wall.append(seconds)
    inner = pip_seconds(output)
    if inner is not None:
        outcome.pip.append(inner)
    deps_s = deps_seconds(output)
    if deps_s is not None:
        outcome.deps_time.append(deps_s)
    if code == 0:
        # A compile that worked without build dependencies (the musl builder has its own
        # toolchain) needs no note about what the base could not install.
        outcome.detail = chosen + (_deps_detail(outcome) if outcome.deps else "")
        outcome.from_source = built_from_source(report)
    elif DEPS_FAILED in output:
        outcome.failed = True
        outcome.detail = (
            f"failed: build deps ({outcome.deps_manager} {' '.join(outcome.deps)}): "
            f"{failure_line(output)}"
        )
    else:
        outcome.failed = True
        outcome.detail = f"failed: {failure_line(output)}{_deps_detail(outcome)}"


def _deps_detail(outcome: Outcome) -> str:
    """What the row's detail says about build dependencies ("" for a wheel)."""
    if outcome.deps:
        return f"; build deps: {outcome.deps_manager} {' '.join(outcome.deps)}"
    if outcome.deps_note:
        return f"; {outcome.deps_note}"
    return ""


def _describe(outcome: Outcome, spec: str, ctx: RunContext, base: BaseImage) -> str:
    extra = (
        f", built from source: {', '.join(outcome.from_source)}"
        if outcome.from_source and outcome.detail != "sdist"
        else ""
    )
    seconds = outcome.wall[-1] if outcome.wall else 0.0
    return f"{canonical_name(spec)} on {ctx.label(base)}: {seconds:.1f} s, {outcome.detail}{extra}"
