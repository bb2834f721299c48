"""``basebench validate``: prove the decision rule on the machine it runs on.

One variant's image is measured under three names in one interleaved run: itself, an A/A
twin (the same image) and a slowed twin (runtime workloads doing ``--work-factor`` times their
work, start-up commands spinning ``--startup-delay-ms`` first, builds of images/validate/ with a
RUN step sleeping ``--build-delay-s``). A second run of the same image follows, for A/A across
runs. Then (see :mod:`basebench.report.validation` and
:mod:`basebench.measure.crosscheck`):

- A/A in one run: no timing of the twin differs significantly after the correction;
- known effect: every timing of the slowed twin differs significantly, by the injected ratio
  within ±10 %;
- A/A across runs: ``basebench compare`` of the two runs at default settings exits 0;
- cross-checks: start-up against hyperfine, sizes against ``docker image inspect`` and
  ``docker save | gzip -6``, runtime ratios against ``python -m pyperf compare_to``.

The first run's folder is the validation's output, like any other run: its run.json holds every
check and this host's noise floor (the A/A ratios per group). Exit 1 when a check fails.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from basebench.bases import BaseImage
from basebench.commands import run as run_command
from basebench.config import Config
from basebench.engine import Engine
from basebench.errors import UserError
from basebench.limits import Limits
from basebench.measure import crosscheck
from basebench.measure._context import Injection
from basebench.measure.startup import IMPORT_STDLIB, PASS
from basebench.netconf import network_settings
from basebench.report import compare_runs, make_report
from basebench.report.compare import MetricComparison
from basebench.report.frame import normalise
from basebench.report.validation import (
    TIMED,
    Check,
    aa_checks,
    delay_expectations,
    effect_checks,
    failure_checks,
    noise_floor,
    twin_comparisons,
)
from basebench.results import PYPERF_TAG_PREFIX, Run, load_runs, read_run_meta
from basebench.variants import Catalogue, load_catalogue

HELP = "prove the decision rule here: an A/A twin, a known slowdown, cross-checks; exit 1 on a miss"

AA_SUFFIX = "-aa"
SLOW_SUFFIX = "-slow"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    run_command.add_arguments(parser)
    parser.set_defaults(profile="validate")
    parser.add_argument(
        "--work-factor", type=float, default=1.25, help="runtime slowdown to inject (1.25)"
    )
    parser.add_argument(
        "--startup-delay-ms", type=float, default=250.0, help="start-up delay to inject (250)"
    )
    parser.add_argument(
        "--build-delay-s", type=float, default=2.0, help="build delay to inject (2)"
    )
    parser.add_argument(
        "--no-second-run", action="store_true", help="skip the A/A check across two runs"
    )


def run(args: argparse.Namespace) -> int:
    if args.resume:
        # Its two runs and cross-checks are one experiment: a part of it measured later
        # would not be the A/A check it claims to be.
        raise UserError("--resume is for `basebench run`; start `basebench validate` again")
    if args.work_factor <= 1.0 or args.startup_delay_ms <= 0 or args.build_delay_s <= 0:
        raise UserError(
            "--work-factor must be > 1, --startup-delay-ms and --build-delay-s > 0: known slowdowns"
        )
    catalogue = load_catalogue()
    config = run_command.load_run_config(args, catalogue)
    if len(config.variants) != 1 or len(config.pythons) != 1:
        raise UserError("validate measures one variant of one Python: give one --variant/--python")
    console = Console(highlight=False)
    with run_command.engine_lock(args, console):  # both runs and the cross-checks
        return _validate(args, config, catalogue, console)


def _validate(
    args: argparse.Namespace, config: Config, catalogue: Catalogue, console: Console
) -> int:
    engine = Engine(
        network=network_settings(config.network, args.ca_bundle), ceiling=config.ceiling
    )
    variant = config.variants[0]
    injection = Injection(args.work_factor, args.startup_delay_ms / 1000.0, args.build_delay_s)
    first, failures = run_command.measure_run(
        config, catalogue, engine, args.results, console, _twins_plan(variant, injection)
    )
    # A failure leaves a check unproven (a twin whose build failed proves nothing).
    failed = failure_checks([f.as_dict() for f in failures], first.run_id)
    second = None
    if not args.no_second_run:
        plan = run_command.Plan(meta={"purpose": f"validate: {first.run_id} again (A/A)"})
        second, failures = run_command.measure_run(
            config, catalogue, engine, args.results, console, plan
        )
        failed += failure_checks([f.as_dict() for f in failures], second.run_id)
    evidence = _Evidence.of(first, variant)
    checks = _in_run_checks(evidence, injection) + failed
    between: dict[str, dict[str, float]] = {}
    if second is not None:
        check, between = _across_runs(first, second)
        checks.append(check)
    checks += _cross_checks(engine, config.limits, evidence)
    passed = all(c.passed for c in checks)
    first.update_meta(
        validation={
            "passed": passed,
            "checks": [c.as_dict() for c in checks],
            "noise_floor": noise_floor(evidence.aa),
            # How far the same timings moved from one run to the next: the noise a
            # comparison of two runs on this host has to live with.
            "between_runs": between,
            "second_run": second.run_id if second else "",
        }
    )
    report = make_report([first.dir])
    _print(console, checks, report.markdown)
    return 0 if passed else 1


def _twins_plan(variant: str, injection: Injection) -> run_command.Plan:
    def twins(bases: list[BaseImage]) -> list[BaseImage]:
        out = []
        for base in bases:
            out += [base, base.alias(variant + AA_SUFFIX), base.alias(variant + SLOW_SUFFIX)]
        return out

    meta = {
        "purpose": "validate",
        "validate": {
            "variant": variant,
            "aa_twin": variant + AA_SUFFIX,
            "slowed_twin": variant + SLOW_SUFFIX,
            "work_factor": injection.work_factor,
            "startup_delay_s": injection.startup_delay_s,
            "build_delay_s": injection.build_delay_s,
        },
    }
    return run_command.Plan(
        shape_bases=twins, injections={variant + SLOW_SUFFIX: injection}, meta=meta
    )


@dataclass(frozen=True)
class _Evidence:
    """What the first run measured, read once: the frame, both twins against the variant, and
    the pyperf files of the variant and of the slowed twin."""

    run: Run
    variant: str
    frame: pd.DataFrame
    aa: list[MetricComparison]
    slowed: list[MetricComparison]
    pyperf_files: dict[str, Path]  # workload -> the variant's file
    slowed_pyperf_files: dict[str, Path]  # workload -> the slowed twin's file

    @classmethod
    def of(cls, run: Run, variant: str) -> _Evidence:
        frame = normalise(load_runs([run.dir]))
        slowed = variant + SLOW_SUFFIX
        files = _pyperf_files(run)
        return cls(
            run,
            variant,
            frame,
            twin_comparisons(frame, variant, variant + AA_SUFFIX),
            twin_comparisons(frame, variant, slowed),
            files.get(variant, {}),
            files.get(slowed, {}),
        )


def _in_run_checks(evidence: _Evidence, injection: Injection) -> list[Check]:
    frame, variant = evidence.frame, evidence.variant
    expected = {
        **delay_expectations(frame, variant, "startup", injection.startup_delay_s),
        **delay_expectations(frame, variant, "build", injection.build_delay_s),
    }
    for workload, path in evidence.slowed_pyperf_files.items():
        factor = _effective_work_factor(path, injection.work_factor)
        if factor is not None:
            expected[("runtime", workload, "")] = factor
    checks = aa_checks(evidence.aa) + effect_checks(evidence.slowed, expected)
    if not evidence.aa or not evidence.slowed:
        checks.append(Check("validate", "twins measured", False, "no timing to compare", "some"))
    return checks


def _pyperf_files(run: Run) -> dict[str, dict[str, Path]]:
    """variant -> workload -> the run's pyperf file (the run measures one allocator)."""
    import pyperf

    files: dict[str, dict[str, Path]] = {}
    for path in sorted(run.measurements_dir.glob("runtime-*.json")):
        for bench in pyperf.BenchmarkSuite.load(str(path)).get_benchmarks():
            variant = str(bench.get_metadata().get(f"{PYPERF_TAG_PREFIX}variant", ""))
            files.setdefault(variant, {}).setdefault(bench.get_name(), path)
    return files


