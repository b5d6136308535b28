"""Protocol rule 2: a sampler only ever sees training-fold rows — proven by a sampler that records them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from imblearn.base import BaseSampler
from sklearn.base import BaseEstimator

from imbench.benchmarks.spec.cv import fold_indices
from imbench.benchmarks.spec.grid import parse_grid
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from imbench.datasets import Dataset, register_source
from imbench.strategies import register_strategy
from imbench.strategies.resampling import SamplerStrategy

SEEN: list[np.ndarray] = []


class RecordingSampler(BaseSampler):
    """Passes data through unchanged and records the row ids (column 0) it was given."""

    _sampling_type = "bypass"
    _parameter_constraints: dict = {}

    def __init__(self) -> None:
        super().__init__()

    def _fit_resample(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        SEEN.append(np.asarray(X)[:, 0].round().astype(int).copy())
        return X, y


@register_strategy
class RecordRows(SamplerStrategy):
    name = "test-record-rows"
    family = "oversampling"
    description = "test only: records the rows its sampler sees"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return RecordingSampler()


@register_source("leaktest")
def _leak_dataset(name: str) -> Dataset:
    rng = np.random.default_rng(0)
    n = 120
    X = pd.DataFrame({"row_id": np.arange(n, dtype=float), "x": rng.normal(size=n)})
    y = np.zeros(n, dtype=np.int8)
    y[::6] = 1
    return Dataset(name=name, X=X, y=y, categorical=[], meta={"n": n})


def test_sampler_sees_training_rows_only(tmp_path: Path) -> None:
    grid = parse_grid("""
        datasets = ["leaktest:ids"]
        models = ["random-forest"]
        strategies = ["test-record-rows"]
        [cv]
        n_splits = 4
        n_repeats = 2
    """)
    SEEN.clear()
    run_grid(grid, tmp_path / "run", backend="sequential")
    cells = store_reader(tmp_path / "run").cells()
    assert (cells["status"] == "ok").all() and len(cells) == 8
    y = _leak_dataset("leaktest:ids").y
    expected = [fold_indices(y, 4, 2, grid.seed, "leaktest:ids", r, f) for r in range(2) for f in range(4)]
    assert len(SEEN) == len(expected)
    for seen, (train, test) in zip(SEEN, expected, strict=True):
        assert not set(seen) & set(test), "a test-fold row reached the sampler"
        assert sorted(seen) == sorted(train)
