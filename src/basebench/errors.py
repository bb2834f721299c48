"""Exceptions that carry a message meant for the user (what is wrong and what to do)."""


class UserError(Exception):
    """Something the user can fix: bad input, a missing tool, an engine that is down."""


class EngineUnavailable(UserError):
    """No Docker engine answers, or no CLI can do BuildKit builds."""


class BuildFailed(UserError):
    """A docker build failed; the message holds the log's last lines and its path."""

    def __init__(self, message: str, log_path: str) -> None:
        super().__init__(message)
        self.log_path = log_path


class ConfigError(UserError):
    """The configuration file or the command line asks for something invalid."""
