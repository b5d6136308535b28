"""A fold's rows copied once (row-major for large one-dtype frames), the numeric preprocessing that passes
data with nothing to impute through, and predictions made a block at a time: less memory, same results."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import imbench.benchmarks.spec.cv as cv
import imbench.benchmarks.execution.fold_rows as fold_rows
from imbench.benchmarks.execution.fit_cell import fit_on_fold
from imbench.datasets import load_dataset
from imbench.strategies import MODELS, get_model
from imbench.strategies.preprocessing import make_preprocessor

#: One float64 and one float32 bundled dataset, each a single block of one dtype.
ONE_BLOCK = ("keel:glass-0-1-2-3_vs_4-5-6", "keel:dermatology-6")
STRATEGIES = ("none", "class-weight", "random-under", "smote", "enn")
#: The tree ensembles' runs are `slow` (make test-all), as in the contract tests.
FITTED_MODELS = [pytest.param(name, marks=pytest.mark.slow if name in ("random-forest", "hist-gb") else ())
                 for name in MODELS if not get_model(name).is_baseline]


def _frame(rows: int = 500, seed: int = 0) -> pd.DataFrame:
    return pd.DataFrame(np.random.default_rng(seed).normal(size=(rows, 6)), columns=list("abcdef"))


def test_take_rows_copies_one_row_major_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fold_rows, "ROW_MAJOR_ABOVE_BYTES", 0)
    X = _frame()
    rows = np.array([5, 1, 400, 7])
    taken = fold_rows.take_rows(X, rows)
    pd.testing.assert_frame_equal(taken, X.iloc[rows])
    values = np.asarray(taken)
    assert values.flags.c_contiguous and not np.shares_memory(values, X.to_numpy())


def test_take_rows_keeps_iloc_for_mixed_small_and_categorical_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    mixed = _frame().astype({"a": np.float32})
    categorical = _frame().assign(g=pd.Categorical(["x", "y"] * 250))
    rows = np.arange(0, 500, 3)
    for frame in (mixed, categorical):
        monkeypatch.setattr(fold_rows, "ROW_MAJOR_ABOVE_BYTES", 0)
        pd.testing.assert_frame_equal(fold_rows.take_rows(frame, rows), frame.iloc[rows])
    monkeypatch.setattr(fold_rows, "ROW_MAJOR_ABOVE_BYTES", 2**40)  # small: iloc, layout as before
    assert np.asarray(fold_rows.take_rows(_frame(), rows)).flags.f_contiguous


@pytest.mark.parametrize("scale", [False, True])
@pytest.mark.parametrize("missing", [False, True])
def test_numeric_preprocessor_equals_a_column_transformer(scale: bool, missing: bool) -> None:
    """Without categoricals the numeric steps take the frame directly: the same values, and data with
    nothing to impute is not copied when no scaling follows."""
    X = _frame()
    if missing:
        X.iloc[::9, 2] = np.nan
        X["f"] = np.nan  # an empty column is dropped by both
    steps = [("impute", SimpleImputer(strategy="median"))] + ([("scale", StandardScaler())] if scale else [])
    reference = ColumnTransformer([("num", Pipeline(steps), list(X.columns))], sparse_threshold=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Skipping features without any observed values"
        ours = make_preprocessor(list(X.columns), (), scale=scale).fit(X)
        expected = reference.fit(X).transform(X)
        got = ours.transform(X)
    np.testing.assert_array_equal(got, expected)
    assert np.shares_memory(got, X.to_numpy()) == (not scale and not missing)
    assert list(ours.get_feature_names_out()) == list("abcde" if missing else "abcdef")  # the empty one dropped


def test_blocks_cover_every_row_once() -> None:
    class Echo:
        def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
            first = X["a"].to_numpy()
            return np.column_stack([1 - first, first])

    X = _frame(rows=1000)
    rows = np.arange(3, 1000, 2)
    for block_bytes in (8 * 6 * 7, 8 * 6 * 499, 8 * 6 * 500, 2**30):  # 7 rows, just under, exactly, one block
        got = fold_rows.predict_positive(Echo(), X, rows, block_bytes)
        np.testing.assert_array_equal(got, X["a"].to_numpy()[rows])
        assert got.dtype == np.float64


@pytest.mark.parametrize("dataset", ONE_BLOCK)
@pytest.mark.parametrize("model", FITTED_MODELS)
def test_row_major_rows_and_blocked_predictions_change_no_result(model: str, dataset: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Every model, with strategies that fit on the rows as given, resampled, weighted and cleaned by
    neighbours (distances through BLAS): identical probabilities whichever layout and block size."""
    data = load_dataset(dataset)
    assert data.X.dtypes.nunique() == 1 and data.X._mgr.nblocks == 1  # the path under test applies
    train, test = next(StratifiedKFold(3, shuffle=True, random_state=0).split(data.X, data.y))

    def fitted(strategy: str) -> np.ndarray:
        return fit_on_fold(model, strategy, {}, data.X, data.y, [], train, test, 7).proba

    for strategy in STRATEGIES:
        monkeypatch.setattr(fold_rows, "ROW_MAJOR_ABOVE_BYTES", 2**40)
        monkeypatch.setattr(fold_rows, "BLOCK_BYTES", 2**40)
        before = fitted(strategy)
        monkeypatch.setattr(fold_rows, "ROW_MAJOR_ABOVE_BYTES", 0)
        monkeypatch.setattr(fold_rows, "BLOCK_BYTES", 8 * data.X.shape[1] * 10)  # blocks of 10 rows
        np.testing.assert_array_equal(fitted(strategy), before, err_msg=f"{model} × {strategy} on {dataset}")


def test_fold_cache_is_bounded_and_changes_no_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers keep the folds of recent datasets (cells come longest-first, datasets interleaved), within
    a bound on datasets and on indices; evicted folds are recomputed to the very same split."""
    monkeypatch.setattr(cv, "_FOLDS", type(cv._FOLDS)())
    monkeypatch.setattr(cv, "FOLD_CACHE_DATASETS", 3)
    monkeypatch.setattr(cv, "FOLD_CACHE_INDICES", 3 * 100 * 10)  # three 100-row datasets × 10 splits
    y = (np.arange(100) % 5 == 0).astype(int)
    first = [cv.fold_indices(y, 5, 2, 0, f"d{i}", 1, 3) for i in range(5)]
    assert [key[-1] for key in cv._FOLDS] == ["d2", "d3", "d4"]
    cv.fold_indices(np.r_[y, y], 5, 2, 0, "big", 0, 0)  # 200 rows: only two datasets fit now
    assert [key[-1] for key in cv._FOLDS] == ["d4", "big"]
    for i, (train, test) in enumerate(first):
        expected = cv.folds(y, 5, 2, 0, f"d{i}")[5 + 3]
        np.testing.assert_array_equal(train, expected[0])
        np.testing.assert_array_equal(cv.fold_indices(y, 5, 2, 0, f"d{i}", 1, 3)[1], expected[1])
