"""The rows of a fold, copied once, in the layout the fit wants, and predictions made a block at a time.

A fit copies its training rows (fancy indexing always copies). `X.iloc[rows]` of a frame whose columns
share one dtype gives a column-major copy; LightGBM (and scikit-learn's linear models) then make a
second, row-major one, so a large training fold was held twice. `take_rows` copies such a frame's rows
straight into one row-major array wrapped in a DataFrame without a copy, which those models take as
it is. Frames with several dtypes or blocks (most bundled datasets) keep `iloc`: their values reach the
fit through the preprocessor's conversion exactly as before.

A LightGBM pipeline that strategies/row_fit.py can fit from rows (imputation, random under- or
over-sampling, LightGBM) is not given a copy at all when the frame is large (`fits_in_batches`): it
reads the training rows a batch at a time, and LightGBM's binning sample is then the only large thing
it holds.

Predictions are per row, so the test rows are predicted in blocks of about BLOCK_BYTES: a large test
fold then never exists as a second full copy (a fold smaller than a block is one block, as before).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Bytes of feature values predicted at a time (a test fold below this is predicted in one call).
BLOCK_BYTES = 32 * 2**20
#: Frames below this many bytes keep `iloc` (a second small copy costs nothing and keeps the layout).
ROW_MAJOR_ABOVE_BYTES = 16 * 2**20


def _single_block(X: pd.DataFrame) -> np.ndarray | None:
    """The frame's values as one array without copying them, if it is one numeric block."""
    if X.shape[1] == 0 or X.dtypes.nunique() != 1 or not np.issubdtype(X.dtypes.iloc[0], np.number):
        return None
    if X._mgr.nblocks != 1:  # to_numpy() would copy the whole frame to interleave its blocks
        return None
    return np.asarray(X.to_numpy(copy=False))


def _large(X: pd.DataFrame) -> bool:
    return X.shape[0] * X.shape[1] * 8 >= ROW_MAJOR_ABOVE_BYTES


def fits_in_batches(X: pd.DataFrame) -> bool:
    """Whether a fit that can read its rows in batches should: a large frame of one numeric block."""
    return _large(X) and _single_block(X) is not None


def take_rows(X: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The frame's `rows` (with their index), one copy; row-major for a large one-dtype frame."""
    values = _single_block(X) if _large(X) else None
    if values is None:
        return X.iloc[rows]
    return pd.DataFrame(values[rows], index=X.index[rows], columns=X.columns, copy=False)


def block_rows(n_columns: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Rows per prediction block for a frame of `n_columns`."""
    return max(1, block_bytes // (8 * max(n_columns, 1)))


def predict_positive(estimator: Any, X: pd.DataFrame, rows: np.ndarray, block_bytes: int = BLOCK_BYTES) -> np.ndarray:
    """Positive-class probabilities of `rows` of X, a block of rows at a time, as float64."""
    step = block_rows(X.shape[1], block_bytes)
    parts = [np.asarray(estimator.predict_proba(take_rows(X, rows[start:start + step])))[:, 1]
             for start in range(0, len(rows), step)] or [np.empty(0)]
    return np.concatenate(parts).astype(np.float64)
