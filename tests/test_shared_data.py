"""One copy of a large dataset, and fits that copy only what they need — without changing any result."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer

import imbench.benchmarks.execution.shared_data as shared_data
from imbench.benchmarks.spec.grid import load_grid
from imbench.benchmarks.runner import run_grid
from imbench.datasets import load_dataset
from imbench.strategies import TrainingContext
from imbench.strategies.preprocessing import LeanColumnTransformer, MedianImputer, make_preprocessor
from tests.helpers import comparable


def _awkward(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(301, 6))
    X[rng.random(X.shape) < 0.2] = np.nan
    X[:, 2] = np.nan  # an empty column
    X[:7, 3] = 1e300  # huge values
    X[:, 4] = np.round(X[:, 4])  # ties
    return X[:300] if seed % 2 else X  # odd and even counts


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("keep_empty", [False, True])
def test_median_imputer_equals_simple_imputer(seed: int, keep_empty: bool) -> None:
    X = _awkward(seed)
    ours = MedianImputer(strategy="median", keep_empty_features=keep_empty).fit(X)
    theirs = SimpleImputer(strategy="median", keep_empty_features=keep_empty).fit(X)
    np.testing.assert_array_equal(ours.statistics_, theirs.statistics_)
    np.testing.assert_array_equal(ours.transform(X), theirs.transform(X))


def test_lean_column_transformer_keeps_values_and_layout() -> None:
    X = pd.DataFrame(_awkward(0)[:, [0, 1, 3, 4, 5]], columns=list("abcde"))
    for transformers in ([("num", SimpleImputer(strategy="median"), list("abcde"))],
                         [("num", "passthrough", list("abc")), ("two", SimpleImputer(), list("de"))]):
        ours = LeanColumnTransformer(transformers, sparse_threshold=0.0).fit_transform(X)
        theirs = ColumnTransformer(transformers, sparse_threshold=0.0).fit_transform(X)
        np.testing.assert_array_equal(ours, theirs)
        assert (ours.flags.c_contiguous, ours.flags.f_contiguous) == (theirs.flags.c_contiguous,
                                                                      theirs.flags.f_contiguous)
    ctx = TrainingContext(10, 2, ("a", "b"), ("g",))
    assert isinstance(make_preprocessor(ctx.numeric_columns, ctx.categorical_columns, scale=True),
                      LeanColumnTransformer)


def test_a_run_with_every_dataset_shared_stores_the_same(tiny_grid_file: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    grid = load_grid(tiny_grid_file)
    run_grid(grid, tmp_path / "by-name", n_jobs=2)
    shared = []
    real_share = shared_data.share

    def share_all(datasets: dict, folder: Path, above: int | None = None) -> dict[str, str]:
        files = real_share(datasets, folder, above=0)
        shared.extend(isinstance(d.X._mgr.blocks[0].values, np.memmap) for d in datasets.values())
        return files

    monkeypatch.setattr(shared_data, "share", share_all)
    monkeypatch.setattr(shared_data, "SHARE_ABOVE_BYTES", 0)  # the runner then loads every dataset to share
    run_grid(grid, tmp_path / "shared", n_jobs=2)
    assert shared == [True, True, True]  # the client's copies were swapped for the mapped ones
    a_cells, a_preds = comparable(tmp_path / "by-name")
    b_cells, b_preds = comparable(tmp_path / "shared")
    pd.testing.assert_frame_equal(a_cells, b_cells)
    pd.testing.assert_frame_equal(a_preds, b_preds)


def test_shared_copy_is_read_only_and_equal(tmp_path: Path) -> None:
    data = {"keel:glass1": load_dataset("keel:glass1")}
    original = data["keel:glass1"].X.copy()
    files = shared_data.share(data, tmp_path, above=0)
    mapped = shared_data.load_shared(files["keel:glass1"])
    pd.testing.assert_frame_equal(mapped.X, original)
    with pytest.raises(ValueError):
        mapped.X._mgr.blocks[0].values[0, 0] = 1.0
    assert shared_data.share({"keel:glass1": load_dataset("keel:glass1")}, tmp_path) == {}  # small: by name
