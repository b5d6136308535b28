"""Per-model preprocessing, fitted inside the training fold as the first pipeline step(s).

Samplers such as SMOTE need complete numeric inputs, so imputation and encoding normally come first;
scaling only for models that are scale-sensitive (declared by the model).

Samplers that handle categorical features themselves (SMOTENC, SMOTEN) must see the categories, not
their one-hot columns — SMOTE on one-hot columns interpolates "0.3 of red and 0.7 of blue". For them
the preprocessing is split in two: `make_imputer` (impute only, keep column names) before the sampler
and `make_encoder` (scale, one-hot) after it; `make_preprocessor` is the two in one step.
"""
from __future__ import annotations

from collections.abc import Sequence

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def make_preprocessor(numeric: Sequence[str], categorical: Sequence[str], scale: bool) -> ColumnTransformer:
    """Impute (median / most frequent), one-hot categoricals and optionally scale numerics."""
    numeric_steps: list[tuple[str, object]] = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        numeric_steps.append(("scale", StandardScaler()))
    transformers: list[tuple[str, object, list[str]]] = []
    if numeric:
        transformers.append(("num", Pipeline(numeric_steps), list(numeric)))
    if categorical:
        categorical_steps = Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ])
        transformers.append(("cat", categorical_steps, list(categorical)))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def make_imputer(numeric: Sequence[str], categorical: Sequence[str]) -> ColumnTransformer:
    """Impute only, as a DataFrame with the original column names (categories stay categories)."""
    transformers: list[tuple[str, object, list[str]]] = []
    if numeric:
        transformers.append(("num", SimpleImputer(strategy="median"), list(numeric)))
    if categorical:
        transformers.append(("cat", SimpleImputer(strategy="most_frequent"), list(categorical)))
    imputer = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False)
    return imputer.set_output(transform="pandas")


def make_encoder(numeric: Sequence[str], categorical: Sequence[str], scale: bool) -> ColumnTransformer:
    """After `make_imputer` (and a sampler): scale numerics if asked, one-hot categoricals."""
    transformers: list[tuple[str, object, list[str]]] = []
    if numeric:
        transformers.append(("num", StandardScaler() if scale else "passthrough", list(numeric)))
    if categorical:
        transformers.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(categorical)))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
