"""Which exceptions are the user's to fix (shown as one line, exit 2) rather than imbench bugs.

The classes are collected lazily: importing them pulls in scikit-learn, pandas and the registries,
which `imbench --help` does not need.
"""
from __future__ import annotations


class UserError(Exception):
    """Any other mistake in how imbench was called."""


def user_errors() -> tuple[type[BaseException], ...]:
    """Every exception class whose message is meant for the user."""
    from analysis.leaderboard import AnalysisInputError
    from analysis.prior_shift import ShiftInputError
    from benchmarks.execution import BackendError
    from benchmarks.grid import GridError
    from foundation.metrics import UnknownMetricError
    from benchmarks.store import StoreError
    from datasets import DatasetError
    from strategies.base import InvalidParamsError
    from foundation.names import UnknownNameError

    return (UserError, GridError, StoreError, DatasetError, UnknownNameError, InvalidParamsError, BackendError,
            UnknownMetricError, ShiftInputError, AnalysisInputError)
