"""The runtime section by mechanism: the headline counts each mechanism once, the allocator
axis against both references, contention apart from speed, old runs still readable."""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import report_sample as sample
from test_report import table_after

from basebench.report import render_report
from basebench.report.analysis import (
    VS_DEFAULT,
    VS_SAME_ALLOCATOR,
    mechanism_exponents,
    mechanism_ratios,
    runtime_ratios,
    scalings,
    summarise,
)
from basebench.report.charts import MAX_RATIO_CHART_IN
from basebench.report.frame import label_configs, normalise
from basebench.report.stats import ratio_of_medians
from basebench.report.style import STYLE
from basebench.results import RUNTIME_CPUS_KEY
from basebench.runtime_manifest import UNCLASSIFIED


def labelled(frame: pd.DataFrame, meta: dict[str, Any] | None = None) -> tuple[Any, Any]:
    return label_configs(normalise(frame), [meta or sample.synthetic_meta()])


def medians(frame: pd.DataFrame, variant: str, allocator: str) -> dict[str, float]:
    rows = frame[
        (frame["group"] == "runtime")
        & (frame["metric"] == "time")
        & (frame["variant"] == variant)
        & (frame["allocator"] == allocator)
    ]
    return {str(k): float(np.median(v["value"])) for k, v in rows.groupby("benchmark")}


def test_the_headline_counts_each_mechanism_once() -> None:
    frame, configs = labelled(sample.synthetic_frame())
    (alpine,) = [r for r in summarise(frame, configs) if r.config == "alpine3.23"]
    musl, glibc = (
        medians(frame, "alpine3.23", "pymalloc"),
        medians(frame, "slim-trixie", "pymalloc"),
    )
    logs = {w: math.log(musl[w] / glibc[w]) for w in musl}
    # threads has two workloads: they share one mechanism's weight.
    by_mechanism = [
        logs["interpreter_loop"],
        logs["medium_objects"],
        (logs["medium_threads_1"] + logs["medium_threads_2"]) / 2,
        logs["json_roundtrip"],
        logs["regex_scan"],  # unclassified: an older run's workload
    ]
    assert alpine.runtime.estimate == pytest.approx(math.exp(np.mean(by_mechanism)), rel=0.01)
    assert alpine.runtime.estimate < math.exp(np.mean(list(logs.values())))  # not per workload
    assert (alpine.workloads, alpine.mechanisms) == (6, 5)
    assert alpine.runtime.low < alpine.runtime.estimate < alpine.runtime.high


def test_mechanism_exponents_sum_to_one() -> None:
    exponents = mechanism_exponents(["a", "b", "b", "c", "c", "c"])
    assert exponents == pytest.approx([1 / 3, 1 / 6, 1 / 6, 1 / 9, 1 / 9, 1 / 9])
    assert sum(exponents) == pytest.approx(1.0)


def test_ratio_of_medians_with_exponents() -> None:
    rng = np.random.default_rng(3)

    def series(center: float) -> list[np.ndarray]:
        return [center * (1 + rng.normal(0, 0.01, 3)) for _ in range(5)]

    a1, a2, b1, b2 = series(1.0), series(1.5), series(1.0), series(1.2)
    # (a2/b2) * (b1/a1) = (a2/a1) / (b2/b1): a scaling over another.
    versus = ratio_of_medians([(a2, b2), (b1, a1)], exponents=[1, 1])
    assert versus.estimate == pytest.approx(1.25, rel=0.03)
    assert versus.low < versus.estimate < versus.high
    plain = ratio_of_medians([(a2, b2), (b1, a1)])
    assert plain.estimate == pytest.approx(math.sqrt(versus.estimate))
    with pytest.raises(ValueError, match="2 exponents for 1 pairs"):
        ratio_of_medians([(a1, b1)], exponents=[1, 1])


