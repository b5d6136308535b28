"""Fold assignment: identical folds for every model and strategy on a dataset (paired comparisons)."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold

from imbench.foundation.hashing import derive_seed
from imbench.datasets import DatasetError
from imbench.datasets.openml_source import task_shape, task_split, uses_task_splits


def folds(y: np.ndarray, n_splits: int, n_repeats: int, run_seed: int, dataset: str
          ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test indices for split r·n_splits + f, seeded by (run seed, dataset) only."""
    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats,
                                       random_state=derive_seed("folds", run_seed, dataset))
    return list(splitter.split(np.zeros(len(y)), y))


#: What a worker keeps of the folds it computed: cells come longest-first, not dataset by dataset, so
#: a worker comes back to a dataset after many others. At most this many datasets (as its dataset
#: cache) and this many indices in all (about 128 MiB); least recently used go first.
FOLD_CACHE_DATASETS = 64
FOLD_CACHE_INDICES = 2**24
_FOLDS: OrderedDict[tuple[bytes, int, int, int, str], list[tuple[np.ndarray, np.ndarray]]] = OrderedDict()


def _cached(y_bytes: bytes, n_splits: int, n_repeats: int, run_seed: int, dataset: str
            ) -> list[tuple[np.ndarray, np.ndarray]]:
    key = (y_bytes, n_splits, n_repeats, run_seed, dataset)
    if key in _FOLDS:
        _FOLDS.move_to_end(key)
        return _FOLDS[key]
    _FOLDS[key] = folds(np.frombuffer(y_bytes, dtype=np.int8), n_splits, n_repeats, run_seed, dataset)
    while len(_FOLDS) > 1 and (len(_FOLDS) > FOLD_CACHE_DATASETS or sum(
            len(k[0]) * k[1] * k[2] for k in _FOLDS) > FOLD_CACHE_INDICES):
        _FOLDS.popitem(last=False)
    return _FOLDS[key]


def fold_indices(y: np.ndarray, n_splits: int, n_repeats: int, run_seed: int, dataset: str,
                 repeat: int, fold: int) -> tuple[np.ndarray, np.ndarray]:
    """The (train, test) indices of one cell; cached so a worker splits each dataset once.

    An OpenML task run with `cv = "task"` (dataset name `openml-task:<id>[cv=task]`) uses the task's own
    splits instead, read from the cache, so results are comparable with published OpenML runs; they are
    the same for every model and strategy too, so comparisons stay paired.
    """
    if uses_task_splits(dataset):
        return task_fold(len(y), n_splits, n_repeats, dataset, repeat, fold)
    splits = _cached(np.asarray(y, dtype=np.int8).tobytes(), n_splits, n_repeats, run_seed, dataset)
    return splits[repeat * n_splits + fold]


def task_fold(n_rows: int, n_splits: int, n_repeats: int, dataset: str, repeat: int, fold: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """One split of an OpenML task, checked against the grid's shape and the dataset's rows."""
    shape = task_shape(dataset)
    if shape != (n_repeats, n_splits):
        raise DatasetError(f"dataset {dataset!r}: the task has {shape[0]} repeats x {shape[1]} folds, the run "
                           f"expects {n_repeats} x {n_splits}")
    train, test = task_split(dataset, repeat, fold)
    if len(train) + len(test) == 0 or max(train.max(initial=-1), test.max(initial=-1)) >= n_rows:
        raise DatasetError(f"dataset {dataset!r}: the task's split {repeat}/{fold} refers to rows beyond the "
                           f"dataset's {n_rows}")
    return train, test
