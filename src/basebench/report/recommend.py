"""The recommendation: which (build strategy, base) to ship, by a rule the user can change.

A team does not ship a base image, it ships its application built on one: the candidates are
the (strategy, variant) pairs whose app image this run built (and started, and served, when
start-up and HTTP were measured). Each has three costs: the app image's compressed size (what
every pull moves), its build time, and the runtime of the Python it runs on. Candidates that
another beats or equals on all three are dominated; the rest are the Pareto front, and a
documented rule (``--prefer``) picks one of them. The choice is stated with its costs as
differences from the runner-up, so a team can see what it trades.

A group that was not measured is "no data", never a reason; a run that built no app image
recommends nothing and says why.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from basebench.config import PREFERENCES
from basebench.errors import UserError
from basebench.measure._strategies import CUSTOM, load_strategies
from basebench.report.analysis import (
    RUNTIME_TOLERANCE,
    SummaryRow,
    select,
    series_spread,
)
from basebench.report.doc import Block, Bullets, Heading, Para, Table
from basebench.report.fmt import quantity, rounds_note
from basebench.report.frame import Configs, default_allocator
from basebench.report.stats import Interval, Spread

#: What each rule of ``--prefer`` (config.PREFERENCES) does, in the report's words.
RULES: dict[str, str] = {
    "balanced": "first the bases with no runtime penalty beyond "
    f"{RUNTIME_TOLERANCE:.2f}× the reference (shown by the summary interval, or suspected when "
    "there were too few rounds for one), then the smallest app image; of images within 5 % of "
    "each other, the fastest build",
    "size": "the smallest app image, then the fastest build",
    "build": "the fastest build, then the smallest app image",
    "runtime": "the fastest runtime (differences the summary interval shows), then the "
    "smallest app image, the fastest build within 5 % of it",
}
DEFAULT_PREFERENCE = PREFERENCES[0]
#: Sizes and build times closer than this count as a tie (noise, and not worth a trade).
TIE = 1.05
APP_PREFIX = "app:"


@dataclass(frozen=True)
class Candidate:
    config: str
    python: str
    variant: str
    strategy: str
    #: Compressed app image, bytes (NaN: the size group did not measure it).
    size: float
    build: Spread | None
    #: The variant's runtime headline against the reference (NaN estimate: no data).
    runtime: Interval
    runtime_rounds: int
    #: Packages of the install group that built from source on this base.
    sdist: tuple[str, ...] = ()
    #: A figure that reflects how a local stand-in is made, not the official image ("" none).
    caveat: str = ""

    @property
    def name(self) -> str:
        return f"{self.strategy} on {self.config}"

    @property
    def build_s(self) -> float:
        return self.build.median if self.build is not None and self.build.n else math.nan

    @property
    def runtime_penalty(self) -> bool:
        """Slower than the reference beyond the tolerance: shown (the summary interval is
        above 1), or suspected (too few rounds for an interval, and the estimate beyond it).
        An untested 2× must not pass as "no penalty" just because it could not be tested."""
        iv = self.runtime
        if math.isnan(iv.estimate) or iv.estimate <= RUNTIME_TOLERANCE:
            return False
        return iv.low > 1.0 if iv.has_ci else True

    def runtime_key(self) -> float:
        """Runtime as the rules rank it: the estimate where the interval shows a difference
        or a penalty is suspected (:attr:`runtime_penalty`), else 1.0 (no data: 1.0)."""
        iv = self.runtime
        return iv.estimate if iv.excludes_one or self.runtime_penalty else 1.0

    @property
    def measured(self) -> bool:
        """Whether any of the three costs was measured."""
        return not (
            math.isnan(self.size) and math.isnan(self.build_s) and math.isnan(self.runtime.estimate)
        )


@dataclass(frozen=True)
class Excluded:
    name: str
    reason: str


@dataclass
class Choice:
    """The recommendation for one Python version."""

    python: str
    preference: str
    chosen: Candidate | None = None
    runner_up: Candidate | None = None
    front: list[Candidate] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    costs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Why there is no choice (empty when there is one).
    no_choice: str = ""


def candidates(
    frame: pd.DataFrame, configs: Configs, rows: Sequence[SummaryRow]
) -> tuple[list[Candidate], list[Excluded]]:
    """Every (strategy, variant) whose app image was built, and why the others are out."""
    summary = {r.config: r for r in rows}
    found: list[Candidate] = []
    out: list[Excluded] = []
    for label in configs.order:
        _run, python, variant = configs.keys[label]
        sub = frame[frame["config"] == label]
        row = summary.get(label)
        for strategy in _strategies(sub):
            name = f"{strategy} on {label}"
            why = _why_not(sub, strategy)
            if why:
                out.append(Excluded(name, why))
                continue
            sizes = select(sub, group="size", benchmark=APP_PREFIX + strategy, metric="compressed")
            # The reference's headline is 1.0 by definition: only where runtime was measured.
            measured = row is not None and not select(sub, group="runtime").empty
            runtime = row.runtime if measured and row else Interval(math.nan, math.nan, math.nan)
            builds = select(sub, group="build", benchmark=strategy, metric="wall_time")
            found.append(
                Candidate(
                    config=label,
                    python=python,
                    variant=variant,
                    strategy=strategy,
                    size=float(np.median(sizes["value"])) if not sizes.empty else math.nan,
                    build=series_spread(builds) if not builds.empty else None,
                    runtime=runtime,
                    runtime_rounds=row.runtime_rounds if row else 0,
                    sdist=tuple(row.sdist) if row else (),
                    caveat=_caveat(sub, strategy),
                )
            )
    return found, out


def _strategies(sub: pd.DataFrame) -> list[str]:
    """The strategies any group built an app image with on this config."""
    built = select(sub, group="build")["benchmark"].tolist()
    sized = [
        b.removeprefix(APP_PREFIX)
        for b in select(sub, group="size")["benchmark"].tolist()
        if b.startswith(APP_PREFIX)
    ]
    used = [s for s in sub[sub["group"].isin(["startup", "http"])]["strategy"].tolist() if s]
    return list(dict.fromkeys([*built, *sized, *used]))


def _caveat(sub: pd.DataFrame, strategy: str) -> str:
    """The local musl stand-in's builder is Debian with a musl toolchain, not Alpine: an
    image that ships the builder has the stand-in's size, not official Alpine's.

    Keyed on the rows' base source, which is how the base was obtained: a stand-in published
    to a registry and pulled back carries base_source=local in its labels, but its rows say
    "official", and it is its own builder (measure._app_image.builder_image), so no Debian
    builder is shipped; the report's base-source sentence says it is a stand-in."""
    known = load_strategies().by_name.get(strategy)
    local_musl = not select(sub, base_source="local", libc="musl").empty
    if known is not None and known.runs_on == "builder" and local_musl:
        return "ships the local musl stand-in's Debian-based builder: its size is not Alpine's"
    return ""


