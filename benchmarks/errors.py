"""Which exceptions are the user's to fix (shown as one line, exit 2) rather than imbench bugs."""
from __future__ import annotations

from analysis.prior_shift import ShiftInputError
from benchmarks.execution import BackendError
from benchmarks.grid import GridError
from benchmarks.metrics import UnknownMetricError
from benchmarks.store import StoreError
from datasets import DatasetError
from strategies.base import InvalidParamsError
from strategies.registry import UnknownNameError


class UserError(Exception):
    """Any other mistake in how imbench was called."""


USER_ERRORS: tuple[type[BaseException], ...] = (
    UserError, GridError, StoreError, DatasetError, UnknownNameError, InvalidParamsError, BackendError,
    UnknownMetricError, ShiftInputError)
