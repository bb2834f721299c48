"""data.csv and ratios.csv: the report's numbers for pandas, spreadsheets and notebooks.

**data.csv** is the tidy table (one row per measured value, :data:`DATA_COLUMNS`) with a
``status`` on every row and a unit on every row:

- ``measured``: ``value`` is a measurement, in ``unit``;
- ``failed``: the step was tried and failed (``detail`` says why); no value. A failed install's
  time to failure is not an install time, so its timing rows carry none either;
- ``not_applicable``: the step cannot be done on that base (``detail`` says why); no value;
- ``untested``: the run's configuration asked for it (a build strategy, a package of the run's
  set) and the run has no result at all for it, e.g. it stopped first; no value.

Rows that only recorded a state (a build's ``not_applicable``/``failed`` row, an install's 0/1
``failed`` flag) become the row of the metric they stand for (``wall_time`` in s) with that
status. CSV has no types, so a table schema (Frictionless Table Schema, ``data.schema.json``)
travels with it and :func:`read_data_csv` reads it back typed: ``python`` stays text ("3.10",
not 3.1), ``value`` is a float with NaN where there is none.

**ratios.csv** holds every ratio the report states (:data:`RATIO_COLUMNS`): each runtime ratio
per workload with its interval, rounds per side, test, p-value, Holm-adjusted p-value and
verdict, and each variant's summary over workloads.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from basebench.report.analysis import (
    MechanismRatio,
    RuntimeRatio,
    SummaryRow,
    mechanism_ratios,
    runtime_ratios,
    summarise,
)
from basebench.report.fmt import verdict
from basebench.report.frame import Configs, default_allocator, variant_names
from basebench.report.stats import MIN_ROUNDS
from basebench.results import HOST_PROBE_GROUP, TIDY_COLUMNS

MEASURED = "measured"
FAILED = "failed"
NOT_APPLICABLE = "not_applicable"
UNTESTED = "untested"
STATUSES = (MEASURED, FAILED, NOT_APPLICABLE, UNTESTED)

#: The tidy columns with ``status`` before the value it qualifies.
DATA_COLUMNS = (*TIDY_COLUMNS[: TIDY_COLUMNS.index("value")], "status", *TIDY_COLUMNS[-5:])
INTEGER_COLUMNS = ("sample", "round")
NUMBER_COLUMNS = ("value",)
TEXT_COLUMNS = tuple(c for c in DATA_COLUMNS if c not in INTEGER_COLUMNS + NUMBER_COLUMNS)
#: The unit of a number that has none (a plain count of something unnamed): UCUM's "1".
DIMENSIONLESS = "1"
#: The metric a state-only row stands for, and its unit.
STATE_METRIC, STATE_UNIT = "wall_time", "s"
#: What identifies one series of an install or a build (its metrics share its outcome).
SERIES = ("run", "group", "benchmark", "variant", "python", "strategy", "allocator")
NOT_ATTEMPTED = "no result in this run: not attempted (the run stopped, or an earlier step failed)"

COLUMN_DESCRIPTIONS = {
    "run": "run id (the results/<run-id>/ folder)",
    "python": "Python minor version, as text (3.10 is not 3.1)",
    "status": "measured | failed | not_applicable | untested; only measured rows have a value",
    "value": "the measurement in unit; empty unless status is measured",
    "unit": "s, ms, bytes, count, req/s, load...; 1 = dimensionless",
    "round": "unit of replication: values of one round share it (one pyperf container)",
    "detail": "wheel tag, failure or not-applicable reason, layer kind, pyperf warnings",
}


def data_frame(tidy: pd.DataFrame, metas: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """The rows of data.csv from the normalised tidy frame (host probes included)."""
    out = tidy.copy()
    out["status"] = MEASURED
    # A build's state rows: "not_applicable" or "failed" in place of a wall time.
    state = (out["group"] == "build") & out["metric"].isin([NOT_APPLICABLE, FAILED])
    out.loc[state, "status"] = out.loc[state, "metric"]
    out = _no_value(out, state)
    out = _install_outcomes(out)
    out.loc[out["unit"] == "", "unit"] = DIMENSIONLESS
    out = pd.concat([out, _untested(out, metas)], ignore_index=True)
    return out.loc[:, list(DATA_COLUMNS)]


def _no_value(frame: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """Rows under ``mask`` become the state metric's row, without a value."""
    frame = frame.copy()
    frame.loc[mask, "metric"] = STATE_METRIC
    frame.loc[mask, "unit"] = STATE_UNIT
    frame.loc[mask, "value"] = math.nan
    return frame


