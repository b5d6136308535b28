"""Per-model preprocessing, fitted inside the training fold as the first pipeline step.

Samplers such as SMOTE need complete numeric inputs, so imputation and encoding always come first;
scaling only for models that are scale-sensitive (declared by the model).
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
