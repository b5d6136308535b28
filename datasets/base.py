"""The Dataset noun and the validation every loaded dataset goes through."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


class DatasetError(ValueError):
    """A dataset that cannot be loaded or used; the message names the dataset and the fix."""


@dataclass
class Dataset:
    """Features, a 0/1 target (1 = the class of interest) and metadata."""

    name: str
    X: pd.DataFrame
    y: np.ndarray
    categorical: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def numeric(self) -> list[str]:
        return [c for c in self.X.columns if c not in set(self.categorical)]

    @property
    def n_pos(self) -> int:
        return int(self.y.sum())


def describe(X: pd.DataFrame, y: np.ndarray, categorical: list[str], **extra: Any) -> dict[str, Any]:
    """Metadata computed from the data itself: n, d, n_pos, IR, n_categorical, missing rate."""
    n_pos = int(np.sum(y))
    n = int(len(y))
    return {
        "n": n,
        "d": int(X.shape[1]),
        "n_pos": n_pos,
        "ir": round((n - n_pos) / n_pos, 2) if n_pos else float("inf"),
        "n_categorical": len(categorical),
        "missing_rate": round(float(X.isna().to_numpy().mean()) if X.size else 0.0, 4),
        **extra,
    }


def validate(dataset: Dataset, min_positives: int = 2) -> Dataset:
    """Reject data no protocol can use, with one line that names the dataset and the problem."""
    y = np.asarray(dataset.y)
    name = dataset.name
    if len(y) != len(dataset.X):
        raise DatasetError(f"dataset {name!r}: {len(dataset.X)} feature rows but {len(y)} targets")
    if not np.isin(y, (0, 1)).all():
        raise DatasetError(f"dataset {name!r}: target must be 0/1 after mapping, found values {np.unique(y)[:5]}")
    n_pos = int(y.sum())
    if n_pos < min_positives or n_pos == len(y):
        raise DatasetError(f"dataset {name!r}: needs both classes with at least {min_positives} positives "
                           f"(found {n_pos} of {len(y)} rows)")
    dataset.y = y.astype(np.int8)
    return dataset