def _why_not(sub: pd.DataFrame, strategy: str) -> str:
    """Why a strategy's app image is not a candidate on this config ("" when it is one)."""
    build = select(sub, group="build", benchmark=strategy)
    for metric, prefix in (("not_applicable", "not applicable"), ("failed", "build failed")):
        hit = build[(build["metric"] == metric) & (build["value"] > 0)]
        if not hit.empty:
            detail = next((d for d in hit["detail"].tolist() if d), "")
            return f"{prefix}: {detail}" if detail else prefix
    # Start-up times the app images of its run: one it timed others on must have started.
    app_startups = select(sub, group="startup")
    app_startups = app_startups[app_startups["strategy"] != ""]
    if not app_startups.empty and select(app_startups, strategy=strategy).empty:
        return "it was built but did not start (no start-up measured)"
    # HTTP tests the strategies it was given: one it tested must have served.
    http = select(sub, group="http", strategy=strategy)
    if not http.empty and select(http, metric="requests_per_s").empty:
        return "it did not serve requests in the HTTP test"
    return ""


def dominated(a: Candidate, b: Candidate) -> bool:
    """``b`` is at least as good as ``a`` on every measured cost and better on one."""
    pairs = [
        (_or_inf(a.size), _or_inf(b.size)),
        (_or_inf(a.build_s), _or_inf(b.build_s)),
        (a.runtime_key(), b.runtime_key()),
    ]
    return all(bv <= av for av, bv in pairs) and any(bv < av for av, bv in pairs)


