"""A team's own requirements (``--requirements``): what each base resolves, and the verdict.

The install group stores, per base, the resolved set of the team's requirements (pip's report:
every distribution with its file's tags, compiled or not, and the top-level requirements that
pulled it in; :mod:`basebench.measure.resolved`) and the whole set installed together (tidy
group ``install_set``). This module writes the install section's part about them (the compiled
distributions per base side by side, the whole-set install time next to the per-package ones)
and the verdict about the team's app: its blocking problems come from its own requirements
only, each naming the package and the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from basebench.measure.resolved import SET_GROUP, Distribution, ResolvedSet
from basebench.report.analysis import install_outcomes, select, series_spread
from basebench.report.doc import Block, Bullets, Heading, Para, Table
from basebench.report.fmt import n_text, spread_text
from basebench.report.frame import Configs


@dataclass(frozen=True)
class OwnApp:
    """The resolved sets of a report, by config label."""

    sets: dict[str, ResolvedSet]

    @classmethod
    def of(cls, resolved: Sequence[ResolvedSet], configs: Configs) -> OwnApp:
        labels = {key: label for label, key in configs.keys.items()}
        found = {}
        for one in resolved:
            label = labels.get((one.run, one.python, one.variant))
            if label is not None:
                found[label] = one
        return cls({label: found[label] for label in configs.order if label in found})

    @property
    def team(self) -> tuple[str, ...]:
        return next((s.team for s in self.sets.values() if s.team), ())

    def __bool__(self) -> bool:
        return bool(self.sets)


def _cell(dist: Distribution | None) -> str:
    if dist is None:
        return "–"
    if dist.from_sdist:
        what = "compiled from sdist" if dist.compiled else "sdist, not built"
        if dist.compiled is False:
            what = "sdist, pure Python"
        needs = f" (needs: {dist.build_needs})" if dist.build_needs and dist.compiled else ""
        return f"{dist.version} · {what}{needs}"
    tag = dist.platform.removesuffix("_x86_64").removesuffix("_aarch64")
    return f"{dist.version} · wheel ({tag})"


def compiled_table(app: OwnApp) -> Table:
    """Every distribution with compiled code on any base, the bases side by side."""
    labels = list(app.sets)
    by_base = {label: {d.name: d for d in s.distributions} for label, s in app.sets.items()}
    names = sorted({d.name for s in app.sets.values() for d in s.compiled})
    body = []
    for name in names:
        tops = next(
            (by_base[label][name].pulled_in_by for label in labels if name in by_base[label]), ()
        )
        body.append(
            [
                f"`{name}`",
                ", ".join(tops) or "–",
                *[_cell(by_base[label].get(name)) for label in labels],
            ]
        )
    return Table(
        ["Distribution", "Pulled in by", *labels],
        body,
        align=["l", "l", *["l"] * len(labels)],
        caption="the distributions of the resolved set with compiled code on at least one base "
        "(pip's own report, run in each base's container): version and the file pip chose, a "
        "wheel with the platform tag it needs (manylinux_x_y: glibc x.y; musllinux_x_y: musl "
        "x.y) or an sdist that compiles, with what its build needs on that base "
        "(benchmarks/build-deps.toml); – not in that base's set",
    )


def _set_lines(app: OwnApp) -> list[str]:
    lines = []
    for label, one in app.sets.items():
        if one.error:
            lines.append(f"**{label}**: no resolved set: {one.error}")
            continue
        sdists = [d.name for d in one.distributions if d.from_sdist]
        listed = f" ({', '.join(sdists)})" if sdists else ""
        lines.append(
            f"**{label}**: {len(one.distributions)} distributions, {len(one.compiled)} with "
            f"compiled code, {len(sdists)} from sdist{listed}"
        )
    return lines


def whole_set_table(frame: pd.DataFrame, configs: Configs) -> Table | None:
    """The whole set installed together next to the sum of its per-package installs."""
    rows = select(frame, group=SET_GROUP)
    if rows.empty:
        return None
    installs = select(frame, group="install", metric="wall_time")
    body = []
    for label in configs.order:
        mine = rows[rows["config"] == label]
        if mine.empty:
            continue
        wall = series_spread(mine[mine["metric"] == "wall_time"])
        pip = series_spread(mine[mine["metric"] == "pip_time"])
        singles = installs[installs["config"] == label]
        per_package = sum(
            series_spread(sub).median for _, sub in singles.groupby("benchmark", sort=True)
        )
        detail = next((d for d in mine["detail"].tolist() if d), "")
        body.append(
            [
                label,
                n_text(wall),
                spread_text(wall, "s"),
                spread_text(pip, "s"),
                f"{per_package:.1f} s" if not singles.empty else "–",
                detail,
            ]
        )
    return Table(
        ["Base", "n", "Whole set (wall)", "pip alone", "Sum of per-package installs", "What"],
        body,
        align=["l", "r", "r", "r", "r", "l"],
        caption="the resolved set installed together in a fresh container from a local "
        "wheelhouse with no network (`pip install --no-index -r requirements.txt`: what a "
        "Dockerfile's install step costs), median ± half-IQR over n rounds; beside it the sum "
        "of the per-package medians above (each package alone, with its own dependencies)",
    )


def section_blocks(frame: pd.DataFrame, configs: Configs, app: OwnApp) -> list[Block]:
    """The install section's part about the team's requirements."""
    if not app:
        return []
    team = ", ".join(f"`{name}`" for name in app.team)
    blocks: list[Block] = [
        Heading("Your requirements, resolved per base", 3),
        Para(
            f"Your requirements ({team}) as each base's pip resolves them, dependencies "
            "included: the question is whether their compiled code installs from wheels or "
            "compiles."
        ),
        Bullets(_set_lines(app)),
        compiled_table(app),
    ]
    table = whole_set_table(frame, configs)
    if table is not None:
        blocks += [Heading("The whole set installed together", 3), table]
    return blocks


# --- the verdict about the team's app --------------------------------------------------------


def blocking_problems(frame: pd.DataFrame, configs: Configs, app: OwnApp) -> dict[str, list[str]]:
    """config -> what stands in the way of the team's requirements there (only theirs):
    a requirement that fails to install, a whole set that fails, and a dependency of theirs
    that compiles from its sdist (with the time its top-level requirement pays for it)."""
    team = set(app.team)
    out: dict[str, list[str]] = {}
    for label, one in app.sets.items():
        problems: list[str] = []
        outcomes = install_outcomes(frame[frame["config"] == label])
        for name in app.team:
            if outcomes.get(name) == "failed":
                reason = _reason(frame, label, name)
                problems.append(f"{name} fails to install on {label}: {reason}")
        whole = select(frame, group=SET_GROUP, config=label, metric="failed")
        if not whole.empty and (whole["value"] > 0).any():
            detail = next((d for d in whole["detail"].tolist() if d), "failed")
            problems.append(f"the whole set fails to install on {label}: {detail}")
        for dist in one.of_team():
            if dist.from_sdist and dist.compiled is not False:
                problems.append(_sdist_problem(frame, configs, label, dist, team))
        out[label] = problems
    return out


def _reason(frame: pd.DataFrame, label: str, name: str) -> str:
    rows = select(frame, group="install", config=label, benchmark=name)
    details = [d for d in rows["detail"].tolist() if d.startswith("failed")]
    return details[0].partition(":")[2].strip() if details else "no reason recorded"


def _sdist_problem(
    frame: pd.DataFrame, configs: Configs, label: str, dist: Distribution, team: set[str]
) -> str:
    """ "uvloop compiles from sdist on alpine (pulled in by uvicorn): +40 s, needs ..." """
    tops = [t for t in dist.pulled_in_by if t in team]
    via = f" (pulled in by {', '.join(tops)})" if tops and tops != [dist.name] else ""
    extra = _extra_seconds(frame, configs, label, tops[0]) if tops else math.nan
    cost = f": +{extra:.0f} s against the fastest base" if not math.isnan(extra) else ""
    needs = f", needs {dist.build_needs}" if dist.build_needs else ", needs a compiler"
    state = "compiles" if dist.compiled else "would compile"
    return f"{dist.name} {state} from sdist on {label}{via}{cost}{needs}"


def _extra_seconds(frame: pd.DataFrame, configs: Configs, label: str, top: str) -> float:
    """The top-level requirement's install here minus its fastest install elsewhere."""
    rows = select(frame, group="install", benchmark=top, metric="wall_time")
    medians = {
        cfg: float(np.median(sub["value"])) for cfg, sub in rows.groupby("config") if not sub.empty
    }
    others = [v for cfg, v in medians.items() if cfg != label]
    if label not in medians or not others:
        return math.nan
    return max(0.0, medians[label] - min(others))


def verdict_blocks(problems: Mapping[str, list[str]], app: OwnApp) -> list[Block]:
    """The verdict for the team's app: its blocking problems per base, theirs only."""
    if not app:
        return []
    team = ", ".join(f"`{name}`" for name in app.team)
    clean = [label for label, found in problems.items() if not found]
    lines = []
    for label, found in problems.items():
        if found:
            lines += [f"{label}: {p}" for p in found]
        else:
            one = app.sets[label]
            tags = sorted({_short(d) for d in one.of_team() if d.compiled})
            lines.append(
                f"{label}: no blocking problem: every compiled dependency installs from a wheel"
                + (f" ({', '.join(tags)})" if tags else "")
            )
    if clean:
        head = f"no blocking problem on {', '.join(clean)}"
    else:
        head = "every base has a blocking problem (below)"
    return [
        Para(f"**For your requirements** ({team}): {head}. Only your own requirements count."),
        Bullets(lines),
    ]


def _short(dist: Distribution) -> str:
    return f"{dist.name} {dist.platform.removesuffix('_x86_64').removesuffix('_aarch64')}"