def _install_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """The install group's 0/1 ``failed`` flag becomes the status of its series' rows."""
    series = frame[list(SERIES)].apply(tuple, axis=1)
    flags = (frame["group"] == "install") & (frame["metric"] == FAILED)
    failed = series.isin(set(series[flags & (frame["value"] > 0)]))
    # A download that worked before the build failed is a measured download.
    download_ok = ~frame["detail"].str.startswith("failed: download")
    no_value = failed & ~flags & ((frame["metric"] != "download_time") | ~download_ok)
    frame = frame.copy()
    frame.loc[no_value, "status"] = FAILED
    frame.loc[no_value, "value"] = math.nan
    # A failure with no timed attempt (its download failed) keeps its flag's row, as the row
    # of the time it has none of.
    timed = set(series[no_value & (frame["metric"] == STATE_METRIC)])
    lone = flags & failed & ~series.isin(timed)
    frame.loc[lone, "status"] = FAILED
    frame = _no_value(frame, lone)
    return frame[~flags | lone]


def _untested(frame: pd.DataFrame, metas: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A row for each build strategy and package a run was asked to measure, per variant and
    Python of the run, for which it has no row at all."""
    rows: list[dict[str, Any]] = []
    for meta in metas:
        run = str(meta.get("run_id", ""))
        config = meta.get("config") or {}
        mine = frame[(frame["run"] == run) & (frame["group"] != HOST_PROBE_GROUP)]
        tags = _variant_tags(mine, meta)
        asked = {str(g) for g in config.get("groups") or []}
        expected = {
            "build": [str(s) for s in config.get("strategies") or []] if "build" in asked else [],
            "install": _packages(mine) if "install" in asked else [],
        }
        for group, benchmarks in expected.items():
            have = set(
                zip(
                    *(
                        mine.loc[mine["group"] == group, c]
                        for c in ("benchmark", "variant", "python")
                    ),
                    strict=True,
                )
            )
            for (variant, python), (libc, source) in tags.items():
                for benchmark in benchmarks:
                    if (benchmark, variant, python) in have:
                        continue
                    strategy = benchmark if group == "build" else ""
                    rows.append(
                        {
                            "run": run,
                            "group": group,
                            "benchmark": benchmark,
                            "variant": variant,
                            "python": python,
                            "libc": libc,
                            "base_source": source,
                            "strategy": strategy,
                            "allocator": "",
                            "metric": STATE_METRIC,
                            "status": UNTESTED,
                            "value": math.nan,
                            "unit": STATE_UNIT,
                            "sample": 0,
                            "round": 0,
                            "detail": NOT_ATTEMPTED,
                        }
                    )
    return pd.DataFrame(rows, columns=list(DATA_COLUMNS))


def _packages(rows: pd.DataFrame) -> list[str]:
    return sorted(set(rows.loc[rows["group"] == "install", "benchmark"].tolist()))


def _variant_tags(
    rows: pd.DataFrame, meta: Mapping[str, Any]
) -> dict[tuple[str, str], tuple[str, str]]:
    """(variant, python) -> (libc, base source) of every pair the run measured or was asked
    to (the configured variants at each configured Python)."""
    tags: dict[tuple[str, str], tuple[str, str]] = {}
    for variant, python, libc, source in (
        rows[["variant", "python", "libc", "base_source"]].drop_duplicates().to_numpy()
    ):
        if variant:
            tags.setdefault((str(variant), str(python)), (str(libc), str(source)))
    pythons = [str(p) for p in (meta.get("config") or {}).get("pythons") or []]
    source = str(meta.get("base_source", ""))
    for variant in variant_names(meta):
        for python in pythons:
            tags.setdefault((variant, python), ("", source))
    return tags


def table_schema() -> dict[str, Any]:
    """data.csv's columns and types as a Frictionless Table Schema."""
    kinds = {c: "string" for c in TEXT_COLUMNS} | {c: "integer" for c in INTEGER_COLUMNS}
    kinds |= {c: "number" for c in NUMBER_COLUMNS}
    fields = []
    for column in DATA_COLUMNS:
        entry: dict[str, Any] = {"name": column, "type": kinds[column]}
        if column in COLUMN_DESCRIPTIONS:
            entry["description"] = COLUMN_DESCRIPTIONS[column]
        if column == "status":
            entry["constraints"] = {"enum": list(STATUSES)}
        fields.append(entry)
    return {"fields": fields, "missingValues": [""]}


def schema_json() -> str:
    return json.dumps(table_schema(), indent=2) + "\n"


def read_data_csv(path: Path) -> pd.DataFrame:
    """A data.csv back as written: text columns as text (``python`` "3.10" stays "3.10"),
    ``sample``/``round`` as integers, ``value`` as float (NaN where a row has none)."""
    dtypes: dict[str, Any] = {c: str for c in TEXT_COLUMNS} | {c: np.int64 for c in INTEGER_COLUMNS}
    return pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values={"value": [""]})


