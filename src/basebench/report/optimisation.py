"""How each base was compiled next to how its official image is, and the musl gap split up.

A team reading "alpine is 2x slower" needs to know how much of it is musl and how much is how
the image was compiled. The official Debian images are built with PGO + LTO, the official
Alpine ones with LTO only (images/variants.toml ``official_build``); a local stand-in is built
at the run's level. With the same-flags twin (``musl-debianflags``) at the baseline's level
and at the musl variant's level, the gap between the musl variant and the glibc baseline is a
product of three ratios, each measured in the run:

    libc          twin @ baseline's level   / baseline          same flags, same level
    optimisation  twin @ musl's level       / twin @ baseline's level
    flags         musl variant              / twin @ musl's level   same level

The product telescopes to musl variant / baseline exactly (each ratio is a geometric mean over
the same workloads with the same weights), so the three steps account for the whole gap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from basebench.errors import ConfigError
from basebench.report.analysis import (
    RUNTIME_METRIC,
    least_rounds,
    mechanism_exponents,
    select,
    shipped_pairs,
)
from basebench.report.doc import Block, Heading, Para, Table
from basebench.report.fmt import interval_text, ratio, verdict
from basebench.report.frame import Configs
from basebench.report.stats import Interval, ratio_of_medians
from basebench.variants import AS_SHIPPED, Catalogue, load_catalogue
from basebench.versions import version_key

_LEVEL_WORDS = {"none": "no PGO, no LTO", "lto": "LTO", "pgo-lto": "PGO + LTO"}


@dataclass(frozen=True)
class Build:
    """How one (python, variant) base of a run was made, from run.json's image records."""

    python: str
    variant: str
    libc: str
    source: str  # "local" or "official"
    opt_level: str  # "" for an official image (not compiled here)
    flags: str  # "official" or "debian" (local only)
    build_seconds: float | None

    @property
    def same_flags_twin(self) -> bool:
        return self.libc == "musl" and self.flags == "debian"

    @property
    def catalogue(self) -> str:
        """The variant's name in the catalogue (without a pinned ``@LEVEL``)."""
        return self.variant.partition("@")[0]


def level_words(level: str) -> str:
    return f"{level} ({_LEVEL_WORDS[level]})" if level in _LEVEL_WORDS else level or "?"


def builds(metas: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], Build]:
    """(python, variant) -> how its base was built; the last run's record wins."""
    out: dict[tuple[str, str], Build] = {}
    for meta in metas:
        for image in (meta.get("images") or {}).values():
            if not isinstance(image, Mapping) or not image.get("variant"):
                continue
            local = image.get("source") == "local"
            seconds = image.get("build_seconds")
            build = Build(
                python=str(image.get("python", "")),
                variant=str(image["variant"]),
                libc=str(image.get("libc", "")),
                source=str(image.get("source", "")),
                opt_level=str(image.get("opt_level", "")) if local else "",
                flags=str(image.get("flags", "official")) if local else "official",
                build_seconds=float(seconds) if seconds not in (None, "") else None,
            )
            out[(build.python, build.variant)] = build
    return out


def _official_level(catalogue: Catalogue, variant: str) -> str:
    try:
        official = catalogue.get(variant).official_build
    except ConfigError:
        return ""
    return official.opt_level if official else ""


# --- how the bases were compiled ----------------------------------------------------------

#: No CPython compiles faster than this: a build that took less reused every stage of an
#: earlier one (another tag of the same stand-in), so its own time says nothing.
_LEAST_COMPILE_S = 30.0


def _bootstrap_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < _LEAST_COMPILE_S:
        return "– (reused an earlier build)"
    return f"{seconds:,.0f} s"


def compile_blocks(
    metas: Sequence[Mapping[str, Any]], catalogue: Catalogue | None = None
) -> list[Block]:
    """A table of each local base's optimisation level next to its official image's, with
    the bootstrap time, and one sentence when a level differs from the official one."""
    catalogue = catalogue or load_catalogue()
    local = [b for b in builds(metas).values() if b.source == "local"]
    if not local:
        return []
    rows = []
    differ = []
    for b in sorted(local, key=lambda b: (version_key(b.python), b.variant)):
        official = "" if b.same_flags_twin else _official_level(catalogue, b.variant)
        pinned = b.catalogue != b.variant  # a level the run chose for a comparison, on purpose
        if official and official != b.opt_level and not pinned:
            differ.append(f"`{b.variant}` (built {b.opt_level}, official {official})")
        seconds = _bootstrap_text(b.build_seconds)
        rows.append(
            [
                f"{b.python}-{b.variant}",
                level_words(b.opt_level) + (" (pinned)" if pinned else ""),
                level_words(official) if official else "– (not an official image)",
                f"{b.flags} flags",
                seconds,
            ]
        )
    config_levels = {str((m.get("config") or {}).get("opt_level", "")) for m in metas}
    if differ:
        text = (
            "**Not compiled as shipped**: "
            + ", ".join(differ)
            + ". Absolute runtimes are not what the official images give, and a gap between "
            "variants compiled at one level is not the gap between the official images (the "
            "Debian ones are PGO + LTO, Alpine's LTO only); `--opt-level as-shipped` builds "
            "each as its official image is."
        )
    elif AS_SHIPPED in config_levels:
        text = "Every stand-in is compiled at its official image's optimisation level."
    else:
        text = "Every stand-in is compiled at the level its official image uses."
    caption = (
        "bootstrap: how long the base image's build took on the host that built it, once: it "
        "is reused while its recipe and inputs stay the same; stages another base had already "
        "built (the root filesystem, the source, the musl chain) were reused and are not in it"
    )
    return [
        Heading("How the bases were compiled", level=3),
        Para(text),
        Table(
            ["Base", "Optimisation", "Official image's", "Compile flags", "Bootstrap"],
            rows,
            align=["l", "l", "l", "l", "r"],
            caption=caption,
        ),
    ]


