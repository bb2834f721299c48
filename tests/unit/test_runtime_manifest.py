"""The runtime manifest loader: the real manifest loads; malformed entries say what is wrong."""

from pathlib import Path

import pytest

from basebench.errors import ConfigError
from basebench.runtime_manifest import (
    MANIFEST_PATH,
    UNCLASSIFIED,
    Mechanism,
    Workload,
    load_manifest,
    read_manifest,
)

MECHANISM = """
[[mechanism]]
name = "small-objects"
title = "small objects"
remedy = "none needed"
"""

GOOD = (
    MECHANISM
    + """
[[benchmark]]
name = "small"
script = "bm_small.py"
description = "a small one"
mechanism = "small-objects"
purpose = "the control"
control = true
cpus = 1
requires = []
min_python = "3.10"
"""
)


def write(tmp_path: Path, text: str, scripts: tuple[str, ...] = ("bm_small.py",)) -> Path:
    for script in scripts:
        (tmp_path / script).write_text("print('hi')\n")
    path = tmp_path / "manifest.toml"
    path.write_text(text)
    return path


def test_the_real_manifest_loads() -> None:
    manifest = read_manifest(MANIFEST_PATH)
    names = [w.name for w in manifest.workloads]
    assert len(names) == len(set(names))
    # Names whose loop did not change stay, so that older runs still compare.
    assert {"small_objects", "json_roundtrip", "dict_list_resize", "django_render_orm"} <= set(
        names
    )
    threads = {w.name: w.args for w in manifest.workloads if w.mechanism == "threads"}
    assert threads["medium_threads_2"] == ("--threads", "2")
    django = next(w for w in manifest.workloads if w.name == "django_render_orm")
    assert django.requires == ("django",)
    assert manifest.mechanism_of("medium_threads_2").name == "threads"


def test_a_good_entry(tmp_path: Path) -> None:
    manifest = read_manifest(write(tmp_path, GOOD))
    (w,) = manifest.workloads
    assert w == Workload(
        "small", "bm_small.py", "a small one", "small-objects", (), "3.10", (), "the control", True
    )
    assert w.cpus == 1 and w.block_sizes is None
    assert manifest.mechanisms == (Mechanism("small-objects", "small objects", "none needed"),)
    assert load_manifest(write(tmp_path, GOOD)) == [w]


def test_unknown_workloads_are_unclassified(tmp_path: Path) -> None:
    manifest = read_manifest(write(tmp_path, GOOD))
    assert manifest.mechanism_of("small").name == "small-objects"
    # An older run's workload that the manifest no longer lists.
    assert manifest.mechanism_of("threaded_alloc_4") is UNCLASSIFIED
    assert manifest.mechanism_rank("small-objects") == 0
    assert manifest.mechanism_rank(UNCLASSIFIED.name) == 1


def test_block_sizes(tmp_path: Path) -> None:
    (w,) = load_manifest(write(tmp_path, GOOD + "block_sizes = [513, 65536]\n"))
    assert w.block_sizes == (513, 65536)
    for bad in ("[513]", "[2, 1]", "[-1, 5]", '["a", "b"]', "[true, 5]"):
        with pytest.raises(ConfigError, match="block_sizes must be"):
            load_manifest(write(tmp_path, GOOD + f"block_sizes = {bad}\n"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('name = "small"', "#1: missing field(s) name"),
        ('mechanism = "small-objects"', "#1: missing field(s) mechanism"),
        ("cpus = 1", "#1: missing field(s) cpus"),
        ("control = true", "#1: missing field(s) control"),
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
        ('mechanism = "small-objects"', 'mechanism = "gpu"', "mechanism 'gpu' is not a"),
        ('mechanism = "small-objects"', 'kind = "control"', "'kind' was replaced by"),
        ("control = true", 'control = "yes"', "control must be true or false"),
        ("cpus = 1", "cpus = 0", "cpus must be a whole number >= 1"),
        ("cpus = 1", "cpus = 1.5", "cpus must be a whole number >= 1"),
        ('purpose = "the control"', 'purpose = ""', "purpose must be a non-empty string"),
        (
            'name = "small-objects"',
            'name = "Small"',
            "name must be lower-case letters, digits and -",
        ),
        ('remedy = "none needed"', "remedy = 3", "remedy must be a string"),
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
    with pytest.raises(ConfigError, match=r"\[\[mechanism\]\] #2: duplicate name 'small-objects'"):
        load_manifest(write(tmp_path, GOOD + GOOD))
    twice = GOOD + GOOD.replace(MECHANISM, "")
    with pytest.raises(ConfigError, match=r"\[\[benchmark\]\] #2: duplicate name 'small'"):
        load_manifest(write(tmp_path, twice))


def test_no_entries_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no \\[\\[benchmark\\]\\] entries"):
        load_manifest(write(tmp_path, MECHANISM))
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
