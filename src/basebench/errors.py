"""Exceptions that carry a message meant for the user (what is wrong and what to do)."""


class UserError(Exception):
    """Something the user can fix: bad input, a missing tool, an engine that is down."""


class EngineUnavailable(UserError):
    """No Docker engine answers, or no CLI can do BuildKit builds."""


class MeasurementFailed(UserError):
    """One build or container failed (exit code, out of memory, timeout, an engine error): the
    run records it with its reason and the log that says more, and goes on with the rest."""

    def __init__(self, message: str, log_path: str = "") -> None:
        super().__init__(message)
        self.log_path = log_path


class BuildFailed(MeasurementFailed):
    """A docker build failed; the message holds the log's last lines and its path."""


class EngineLost(Exception):
    """The engine stopped answering during a run. Not a :class:`UserError` on purpose: the
    handlers that record one measurement's failure and go on must not catch it, since every
    later measurement would fail the same way; the run ends, its data kept."""


class ConfigError(UserError):
    """The configuration file or the command line asks for something invalid."""
