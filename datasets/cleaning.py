"""The checks and clean-ups every loaded dataset goes through, whatever its source.

Rules (documented in README, "Datasets"):
- column names become strings; duplicated names are an error;
- declared categorical columns become pandas `category` with string labels; text columns that were not
  declared are numeric when every non-missing value parses as a number, categorical when fewer than half
  do, and an error ("unparseable numbers", with an example) in between, since a mostly numeric column
  with a few bad entries is almost always a data error;
- boolean columns become 0/1 numbers;
- infinite values are an error naming the column (replace them or drop the column with `drop=[...]`);
- columns with fewer than two distinct non-missing values (all-NaN or constant) are dropped with a notice;
- a categorical column with more than HIGH_CARDINALITY levels: dropped with a notice when its levels
  exceed ID_LIKE_SHARE of the rows (an identifier: it can only memorise rows); otherwise kept with a
  notice, and the encoders keep its most frequent levels and group the rest as "infrequent", learned on
  the training fold (strategies/preprocessing.py);
- missing feature values are kept: they are imputed inside the pipeline, fitted on the training fold.

Notices are stored with the dataset's metadata (and so with the run) and logged once per process on
the main process only, so parallel workers do not repeat them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from imbench.datasets.base import Dataset, DatasetError
from imbench.datasets.targets import class_label
# notices live in foundation so the CLI can hold them without importing the dataset sources
from imbench.foundation.notices import emit_notices, hold_notices, quiet_notices, release_notices  # noqa: F401

HIGH_CARDINALITY = 50
ID_LIKE_SHARE = 0.5
NUMERIC_SHARE = 0.5



def _as_category(column: pd.Series) -> pd.Series:
    """Categorical with string labels (1.0 and 1 are one level), missing stays missing."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = [class_label(c) for c in column.cat.categories]
        if categories == list(column.cat.categories):
            return column
        if len(set(categories)) == len(categories):
            return column.cat.rename_categories(categories)
    values = column.astype(object)
    labels = values.where(values.isna(), values.map(class_label))
    return labels.astype("category")


def _parse_text(column: pd.Series, name: str, col: str) -> tuple[pd.Series, bool]:
    """(column, is_categorical) for a text column by the numeric-share rule."""
    present = column.notna()
    n_present = int(present.sum())
    parsed = pd.to_numeric(column.where(present, None), errors="coerce")
    ok = parsed.notna()
    n_ok = int(ok.sum())
    if n_ok == n_present:
        return parsed.astype("float64"), False
    if n_present and n_ok / n_present >= NUMERIC_SHARE:
        bad = present & ~ok
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DatasetError(f"dataset {name!r}: column {col!r} has {int(bad.sum())} values that are not numbers "
                           f"(e.g. {column.iloc[row]!r} in row {row}) among {n_ok} numbers; fix them, leave them "
                           f"empty to be imputed, or declare the column categorical")
    return _as_category(column), True


def clean(dataset: Dataset) -> tuple[Dataset, list[str]]:
    """The dataset after the module's rules, and the notices to report."""
    name = dataset.name
    X = dataset.X
    X.columns = [str(c) for c in X.columns]
    if X.columns.duplicated().any():
        duplicated = sorted(set(X.columns[X.columns.duplicated()]))
        raise DatasetError(f"dataset {name!r}: duplicated column names {duplicated}")
    declared = [str(c) for c in dataset.categorical]
    unknown = [c for c in declared if c not in X.columns]
    if unknown:
        raise DatasetError(f"dataset {name!r}: categorical column(s) {unknown} not found; columns: "
                           f"{list(X.columns)[:20]}")
    notices: list[str] = []
    categorical: list[str] = []
    converted: dict[str, pd.Series] = {}
    for col in X.columns:
        column = X[col]
        if col in declared or isinstance(column.dtype, pd.CategoricalDtype):
            new = _as_category(column)
            categorical.append(col)
        elif ptypes.is_bool_dtype(column.dtype):
            new = column.astype("float64")
        elif ptypes.is_numeric_dtype(column.dtype):
            new = column if isinstance(column.dtype, np.dtype) else column.astype("float64")
        else:
            new, is_categorical = _parse_text(column, name, col)
            if is_categorical:
                categorical.append(col)
                notices.append(f"text column {col!r} read as categorical")
        if new is not column:
            converted[col] = new
    if converted:
        X = X.assign(**converted)
    numeric = [c for c in X.columns if c not in set(categorical)]
    if numeric:
        values = X[numeric]
        infinite = [c for c in numeric if np.isinf(values[c].to_numpy(dtype=float, na_value=np.nan)).any()]
        if infinite:
            col = infinite[0]
            count = int(np.isinf(values[col].to_numpy(dtype=float, na_value=np.nan)).sum())
            raise DatasetError(f"dataset {name!r}: column {col!r} has {count} infinite values"
                               f"{f' (and {len(infinite) - 1} more columns)' if len(infinite) > 1 else ''}; "
                               "replace them (e.g. leave them empty to be imputed) or drop the column")
    drop: list[str] = []
    empty: list[str] = []
    constant: list[str] = []
    for col in X.columns:
        column = X[col]
        if col in categorical:
            levels = int(column.nunique(dropna=True))
        else:
            data = column.to_numpy(dtype=float, na_value=np.nan)
            present = data[~np.isnan(data)]
            levels = 0 if present.size == 0 else 1 if present.min() == present.max() else 2
        if levels == 0:
            empty.append(col)
        elif levels == 1:
            constant.append(col)
        elif col in categorical and levels > HIGH_CARDINALITY:
            if levels > ID_LIKE_SHARE * len(X):
                drop.append(col)
                notices.append(f"dropped categorical column {col!r}: {levels} levels in {len(X)} rows looks like "
                               "an identifier")
            else:
                notices.append(f"categorical column {col!r} has {levels} levels; encoders keep the "
                               f"{HIGH_CARDINALITY - 1} most frequent (per training fold) and group the rest")
    for kind, columns in (("all-missing", empty), ("constant", constant)):
        if columns:
            shown = ", ".join(repr(c) for c in columns[:10]) + (", …" if len(columns) > 10 else "")
            notices.append(f"dropped {len(columns)} {kind} column{'s' if len(columns) > 1 else ''}: {shown}")
    drop += empty + constant
    if drop:
        X = X.drop(columns=drop)
        categorical = [c for c in categorical if c not in set(drop)]
    if X.shape[1] == 0:
        raise DatasetError(f"dataset {name!r}: no usable feature column left ({'; '.join(notices)})")
    dataset.X = X
    dataset.categorical = categorical
    return dataset, notices


def check_cv_positives(name: str, n_pos: int, n_splits: int) -> None:
    """Stratified k-fold needs a positive in every test fold: at least k positives."""
    if n_pos < n_splits:
        raise DatasetError(f"dataset {name!r} has {n_pos} positives; stratified {n_splits}-fold CV needs at least "
                           f"{n_splits} (one per test fold): lower n_splits to {max(n_pos, 2)} or leave the "
                           "dataset out")
