"""A team's requirements as one set on each base: what pip resolves, and the whole set's install.

One package at a time (measure/installs.py) says what each requirement costs alone; a team's
Dockerfile runs ``pip install -r requirements.txt``, and pays for the resolved set together.
With ``--requirements``, on every base:

1. download (network on, not timed as a result): the whole set (the requirements the install
   group measures, written to ``requirements.txt`` in a wheelhouse of its own) with fetch.py,
   so the base's own pip and platform tags choose every file, dependencies included, and the
   build requirements of every sdist come too. If it fails and the base has a package manager,
   again after the build dependencies of the team's requirements (pg_config for psycopg2's
   metadata).
2. the timed step, ``rounds`` times, interleaved with the per-package installs: a fresh
   container with no network at all (``network_mode="none"``) runs ``pip install --no-index
   --find-links /wheelhouse -r requirements.txt --report``. Where an sdist needs build
   dependencies from apt or apk, the container keeps the network for that step (the detail
   says so) and their time is ``deps_time``, apart.
3. the resolved set, from the first round's pip report (written before pip builds anything, so
   a failed compile still says what was resolved) and pip's "Created wheel" lines: every
   distribution, version, file tags, compiled or not, and the top-level requirements that pulled
   it in (measure/resolved.py). Stored as ``basebench.resolved/1`` (results.load_resolved).

Rows: group "install_set", benchmark "whole set", metrics as the per-package rows
(``wall_time``, ``pip_time``, ``deps_time``, ``download_time``, ``failed``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from basebench.bases import BaseImage
from basebench.errors import UserError
from basebench.measure._context import RunContext
from basebench.measure.build_deps import deps_plan, load_build_deps, needs_text
from basebench.measure.installs import (
    DEPS_FAILED,
    Outcome,
    deps_seconds,
    download,
    failure_line,
    fetched_sdists,
    outcome_from_dict,
    outcome_rows,
    pip_seconds,
    slug,
    timed_install,
)
from basebench.measure.resolved import (
    SET_GROUP,
    ResolvedSet,
    built_wheels,
    distributions,
    sdist_names,
)
from basebench.results import Measurement

#: The benchmark of the whole-set rows (their group: SET_GROUP).
WHOLE_SET = "whole set"
#: Where the set's requirements file sits: inside the wheelhouse, which every container mounts
#: (pip's --find-links ignores files that are not packages).
REQUIREMENTS = "requirements.txt"
REQUIREMENT_ARGS = ("-r", f"/wheelhouse/{REQUIREMENTS}")


@dataclass
class BaseSet:
    """The whole set on one base: its wheelhouse, timings and what pip resolved."""

    base: BaseImage
    wheelhouse: Path
    outcome: Outcome = field(default_factory=Outcome)
    #: The sdists the download fetched (canonical names): they build in the timed install.
    sdists: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    output: str = ""


class WholeSet:
    """The whole-set part of the install group for one run."""

    def __init__(self, ctx: RunContext, specs: list[str], team: tuple[str, ...], root: Path):
        self.ctx = ctx
        self.team = team
        self.root = root
        self.sets: list[BaseSet] = []
        for base in ctx.bases:
            wheelhouse = root / "wheelhouse" / slug(ctx.label(base))
            wheelhouse.mkdir(parents=True, exist_ok=True)
            (wheelhouse / REQUIREMENTS).write_text("".join(f"{spec}\n" for spec in specs))
            self.sets.append(BaseSet(base, wheelhouse))

    def download(self) -> None:
        for one in self.sets:
            with self.ctx.step("install", f"download the whole set for {self.ctx.label(one.base)}"):
                self._download(one)

    def _download(self, one: BaseSet) -> None:
        ok, output, seconds = download(self.ctx, one.base, REQUIREMENT_ARGS, one.wheelhouse)
        manager, _ = self._plan(one.base)
        if not ok and manager:
            # Metadata of an sdist that needs its build dependencies: those of the team's
            # requirements (the sdists that failed are not known before they are fetched).
            deps = self._deps(one.base, list(self.team))
            ok, output, seconds = download(
                self.ctx, one.base, REQUIREMENT_ARGS, one.wheelhouse, deps
            )
        one.outcome.download = seconds
        if not ok:
            one.outcome.failed = True
            one.outcome.detail = f"failed: download: {failure_line(output)}"
            self.ctx.say(f"install whole set on {self.ctx.label(one.base)}: {one.outcome.detail}")
            return
        one.sdists = sdist_names(fetched_sdists(output))
        if one.sdists and manager:
            one.outcome.deps_manager, packages = self._deps(one.base, one.sdists)
            one.outcome.deps = tuple(packages.split())

    def _plan(self, base: BaseImage) -> tuple[str, str]:
        """(package manager, family) of a base: how build dependencies reach it."""
        family = self.ctx.catalogue.get(base.catalogue_name).family
        return deps_plan(family, base.source).manager, family

    def _deps(self, base: BaseImage, names: list[str]) -> tuple[str, str]:
        """(manager, packages) a team's Dockerfile installs to build ``names`` here."""
        manager, _ = self._plan(base)
        catalogue = load_build_deps()
        wanted = [p for name in names for p in catalogue.get(name).for_manager(manager)]
        return manager, " ".join(dict.fromkeys(wanted))

    def install_round(self, round_no: int) -> None:
        """One timed install of the whole set on every base (skipping failed ones)."""
        for one in self.sets:
            if one.outcome.failed:
                continue
            out = self.root / "runs" / slug(self.ctx.label(one.base)) / f"round-{round_no + 1}"
            self._install_once(one, out)
            seconds = one.outcome.wall[-1] if one.outcome.wall else 0.0
            self.ctx.say(
                f"install whole set on {self.ctx.label(one.base)}: {seconds:.1f} s, "
                f"{one.outcome.detail}"
            )

    def _install_once(self, one: BaseSet, out: Path) -> None:
        outcome = one.outcome
        deps = (outcome.deps_manager, " ".join(outcome.deps))
        try:
            code, output, seconds, report = timed_install(
                self.ctx, one.base, REQUIREMENT_ARGS, one.wheelhouse, out, deps, offline=not deps[0]
            )
        except UserError as exc:
            code, output, seconds, report = 1, str(exc), 0.0, {}
        if not one.report and report:
            one.report, one.output = report, output
        outcome.wall.append(seconds)
        inner, deps_s = pip_seconds(output), deps_seconds(output)
        if inner is not None:
            outcome.pip.append(inner)
        if deps_s is not None:
            outcome.deps_time.append(deps_s)
        network = f"build deps: {deps[0]} {deps[1]} (network on)" if deps[0] else "offline"
        if code == 0:
            resolved = distributions(report, built_wheels(output))
            compiled = sum(1 for d in resolved if d.may_compile)
            outcome.detail = f"{len(resolved)} distributions, {compiled} compiled; {network}"
        else:
            outcome.failed = True
            where = "build deps: " if DEPS_FAILED in output else ""
            outcome.detail = f"failed: {where}{failure_line(output)}; {network}"

    def resolved(self) -> list[ResolvedSet]:
        out = []
        for one in self.sets:
            base = one.base
            _, family = self._plan(base)
            needs = {name: needs_text(name, family, base.source) for name in one.sdists}
            tags = self.ctx.tags(base)
            dists = distributions(one.report, built_wheels(one.output), needs)
            error = "" if one.report else (one.outcome.detail or "no pip report")
            out.append(
                ResolvedSet(
                    run=self.ctx.run.run_id,
                    variant=tags.variant,
                    python=tags.python,
                    libc=tags.libc,
                    base_source=tags.base_source,
                    team=self.team,
                    distributions=tuple(dists),
                    error=error,
                )
            )
        return out

    def state(self) -> dict[str, Any]:
        """What a checkpoint of the install group keeps of the whole set, per base."""
        return {
            one.base.reference: {
                "outcome": asdict(one.outcome),
                "sdists": one.sdists,
                "report": one.report,
                "output": one.output,
            }
            for one in self.sets
        }

    def restore(self, state: dict[str, Any]) -> None:
        """The whole set as :meth:`state` saved it (``basebench run --resume``)."""
        for one in self.sets:
            saved = state.get(one.base.reference)
            if saved:
                one.outcome = outcome_from_dict(saved["outcome"])
                one.sdists = list(saved["sdists"])
                one.report, one.output = dict(saved["report"]), str(saved["output"])

    def rows(self) -> list[Measurement]:
        return [
            row
            for one in self.sets
            for row in outcome_rows(self.ctx, one.base, WHOLE_SET, one.outcome, SET_GROUP)
        ]

    def write(self) -> None:
        self.ctx.run.write_measurements("install-set", self.rows())
        self.ctx.run.write_resolved("install-resolved", [s.as_dict() for s in self.resolved()])
