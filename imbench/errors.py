"""Which exceptions are the user's to fix (shown as one line, exit 2) rather than imbench bugs.

The classes are collected lazily: importing them pulls in scikit-learn, pandas and the registries,
which `imbench --help` does not need. Anything else is a bug in imbench and keeps exit code 1 with
its traceback, so a catch-all can never make a user error look handled.
"""
from __future__ import annotations

import sqlite3

#: What SQLite says when a store's file is damaged (met while reading, after the cheap checks passed).
CORRUPTION_MESSAGES = ("malformed", "not a database", "disk i/o error", "file is not a database",
                       "database disk image")


class UserError(Exception):
    """Any other mistake in how imbench was called."""


def user_errors() -> tuple[type[BaseException], ...]:
    """Every exception class whose message is meant for the user."""
    from imbench.analysis.leaderboard import AnalysisInputError
    from imbench.analysis.prior_shift import ShiftInputError
    from imbench.benchmarks.execution.backends import BackendError
    from imbench.benchmarks.spec.grid import GridError
    from imbench.foundation.metrics import UnknownMetricError
    from imbench.benchmarks.store.schema import StoreError
    from imbench.datasets import DatasetError
    from imbench.foundation.params import InvalidParamsError
    from imbench.benchmarks.store.lock import StoreBusyError
    from imbench.benchmarks.spec.parts import PartError
    from imbench.foundation.names import NameConflictError, UnknownNameError
    from imbench.foundation.paths import OutputPathError

    return (UserError, GridError, StoreError, DatasetError, UnknownNameError, InvalidParamsError, BackendError,
            UnknownMetricError, ShiftInputError, AnalysisInputError, StoreBusyError, NameConflictError,
            OutputPathError, PartError)


def store_corruption(exc: BaseException) -> str | None:
    """The one line for an SQLite error that means a damaged store file, else None (a bug)."""
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, (sqlite3.IntegrityError,
                                                                       sqlite3.ProgrammingError)):
        return None
    text = str(exc).lower()
    if not any(marker in text for marker in CORRUPTION_MESSAGES):
        return None
    return f"the results store is damaged ({exc}); `imbench check RESULTS` says what is wrong"
