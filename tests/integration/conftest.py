import pytest

from basebench.engine import Engine
from basebench.local.rootfs import ensure_rootfs


@pytest.fixture(scope="session")
def rootfs(engine: Engine) -> str:
    """A debootstrap minbase trixie image: built once per machine, reused afterwards."""
    return ensure_rootfs(engine, "trixie")
