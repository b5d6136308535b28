"""LightGBM trained on rows read in batches from a larger array, never copied together.

LightGBM builds its Dataset from a matrix: a training fold of a large dataset must first be copied
into one (the fold, whole), and while LightGBM bins it, it also holds its binning sample (up to
`bin_construct_sample_cnt` rows, with their indices). Its `Sequence` interface reads rows in
batches instead, but LightGBM's Python side then differs from its matrix path in two ways this
module corrects, so that the model is the very same:

- it passes only "dataset" parameters to the C library while sampling and binning, so `seed` does
  not reach the choice of sample rows and `min_data_in_leaf` not the pre-filter of features; here
  every parameter goes, as the matrix path passes them;
- it gathers the sample one row object at a time (about twice the sample at once); here it is read
  a block of rows at a time straight into one array per column.

scikit-learn's LGBMClassifier always makes its own Dataset from what `fit` is given, so
`dataset_from_rows` gives `fit` a placeholder of the right shape that holds no data (every stride
0: it passes validation without a copy) and, while any such fit lasts, has LightGBM's scikit-learn
module make Datasets with this class, which reads the rows instead of the placeholder. The rows
belong to the thread that fits (a Dask worker may fit several cells in threads); every other
Dataset, made by any thread, is an ordinary one.

tests/test_lgbm_rows.py checks models and predictions are identical to the matrix path, with a
binning sample smaller than the rows and with missing values to impute.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import lightgbm
import lightgbm.sklearn
import numpy as np

#: Rows read (and given to LightGBM) at a time.
BATCH_ROWS = 4096
#: LightGBM's threshold below which a sampled value counts as zero (c_api.cpp, kZeroThreshold).
ZERO_THRESHOLD = 1e-35


class TrainingRows(lightgbm.Sequence):
    """`rows` of a source, each batch made by `read(rows)` (which returns a 2-D float array)."""

    batch_size = BATCH_ROWS

    def __init__(self, read: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, n_columns: int) -> None:
        self.read = read
        self.rows = np.asarray(rows)
        self.n_columns = n_columns

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), self.n_columns

    def __getitem__(self, index: int | slice | list[int]) -> np.ndarray:
        if isinstance(index, (int, np.integer)):
            return self._read(self.rows[[index]])[0]
        return self._read(self.rows[index])

    def _read(self, rows: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.read(rows), dtype=np.float64)

    def columns_at(self, positions: np.ndarray) -> np.ndarray:
        """The rows at `positions`, one contiguous array per column (columns × rows), read in batches."""
        out = np.empty((self.n_columns, len(positions)))
        for start in range(0, len(positions), self.batch_size):
            out[:, start:start + self.batch_size] = self[positions[start:start + self.batch_size]].T
        return out


class _RowsDataset(lightgbm.Dataset):
    """A Dataset that reads its data from the TrainingRows of the fit under way (when it is given the
    placeholder), sampled and binned exactly as LightGBM's matrix path would."""

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        rows = _active()
        self._from_rows = rows is not None and _is_placeholder(data, rows)
        super().__init__(rows if self._from_rows else data, *args, **kwargs)

    def get_params(self) -> dict[str, Any]:
        if self._from_rows and self.params is not None:
            return dict(self.params)  # all of them, as the matrix path passes (see the module docstring)
        return super().get_params()

    def _Dataset__sample(self, *, seqs: list[Any], total_nrow: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Override of LightGBM's private sampler for sequences (the name it calls): the same rows and
        values, a column array each, and one shared index array for columns without zeros."""
        if not self._from_rows or len(seqs) != 1 or not isinstance(seqs[0], TrainingRows):
            raise TypeError("this Dataset reads only the TrainingRows given to dataset_from_rows")
        positions = self._create_sample_indices(total_nrow=total_nrow)
        columns = seqs[0].columns_at(positions)
        every = np.arange(len(positions), dtype=np.int32)
        values, indices = [], []
        for column in columns:
            kept = (np.abs(column) > ZERO_THRESHOLD) | np.isnan(column)
            if kept.all():
                values.append(column)
                indices.append(every)
            else:
                values.append(np.ascontiguousarray(column[kept]))
                indices.append(np.flatnonzero(kept).astype(np.int32))
        return values, indices


_THREAD = threading.local()  # .rows: the TrainingRows this thread is fitting on
_SWAP_LOCK = threading.Lock()
_SWAP_USERS = 0  # fits under way in this process that need the swap


def _active() -> TrainingRows | None:
    return getattr(_THREAD, "rows", None)


def _is_placeholder(data: Any, rows: TrainingRows) -> bool:
    return isinstance(data, np.ndarray) and data.ndim == 2 and data.strides == (0, 0) and data.shape == rows.shape


@contextmanager
def dataset_from_rows(rows: TrainingRows) -> Iterator[np.ndarray]:
    """While it lasts, a LightGBM scikit-learn estimator fitted on the yielded placeholder, in this
    thread, trains on `rows` (read in batches) instead."""
    global _SWAP_USERS
    if _active() is not None:
        raise RuntimeError("dataset_from_rows is already in use in this thread")
    with _SWAP_LOCK:
        if _SWAP_USERS == 0:
            lightgbm.sklearn.Dataset = _RowsDataset
        _SWAP_USERS += 1
    _THREAD.rows = rows
    try:
        yield np.broadcast_to(np.zeros(1), rows.shape)
    finally:
        _THREAD.rows = None
        with _SWAP_LOCK:
            _SWAP_USERS -= 1
            if _SWAP_USERS == 0:
                lightgbm.sklearn.Dataset = lightgbm.Dataset
