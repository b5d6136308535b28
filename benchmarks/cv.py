"""Fold assignment: identical folds for every model and strategy on a dataset (paired comparisons)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold

from benchmarks.cells import derive_seed


def folds(y: np.ndarray, n_splits: int, n_repeats: int, run_seed: int, dataset: str
          ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test indices for split r·n_splits + f, seeded by (run seed, dataset) only."""
    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats,
                                       random_state=derive_seed("folds", run_seed, dataset))
    return list(splitter.split(np.zeros(len(y)), y))


@lru_cache(maxsize=8)
def _cached(y_bytes: bytes, n_splits: int, n_repeats: int, run_seed: int, dataset: str
            ) -> list[tuple[np.ndarray, np.ndarray]]:
    return folds(np.frombuffer(y_bytes, dtype=np.int8), n_splits, n_repeats, run_seed, dataset)


def fold_indices(y: np.ndarray, n_splits: int, n_repeats: int, run_seed: int, dataset: str,
                 repeat: int, fold: int) -> tuple[np.ndarray, np.ndarray]:
    """The (train, test) indices of one cell; cached so a worker splits each dataset once."""
    splits = _cached(np.asarray(y, dtype=np.int8).tobytes(), n_splits, n_repeats, run_seed, dataset)
    return splits[repeat * n_splits + fold]
