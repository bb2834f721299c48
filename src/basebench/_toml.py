"""Reading the project's TOML files (configuration, catalogue, manifests) with one kind of error."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from basebench.errors import ConfigError


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The parsed file, or a ConfigError naming the file and (for syntax errors) the line."""
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message carries "(at line N, column M)".
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from None
