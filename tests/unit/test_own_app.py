"""A team's requirements: the merged set, the resolved set read from recorded pip reports, and
the report's verdict that counts only the team's requirements.

The pip reports under pip_reports/ were recorded in the local stand-ins (pip 25.1.1, CPython
3.13) with benchmarks/examples/own-app-requirements.txt (descriptions cut), and on the
musl-builder image with an sdist (crcmod 1.7) and an extra (pydantic[email]), its output kept.
"""

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fakes import FakeEngine, make_context

from basebench.config import Config, load_config
from basebench.errors import ConfigError
from basebench.measure import installs
from basebench.measure.resolved import (
    SET_GROUP,
    ResolvedSet,
    built_wheels,
    distributions,
    merge_requirements,
    pin_rank,
    pulled_in_by,
    sdist_names,
)
from basebench.report.frame import Configs
from basebench.report.own_app import (
    OwnApp,
    blocking_problems,
    compiled_table,
    verdict_blocks,
)
from basebench.results import RUN_FORMAT, Run, atomic_write_json, load_resolved, load_run_rows

REPORTS = Path(__file__).parent / "pip_reports"


def _report(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPORTS / f"{name}.json").read_text())
    return data


def test_the_most_specific_pin_wins_once_and_the_team_keeps_ties():
    merged = merge_requirements(
        [
            ("requirements", ["Pillow>=10", "orjson", "numpy==2.1.0"]),
            ("reference", ["pillow==11.0", "orjson", "numpy", "lxml"]),
        ]
    )
    assert [(c.name, c.spec, c.source) for c in merged] == [
        ("pillow", "pillow==11.0", "reference"),
        ("orjson", "orjson", "requirements"),
        ("numpy", "numpy==2.1.0", "requirements"),
        ("lxml", "lxml", "reference"),
    ]


@pytest.mark.parametrize(
    ("spec", "rank"),
    [("a", 0), ("a>=1", 1), ("a>=1,<2", 2), ("a~=1.2", 2), ("a==1.*", 2), ("a==1.2", 3)],
)
def test_pin_rank(spec, rank):
    assert pin_rank(spec) == rank


def test_glibc_report_compiled_code_sits_in_dependencies():
    dists = {d.name: d for d in distributions(_report("slim-trixie-own-app"))}
    compiled = {d.name: d.platform for d in dists.values() if d.compiled}
    assert compiled == {
        "pydantic-core": "manylinux_2_17_x86_64",
        "charset-normalizer": "manylinux_2_28_x86_64",
        "argon2-cffi-bindings": "manylinux_2_26_x86_64",
        "cffi": "manylinux_2_17_x86_64",
    }
    requested = sorted(d.name for d in dists.values() if d.requested)
    assert requested == ["argon2-cffi", "pydantic", "requests"]
    assert not any(dists[name].compiled for name in requested)
    # The whole compressed tag set is kept, the display tag is the PEP 600 spelling.
    assert "manylinux2014_x86_64" in dists["cffi"].tags


def test_musl_report_shows_the_musllinux_1_1_only_wheel():
    dists = {d.name: d for d in distributions(_report("musl-own-app"))}
    assert dists["pydantic-core"].platform == "musllinux_1_1_x86_64"
    assert dists["cffi"].platform == "musllinux_1_2_x86_64"


def test_pulled_in_by_walks_requires_dist_with_markers_and_extras():
    tops = pulled_in_by(_report("musl-own-app"))
    assert tops["cffi"] == ("argon2-cffi",)
    assert tops["pycparser"] == ("argon2-cffi",)
    assert tops["charset-normalizer"] == ("requests",)
    assert tops["pydantic"] == ("pydantic",)
    # pydantic[email] pulls email-validator (extra == 'email'); idna also comes through it.
    extra = pulled_in_by(_report("musl-builder-sdist-extra"))
    assert extra["email-validator"] == ("pydantic",)
    assert extra["dnspython"] == ("pydantic",)
    assert extra["crcmod"] == ("crcmod",)


def test_a_built_sdist_is_compiled_when_pip_made_a_platform_wheel():
    output = (REPORTS / "musl-builder-sdist-extra.output.txt").read_text()
    built = built_wheels(output)
    assert built == {"crcmod": "crcmod-1.7-cp313-cp313-linux_x86_64.whl"}
    needs = {"crcmod": "a C compiler and the C library's headers: apk gcc musl-dev"}
    dists = {d.name: d for d in distributions(_report("musl-builder-sdist-extra"), built, needs)}
    assert dists["crcmod"].platform == "sdist" and dists["crcmod"].compiled is True
    assert dists["crcmod"].build_needs == needs["crcmod"]
    # Not built (a dry run, or a failure before the build): nobody knows yet.
    unbuilt = {d.name: d for d in distributions(_report("musl-builder-sdist-extra"))}
    assert unbuilt["crcmod"].compiled is None and unbuilt["crcmod"].may_compile


def test_sdist_names_from_file_names():
    assert sdist_names(["psycopg2-2.9.10.tar.gz", "crcmod-1.7.tar.gz", "Foo_Bar-1.0.zip"]) == [
        "psycopg2",
        "crcmod",
        "foo-bar",
    ]


