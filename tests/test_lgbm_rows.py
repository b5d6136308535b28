"""LightGBM fitted from rows read in batches (strategies/lgbm_rows.py, strategies/row_fit.py) gives the
very model a fit on a copy of those rows gives: same trees, same probabilities, same fitted steps."""
from __future__ import annotations

import lightgbm
import lightgbm.sklearn
import numpy as np
import pandas as pd
import pytest

from imbench.benchmarks.execution import fit_cell
from imbench.benchmarks.execution import fold_rows
from imbench.benchmarks.execution.fit_cell import fit_on_fold
from imbench.strategies import TrainingContext, get_model, get_strategy
from imbench.strategies.lgbm_rows import TrainingRows, dataset_from_rows
from imbench.strategies.row_fit import fits_from_rows


def _data(n: int = 3000, d: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[:, 1] = np.where(rng.random(n) < 0.6, 0.0, X[:, 1])  # mostly zeros: LightGBM samples its non-zeros
    X[:, 2] = 1.0  # constant
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 1.4).astype(np.int8)
    return X, y


@pytest.mark.parametrize("params", [
    {},
    {"bin_construct_sample_cnt": 500},  # a binning sample smaller than the rows: LightGBM chooses it by seed
    {"bin_construct_sample_cnt": 500, "min_child_samples": 400},  # features pre-filtered by leaf size
    {"class_weight": "balanced", "subsample": 0.5, "subsample_freq": 1, "max_bin": 31},
])
def test_lightgbm_from_rows_is_the_matrix_fit(params: dict) -> None:
    X, y = _data()
    X[np.random.default_rng(1).random(X.shape) < 0.03] = np.nan  # LightGBM's own missing values
    rows = np.sort(np.random.default_rng(2).choice(len(X), 2000, replace=False))
    settings = dict(n_estimators=25, random_state=7, verbose=-1, n_jobs=1, **params)
    expected = lightgbm.LGBMClassifier(**settings).fit(X[rows], y[rows])
    model = lightgbm.LGBMClassifier(**settings)
    with dataset_from_rows(TrainingRows(lambda batch: X[batch], rows, X.shape[1])) as placeholder:
        assert placeholder.nbytes == X[rows].nbytes and placeholder.strides == (0, 0)
        model.fit(placeholder, y[rows])
    assert model.booster_.model_to_string() == expected.booster_.model_to_string()
    np.testing.assert_array_equal(model.predict_proba(X), expected.predict_proba(X))
    assert lightgbm.sklearn.Dataset is lightgbm.Dataset  # the swap ends with the fit


def test_dataset_from_rows_restores_lightgbm_after_an_error_and_refuses_nesting() -> None:
    X, y = _data(200)
    rows = np.arange(150)
    with pytest.raises(ValueError, match="boom"):
        with dataset_from_rows(TrainingRows(lambda batch: X[batch], rows, X.shape[1])):
            with pytest.raises(RuntimeError, match="already in use"):
                with dataset_from_rows(TrainingRows(lambda batch: X[batch], rows, X.shape[1])):
                    pass
            raise ValueError("boom")
    assert lightgbm.sklearn.Dataset is lightgbm.Dataset
    plain = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(X[rows], y[rows])  # ordinary fits unaffected
    assert plain.booster_.num_trees() == 5


def test_fits_in_threads_each_read_their_own_rows() -> None:
    """A Dask worker may fit cells in threads: each row fit reads its own rows, a plain fit its matrix."""
    from concurrent.futures import ThreadPoolExecutor

    X, y = _data(2500)
    settings = dict(n_estimators=15, random_state=1, verbose=-1, n_jobs=1, bin_construct_sample_cnt=300)
    parts = [np.arange(0, 2500, 2), np.arange(1, 2500, 2), np.arange(0, 1800), np.arange(700, 2500)]

    def from_rows(rows: np.ndarray) -> str:
        model = lightgbm.LGBMClassifier(**settings)
        with dataset_from_rows(TrainingRows(lambda batch: X[batch], rows, X.shape[1])) as placeholder:
            model.fit(placeholder, y[rows])
        return model.booster_.model_to_string()

    def plain(rows: np.ndarray) -> str:
        return lightgbm.LGBMClassifier(**settings).fit(X[rows], y[rows]).booster_.model_to_string()

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda i: (plain if i == 3 else from_rows)(parts[i]), range(4)))
    assert got == [plain(rows) for rows in parts]
    assert len(set(got)) == 4
    assert lightgbm.sklearn.Dataset is lightgbm.Dataset