def _effective_work_factor(path: Path, factor: float) -> float | None:
    """The work the slowed twin really did in ``path``: pyperf asks for whole loops, so a
    factor applies as round(loops * factor) / loops (effective_loops in
    benchmarks/runtime/_common.py, which runs in the containers and cannot be imported here)."""
    import pyperf

    loops = [
        int(r.get_loops())
        for b in pyperf.BenchmarkSuite.load(str(path)).get_benchmarks()
        for r in b.get_runs()
        if r.values
    ]
    if not loops:
        return None
    return sum(max(1, round(n * factor)) / n for n in loops) / len(loops)


def _across_runs(first: Run, second: Run) -> tuple[Check, dict[str, dict[str, float]]]:
    """compare of the two runs at default settings must pass; and the A/A ratios between the
    runs, per group (the host's between-run noise)."""
    # The raw rule (no earlier validation's noise floor): this is what measures that floor.
    comparison = compare_runs(first.dir, second.dir, noise_floor=False)
    timed = [r for r in comparison.rows if r.tested and (r.group, r.metric) in TIMED]
    regressed = ", ".join(
        f"{r.group} {r.benchmark} {r.worse_ratio:.3f}x (Holm p = {r.p_adjusted:.2g}, "
        f"threshold {r.threshold:.2f}x)"
        for r in comparison.regressions
    )
    check = Check(
        "compare",
        f"A/A across runs: compare {first.run_id} {second.run_id}",
        comparison.exit_code == 0,
        f"exit {comparison.exit_code}" + (f": {regressed}" if regressed else ""),
        "exit 0 at default settings",
    )
    return check, noise_floor(timed)


