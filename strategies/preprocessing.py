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
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import FLOAT_DTYPES, validate_data

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
    """SimpleImputer(strategy="median") that holds less of a large fold in memory, with the same values:

    - `fit` reads the data as it is, and computes its medians one column at a time (numpy.ma's median
      of each column, as SimpleImputer does, without sorting a masked copy of the whole training
      matrix, 4-5 times the fold at once);
    - `transform` returns data with nothing to impute as it is (converted to float if it was not)
      instead of a copy, so the fold is not held twice while the model fits on it;
    - `fit_rows` fits on some rows of a larger array, read a column at a time (never copied together).
    """

    #: The rows `fit` reads (set only while `fit_rows` runs; None: all of them).
    _rows: np.ndarray | None = None

    def fit_rows(self, X: Any, rows: np.ndarray) -> "MedianImputer":
        """Fit on `rows` of X: the statistics of `fit(X.iloc[rows])`, without that copy of the rows."""
        if self.strategy != "median" or self.add_indicator:
            raise ValueError("fit_rows supports the median strategy without indicator only")
        self._rows = np.asarray(rows)
        try:
            return self.fit(X)
        finally:
            del self._rows

    def _validate_input(self, X: Any, in_fit: bool) -> Any:
        if not (in_fit and self.copy):
            return super()._validate_input(X, in_fit)
        self.copy = False  # fitting only reads the data: validate it without SimpleImputer's copy
        try:
            return super()._validate_input(X, in_fit)
        finally:
            self.copy = True

    def transform(self, X: Any) -> Any:
        if self.copy and not self.add_indicator and self.strategy == "median" and not np.isnan(self.statistics_).any():
            checked = validate_data(self, X, reset=False, accept_sparse="csc", dtype=FLOAT_DTYPES,
                                    ensure_all_finite="allow-nan", copy=False)
            if not sp.issparse(checked) and not np.isnan(checked).any():
                return checked  # nothing to fill and no column to drop: the values as they are
        return super().transform(X)  # fills a private copy

    def _dense_fit(self, X: np.ndarray, strategy: Any, missing_values: Any, fill_value: Any) -> np.ndarray:
        rows = slice(None) if self._rows is None else self._rows
        if self._rows is None and (strategy != "median" or self.add_indicator or X.ndim != 2 or X.shape[1] < 2):
            return super()._dense_fit(X, strategy, missing_values, fill_value)
        return np.concatenate([super(MedianImputer, self)._dense_fit(X[rows, j:j + 1], strategy, missing_values,
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


class NumericSteps(TransformerMixin, BaseEstimator):
    """Median imputation, then scaling if asked, on every column of the frame: the values a
    ColumnTransformer of those steps over all columns gives, without its copy of the columns first.
    (Not a Pipeline: imbalanced-learn's pipeline refuses a nested one.)"""

    def __init__(self, scale: bool = False, keep_empty_features: bool = False) -> None:
        self.scale = scale
        self.keep_empty_features = keep_empty_features

    def _fit_imputer(self, X: Any, rows: np.ndarray | None = None) -> Any:
        """Fit the imputer (and make the scaler to fit); the imputed training values (None for `rows`)."""
        self.impute_ = MedianImputer(strategy="median", keep_empty_features=self.keep_empty_features)
        if rows is None:
            imputed = self.impute_.fit_transform(X)
        else:
            self.impute_.fit_rows(X, rows)
            imputed = None
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.impute_, name):
                setattr(self, name, getattr(self.impute_, name))
        self.scale_ = StandardScaler() if self.scale else None
        return imputed

    def fit_rows(self, X: Any, rows: np.ndarray) -> "NumericSteps":
        """Fit on `rows` of X without copying them together (imputation only: the scaler would need
        the imputed rows)."""
        if self.scale:
            raise ValueError("fit_rows imputes only; a scaling NumericSteps needs fit")
        self._fit_imputer(X, rows)
        return self

    def fit_transform(self, X: Any, y: Any = None, **params: Any) -> Any:
        imputed = self._fit_imputer(X)
        return self.scale_.fit_transform(_by_column(imputed)) if self.scale_ is not None else imputed

    def fit(self, X: Any, y: Any = None) -> "NumericSteps":
        imputed = self._fit_imputer(X)
        if self.scale_ is not None:
            self.scale_.fit(_by_column(imputed))  # no scaled copy to throw away
        return self

    def transform(self, X: Any) -> Any:
        imputed = self.impute_.transform(X)
        return self.scale_.transform(_by_column(imputed)) if self.scale_ is not None else imputed

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return self.impute_.get_feature_names_out(input_features)


def _by_column(values: Any) -> Any:
    """Column-major values for the scaler: its means and variances are sums down each column, whose
    last bits depend on the memory layout; it always gets columns contiguous, as from a frame's `iloc`,
    so a row-major fold (benchmarks/execution/fold_rows.py) is scaled to the very same numbers."""
    return np.asfortranarray(values) if isinstance(values, np.ndarray) and values.ndim == 2 else values


def make_preprocessor(numeric: Sequence[str], categorical: Sequence[str], scale: bool,
                      native_categorical: bool = False) -> BaseEstimator:
    """Impute (median / most frequent), encode categoricals (one-hot, or codes for native models) and
    optionally scale numerics; numeric columns first.

    Without categorical columns the numeric steps take the whole frame themselves (the same values
    in the same order): a ColumnTransformer would first copy every column out of it."""
    if not categorical:
        return NumericSteps(scale=scale, keep_empty_features=native_categorical)
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
