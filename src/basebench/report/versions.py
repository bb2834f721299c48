"""Python X vs Y: what a new Python changes on each base, from one run that measured both.

The runtime group interleaves every (python, variant, allocator) series of a workload round by
round, so the two versions of one base share each round's machine state: their ratio is a
within-run comparison like the variant ratios. Two separate runs are compared with
``basebench compare --pair-python`` instead, which warns about everything that differs between
them; this section reuses its per-metric decisions (one Holm family per version pair), so a row
here and a row there mean the same thing.

Per base, the section answers the questions a team asks before moving to a new Python: is it
faster (per mechanism, and the mechanism-weighted headline), does it change the musl penalty,
does it start faster, is the image bigger, did a package lose its wheel (the classic
new-version failure: a wheel for the old version, only an sdist or nothing for the new one),
and do builds take longer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pandas as pd

from basebench.report.analysis import (
    RUNTIME_METRIC,
    Pairs,
    least_rounds,
    mechanism_exponents,
    select,
    shipped_pairs,
    workload_manifest,
)
from basebench.report.compare import (
    IMPROVED,
    REGRESSED,
    UNCHANGED,
    MetricComparison,
    compare_frames,
)
from basebench.report.doc import Block, Bullets, Heading, Para, Table
from basebench.report.fmt import interval_text, quantity, verdict
from basebench.report.frame import Configs, ordered_variants
from basebench.report.stats import ALPHA, Interval, ratio_of_medians
from basebench.versions import version_key

#: A change smaller than this is reported as "unchanged" even when significant (compare's
#: default factor: the two sections must not disagree about the same pair of series).
FACTOR = 1.10

_PRERELEASE = re.compile(r"^\d+\.\d+\.\d+(a|b|rc)\d+")


def is_prerelease(full_version: str) -> bool:
    """3.15.0a2, 3.15.0rc1 (CPython's own spelling, as ``python --version`` prints it)."""
    return bool(_PRERELEASE.match(full_version.strip()))


def prerelease_versions(metas: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """python ("3.15") -> its full pre-release version, for every base image of the runs."""
    out: dict[str, str] = {}
    for meta in metas:
        for image in (meta.get("images") or {}).values():
            full = str(image.get("python.version", ""))
            if image.get("python") and is_prerelease(full):
                out[str(image["python"])] = full
    return out


def python_label(python: str, prereleases: Mapping[str, str]) -> str:
    """ "3.15 (pre-release 3.15.0a2)" or just "3.14"."""
    full = prereleases.get(python)
    return f"{python} (pre-release {full})" if full else python


def python_pairs(configs: Configs) -> list[tuple[str, str]]:
    """Each Python against the next newer one the report measured: (old, new)."""
    versions = sorted({p for _, p, _ in configs.keys.values() if p}, key=version_key)
    return list(pairwise(versions))


@dataclass(frozen=True)
class Row:
    what: str
    old: str
    new: str
    change: str
    verdict: str


def versions_blocks(
    frame: pd.DataFrame, configs: Configs, metas: Sequence[Mapping[str, Any]]
) -> list[Block]:
    """A "Python X vs Y" section per pair of versions; nothing when the run has one Python."""
    prereleases = prerelease_versions(metas)
    blocks: list[Block] = []
    for old, new in python_pairs(configs):
        blocks += _pair_blocks(frame, configs, metas, (old, new), prereleases)
    return blocks


def _pair_blocks(
    frame: pd.DataFrame,
    configs: Configs,
    metas: Sequence[Mapping[str, Any]],
    pair: tuple[str, str],
    prereleases: Mapping[str, str],
) -> list[Block]:
    old, new = pair
    both = [
        v
        for v in ordered_variants(frame, metas)
        if {old, new} <= set(frame.loc[frame["variant"] == v, "python"].tolist())
    ]
    if not both:
        return []
    rows, _, _ = compare_frames(
        frame[frame["python"] == old], frame[frame["python"] == new], pair_python=pair, drifts=()
    )
    names = f"Python {python_label(old, prereleases)} vs {python_label(new, prereleases)}"
    blocks: list[Block] = [
        Heading(names),
        Para(
            f"What moving from {old} to {new} changes on each base image, measured in this run "
            f"(the two versions interleaved round by round). Change is {new}/{old}: above 1 "
            f"is slower or bigger. A change is named only when its test stays significant "
            f"after Holm's correction over this section and it exceeds {FACTOR:.2f}× "
            "(`basebench compare`'s rule); so is a runtime mechanism of one workload, without "
            "the factor. A mechanism of several workloads, the headline and the gap are "
            "summaries, judged by their 95 % bootstrap interval."
        ),
    ]
    for variant in both:
        mine = [r for r in rows if r.variant == variant]
        table = [
            *_runtime_rows(frame, variant, pair, mine),
            *_musl_penalty_rows(frame, configs, variant, pair),
            *_metric_rows(mine),
        ]
        blocks.append(Heading(f"{variant}: {old} → {new}", level=3))
        if table:
            blocks.append(
                Table(
                    ["", old, new, f"{new}/{old} [95 % CI]", "verdict"],
                    [[r.what, r.old, r.new, r.change, r.verdict] for r in table],
                    align=["l", "r", "r", "r", "l"],
                )
            )
        wheels = wheel_changes(frame, variant, pair)
        if wheels:
            blocks.append(Bullets(wheels))
        elif _installed_on_both(frame, variant, pair):
            blocks.append(
                Para(
                    f"Every package measured installs the same way on {old} and {new} here "
                    "(the same wheel platform tag, or the same sdist build): no wheel lost."
                )
            )
    return blocks


# --- runtime --------------------------------------------------------------------------------


def _interval_row(what: str, interval: Interval, rounds: int, old: str, new: str) -> Row:
    judged = verdict(interval.estimate, interval.excludes_one, rounds=rounds)
    return Row(what, old, new, interval_text(interval), judged)


def _runtime_rows(
    frame: pd.DataFrame, variant: str, pair: tuple[str, str], tests: Sequence[MetricComparison]
) -> list[Row]:
    """A row per mechanism and the headline. A mechanism of one workload is that workload's
    comparison, judged by its round test Holm-corrected over the section (``tests``, from
    compare): 11 uncorrected 95 % intervals per base would call one change in two runs by
    chance. A mechanism of several workloads, and the headline, are summaries judged by their
    interval, as in the runtime section."""
    old, new = pair
    pairs, mechanisms, series = shipped_pairs(frame, (new, variant), (old, variant))
    if not pairs:
        return []
    corrected = {
        (t.benchmark, t.allocator): t
        for t in tests
        if t.group == "runtime" and t.metric == RUNTIME_METRIC and t.variant == variant
    }
    out = []
    manifest = workload_manifest()
    for mechanism in dict.fromkeys(sorted(mechanisms, key=manifest.mechanism_rank)):
        members = [i for i, m in enumerate(mechanisms) if m == mechanism]
        mine = [pairs[i] for i in members]
        interval = ratio_of_medians(mine)
        significant = interval.excludes_one
        if len(members) == 1:
            test = corrected.get(series[members[0]])
            significant = test is not None and test.tested and test.p_adjusted < ALPHA
        count = f"{len(mine)} workload{'s' if len(mine) > 1 else ''}"
        judged = verdict(interval.estimate, significant, rounds=least_rounds(mine))
        out.append(Row(f"runtime: {mechanism} ({count})", "", "", interval_text(interval), judged))
    headline = ratio_of_medians(pairs, exponents=mechanism_exponents(mechanisms))
    what = f"runtime headline ({len(set(mechanisms))} mechanisms, each counted once)"
    out.append(_interval_row(what, headline, least_rounds(pairs), "", ""))
    return out


def _musl_penalty_rows(
    frame: pd.DataFrame, configs: Configs, variant: str, pair: tuple[str, str]
) -> list[Row]:
    """Does the new Python change this variant's gap to the baseline variant? The headline at
    each version, and their ratio with one interval (a ratio of two ratios, bootstrapped)."""
    baseline = configs.baseline_variant
    if variant == baseline:
        return []
    old, new = pair
    gaps: list[Interval] = []
    both: Pairs = []
    exponents: list[float] = []
    for python, sign in ((new, 1.0), (old, -1.0)):
        pairs, mechanisms, _ = shipped_pairs(frame, (python, variant), (python, baseline))
        if not pairs:
            return []
        weights = mechanism_exponents(mechanisms)
        gaps.append(ratio_of_medians(pairs, exponents=weights))
        # gap_new / gap_old = prod (v_new/b_new)^w * prod (v_old/b_old)^-w
        both += pairs
        exponents += [sign * w for w in weights]
    change = ratio_of_medians(both, exponents=exponents)
    rounds = least_rounds(both)
    judged = verdict(change.estimate, change.excludes_one, rounds=rounds)
    judged = judged.replace("slower", "wider gap").replace("faster", "narrower gap")
    return [
        Row(
            f"runtime gap to {baseline} (headline ratio)",
            interval_text(gaps[1]),
            interval_text(gaps[0]),
            interval_text(change),
            judged,
        )
    ]


# --- everything compare decides: start-up, sizes, builds, installs ---------------------------

#: (group, metric) -> the row's name; the strategy or package is added.
_SHOWN = {
    ("startup", "wall_time"): "start-up",
    ("size", "compressed"): "size compressed",
    ("size", "uncompressed"): "size uncompressed",
    ("build", "wall_time"): "build",
    ("install", "wall_time"): "install",
}


def _metric_rows(rows: Sequence[MetricComparison]) -> list[Row]:
    order = list(_SHOWN)
    shown = [r for r in rows if (r.group, r.metric) in _SHOWN]
    shown.sort(key=lambda r: (order.index((r.group, r.metric)), r.strategy, r.benchmark))
    out = []
    for r in shown:
        change = f"{r.worse_ratio:.2f}×"
        if not math.isnan(r.ci[0]):
            change += f" [{r.ci[0]:.2f}–{r.ci[1]:.2f}]"
        out.append(
            Row(
                _row_name(r),
                quantity(r.baseline_median, r.unit),
                quantity(r.new_median, r.unit),
                change,
                _status_words(r),
            )
        )
    return out


def _row_name(r: MetricComparison) -> str:
    name = _SHOWN[(r.group, r.metric)]
    # App images carry their strategy; a base image's row is named after the image role.
    subject = r.strategy or ("base image" if r.benchmark in ("", "base") else r.benchmark)
    if r.group == "install":
        return f"{name} {r.benchmark}"
    if r.group == "startup":
        return f"{name} `{r.benchmark}` ({r.strategy or 'base image'})"
    return f"{name} ({subject})"


def _status_words(r: MetricComparison) -> str:
    pct = abs(r.worse_ratio - 1.0) * 100
    if r.status == REGRESSED:
        return f"{pct:.0f} % {'bigger' if r.group == 'size' else 'slower'}"
    if r.status == IMPROVED:
        return f"{pct:.0f} % {'smaller' if r.group == 'size' else 'faster'}"
    if not r.exact and not r.tested:
        return f"untested (n = {min(r.rounds)})"
    if r.status == UNCHANGED:
        return f"within ±{(FACTOR - 1) * 100:.0f} %"
    return str(r.status)


def wheel_changes(frame: pd.DataFrame, variant: str, pair: tuple[str, str]) -> list[str]:
    """One line per package whose way of installing differs between the two versions:
    "lxml: wheel (manylinux_2_28_x86_64) on 3.13, compiled from sdist on 3.14"."""
    install = select(frame, group="install")
    install = install[install["variant"] == variant]
    old, new = pair
    how: dict[str, dict[str, str]] = {}
    for (package, python), rows in install.groupby(["benchmark", "python"]):
        details = [d for d in rows["detail"].tolist() if d]
        failed = rows.loc[rows["metric"] == "failed", "value"]
        text = _install_way(details[0] if details else "", bool((failed > 0).any()))
        how.setdefault(str(package), {})[str(python)] = text
    lines = []
    for package, ways in sorted(how.items()):
        a, b = ways.get(old, "not measured"), ways.get(new, "not measured")
        if a != b:
            lines.append(f"**{package}**: {a} on {old}, {b} on {new}")
    return lines


def _installed_on_both(frame: pd.DataFrame, variant: str, pair: tuple[str, str]) -> bool:
    install = select(frame, group="install")
    pythons = set(install.loc[install["variant"] == variant, "python"].tolist())
    return set(pair) <= pythons


def _install_way(detail: str, failed: bool) -> str:
    kind, _, tag = detail.partition(":")
    if failed or kind == "failed":
        return "failed to install"
    if kind == "wheel":
        return f"wheel ({tag})" if tag else "wheel"
    if kind == "sdist":
        return "compiled from sdist"
    return detail or "installed"
