"""Loading run folders and labelling the configurations the report compares.

The report code is written against the tidy frame from :func:`basebench.results.load_runs`
generically (group by group/benchmark/metric) so that a new metric shows up in the tables
without new code here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from basebench.errors import UserError
from basebench.report.shards import are_shards
from basebench.results import HOST_PROBE_GROUP, TIDY_COLUMNS
from basebench.variants import default_baseline
from basebench.versions import version_key

COLUMNS = TIDY_COLUMNS
TEXT_COLUMNS = tuple(c for c in COLUMNS if c not in ("value", "sample", "round"))

#: CPython's own allocator is what a team gets without configuration, so it is the reference
#: the runtime ratios are measured against ("" when a run does not vary the allocator).
DEFAULT_ALLOCATORS = ("pymalloc", "", "malloc")


def check_run_dirs(run_dirs: Sequence[Path]) -> list[Path]:
    checked = []
    for run_dir in run_dirs:
        path = Path(run_dir)
        if not path.is_dir():
            raise UserError(
                f"{path} is not a run folder; pass a results/<run-id>/ folder written by "
                "'basebench run'"
            )
        if not (path / "run.json").is_file():
            raise UserError(f"{path} has no run.json; is it a results/<run-id>/ folder?")
        checked.append(path)
    if not checked:
        raise UserError("no run folder given")
    return checked


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Check the columns and make the text columns plain strings (no NaN) and value float.

    A frame from before the ``round`` column (an older data.csv) gets round = sample: each
    value its own round, which is what every value but pyperf's was.
    """
    if "round" not in frame.columns and "sample" in frame.columns:
        frame = frame.assign(round=frame["sample"])
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(
            "the results table lacks the columns " + ", ".join(missing) + "; the run folder may "
            "come from an older basebench, re-run 'basebench run'"
        )
    out = frame.loc[:, list(COLUMNS)].copy()
    for column in TEXT_COLUMNS:
        out[column] = out[column].fillna("").astype(str)
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    for column in ("sample", "round"):
        out[column] = pd.to_numeric(out[column], errors="coerce").fillna(0).astype(int)
    return out


def variant_names(meta: Mapping[str, Any]) -> list[str]:
    """Variants in the order the configuration lists them (names or {"name": ...} entries)."""
    config = meta.get("config") or {}
    names: list[str] = []
    for entry in config.get("variants") or []:
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, Mapping) and "name" in entry:
            names.append(str(entry["name"]))
    return names


@dataclass
class Configs:
    """The configurations (run × python × variant) in display order, and the baseline."""

    order: list[str]
    baseline_variant: str
    multi_python: bool
    multi_run: bool
    #: label -> (run, python, variant)
    keys: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def label(self, run: str, python: str, variant: str) -> str:
        return config_label(run, python, variant, self.multi_python, self.multi_run)


def config_label(run: str, python: str, variant: str, multi_python: bool, multi_run: bool) -> str:
    # Python joins the label only when the run spans several versions: "3.13-slim-trixie"
    # reads like the official image tag, and a single-Python report stays uncluttered.
    label = f"{python}-{variant}" if multi_python and python else variant
    return f"{run}:{label}" if multi_run else label


def pick_baseline(frame: pd.DataFrame, metas: Sequence[Mapping[str, Any]]) -> str:
    """config.baseline_variant, else the first glibc slim variant, else the first glibc one."""
    for meta in reversed(metas):
        wanted = (meta.get("config") or {}).get("baseline_variant")
        if wanted:
            return str(wanted)
    libc = dict(zip(frame["variant"], frame["libc"], strict=False))
    return default_baseline([(v, libc.get(v, "")) for v in ordered_variants(frame, metas)])


def ordered_variants(frame: pd.DataFrame, metas: Sequence[Mapping[str, Any]]) -> list[str]:
    present = list(dict.fromkeys(frame["variant"].tolist()))
    listed: list[str] = []
    for meta in metas:
        listed += [v for v in variant_names(meta) if v not in listed]
    # Configured order first (the author's intent); unknown ones glibc first, then by name.
    libc = dict(zip(frame["variant"], frame["libc"], strict=False))
    rest = sorted(
        (v for v in present if v not in listed), key=lambda v: (libc.get(v) != "glibc", v)
    )
    return [v for v in listed if v in present] + rest


def label_configs(
    frame: pd.DataFrame, metas: Sequence[Mapping[str, Any]]
) -> tuple[pd.DataFrame, Configs]:
    """Add a ``config`` column (e.g. "slim-trixie" or "3.13-slim-trixie") and its order.

    Host probes are left out: they describe the machine, not a configuration.
    """
    frame = frame[frame["group"] != HOST_PROBE_GROUP]
    runs = list(dict.fromkeys(frame["run"].tolist()))
    triples = frame[["run", "python", "variant"]].drop_duplicates()
    per_run = triples[["python", "variant"]].duplicated().any()
    pythons = {p for p in frame["python"].tolist() if p}
    multi_python = len(pythons) > 1
    # Several runs only need the run id in the label when they measured the same config;
    # shards of one matrix read as one run (report/shards.py keeps each cell from one shard).
    multi_run = len(runs) > 1 and bool(per_run) and not are_shards(metas)
    variant_rank = {v: i for i, v in enumerate(ordered_variants(frame, metas))}
    run_rank = {r: i for i, r in enumerate(runs)}
    ordered = sorted(
        (tuple(str(x) for x in row) for row in triples.itertuples(index=False)),
        key=lambda t: (version_key(t[1]), variant_rank.get(t[2], 999), run_rank.get(t[0], 0)),
    )
    configs = Configs(
        order=[],
        baseline_variant=pick_baseline(frame, metas),
        multi_python=multi_python,
        multi_run=multi_run,
    )
    for run, python, variant in ordered:
        label = configs.label(run, python, variant)
        if label not in configs.keys:
            configs.order.append(label)
            configs.keys[label] = (run, python, variant)
    out = frame.copy()
    out["config"] = [
        configs.label(r, p, v)
        for r, p, v in zip(out["run"], out["python"], out["variant"], strict=True)
    ]
    return out, configs


def reference_config(configs: Configs, label: str) -> str | None:
    """The baseline variant's config for ``label``: same Python, same run when possible."""
    run, python, _ = configs.keys[label]
    candidates = [
        other
        for other, (r, p, v) in configs.keys.items()
        if v == configs.baseline_variant and p == python
    ]
    same_run = [c for c in candidates if configs.keys[c][0] == run]
    if same_run:
        return same_run[0]
    return candidates[0] if candidates else None


def default_allocator(allocators: Sequence[str]) -> str:
    present = list(dict.fromkeys(allocators))
    for name in DEFAULT_ALLOCATORS:
        if name in present:
            return name
    return sorted(present)[0] if present else ""
