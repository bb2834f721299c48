"""Build dependencies of sdists (measure/build_deps.py) and how the install group reads pip."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from basebench.errors import ConfigError
from basebench.measure.build_deps import deps_plan, load_build_deps
from basebench.measure.installs import deps_seconds, fetched_sdists
from basebench.report.sections import _compiled, _short_kind


def test_the_shipped_list_names_psycopg2s_libpq() -> None:
    catalogue = load_build_deps()
    assert "libpq-dev" in catalogue.get("psycopg2").apt
    assert "postgresql-dev" in catalogue.get("psycopg2").apk
    assert catalogue.get("some-unlisted-package") == catalogue.default


def test_each_family_gets_its_package_manager() -> None:
    assert deps_plan("debian-slim", "local").manager == "apt"
    assert deps_plan("alpine", "official").manager == "apk"
    full = deps_plan("debian-full", "official")
    assert full.manager == "" and full.provided
    stand_in = deps_plan("alpine", "local")
    assert stand_in.manager == "" and not stand_in.provided
    assert "no package manager" in stand_in.reason


def test_a_malformed_list_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "deps.toml"
    bad.write_text('[default]\napt = "gcc"\n')
    with pytest.raises(ConfigError, match="field 'apt' must be a list"):
        load_build_deps(bad)
    bad.write_text('[package.x]\napt = ["gcc"]\n')
    with pytest.raises(ConfigError, match=r"no \[default\] table"):
        load_build_deps(bad)


def test_what_pip_fetched_and_how_long_the_deps_took() -> None:
    output = (
        "Saved /wheelhouse/psycopg2-2.9.10.tar.gz\n"
        "File was already downloaded /wheelhouse/setuptools-75.0.0-py3-none-any.whl\n"
        "BASEBENCH_DEPS_SECONDS=7.25\n"
    )
    assert fetched_sdists(output) == ["psycopg2-2.9.10.tar.gz"]
    assert deps_seconds(output) == 7.25
    assert deps_seconds("nothing") is None


def test_the_report_splits_build_deps_from_compile() -> None:
    detail = "sdist; build deps: apt gcc libc6-dev libpq-dev"
    rows = pd.DataFrame(
        {
            "metric": ["wall_time", "deps_time", "pip_time"],
            "value": [34.1, 23.0, 10.6],
            "detail": [detail] * 3,
        }
    )
    assert _compiled(rows) == "compiled from sdist: +23.0 s build deps, +10.6 s compile"
    assert _compiled(rows.assign(detail="wheel:manylinux_2_28_x86_64")) == ""
    assert _short_kind("wheel:musllinux_1_2_x86_64") == "wheel (musllinux_1_2)"
