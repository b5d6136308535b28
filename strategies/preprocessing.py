"""Per-model preprocessing, fitted inside the training fold as the first pipeline step(s).

Samplers such as SMOTE need complete numeric inputs, so imputation and encoding normally come first;
scaling only for models that are scale-sensitive (declared by the model).

Samplers that handle categorical features themselves (SMOTENC, SMOTEN) must see the categories, not
their one-hot columns — SMOTE on one-hot columns interpolates "0.3 of red and 0.7 of blue". For them
the preprocessing is split in two: `make_imputer` (impute only, keep column names) before the sampler
and `make_encoder` (scale, one-hot) after it; `make_preprocessor` is the two in one step.

Categorical features: one-hot for every model (linear models need it), keeping a column's
MAX_ONEHOT_LEVELS - 1 most frequent levels and grouping the rest as "infrequent" (learned on the
training fold; the high-cardinality rule of datasets/cleaning.py). Models that split on categories
natively (LightGBM, HistGradientBoosting: capability `native_categorical`, with the estimator parameter
that takes the categorical column positions in `tags["categorical_param"]`) get integer codes instead
(at most MAX_NATIVE_LEVELS levels, HistGradientBoosting's bin limit), placed after the numeric columns,
and the estimator is told their positions by `native_categoricals`. Numeric columns come first in
every encoder's output, so the positions are known from the training context alone.

A sampler that makes new rows by interpolation (SMOTE, ADASYN, ...) on such codes makes fractional
codes; `RoundCodes`, placed after the sampler, rounds them to the nearest level seen in training (as
SMOTE on one-hot columns makes fractional indicators, it is an approximation: `smotenc` treats
categories properly). It leaves real rows, and so the test fold, unchanged.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

#: Columns a one-hot encoder makes per categorical feature (the last one: all rarer levels).
MAX_ONEHOT_LEVELS = 50
#: Levels a natively handled categorical feature may have (HistGradientBoosting bins at most 255).
MAX_NATIVE_LEVELS = 255


def categorical_encoder(native: bool) -> BaseEstimator:
    """One-hot with rare levels grouped, or integer codes (unknown/missing → NaN) for native models."""
    if native:
        return OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan,
                              max_categories=MAX_NATIVE_LEVELS)
    return OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_ONEHOT_LEVELS, sparse_output=False)


def native_categoricals(model: Any, ctx: Any, estimator: BaseEstimator) -> bool:
    """Tell a natively categorical estimator (possibly wrapped) where the categorical columns are.

    True when it was told — the preprocessing must then give codes, not one-hot columns; False for
    models without the capability, datasets without categoricals, and estimators that replace the
    model and have no such parameter."""
    param = model.tags.get("categorical_param") if "native_categorical" in model.capabilities else None
    if not param or not ctx.categorical_columns:
        return False
    keys = [k for k in estimator.get_params(deep=True) if k == param or k.endswith(f"__{param}")]
    if not keys:
        return False
    estimator.set_params(**{key: categorical_positions(ctx) for key in keys})
    return True


def categorical_positions(ctx: Any) -> list[int]:
    """Where the encoded categorical columns sit for a native model: right after the numeric ones."""
    start = len(ctx.numeric_columns)
    return list(range(start, start + len(ctx.categorical_columns)))


class RoundCodes(TransformerMixin, BaseEstimator):
    """Round categorical codes at `positions` to the nearest integer within the range seen in `fit`."""

    def __init__(self, positions: Sequence[int] = ()) -> None:
        self.positions = positions

    def fit(self, X: Any, y: Any = None) -> "RoundCodes":
        columns = np.asarray(X, dtype=float)[:, list(self.positions)]
        self.max_code_ = np.nan_to_num(np.nanmax(np.round(columns), axis=0, initial=0.0)) if columns.size else \
            np.zeros(len(self.positions))
        return self

    def transform(self, X: Any) -> np.ndarray:
        out = np.array(X, dtype=float)
        if self.positions:
            codes = np.clip(np.round(out[:, list(self.positions)]), 0, self.max_code_)
            out[:, list(self.positions)] = codes  # NaN (missing/unknown) stays NaN
        return out


class MedianImputer(SimpleImputer):
    """SimpleImputer(strategy="median") that computes its medians one column at a time: the very same
    computation (numpy.ma's median of each column), but without sorting a masked copy of the whole
    training matrix at once, which holds 4-5 times the training fold in memory on a large dataset."""

    def _dense_fit(self, X: np.ndarray, strategy: Any, missing_values: Any, fill_value: Any) -> np.ndarray:
        if strategy != "median" or self.add_indicator or X.ndim != 2 or X.shape[1] < 2:
            return super()._dense_fit(X, strategy, missing_values, fill_value)
        return np.concatenate([super(MedianImputer, self)._dense_fit(X[:, j:j + 1], strategy, missing_values,
                                                                      fill_value) for j in range(X.shape[1])])


class LeanColumnTransformer(ColumnTransformer):
    """ColumnTransformer that does not copy the output of a single transformer to "stack" it: np.hstack
    of one array is a copy in the same layout, so the values and their order in memory are unchanged;
    only an array the transformer made itself (owned, writeable) is passed on as it is."""

    def _hstack(self, Xs: list[Any], *, n_samples: int) -> Any:
        if len(Xs) == 1 and isinstance(Xs[0], np.ndarray) and Xs[0].ndim == 2 and Xs[0].flags.owndata \
                and Xs[0].flags.writeable and type(Xs[0]) is np.ndarray:
            return Xs[0]
        return super()._hstack(Xs, n_samples=n_samples)


def make_preprocessor(numeric: Sequence[str], categorical: Sequence[str], scale: bool,
                      native_categorical: bool = False) -> ColumnTransformer:
    """Impute (median / most frequent), encode categoricals (one-hot, or codes for native models) and
    optionally scale numerics; numeric columns first."""
    numeric_steps: list[tuple[str, object]] = [
        ("impute", MedianImputer(strategy="median", keep_empty_features=native_categorical))]
    if scale:
        numeric_steps.append(("scale", StandardScaler()))
    transformers: list[tuple[str, object, list[str]]] = []
    if numeric:
        transformers.append(("num", Pipeline(numeric_steps), list(numeric)))
    if categorical:
        categorical_steps = Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("codes" if native_categorical else "onehot", categorical_encoder(native_categorical)),
        ])
        transformers.append(("cat", categorical_steps, list(categorical)))
    return LeanColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def make_imputer(numeric: Sequence[str], categorical: Sequence[str]) -> ColumnTransformer:
    """Impute only, as a DataFrame with the original column names (categories stay categories)."""
    transformers: list[tuple[str, object, list[str]]] = []
    if numeric:
        transformers.append(("num", MedianImputer(strategy="median"), list(numeric)))
    if categorical:
        transformers.append(("cat", SimpleImputer(strategy="most_frequent"), list(categorical)))
    imputer = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False)
    return imputer.set_output(transform="pandas")


def make_encoder(numeric: Sequence[str], categorical: Sequence[str], scale: bool,
                 native_categorical: bool = False) -> ColumnTransformer:
    """After `make_imputer` (and a sampler): scale numerics if asked, encode categoricals; numerics first."""
    transformers: list[tuple[str, object, list[str]]] = []
    if numeric:
        transformers.append(("num", StandardScaler() if scale else "passthrough", list(numeric)))
    if categorical:
        transformers.append(("cat", categorical_encoder(native_categorical), list(categorical)))
    return LeanColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