# --- the musl gap in three steps ----------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    what: str
    num: str
    den: str
    interval: Interval
    rounds: int


def _step(
    frame: pd.DataFrame, python: str, name: str, what: str, num: str, den: str
) -> Step | None:
    pairs, mechanisms, _ = shipped_pairs(frame, (python, num), (python, den))
    if not pairs:
        return None
    interval = ratio_of_medians(pairs, exponents=mechanism_exponents(mechanisms))
    return Step(name, what, num, den, interval, least_rounds(pairs))


def _pick(builds: Sequence[Build], **wanted: Any) -> Build | None:
    """The first build whose attributes equal ``wanted``."""
    for b in builds:
        if all(getattr(b, k) == v for k, v in wanted.items()):
            return b
    return None


#: (step name, what it compares, numerator, denominator)
_Plan = list[tuple[str, str, Build, Build]]


def _plan(base: Build, shipped: Build, made: Sequence[Build]) -> _Plan:
    """The steps from ``base`` (glibc) to ``shipped`` (musl) the run's builds allow, each
    changing one thing where it can; the whole gap last. [] when there is no same-flags twin.

    The libc step needs the twin at one level with a glibc build of the baseline; the flags
    step the twin at the musl variant's level; the optimisation step is measured on the twin
    (two levels of it) or on the baseline (``NAME@LEVEL`` at the musl variant's level).
    """
    low, high = shipped.opt_level, base.opt_level
    twin_low = _pick(made, libc="musl", flags="debian", opt_level=low)
    twin_high = _pick(made, libc="musl", flags="debian", opt_level=high)
    glibc_low = _pick(made, libc="glibc", flags="official", opt_level=low, catalogue=base.variant)
    libc_what = "musl vs glibc, Debian's flags, both {}"
    flags_what = f"Alpine's vs Debian's, both {low}"
    plan: _Plan = []
    if twin_low is not None and (low == high or glibc_low is not None):
        glibc = base if low == high else glibc_low
        assert glibc is not None
        plan.append(("libc", libc_what.format(low), twin_low, glibc))
        if low != high:
            plan.append(("optimisation level", f"{low} vs {high}, on glibc", glibc, base))
    elif twin_low is not None and twin_high is not None:
        plan.append(("libc", libc_what.format(high), twin_high, base))
        plan.append(("optimisation level", f"{low} vs {high}, on musl", twin_low, twin_high))
    elif twin_low is not None:
        what = f"musl at {low} vs glibc at {high}, Debian's flags"
        plan.append(("libc and optimisation together", what, twin_low, base))
    elif twin_high is not None:
        plan.append(("libc", libc_what.format(high), twin_high, base))
        what = f"Alpine's flags at {low} vs Debian's at {high}"
        plan.append(("flags and optimisation together", what, shipped, twin_high))
    else:
        return []
    if twin_low is not None:
        plan.append(("compile flags", flags_what, shipped, twin_low))
    plan.append(("whole gap", "musl variant vs glibc baseline", shipped, base))
    return plan


def gap_steps(
    frame: pd.DataFrame, configs: Configs, metas: Sequence[Mapping[str, Any]]
) -> dict[str, list[Step]]:
    """Per Python: the steps from the baseline to the musl variant, the whole gap last (see
    :func:`_plan`); none for a Python without a local glibc baseline, a musl variant and the
    same-flags twin."""
    runtime = select(frame, group="runtime", metric=RUNTIME_METRIC)
    made = builds(metas)
    out: dict[str, list[Step]] = {}
    for python in sorted(set(runtime["python"]), key=version_key):
        base = made.get((python, configs.baseline_variant))
        mine = [b for (p, _), b in made.items() if p == python]
        # The musl variant as a team would take it: official flags, no pinned level first.
        musl = sorted(
            (b for b in mine if b.libc == "musl" and not b.same_flags_twin),
            key=lambda b: "@" in b.variant,
        )
        if base is None or base.libc != "glibc" or base.source != "local" or not musl:
            continue
        plan = _plan(base, musl[0], mine)
        steps = [
            _step(frame, python, name, what, a.variant, b.variant) for name, what, a, b in plan
        ]
        if plan and all(s is not None for s in steps):
            out[python] = [s for s in steps if s is not None]
    return out


