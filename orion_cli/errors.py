"""Exceptions the user can fix, their kinds, and the exit codes of the command line."""

from __future__ import annotations

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_BROKEN = 3
EXIT_BUG = 70
EXIT_INTERRUPTED = 130


class OrionError(Exception):
    """Base of every exception orion_cli raises on purpose."""

    exit_code = EXIT_BUG


class UserError(OrionError):
    """Something the user can fix; the message is the whole story (`what: what to do`)."""

    exit_code = EXIT_USER


class PriorSyntaxError(UserError):
    """A prior such as `loguniform(1e-5, 1.0)` is malformed or inconsistent."""


class SpaceError(UserError):
    """The search space as a whole is wrong (a prior declared twice, no prior at all, ...)."""


class ConfigError(UserError):
    """A configuration file or option is unreadable or invalid."""


class ExperimentNotFound(UserError):
    """No experiment of that name (and version) in the storage."""


class ExperimentConflict(UserError):
    """An existing experiment differs from what this command asks for."""


class StorageError(UserError):
    """The storage cannot be opened, read or written."""


class AlgorithmError(UserError):
    """An unknown algorithm, a bad option, or a missing optional dependency."""


class ScriptError(UserError):
    """The user's command cannot be launched (missing, not executable)."""


class ExperimentBroken(OrionError):
    """Too many trials broke: the hunt stopped (exit 3)."""

    exit_code = EXIT_BROKEN


class Interrupted(OrionError):
    """The hunt was interrupted (Ctrl-C, SIGTERM, or a trial's interrupt code): exit 130."""

    exit_code = EXIT_INTERRUPTED


class CompletedExperiment(OrionError):
    """The experiment is done: its budget is spent or its algorithm has nothing more to try."""

    exit_code = 0


class WaitingForTrials(OrionError):
    """Nothing to run right now: the remaining budget is held by trials running elsewhere."""

    exit_code = 0


class TrialLost(OrionError):
    """This worker's reservation of a trial was taken over (its heartbeat went stale)."""
