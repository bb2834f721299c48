"""Stand-ins built as shipped: the catalogue's official levels, pinned NAME@LEVEL variants, and
the musl gap split into libc, optimisation level and compile flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from basebench.engine import PlainLogPhases, phase_of
from basebench.errors import ConfigError
from basebench.report.doc import Heading, Para, Table
from basebench.report.frame import label_configs
from basebench.report.optimisation import compile_blocks, gap_blocks, gap_steps
from basebench.results import TIDY_COLUMNS
from basebench.variants import AS_SHIPPED, check_combination, load_catalogue, tag_part

CATALOGUE = load_catalogue()

# --- the catalogue -------------------------------------------------------------------------


def test_as_shipped_is_each_official_images_level() -> None:
    # docker-library/python: Debian images PGO + LTO; Alpine LTO only since 2024-10-15.
    assert CATALOGUE.get("slim-trixie").opt_level(AS_SHIPPED) == "pgo-lto"
    assert CATALOGUE.get("bookworm").opt_level(AS_SHIPPED) == "pgo-lto"
    assert CATALOGUE.get("alpine").opt_level(AS_SHIPPED) == "lto"
    # The same-flags twin is built at Alpine's level, the highest the musl stand-in allows.
    assert CATALOGUE.get("musl-debianflags").opt_level(AS_SHIPPED) == "lto"
    # Any other level is the run's, for every variant.
    assert CATALOGUE.get("alpine").opt_level("none") == "none"


def test_every_variant_with_a_stand_in_says_how_its_official_image_is_built() -> None:
    for name in CATALOGUE.names():
        variant = CATALOGUE.get(name)
        if variant.local is not None:
            assert variant.official_build is not None, name
            assert variant.official_build.checked and variant.official_build.template


def test_a_pinned_level_wins_over_the_runs() -> None:
    pinned = CATALOGUE.get("slim-trixie@lto")
    assert pinned.name == "slim-trixie@lto"
    assert pinned.catalogue_name == "slim-trixie"
    assert pinned.opt_level(AS_SHIPPED) == "lto"
    assert pinned.opt_level("none") == "lto"
    assert pinned.local == CATALOGUE.get("slim-trixie").local
    # "@" is not allowed in an image tag.
    assert tag_part(pinned.name) == "slim-trixie-lto"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("alpine@fast", "after '@' comes an optimisation level"),
        ("alpine@as-shipped", "after '@' comes an optimisation level"),
        ("nosuch@lto", "unknown variant 'nosuch'"),
        ("buster@lto", "cannot be built locally"),
    ],
)
def test_a_bad_pinned_variant_is_refused_with_the_reason(name: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        CATALOGUE.get(name)


def test_a_pinned_level_cannot_apply_to_an_official_image() -> None:
    with pytest.raises(ConfigError, match="drop @lto or use --base-source local"):
        check_combination(CATALOGUE.get("alpine@lto"), "3.13", "official")
    check_combination(CATALOGUE.get("alpine@lto"), "3.13", "local")


def _catalogue_file(tmp_path: Path, official_build: str) -> Path:
    path = tmp_path / "variants.toml"
    path.write_text(
        '[[variant]]\nname = "x"\nfamily = "debian-slim"\nlibc = "glibc"\nsuite = "trixie"\n'
        'official_tag = "{python}-x"\nofficial_pythons = ["3.13"]\n'
        'local = { recipe = "debian.Dockerfile", target = "slim", rootfs = "trixie" }\n'
        + official_build
    )
    return path


@pytest.mark.parametrize(
    ("table", "words"),
    [
        (
            'official_build = { opt_level = "pgo" , configure = "", checked = "2026-01-01", '
            'template = "t" }\n',
            "opt_level must be one of none, lto, pgo-lto",
        ),
        (
            'official_build = { opt_level = "lto", configure = "", checked = "yesterday", '
            'template = "t" }\n',
            "checked must be a date",
        ),
        ('official_build = { opt_level = "lto" }\n', "official_build must be a table"),
    ],
)
def test_a_malformed_official_build_names_the_field(tmp_path: Path, table: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_catalogue(_catalogue_file(tmp_path, table))


def test_as_shipped_without_official_facts_says_what_to_use(tmp_path: Path) -> None:
    catalogue = load_catalogue(_catalogue_file(tmp_path, ""))
    with pytest.raises(ConfigError, match="cannot be built as-shipped; use --opt-level"):
        catalogue.get("x").opt_level(AS_SHIPPED)


# --- progress: the phases of a PGO build ---------------------------------------------------


def test_cpythons_pgo_lines_start_phases() -> None:
    assert phase_of("== make") == "make"
    assert phase_of("Running code to generate profile data (this can take a while):") == (
        "make: PGO instrumented build"
    )
    training = phase_of("LD_LIBRARY_PATH=/usr/src/python ./python -m test --pgo || true")
    assert training == "make: PGO training run (CPython's test suite)"
    assert phase_of("Rebuilding with profile guided optimizations:") == "make: PGO rebuild"
    assert phase_of("gcc -c -O3 Objects/object.c") is None
    # configure's report of the task is not the task running.
    assert phase_of("checking PROFILE_TASK... -m test --pgo --timeout=$(TESTTIMEOUT)") is None
    # The test runner's own header during the training run is not a phase.
    assert phase_of("== CPython 3.13.5 (main, Nov 30 2026) [GCC 14.2.0]") is None
    assert phase_of("== cwd: /usr/src/python/build/test_python_worker_1") is None
    phases = PlainLogPhases()
    events = []
    for line in (
        "#8 [slim-builder 3/3] RUN build-python.sh",
        "#8 0.5 == make",
        "#8 20.0 Running code to generate profile data (this can take a while):",
        "#8 300.0 LD_LIBRARY_PATH=/usr/src/python ./python -m test --pgo --timeout=1200 || true",
        "#8 301.0 == CPython 3.13.5 (main, Nov 30 2026) [GCC 14.2.0]",
        "#8 900.0 Rebuilding with profile guided optimizations:",
        "#8 DONE 1500.0s",
    ):
        events += phases.feed(line)
    ended = [(e.phase, round(e.seconds or 0)) for e in events if e.kind == "end"]
    assert ended == [
        ("make", 20),
        ("make: PGO instrumented build", 280),
        ("make: PGO training run (CPython's test suite)", 600),
        ("make: PGO rebuild", 600),
    ]


# --- the report ------------------------------------------------------------------------------

#: The four builds of the musl-gap profile: variant -> (libc, opt level, flags, true speed).
BUILDS = {
    "slim-trixie": ("glibc", "pgo-lto", "official", 1.0),
    "slim-trixie@lto": ("glibc", "lto", "official", 1.25),  # no PGO: 1.25x
    "musl-debianflags": ("musl", "lto", "debian", 1.25 * 1.6),  # libc: 1.6x
    "alpine": ("musl", "lto", "official", 1.25 * 1.6 * 0.95),  # Alpine's flags: 0.95x
}
WORKLOADS = ("interpreter_loop", "medium_objects", "json_roundtrip", "small_objects")


def _frame(builds: dict[str, tuple[str, str, str, float]], rounds: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows: list[dict[str, Any]] = []
    for variant, (libc, _, _, speed) in builds.items():
        for workload in WORKLOADS:
            for r in range(rounds):
                for i, value in enumerate(0.1 * speed * (1 + rng.normal(0, 0.01, 8))):
                    rows.append(
                        {
                            "run": "r1",
                            "group": "runtime",
                            "benchmark": workload,
                            "variant": variant,
                            "python": "3.13",
                            "libc": libc,
                            "base_source": "local",
                            "strategy": "",
                            "allocator": "pymalloc",
                            "metric": "time",
                            "value": float(value),
                            "unit": "s",
                            "sample": i,
                            "round": r,
                            "detail": "",
                        }
                    )
    return pd.DataFrame(rows, columns=list(TIDY_COLUMNS))


def _meta(
    builds: dict[str, tuple[str, str, str, float]], opt_level: str = AS_SHIPPED
) -> dict[str, Any]:
    images = {
        f"basebench/local:3.13-{tag_part(v)}-{level}": {
            "variant": v,
            "python": "3.13",
            "libc": libc,
            "source": "local",
            "opt_level": level,
            "flags": flags,
            "build_seconds": "1200.0",
        }
        for v, (libc, level, flags, _) in builds.items()
    }
    return {
        "run_id": "r1",
        "config": {
            "opt_level": opt_level,
            "baseline_variant": "slim-trixie",
            "variants": list(builds),
        },
        "images": images,
    }


def _steps(builds: dict[str, tuple[str, str, str, float]]) -> dict[str, float]:
    meta = _meta(builds)
    data, configs = label_configs(_frame(builds), [meta])
    steps = gap_steps(data, configs, [meta])
    return {s.name: s.interval.estimate for s in steps.get("3.13", [])}


def test_the_gap_splits_into_libc_optimisation_and_flags() -> None:
    steps = _steps(BUILDS)
    assert list(steps) == ["libc", "optimisation level", "compile flags", "whole gap"]
    assert steps["libc"] == pytest.approx(1.6, rel=0.02)
    assert steps["optimisation level"] == pytest.approx(1.25, rel=0.02)
    assert steps["compile flags"] == pytest.approx(0.95, rel=0.02)
    # The steps telescope: their product is the whole gap, exactly.
    product = steps["libc"] * steps["optimisation level"] * steps["compile flags"]
    assert product == pytest.approx(steps["whole gap"], rel=1e-9)


def test_the_optimisation_step_can_also_be_measured_on_the_twin() -> None:
    builds = {
        "slim-trixie": ("glibc", "lto", "official", 1.0),
        "musl-debianflags": ("musl", "lto", "debian", 1.6),
        "musl-debianflags@none": ("musl", "none", "debian", 1.6 * 1.1),
        "alpine": ("musl", "none", "official", 1.6 * 1.1 * 0.95),
    }
    steps = _steps(builds)
    assert list(steps) == ["libc", "optimisation level", "compile flags", "whole gap"]
    assert steps["optimisation level"] == pytest.approx(1.1, rel=0.02)
    product = steps["libc"] * steps["optimisation level"] * steps["compile flags"]
    assert product == pytest.approx(steps["whole gap"], rel=1e-9)


def test_without_the_baseline_at_the_musl_level_libc_and_optimisation_stay_together() -> None:
    builds = {k: v for k, v in BUILDS.items() if k != "slim-trixie@lto"}
    steps = _steps(builds)
    assert list(steps) == ["libc and optimisation together", "compile flags", "whole gap"]
    meta = _meta(builds)
    data, configs = label_configs(_frame(builds), [meta])
    text = " ".join(b.text for b in gap_blocks(data, configs, [meta]) if isinstance(b, Para))
    assert "Add `slim-trixie@lto`" in text


def test_one_level_for_all_has_no_optimisation_step_and_says_the_official_images_have_one() -> None:
    builds = {
        "slim-trixie": ("glibc", "none", "official", 1.0),
        "musl-debianflags": ("musl", "none", "debian", 1.6),
        "alpine": ("musl", "none", "official", 1.5),
    }
    steps = _steps(builds)
    assert list(steps) == ["libc", "compile flags", "whole gap"]
    meta = _meta(builds, opt_level="none")
    data, configs = label_configs(_frame(builds), [meta])
    blocks = gap_blocks(data, configs, [meta])
    assert isinstance(blocks[0], Heading) and "musl gap" in blocks[0].text
    table = next(b for b in blocks if isinstance(b, Table))
    assert [r[0] for r in table.rows] == ["libc", "compile flags", "whole gap"]
    text = " ".join(b.text for b in blocks if isinstance(b, Para))
    assert "The **libc** step is the largest" in text and "it dominates" in text
    assert "the official images have one (alpine: lto, slim-trixie: pgo-lto)" in text


def test_no_decomposition_without_the_same_flags_twin() -> None:
    builds = {k: v for k, v in BUILDS.items() if not k.startswith("musl-debianflags")}
    assert _steps(builds) == {}


def test_the_musl_stand_in_refuses_pgo_before_any_work() -> None:
    for name in ("alpine@pgo-lto", "musl-debianflags@pgo-lto"):
        with pytest.raises(ConfigError, match="cannot be built with PGO"):
            CATALOGUE.get(name).opt_level("none")
    with pytest.raises(ConfigError, match="cannot be built with PGO"):
        CATALOGUE.get("alpine").opt_level("pgo-lto")


def test_the_compile_table_flags_bases_not_built_as_shipped() -> None:
    builds = {
        "slim-trixie": ("glibc", "none", "official", 1.0),
        "alpine": ("musl", "lto", "official", 1.5),
        "musl-debianflags": ("musl", "none", "debian", 1.6),
    }
    blocks = compile_blocks([_meta(builds, opt_level="none")])
    para = next(b for b in blocks if isinstance(b, Para))
    assert "`slim-trixie` (built none, official pgo-lto)" in para.text
    assert "alpine" not in para.text  # built at its official level
    assert "musl-debianflags" not in para.text  # not an official image
    table = next(b for b in blocks if isinstance(b, Table))
    assert ["3.13-alpine", "lto (LTO)", "lto (LTO)", "official flags", "1,200 s"] in [
        list(r) for r in table.rows
    ]
    # As shipped, the pinned slim-trixie@lto is a deliberate comparison, not a deviation.
    as_shipped = compile_blocks([_meta(BUILDS)])
    assert (
        "official image's optimisation level"
        in next(b for b in as_shipped if isinstance(b, Para)).text
    )
    rows = {r[0]: list(r) for r in next(b for b in as_shipped if isinstance(b, Table)).rows}
    assert rows["3.13-slim-trixie@lto"][1] == "lto (LTO) (pinned)"


def test_images_list_shows_each_bases_bootstrap_time() -> None:
    from basebench.commands.images import _bootstrap_time

    assert _bootstrap_time({"org.basebench.build_seconds": "1234.5"}) == "20:34"
    assert _bootstrap_time({"org.basebench.build_seconds": "oops"}) == "-"
    assert _bootstrap_time({}) == "-"


def test_a_bootstrap_that_reused_every_stage_shows_no_time() -> None:
    builds = {"slim-trixie": ("glibc", "none", "official", 1.0)}
    meta = _meta(builds, opt_level="none")
    meta["images"]["basebench/local:3.13-slim-trixie-none"]["build_seconds"] = "0.4"
    table = next(b for b in compile_blocks([meta]) if isinstance(b, Table))
    assert table.rows[0][4] == "– (reused an earlier build)"