def _share(step: Step, gap: Step) -> str:
    """The step's part of the gap on a log scale (the steps' logs add up to the gap's)."""
    whole = math.log(gap.interval.estimate)
    if abs(whole) < 1e-9 or math.isnan(whole):
        return "–"
    return f"{100.0 * math.log(step.interval.estimate) / whole:.0f} %"


def _size_bounds(interval: Interval) -> tuple[float, float]:
    """The smallest and largest size |log ratio| inside a step's interval."""
    low, high = math.log(interval.low), math.log(interval.high)
    biggest = max(abs(low), abs(high))
    return (0.0 if low <= 0.0 <= high else min(abs(low), abs(high))), biggest


def _dominant_sentence(steps: Sequence[Step], gap: Step) -> str:
    ranked = sorted(steps, key=lambda s: -abs(math.log(s.interval.estimate)))
    first = ranked[0]
    text = (
        f"The **{first.name}** step is the largest: {ratio(first.interval.estimate)} of the "
        f"{ratio(gap.interval.estimate)} gap ({_share(first, gap)} of it on a log scale)."
    )
    if len(ranked) < 2:
        return text
    second = ranked[1]
    if first.interval.has_ci and second.interval.has_ci:
        apart = _size_bounds(first.interval)[0] > _size_bounds(second.interval)[1]
        return text + (
            f" Even the smallest size its interval allows is larger than the largest the next "
            f"step's allows ({second.name}, {interval_text(second.interval)}): it dominates."
            if apart
            else f" The next step ({second.name}, {interval_text(second.interval)}) could be "
            "as large within the intervals: no single step dominates clearly."
        )
    return text + " (no intervals: fewer rounds than the statistics need)"


def gap_blocks(
    frame: pd.DataFrame, configs: Configs, metas: Sequence[Mapping[str, Any]]
) -> list[Block]:
    """The "Where the musl gap comes from" section; nothing when the run cannot split it."""
    blocks: list[Block] = []
    made = builds(metas)
    for python, steps in gap_steps(frame, configs, metas).items():
        *parts, gap = steps
        product = math.prod(s.interval.estimate for s in parts)
        rows = [
            [
                s.name,
                f"`{s.num}` / `{s.den}` ({s.what})",
                interval_text(s.interval),
                verdict(s.interval.estimate, s.interval.excludes_one, rounds=s.rounds),
                _share(s, gap) if s is not gap else "100 %",
            ]
            for s in steps
        ]
        blocks += [
            Heading(f"Where the musl gap comes from (Python {python})", level=3),
            Para(
                "The runtime headline of the musl variant against the glibc baseline (each "
                "with its default allocator, each mechanism counted once), split into steps "
                "that each change one thing; every ratio is a geometric mean over the same "
                "workloads, with a 95 % hierarchical bootstrap interval, and above 1 is slower. "
                f"The steps multiply to {ratio(product)}, the whole gap is "
                f"{ratio(gap.interval.estimate)}."
            ),
            Table(
                ["Step", "Compared", "Ratio [95 % CI]", "Verdict", "Share of the gap"],
                rows,
                align=["l", "l", "r", "l", "r"],
                caption="share: the step's log ratio over the gap's (steps in opposite "
                "directions give shares above 100 % and below 0)",
            ),
            Para(_dominant_sentence(parts, gap)),
        ]
        mine = {v: b for (p, v), b in made.items() if p == python}
        blocks += _missing_step(parts, gap, mine)
    return blocks


def _missing_step(parts: Sequence[Step], gap: Step, made: Mapping[str, Build]) -> list[Block]:
    """What the run would need to split a step that changes two things at once, or to see the
    optimisation step the official images have."""
    shipped, base = made[gap.num], made[gap.den]
    names = {s.name for s in parts}
    if "libc and optimisation together" in names:
        return [
            Para(
                f"Add `{base.variant}@{shipped.opt_level}` to the run's variants to split the "
                "libc from the optimisation level."
            )
        ]
    if "flags and optimisation together" in names:
        return [
            Para(
                f"Add `musl-debianflags@{shipped.opt_level}` to the run's variants to split "
                "the compile flags from the optimisation level."
            )
        ]
    catalogue = load_catalogue()
    official = (
        _official_level(catalogue, shipped.variant),
        _official_level(catalogue, base.variant),
    )
    if shipped.opt_level == base.opt_level and official[0] and official[0] != official[1]:
        return [
            Para(
                f"Both sides are built at {shipped.opt_level} here, so this gap has no "
                f"optimisation step; the official images have one ({shipped.variant}: "
                f"{official[0]}, {base.variant}: {official[1]}). The `musl-gap` profile "
                "(`--opt-level as-shipped`) measures it."
            )
        ]
    return []