def test_training_rows_reads_rows_columns_and_single_rows() -> None:
    X, _ = _data(100, 4)
    rows = np.array([5, 9, 42, 77])
    source = TrainingRows(lambda batch: X[batch], rows, 4)
    source.batch_size = 3  # several batches
    assert len(source) == 4 and source.shape == (4, 4)
    np.testing.assert_array_equal(source[1:3], X[[9, 42]])
    np.testing.assert_array_equal(source[2], X[42])
    np.testing.assert_array_equal(source.columns_at(np.array([0, 3, 1])), X[[5, 77, 9]].T)


def _pipeline(model: str, strategy: str, options: dict | None = None) -> object:
    ctx = TrainingContext(n_train=1000, n_pos=100, numeric_columns=("a", "b"), categorical_columns=())
    spec = get_model(model).with_options(options or {})
    chosen = get_strategy(strategy)
    used, _ = chosen.adapt(spec, chosen.resolve_params({}), ctx)
    return chosen.build(spec, used, ctx, 0)


def test_fits_from_rows_takes_only_pipelines_it_reproduces() -> None:
    for strategy in ("none", "class-weight", "random-under", "random-over"):
        assert fits_from_rows(_pipeline("lightgbm", strategy)), strategy
    assert fits_from_rows(_pipeline("lightgbm", "none", {"small_sets": "scale"}))
    for model, strategy in [("lightgbm", "smote"), ("lightgbm", "enn"), ("lightgbm", "focal"),
                            ("lightgbm", "easy-ensemble"), ("xgboost", "none"), ("logreg", "none"),
                            ("hist-gb", "random-under")]:
        assert not fits_from_rows(_pipeline(model, strategy)), (model, strategy)


@pytest.mark.parametrize("strategy,options", [
    ("none", None), ("class-weight", None), ("random-under", None), ("random-over", None),
    ("none", {"small_sets": "scale"}),
])
def test_fit_on_fold_from_rows_equals_the_fit_on_a_copy(strategy: str, options: dict | None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = _data(4000, 6, seed=3)
    X[np.random.default_rng(4).random(X.shape) < 0.05] = np.nan  # medians to learn and fill
    X[:, 5] = np.where(np.arange(len(X)) % 2 == 0, np.nan, X[:, 5])  # empty in training (even rows)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    train, test = np.arange(0, 4000, 2), np.arange(1, 4000, 2)
    taken: list[int] = []
    monkeypatch.setattr(fit_cell, "take_rows", lambda X, rows: taken.append(len(rows)) or fold_rows.take_rows(X, rows))

    def fit(threshold: int) -> object:
        monkeypatch.setattr(fold_rows, "ROW_MAJOR_ABOVE_BYTES", threshold)
        return fit_on_fold("lightgbm", strategy, {}, frame, y, [], train, test, seed=5, model_options=options)

    batched = fit(0)
    assert taken == []  # the training rows were never copied together
    copied = fit(2**62)
    assert taken == [len(train)]
    np.testing.assert_array_equal(batched.proba, copied.proba)
    assert batched.training_prior == copied.training_prior
    assert batched.extra == copied.extra
    batched_steps, copied_steps = dict(batched.estimator.steps), dict(copied.estimator.steps)
    np.testing.assert_array_equal(batched_steps["prep"].impute_.statistics_, copied_steps["prep"].impute_.statistics_)
    assert list(batched_steps["prep"].feature_names_in_) == list(frame.columns)
    assert batched_steps["model"].booster_.model_to_string() == copied_steps["model"].booster_.model_to_string()
    assert batched_steps["model"].n_features_in_ == copied_steps["model"].n_features_in_ == 5  # empty column dropped
    if "counter" in batched_steps:
        assert batched_steps["counter"].n_pos_ == copied_steps["counter"].n_pos_
        np.testing.assert_array_equal(batched_steps["sampler"].sample_indices_, copied_steps["sampler"].sample_indices_)
