import secrets
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from basebench.engine import Engine

INTEGRATION_DIR = Path(__file__).resolve().parent / "integration"


def _integration(path: Path) -> bool:
    return path.resolve().is_relative_to(INTEGRATION_DIR)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration needs the real engine: `-m "not integration"`."""
    for item in items:
        if _integration(item.path):
            item.add_marker(pytest.mark.integration)


# An integration test never ends as "skipped": in CI a missing engine (or anything else that
# would skip one) must be a failure, or a green run would not prove the Docker code works.


def _never_skipped(report: pytest.TestReport | pytest.CollectReport, what: str) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"{what} may not be skipped (integration tests never skip): {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if item.get_closest_marker("integration") is not None:
        _never_skipped(report, item.nodeid)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if _integration(collector.path):
        _never_skipped(report, collector.nodeid)
    return report


@pytest.fixture(scope="session")
def test_run_id() -> str:
    """Every object the integration tests create carries this run id, so they clean up only it."""
    return f"pytest-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def engine(test_run_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator["Engine"]:
    # A missing engine is a failure, never a skip: Engine() raises EngineUnavailable, which
    # errors every test that uses this fixture.
    from basebench.engine import Engine
    from basebench.netconf import network_settings

    logs = tmp_path_factory.mktemp("logs")
    # The CA bundle and proxies of the environment, as `basebench run` would use them.
    engine = Engine(network=network_settings("host"), run_id=test_run_id, log_dir=Path(logs))
    yield engine
    engine.remove_managed(run_id=test_run_id, keep_kinds=("base", "rootfs"))


@pytest.fixture(autouse=True, scope="session")
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests keep their layer sizes and step estimates out of the user's ~/.cache/basebench."""
    import os

    from basebench.cache import CACHE_DIR_ENV

    directory = tmp_path_factory.mktemp("basebench-cache")
    before = os.environ.get(CACHE_DIR_ENV)
    os.environ[CACHE_DIR_ENV] = str(directory)
    yield directory
    if before is None:
        os.environ.pop(CACHE_DIR_ENV, None)
    else:
        os.environ[CACHE_DIR_ENV] = before