def _set(variant: str, libc: str, report: str, **kwargs: Any) -> ResolvedSet:
    return ResolvedSet(
        run="r1",
        variant=variant,
        python="3.13",
        libc=libc,
        base_source="local",
        team=("pydantic", "argon2-cffi", "requests"),
        distributions=tuple(distributions(_report(report), **kwargs)),
    )


def test_resolved_sets_round_trip_through_the_run_folder(tmp_path):
    run = Run(tmp_path / "r1")
    run.dir.mkdir()
    atomic_write_json(run.meta_path, {"format": RUN_FORMAT, "run_id": "r1", "config": {}})
    one = _set("alpine", "musl", "musl-own-app")
    run.write_resolved("install-resolved", [one.as_dict()])
    assert [ResolvedSet.from_dict(s) for s in load_resolved([run.dir])] == [one]
    assert list(load_run_rows(run.dir)) == []  # no values: not rows of the tidy frame


CONFIGS = Configs(
    order=["slim-trixie", "alpine"],
    baseline_variant="slim-trixie",
    multi_python=False,
    multi_run=False,
    keys={"slim-trixie": ("r1", "3.13", "slim-trixie"), "alpine": ("r1", "3.13", "alpine")},
)


def _frame(rows: list[tuple[str, str, str, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"config": c, "group": g, "benchmark": b, "metric": m, "value": v, "detail": d}
            for c, g, b, m, v, d in rows
        ]
    )


def test_wheels_everywhere_is_no_blocking_problem_and_names_the_tags():
    app = OwnApp.of(
        [
            _set("slim-trixie", "glibc", "slim-trixie-own-app"),
            _set("alpine", "musl", "musl-own-app"),
        ],
        CONFIGS,
    )
    frame = _frame(
        [
            (cfg, SET_GROUP, "whole set", "failed", 0.0, "14 distributions, 4 compiled; offline")
            for cfg in CONFIGS.order
        ]
    )
    problems = blocking_problems(frame, CONFIGS, app)
    assert problems == {"slim-trixie": [], "alpine": []}
    text = json.dumps([b.__dict__ for b in verdict_blocks(problems, app)], default=str)
    assert "no blocking problem on slim-trixie, alpine" in text
    assert "pydantic-core musllinux_1_1" in text
    table = compiled_table(app)
    core = next(row for row in table.rows if row[0] == "`pydantic-core`")
    assert core[1:] == [
        "pydantic",
        "2.50.5 · wheel (manylinux_2_17)",
        "2.50.5 · wheel (musllinux_1_1)",
    ]


def test_only_the_team_requirements_block_and_the_text_names_package_and_reason():
    built = {"crcmod": "crcmod-1.7-cp313-cp313-linux_x86_64.whl"}
    needs = {"crcmod": "a C compiler and the C library's headers: apk gcc musl-dev"}
    dists = tuple(distributions(_report("musl-builder-sdist-extra"), built, needs))
    musl = ResolvedSet("r1", "alpine", "3.13", "musl", "local", ("crcmod", "pydantic"), dists)
    glibc = ResolvedSet("r1", "slim-trixie", "3.13", "glibc", "local", ("crcmod", "pydantic"))
    app = OwnApp.of([glibc, musl], CONFIGS)
    frame = _frame(
        [
            ("slim-trixie", "install", "crcmod", "wall_time", 2.0, "wheel:any"),
            ("alpine", "install", "crcmod", "wall_time", 42.0, "sdist"),
            # The built-in set's failure (measured beside, --with-reference-set) is not theirs.
            ("alpine", "install", "uwsgi", "failed", 1.0, "failed: error: gcc failed"),
            ("alpine", "install", "uwsgi", "wall_time", 9.0, "failed: error: gcc failed"),
        ]
    )
    problems = blocking_problems(frame, CONFIGS, app)
    assert problems["slim-trixie"] == []
    assert problems["alpine"] == [
        "crcmod compiles from sdist on alpine: +40 s against the fastest base, needs a C "
        "compiler and the C library's headers: apk gcc musl-dev"
    ]


def test_requirements_are_measured_alone_unless_the_reference_set_is_asked(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy==2.1.0\nrequests\n")
    config = Config(cpuset="", requirements=str(requirements))
    ctx = make_context(tmp_path, FakeEngine(), config)
    assert installs.package_set(ctx) == ["numpy==2.1.0", "requests"]
    assert installs.team_names(ctx) == ("numpy", "requests")
    config.with_reference_set = True
    specs = installs.package_set(ctx)
    assert specs[:2] == ["numpy==2.1.0", "requests"]  # numpy once, with the team's pin
    assert "numpy" not in specs and "lxml" in specs
    config.requirements = ""
    assert installs.package_set(ctx)[0] == "numpy"  # no file: the built-in set


def test_with_reference_set_needs_a_requirements_file():
    with pytest.raises(ConfigError, match="--with-reference-set adds the built-in install set"):
        load_config("quick", {"with_reference_set": True})
