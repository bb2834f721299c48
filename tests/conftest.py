import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def test_run_id() -> str:
    """Every object the integration tests create carries this run id, so they clean up only it."""
    return f"pytest-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def engine(test_run_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    # A missing engine is a failure, never a skip: CI must prove the Docker code works.
    from basebench.engine import Engine
    from basebench.netconf import network_settings

    logs = tmp_path_factory.mktemp("logs")
    # The CA bundle and proxies of the environment, as `basebench run` would use them.
    engine = Engine(network=network_settings("host"), run_id=test_run_id, log_dir=Path(logs))
    yield engine
    engine.remove_managed(run_id=test_run_id, keep_kinds=("base", "rootfs"))