def test_each_allocator_against_both_references() -> None:
    frame, configs = labelled(sample.synthetic_frame())
    ratios = runtime_ratios(frame, configs)
    mine = {
        (r.basis, r.reference_allocator): r
        for r in ratios
        if (r.benchmark, r.config, r.allocator) == ("medium_objects", "alpine3.23", "mimalloc")
    }
    assert set(mine) == {(VS_DEFAULT, "pymalloc"), (VS_SAME_ALLOCATOR, "mimalloc")}
    musl = medians(frame, "alpine3.23", "mimalloc")["medium_objects"]
    for (_, allocator), r in mine.items():
        glibc = medians(frame, "slim-trixie", allocator)["medium_objects"]
        assert r.interval.estimate == pytest.approx(musl / glibc, rel=0.02)
        assert r.mechanism == "medium-objects"
    # The default allocator is one comparison, listed once; no reference against itself.
    assert not [r for r in ratios if r.basis == VS_SAME_ALLOCATOR and r.allocator == "pymalloc"]
    assert not [r for r in ratios if r.config == "slim-trixie" and r.basis == VS_SAME_ALLOCATOR]
    mechanisms = mechanism_ratios(frame, ratios)
    threads = [
        m
        for m in mechanisms
        if (m.mechanism, m.config, m.allocator, m.basis)
        == ("threads", "alpine3.23", "pymalloc", VS_DEFAULT)
    ]
    assert threads[0].workloads == ("medium_threads_1", "medium_threads_2")
    order = list(dict.fromkeys(m.mechanism for m in mechanisms))
    assert order == ["interpreter", "medium-objects", "threads", "json", UNCLASSIFIED.name]


def test_contention_is_a_scaling_against_the_reference_scaling() -> None:
    frame, configs = labelled(sample.synthetic_frame())
    found = {(s.config, s.allocator): s for s in scalings(frame, configs)}
    alpine = found[("alpine3.23", "pymalloc")]
    assert (alpine.workload, alpine.baseline, alpine.workers) == (
        "medium_threads_2",
        "medium_threads_1",
        2,
    )
    musl, glibc = (
        medians(frame, "alpine3.23", "pymalloc"),
        medians(frame, "slim-trixie", "pymalloc"),
    )
    own = musl["medium_threads_2"] / musl["medium_threads_1"]
    assert alpine.scaling.estimate == pytest.approx(own, rel=0.02)
    theirs = glibc["medium_threads_2"] / glibc["medium_threads_1"]
    assert alpine.versus_reference.estimate == pytest.approx(own / theirs, rel=0.02)
    assert alpine.versus_reference.excludes_one  # synthetic musl: 1.6 / 1.3
    assert math.isnan(found[("slim-trixie", "pymalloc")].versus_reference.estimate)


def test_runtime_section_by_mechanism_with_remedies_and_cpus(tmp_path: Path) -> None:
    result = render_report(sample.synthetic_frame(), [sample.synthetic_meta()], tmp_path)
    markdown = result.markdown.read_text()
    runtime = markdown.split("## Runtime", 1)[1].split("## Image size", 1)[0]
    assert "CPU 1 for `interpreter_loop`" in runtime
    assert "CPUs 0,1 for `medium_threads_2`" in runtime
    rows = table_after(markdown, "### By mechanism")
    assert rows[0][:4] == ["Mechanism", "Variant", "Allocator", "Workloads"]
    by_key = {(r[0], r[1], r[2]): r for r in rows[1:]}
    medium = by_key[("medium-objects", "alpine3.23", "pymalloc")]
    assert medium[4].startswith("1.3") and medium[4] == medium[5] and "slower" in medium[6]
    # Allocators: against the default (what switching gets) and the same allocator (libc).
    mimalloc = by_key[("medium-objects", "alpine3.23", "mimalloc")]
    assert mimalloc[4].startswith("0.9") and mimalloc[5].startswith("1.0")
    assert by_key[("threads", "alpine3.23", "pymalloc")][3] == "2"
    control = by_key[("interpreter", "alpine3.23", "pymalloc")]
    assert control[6] == "n.s. (same within noise) · control"
    assert "closed by mimalloc" in runtime
    assert "**threads**: threads allocating at once" in runtime
    assert "`medium_threads_2` (2 CPUs)" in runtime
    contention = table_after(markdown, "### Contention: workers running at once")
    alpine = next(r for r in contention if r[1:3] == ["alpine3.23", "pymalloc"])
    assert alpine[3] == "2 vs 1 (`medium_threads_1`)" and "slower" in alpine[6]
    same = table_after(markdown, "### The libc under each allocator")
    assert {r[3] for r in same[1:]} == {"mimalloc"}
    # Which allocators each variant had, and why others were not measured.
    assert "**alpine3.23**: `pymalloc` (CPython's default: pymalloc + libc malloc)" in runtime
    assert "Not measured: `pymalloc+mimalloc` (no libmimalloc in this image)" in runtime


