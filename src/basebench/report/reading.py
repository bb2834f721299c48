"""The report's "how to read this" part: what is replicated, how often, how it is judged."""

from __future__ import annotations

import pandas as pd

from basebench import groups
from basebench.report.doc import Block, Bullets, Heading, Para
from basebench.report.stats import ALPHA, MIN_ROUNDS

#: A probe's name in words, for the drift rule.
PROBE_WORDS = {
    groups.CPU_PROBE: "the CPU loop",
    groups.CONTAINER_PROBE: "the container start",
}


def _span(numbers: pd.Series, word: str) -> str:
    """ "1 repetition", "15 repetitions", "3–5 repetitions"."""
    low, high = int(numbers.min()), int(numbers.max())
    if low == high:
        return f"{low} {word}" + ("" if low == 1 else "s")
    return f"{low}–{high} {word}s"


def n_text_of(frame: pd.DataFrame) -> str:
    """How many rounds (and values per round) the series of one metric have, in words."""
    keys = ["config", "benchmark", "strategy", "allocator", "detail"]
    per_series = frame.groupby(keys, sort=False).agg(
        rounds=("round", lambda r: r.nunique()), values=("value", "size")
    )
    per_round = frame.groupby([*keys, "run", "round"], sort=False)["value"].size()
    if per_round.max() > 1:
        rounds = _span(per_series["rounds"], "container round")
        return f"{rounds} of {_span(per_round, 'value')} per series"
    return f"{_span(per_series['rounds'], 'repetition')} per series"


def n_per_metric(frame: pd.DataFrame) -> list[str]:
    """n of every metric, group by group; a group's metrics share one line when they agree."""
    lines = []
    for entry in [*groups.in_report_order(), None]:
        if entry is None:
            sub = frame[~frame["group"].isin(groups.WRITTEN_GROUPS)]
        else:
            sub = frame[frame["group"].isin((entry.name, *entry.also_writes))]
        if sub.empty:
            continue
        texts = {str(m): n_text_of(g) for m, g in sub.groupby("metric", sort=False)}
        name = entry.name if entry is not None else "other groups"
        if len(set(texts.values())) == 1:
            lines.append(f"{name}: {next(iter(texts.values()))}")
        else:
            lines += [f"{name} `{metric}`: {text}" for metric, text in texts.items()]
    return lines


def drift_rule() -> str:
    uses: dict[str, list[str]] = {}
    for entry in groups.GROUPS:
        uses.setdefault(entry.host_probe, []).append(entry.name)
    probed = "; ".join(
        f"{', '.join(names)} timings against {PROBE_WORDS.get(probe, probe)}"
        for probe, names in uses.items()
        if probe
    )
    exact = ", ".join(uses.get("", [])) or "none"
    return (
        "**Host drift** (`basebench compare`): each run times host probes. A timing's "
        "threshold is widened by the drift of the probe that measures its kind of "
        f"work ({probed}; the group's own probes where it has enough, else the whole run's), "
        f"only when that drift is itself significant (Mann-Whitney on the probe timings, "
        f"p < {ALPHA}) and only in the direction that could fake a change: a slower host in the "
        "new run widens the regression threshold, a faster one the improvement threshold. "
        f"Values that do not move with the host (every {exact} value, and any size, count or "
        "failure flag elsewhere) are exact: judged by the factor alone. Where a `basebench "
        "validate` run of the same CPU model sits in the results folder, each group's timing "
        "threshold is at least the between-run noise it measured on identical images."
    )


def how_to_read(frame: pd.DataFrame) -> list[Block]:
    """Unit of replication, n per metric, the test, the correction and the drift rule."""
    return [
        Heading("How to read this report", 3),
        Para(
            "**Unit of replication.** For runtime it is the container round: pyperf's values "
            "of one container share its state and differ less than two containers do, so a "
            "series is summarised by its per-round medians and n counts rounds, not values. "
            "Elsewhere each value is one repetition (one build, install, start-up or load "
            "test) and is its own round. n per metric in these runs:"
        ),
        Bullets(n_per_metric(frame)),
        Para(
            "**Test.** A runtime ratio is tested with Welch's t-test on the log of the "
            f"per-round medians of both sides; with fewer than {MIN_ROUNDS} rounds on a side "
            "it is _untested (n = k)_, shown but never ranked nor called faster or slower. "
            "The bracketed interval is a 95 % hierarchical bootstrap (rounds, then values "
            "within each round) of that comparison alone. "
            "**Correction.** The p-values of all runtime ratios of this report form one family "
            f"and are Holm-adjusted; a ratio is significant only when its adjusted p < {ALPHA}. "
            "Holm controls the family-wise error, the chance of even one false faster or "
            "slower anywhere in the report, which is what a team acting on a single verdict "
            "cares about, and it holds whatever the dependence between the comparisons (they "
            "share a reference). The summary's runtime is a geometric mean over mechanisms "
            "(each the geometric mean of its workloads, so that a mechanism counts once however "
            "many workloads measure it) with a bootstrap interval: a summary, not a test; so is "
            "the ratio of a mechanism of several workloads."
        ),
        Para(drift_rule()),
    ]
