"""The runtime manifest loader: the real manifest loads; malformed entries say what is wrong."""

from pathlib import Path

import pytest

from basebench.errors import ConfigError
from basebench.runtime_manifest import KINDS, MANIFEST_PATH, Workload, load_manifest

GOOD = """
[[benchmark]]
name = "small"
script = "bm_small.py"
description = "a small one"
kind = "control"
requires = []
min_python = "3.10"
"""


def write(tmp_path: Path, text: str, scripts: tuple[str, ...] = ("bm_small.py",)) -> Path:
    for script in scripts:
        (tmp_path / script).write_text("print('hi')\n")
    path = tmp_path / "manifest.toml"
    path.write_text(text)
    return path


def test_the_real_manifest_loads() -> None:
    workloads = load_manifest(MANIFEST_PATH)
    names = [w.name for w in workloads]
    assert len(names) == len(set(names))
    assert {"large_object_churn", "small_objects", "django_render_orm"} <= set(names)
    assert all(w.kind in KINDS for w in workloads)
    threads = {w.name: w.args for w in workloads if w.kind == "threads"}
    assert threads["threaded_alloc_2"] == ("--threads", "2")
    django = next(w for w in workloads if w.name == "django_render_orm")
    assert django.requires == ("django",)


def test_a_good_entry(tmp_path: Path) -> None:
    (w,) = load_manifest(write(tmp_path, GOOD))
    assert w == Workload("small", "bm_small.py", "a small one", "control", (), "3.10", ())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('name = "small"', "#1: missing field(s) name"),
        ('kind = "control"', "#1: missing field(s) kind"),
        ("requires = []", "#1: missing field(s) requires"),
    ],
)
def test_missing_fields_are_named(tmp_path: Path, change: str, message: str) -> None:
    path = write(tmp_path, GOOD.replace(change, ""))
    with pytest.raises(ConfigError) as info:
        load_manifest(path)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('kind = "control"', 'kind = "gpu"', "kind 'gpu' is not one of large-objects"),
        ('min_python = "3.10"', 'min_python = "3"', "min_python must look like 3.11"),
        ('min_python = "3.10"', "min_python = 3.10", "min_python must be a non-empty string"),
        ('name = "small"', 'name = "Small-One"', "name must be lower-case"),
        ('script = "bm_small.py"', 'script = "bm_other.py"', "script bm_other.py not found"),
        ('script = "bm_small.py"', 'script = "../bm_small.py"', "must be a .py file name"),
        ("requires = []", 'requires = "django"', "requires must be a list of strings"),
        ("requires = []", "requires = []\nargs = [1]", "args must be a list of strings"),
        ("requires = []", "requires = []\ncolour = 'red'", "unknown field(s) colour"),
    ],
)
def test_bad_values_are_explained(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_manifest(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_duplicate_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"#2: duplicate name 'small'"):
        load_manifest(write(tmp_path, GOOD + GOOD))


def test_no_entries_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no \\[\\[benchmark\\]\\] entries"):
        load_manifest(write(tmp_path, "# nothing\n"))
    with pytest.raises(ConfigError, match="TOML syntax error"):
        load_manifest(write(tmp_path, "[[benchmark]\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_manifest(tmp_path / "missing.toml")


def test_skip_reasons() -> None:
    w = Workload("d", "bm_d.py", "django", "app", ("django",), "3.11")
    assert w.skip_reason("3.13.5", {"Django", "pyperf"}) == ""
    assert "needs Python >= 3.11" in w.skip_reason("3.10", {"django"})
    assert "needs django" in w.skip_reason("3.13", {"pyperf"})
    assert w.python_ok("3.11") and not w.python_ok("3.9.18")