# --- ratios.csv -------------------------------------------------------------------------------

RATIO_COLUMNS = (
    "kind",
    "group",
    "benchmark",
    "metric",
    "run",
    "python",
    "variant",
    "allocator",
    "baseline",
    "baseline_allocator",
    "ratio",
    "ci_low",
    "ci_high",
    "n_rounds",
    "n_rounds_baseline",
    "test",
    "p",
    "p_holm",
    "verdict",
)
WORKLOAD = "workload"
MECHANISM = "mechanism"
SUMMARY = "summary"
WELCH = "welch_t_log_round_medians"


def ratio_frame(frame: pd.DataFrame, configs: Configs) -> pd.DataFrame:
    """Every ratio the report states, from the labelled frame: the same functions (and seeds)
    the report's runtime section and summary use, so the numbers are the report's."""
    ratios = runtime_ratios(frame, configs)
    rows = [_workload_row(r, configs) for r in ratios]
    rows += [_mechanism_row(m, configs) for m in mechanism_ratios(frame, ratios)]
    summaries = (_summary_row(s, ratios, configs) for s in summarise(frame, configs))
    rows += [row for row in summaries if row is not None]
    return pd.DataFrame(rows, columns=list(RATIO_COLUMNS))


def _where(configs: Configs, label: str) -> dict[str, str]:
    run, python, variant = configs.keys[label]
    return {"run": run, "python": python, "variant": variant}


def _workload_row(r: RuntimeRatio, configs: Configs) -> dict[str, Any]:
    iv = r.interval
    return {
        "kind": WORKLOAD,
        "group": "runtime",
        "benchmark": r.benchmark,
        "metric": "time",
        **_where(configs, r.config),
        "allocator": r.allocator,
        "baseline": r.reference,
        "baseline_allocator": r.reference_allocator,
        "ratio": iv.estimate,
        "ci_low": iv.low,
        "ci_high": iv.high,
        "n_rounds": r.rounds[0],
        "n_rounds_baseline": r.rounds[1],
        "test": WELCH if r.tested else f"untested (fewer than {MIN_ROUNDS} rounds on a side)",
        "p": r.p_value,
        "p_holm": r.p_adjusted,
        "verdict": verdict(iv.estimate, r.significant, rounds=r.least_rounds),
    }


def _mechanism_row(m: MechanismRatio, configs: Configs) -> dict[str, Any]:
    """A mechanism's ratio: its one workload's comparison, or a summary of several."""
    iv = m.interval
    single = len(m.workloads) == 1
    return {
        "kind": MECHANISM,
        "group": "runtime",
        "benchmark": f"{m.mechanism}: {', '.join(m.workloads)}",
        "metric": "time",
        **_where(configs, m.config),
        "allocator": m.allocator,
        "baseline": m.reference,
        "baseline_allocator": m.reference_allocator,
        "ratio": iv.estimate,
        "ci_low": iv.low,
        "ci_high": iv.high,
        "n_rounds": m.least_rounds,
        "n_rounds_baseline": m.least_rounds,
        "test": "its workload's row" if single else "none: a summary, decided by its interval",
        "p": math.nan,
        "p_holm": math.nan,
        "verdict": verdict(iv.estimate, m.significant, rounds=m.least_rounds),
    }


def _summary_row(
    row: SummaryRow, ratios: Sequence[RuntimeRatio], configs: Configs
) -> dict[str, Any] | None:
    """A variant's headline ratio over workloads (its interval decides, no test)."""
    mine = [r for r in ratios if r.config == row.config]
    if row.is_reference or not row.workloads or not mine:
        return None
    iv = row.runtime
    # The headline is each variant's default allocator; the baseline's is the reference's.
    allocators = [r.allocator for r in mine]
    return {
        "kind": SUMMARY,
        "group": "runtime",
        "benchmark": f"geometric mean of {row.workloads} workloads",
        "metric": "time",
        **_where(configs, row.config),
        "allocator": default_allocator(allocators),
        "baseline": mine[0].reference,
        "baseline_allocator": mine[0].reference_allocator,
        "ratio": iv.estimate,
        "ci_low": iv.low,
        "ci_high": iv.high,
        "n_rounds": row.runtime_rounds,
        "n_rounds_baseline": row.runtime_rounds,
        "test": "none: a summary over workloads, decided by its 95 % interval; n = the fewest "
        "rounds of any series in it",
        "p": math.nan,
        "p_holm": math.nan,
        "verdict": verdict(iv.estimate, iv.excludes_one, rounds=row.runtime_rounds),
    }