def preference_of(metas: Sequence[Mapping[str, Any]], override: str | None = None) -> str:
    """``--prefer`` of ``basebench report``, else the newest run's configured rule."""
    for value in [override, *((m.get("config") or {}).get("prefer") for m in reversed(metas))]:
        if value:
            if value not in RULES:
                raise UserError(f"unknown preference {value!r}; use one of {', '.join(RULES)}")
            return str(value)
    return DEFAULT_PREFERENCE


def _or_inf(value: float) -> float:
    # Unknown ranks last, never first.
    return math.inf if math.isnan(value) else value


def pareto_front(found: Sequence[Candidate]) -> list[Candidate]:
    return [c for c in found if not any(dominated(c, other) for other in found)]


def rank(found: Sequence[Candidate], preference: str) -> list[Candidate]:
    """The candidates, best first, by the rule ``preference`` names (see PREFERENCES)."""
    pool = sorted(found, key=lambda c: c.name)
    if preference == "build":
        return sorted(pool, key=lambda c: (_or_inf(c.build_s), _or_inf(c.size)))
    if preference == "size":
        return sorted(pool, key=lambda c: (_or_inf(c.size), _or_inf(c.build_s)))
    if preference == "runtime":
        return _smallest_then_fastest(pool, key=lambda c: c.runtime_key())
    return _smallest_then_fastest(pool, key=lambda c: float(c.runtime_penalty))


def _smallest_then_fastest(
    pool: Sequence[Candidate], key: Callable[[Candidate], float]
) -> list[Candidate]:
    """By ``key``; then, repeatedly, of the images within TIE of the smallest left, the
    fastest to build (a 2 % smaller image is no reason for a slower build)."""
    out: list[Candidate] = []
    for _, tier in itertools.groupby(sorted(pool, key=key), key=key):
        left = list(tier)
        while left:
            smallest = min(_or_inf(c.size) for c in left)
            near = [c for c in left if _or_inf(c.size) <= smallest * TIE]
            best = min(near, key=lambda c: (_or_inf(c.build_s), _or_inf(c.size)))
            out.append(best)
            left.remove(best)
    return out


def choose(
    frame: pd.DataFrame,
    configs: Configs,
    rows: Sequence[SummaryRow],
    preference: str = DEFAULT_PREFERENCE,
    allocator_runtime: Mapping[tuple[str, str], Interval] | None = None,
) -> list[Choice]:
    """One choice per Python version of the report."""
    found, excluded = candidates(frame, configs, rows)
    pythons = list(dict.fromkeys(configs.keys[label][1] for label in configs.order))
    return [
        _choose_one(
            python,
            [c for c in found if c.python == python],
            [e for e in excluded if _python_of(e, configs) == python],
            preference,
            allocator_runtime or {},
            frame,
        )
        for python in pythons
    ]


def _python_of(entry: Excluded, configs: Configs) -> str:
    label = entry.name.split(" on ", 1)[1]
    return configs.keys[label][1]


def _choose_one(
    python: str,
    found: list[Candidate],
    excluded: list[Excluded],
    preference: str,
    allocator_runtime: Mapping[tuple[str, str], Interval],
    frame: pd.DataFrame,
) -> Choice:
    choice = Choice(python, preference, candidates=found, excluded=excluded)
    if not found:
        choice.no_choice = (
            "this run built no app image that could be shipped (the build and size groups "
            "make them), so it recommends no (strategy, base) pair; its other figures stand"
            if not excluded
            else "no app image of this run was built and started on any base"
        )
        return choice
    if not any(c.measured for c in found):
        choice.no_choice = (
            f"the run measured no image size, build time or runtime of the {len(found)} app "
            "image(s) it built, so there is nothing to choose by (the size, build and runtime "
            "groups measure them)"
        )
        return choice
    ranked = rank(found, preference)
    choice.chosen = ranked[0]
    # The runner-up is the best on another base: that is the choice the team is making.
    choice.runner_up = next((c for c in ranked[1:] if c.config != ranked[0].config), None)
    front = pareto_front(found)
    choice.front = [c for c in ranked if c in front]
    choice.costs = costs(choice.chosen, choice.runner_up)
    choice.notes = _notes(choice.chosen, found, allocator_runtime, frame)
    return choice


