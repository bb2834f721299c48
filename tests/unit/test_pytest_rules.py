"""The rules tests/conftest.py sets for the suite itself, checked on a throwaway test tree.

`-m "not integration"` runs the unit tests only, and an integration test never ends as
skipped (a missing engine in CI is a failure): each is run in a pytest of its own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

INTEGRATION_TESTS = """
import pytest

def test_runs():
    pass

def test_skips():
    pytest.skip("no engine here")

@pytest.mark.skipif(True, reason="no engine")
def test_skipif():
    pass

@pytest.fixture
def missing_engine():
    pytest.skip("engine missing")

def test_fixture_skips(missing_engine):
    pass

@pytest.mark.xfail(strict=True, reason="a known bug")
def test_xfail():
    assert False
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    tests = tmp_path / "tests"
    (tests / "unit").mkdir(parents=True)
    (tests / "integration").mkdir()
    shutil.copy(CONFTEST, tests / "conftest.py")
    (tests / "unit" / "test_u.py").write_text("def test_unit():\n    pass\n")
    (tests / "integration" / "test_i.py").write_text(INTEGRATION_TESTS)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    integration: needs the engine\naddopts = --strict-markers\n"
    )
    return tmp_path


def run_pytest(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest on ``tree`` in a process of its own, without this run's options."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def outcomes(tree: Path, *args: str) -> dict[str, str]:
    """test name -> PASSED, FAILED, SKIPPED, XFAIL, ERROR... as pytest's -rA summary says."""
    proc = run_pytest(tree, "-rA", *args)
    found = {
        m["name"]: m["outcome"]
        for m in re.finditer(r"^(?P<outcome>[A-Z]+) \S+::(?P<name>\w+)", proc.stdout, re.M)
    }
    assert found, proc.stdout + proc.stderr
    return found


def test_not_integration_runs_the_unit_tests_only(tree: Path) -> None:
    assert outcomes(tree, "-m", "not integration") == {"test_unit": "PASSED"}


def test_integration_tests_fail_instead_of_skipping(tree: Path) -> None:
    assert outcomes(tree) == {
        "test_unit": "PASSED",
        "test_runs": "PASSED",
        "test_skips": "FAILED",
        "test_skipif": "ERROR",  # skipif marks skip while setting up: reported as errors
        "test_fixture_skips": "ERROR",
        "test_xfail": "XFAIL",
    }


def test_a_skipped_integration_module_is_a_collection_error(tree: Path) -> None:
    (tree / "tests" / "integration" / "test_i.py").write_text(
        "import pytest\npytest.importorskip('no_such_engine_module')\n\ndef test_x():\n    pass\n"
    )
    proc = run_pytest(tree, "tests/integration")
    assert proc.returncode != 0
    assert "may not be skipped" in proc.stdout and "skipped" not in proc.stdout.splitlines()[-1]


def test_no_two_test_modules_share_a_name() -> None:
    # tests/ has no __init__.py files: pytest imports each module by its basename, and a second
    # module of the same name stops the whole collection ("import file mismatch").
    tests = CONFTEST.parent
    names = [p.name for p in tests.rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