def test_an_older_run_still_reports(tmp_path: Path) -> None:
    """Workload names the manifest no longer has, and no per-workload CPU sets in run.json."""
    frame = sample.synthetic_frame()
    frame["benchmark"] = frame["benchmark"].replace(
        {"medium_threads_1": "threaded_alloc_1", "medium_threads_2": "threaded_alloc_4"}
    )
    meta = sample.synthetic_meta()
    del meta[RUNTIME_CPUS_KEY]
    result = render_report(frame, [meta], tmp_path)
    markdown = result.markdown.read_text()
    runtime = markdown.split("## Runtime", 1)[1].split("## Image size", 1)[0]
    assert "ran every workload on the run's cpuset (1)" in runtime
    rows = table_after(markdown, "### Per workload")
    assert {r[0] for r in rows[1:] if r[1] == "threaded_alloc_4"} == {UNCLASSIFIED.name}
    assert "### Contention" not in runtime  # no 1- and N-worker pair the manifest knows
    summary = {r[0]: r for r in table_after(markdown, "## Summary")[1:]}
    assert "6 workloads in 4 mechanisms" in summary["alpine3.23"][6]


def test_the_ratio_chart_stays_within_its_height(tmp_path: Path) -> None:
    frame = normalise(sample.synthetic_frame())
    runtime = frame[frame["group"] == "runtime"]
    many = pd.concat(
        [runtime.assign(benchmark=runtime["benchmark"] + f"_{i}") for i in range(8)]
        + [frame[frame["group"] != "runtime"]]
    )
    render_report(many, [sample.synthetic_meta()], tmp_path)
    png = (tmp_path / "runtime-ratio.png").read_bytes()
    width, height = struct.unpack(">II", png[16:24])
    assert height <= MAX_RATIO_CHART_IN * STYLE.dpi * STYLE.png_scale
    assert width == STYLE.width_in * STYLE.dpi * STYLE.png_scale


def test_a_remedy_that_narrows_a_gap_without_closing_it_says_so() -> None:
    from basebench.report.analysis import VS_DEFAULT, MechanismRatio
    from basebench.report.sections import _closed_by
    from basebench.report.stats import Interval

    def ratio(allocator: str, estimate: float, low: float, high: float) -> MechanismRatio:
        return MechanismRatio(
            mechanism="medium-objects",
            config="alpine",
            allocator=allocator,
            basis=VS_DEFAULT,
            reference="slim-trixie",
            reference_allocator="pymalloc",
            workloads=("medium_objects",),
            interval=Interval(estimate, low, high),
            least_rounds=4,
            significant=allocator == "pymalloc",
        )

    [line] = _closed_by(
        [
            ratio("pymalloc", 8.0, 7.5, 8.6),
            ratio("mimalloc", 1.07, 1.02, 1.13),
            ratio("pymalloc+jemalloc", 0.98, 0.95, 1.02),
        ]
    )
    assert line.startswith("alpine is 8.00× [7.50–8.60], closed by pymalloc+jemalloc")
    assert "narrowed but not closed by mimalloc (1.07× [1.02–1.13])" in line