def costs(chosen: Candidate, other: Candidate | None) -> list[str]:
    """What the choice trades against ``other``, in the units a team pays in."""
    if other is None:
        return ["it is the only base with a shippable app image in this run"]
    lines = [f"against the runner-up, {other.name}:"]
    if not (math.isnan(chosen.size) or math.isnan(other.size)):
        delta = chosen.size - other.size
        word = "more" if delta > 0 else "less"
        lines.append(f"{quantity(abs(delta), 'bytes')} {word} per pull (compressed app image)")
    else:
        lines.append("image size: no data")
    if not (math.isnan(chosen.build_s) or math.isnan(other.build_s)):
        delta = chosen.build_s - other.build_s
        n = min(chosen.build.n if chosen.build else 0, other.build.n if other.build else 0)
        sign = "+" if delta >= 0 else "-"
        lines.append(f"{sign}{abs(delta):.1f} s build ({rounds_note(n)})")
    else:
        lines.append("build time: no data")
    lines.append(_runtime_difference(chosen, other))
    return lines


def _runtime_difference(chosen: Candidate, other: Candidate) -> str:
    a, b = chosen.runtime, other.runtime
    if math.isnan(a.estimate) or math.isnan(b.estimate):
        return "runtime: no data"
    if chosen.config == other.config:
        return "runtime: the same Python build"
    ratio = a.estimate / b.estimate
    if a.has_ci and b.has_ci:
        overlap = not (a.low > b.high or b.low > a.high)
        if overlap:
            return f"runtime n.s. ({ratio:.2f}× the runner-up's; their intervals overlap)"
        return f"runtime {ratio:.2f}× the runner-up's (intervals apart)"
    rounds = (
        min(r for r in (chosen.runtime_rounds, other.runtime_rounds) if r)
        if (chosen.runtime_rounds or other.runtime_rounds)
        else 0
    )
    return f"runtime {ratio:.2f}× the runner-up's, untested (n = {rounds} rounds)"


def _notes(
    chosen: Candidate,
    found: Sequence[Candidate],
    allocator_runtime: Mapping[tuple[str, str], Interval],
    frame: pd.DataFrame,
) -> list[str]:
    notes = []
    for c in {c.config: c for c in found}.values():
        if not c.runtime_penalty:
            continue
        mine = {a: iv for (config, a), iv in allocator_runtime.items() if config == c.config}
        shipped = default_allocator(list(mine))
        fixes = [
            (alloc, iv)
            for alloc, iv in sorted(mine.items())
            if alloc != shipped and not math.isnan(iv.estimate)
        ]
        kind = "runtime penalty" if c.runtime.has_ci else "suspected runtime penalty"
        for alloc, iv in fixes:
            # Closed: the interval reaches the reference; with too few rounds for an
            # interval, the estimate within the tolerance (and said to be untested).
            closes = iv.low <= 1.0 if iv.has_ci else iv.estimate <= RUNTIME_TOLERANCE
            what = "closes" if closes else "does not close"
            notes.append(
                f"{c.config}'s {kind} ({c.runtime.estimate:.2f}×) {what} with {alloc}: "
                f"{_interval(iv)} of the reference; cost: {_allocator_cost(alloc)}"
            )
    if chosen.sdist:
        notes.append(
            f"on {chosen.config}, {len(chosen.sdist)} measured package(s) compile from source "
            f"({', '.join(chosen.sdist)}): the build needs their compilers and headers"
        )
    if chosen.caveat:
        notes.append(f"{chosen.name} {chosen.caveat}")
    return notes