def _cross_checks(engine: Engine, limits: Limits, evidence: _Evidence) -> list[Check]:
    mine = evidence.frame[evidence.frame["variant"] == evidence.variant]
    reference = _reference(evidence.run, evidence.variant)
    checks: list[Check] = []
    startup = mine[(mine["group"] == "startup") & (mine["metric"] == "wall_time")]
    medians = {str(b): float(sub["value"].median()) for b, sub in startup.groupby("benchmark")}
    if {PASS, IMPORT_STDLIB} <= set(medians):
        checks.append(crosscheck.hyperfine_startup(engine, reference, limits, medians))
    sizes = mine[(mine["group"] == "size") & (mine["benchmark"] == "base")]
    by_metric = {str(m): float(v) for m, v in zip(sizes["metric"], sizes["value"], strict=True)}
    if "uncompressed" in by_metric:
        checks.append(crosscheck.inspect_size(engine, reference, by_metric["uncompressed"]))
    if "compressed" in by_metric:
        checks.append(crosscheck.save_gzip_size(engine, reference, by_metric["compressed"]))
    ratios = {r.benchmark: r.worse_ratio for r in evidence.slowed if r.group == "runtime"}
    mine_files, slowed_files = evidence.pyperf_files, evidence.slowed_pyperf_files
    checks += [
        crosscheck.pyperf_compare(mine_files[w], slowed_files[w], ratios[w], w)
        for w in sorted(set(mine_files) & set(slowed_files) & set(ratios))
    ]
    return checks


def _reference(run: Run, variant: str) -> str:
    images: dict[str, Any] = read_run_meta(run.dir).get("images") or {}
    for reference, meta in images.items():
        if isinstance(meta, dict) and meta.get("variant") == variant:
            return reference
    raise UserError(f"{run.dir}/run.json records no image of {variant}")


def _print(console: Console, checks: list[Check], report: Path) -> None:
    for check in checks:
        mark = "[green]ok  [/green]" if check.passed else "[red]FAIL[/red]"
        console.print(
            f"{mark} {check.group:<8} {check.name}: {check.measured} (expected {check.expected})",
            markup=True,
            highlight=False,
        )
    failed = sum(not c.passed for c in checks)
    console.print(f"validate: {len(checks) - failed} of {len(checks)} checks passed")
    console.print(f"report: {report}")