def _interval(iv: Interval) -> str:
    if iv.has_ci:
        return f"{iv.estimate:.2f}× [{iv.low:.2f}–{iv.high:.2f}]"
    return f"{iv.estimate:.2f}× (untested: too few rounds for an interval)"


def _allocator_cost(allocator: str) -> str:
    if allocator == "mimalloc":
        return "PYTHONMALLOC=mimalloc (bundled with CPython 3.13+, no extra bytes)"
    return f"{allocator} preloaded (LD_PRELOAD): one more shared library in the image"


# --- the page -------------------------------------------------------------------------------


def recommendation_blocks(choices: Sequence[Choice]) -> list[Block]:
    """The recommendation per Python version, its costs, the Pareto table, what is out."""
    blocks: list[Block] = []
    several = len(choices) > 1
    for choice in choices:
        prefix = f"Python {choice.python}: " if several else ""
        if choice.chosen is None:
            blocks.append(Para(f"**{prefix}No recommendation**: {choice.no_choice}."))
            continue
        c = choice.chosen
        blocks.append(
            Para(
                f"**{prefix}Recommendation: build with `{c.strategy}`, ship on `{c.config}`** "
                f"(rule `{choice.preference}`: {RULES[choice.preference]}; change it with "
                f"`basebench report --prefer {'|'.join(RULES)}`)."
            )
        )
        trade = choice.costs[0]
        if len(choice.costs) > 1:
            trade += " " + "; ".join(choice.costs[1:])
        blocks.append(Bullets([_costs_of(c), trade, *choice.notes]))
        blocks.append(_front_table(choice))
        if choice.excluded:
            blocks.append(
                Bullets([f"not a candidate: {e.name}: {e.reason}" for e in choice.excluded])
            )
    return blocks


def _costs_of(c: Candidate) -> str:
    size = quantity(c.size, "bytes") + " compressed" if not math.isnan(c.size) else "size: no data"
    if c.build is not None and c.build.n:
        build = f"built in {c.build_s:.1f} s ({rounds_note(c.build.n)})"
    else:
        build = "build time: no data"
    return f"its app image: {size}, {build}, runtime {_runtime_text(c)}"


def _runtime_text(c: Candidate) -> str:
    iv = c.runtime
    if math.isnan(iv.estimate):
        return "no data"
    if iv.low == iv.high == iv.estimate == 1.0:
        return "the reference"
    if iv.has_ci:
        return f"{_interval(iv)} the reference"
    return f"{iv.estimate:.2f}× the reference, untested (n = {c.runtime_rounds} rounds)"


def _front_table(choice: Choice) -> Table:
    shown = [c for c in rank(choice.candidates, choice.preference) if c in choice.front]
    body = [
        [
            f"**{c.strategy}** (chosen)" if c == choice.chosen else c.strategy,
            c.config,
            quantity(c.size, "bytes") + (" ¹" if c.caveat else ""),
            f"{c.build_s:.1f} s ({rounds_note(c.build.n)})"
            if c.build is not None and c.build.n
            else "–",
            _runtime_text(c),
        ]
        for c in shown
    ]
    dominated_n = len(choice.candidates) - len(shown)
    caveats = sorted({c.caveat for c in shown if c.caveat})
    return Table(
        ["Strategy", "Base", "App image compressed", "Build", "Runtime"],
        body,
        align=["l", "l", "r", "r", "l"],
        caption=f"the Pareto front: no other candidate is at least as good on size, build time "
        f"and runtime together ({dominated_n} more candidate(s) are beaten on all three and "
        "left out; the build section lists every one)"
        + "".join(f"; ¹ {caveat}" for caveat in caveats),
    )


def glossary_blocks(strategies: Sequence[str]) -> list[Block]:
    """What each build strategy named on the page builds."""
    if not strategies:
        return []
    known = load_strategies().by_name
    lines = []
    for name in strategies:
        if name in known:
            lines.append(f"`{name}`: {known[name].description}")
        elif name == CUSTOM:
            lines.append(f"`{name}`: your own Dockerfile (--dockerfile), built from --app")
    return [Heading("Strategies", level=3), Bullets(lines)] if lines else []
