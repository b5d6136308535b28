"""Fitting a LightGBM pipeline on some rows of a large frame without copying those rows together.

A pipeline `NumericSteps (imputation only) → [RandomUnderSampler | RandomOverSampler → ClassCounter]
→ LGBMClassifier` is fitted step by step, each step as imbalanced-learn's Pipeline fits it, but from
the rows rather than from a copy of them:

- the imputer reads its medians one column of the training rows at a time (`NumericSteps.fit_rows`);
- random under- and over-sampling choose their rows from the labels alone (imbalanced-learn draws
  them from the class counts; the feature values are only indexed), so they are fitted on a stand-in
  without values and their `sample_indices_` pick the rows the model trains on;
- LightGBM reads those rows in batches, imputed by the fitted step (strategies/lgbm_rows.py).

The fitted pipeline is the same object, with the same fitted steps, as `pipeline.fit(X.iloc[rows], y)`
gives, and predicts the same probabilities (tests/test_lgbm_rows.py). Any other pipeline is not
`fits_from_rows` and is fitted as usual.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from lightgbm import LGBMClassifier

from imbench.strategies.base import ClassCounter
from imbench.strategies.lgbm_rows import TrainingRows, dataset_from_rows
from imbench.strategies.preprocessing import NumericSteps


def _chooses_rows_by_label(step: Any) -> bool:
    """A sampler whose output rows are input rows picked from the labels alone."""
    if isinstance(step, RandomOverSampler):
        return step.shrinkage is None  # with shrinkage it makes new, perturbed rows
    return isinstance(step, RandomUnderSampler)


def fits_from_rows(estimator: Any) -> bool:
    """Whether `fit_from_rows` can fit this estimator."""
    steps = [step for _, step in getattr(estimator, "steps", [])]
    if len(steps) < 2 or not isinstance(steps[0], NumericSteps) or steps[0].scale:
        return False
    if not isinstance(steps[-1], LGBMClassifier):
        return False
    middle = steps[1:-1]
    return middle == [] or (len(middle) == 2 and _chooses_rows_by_label(middle[0]) and isinstance(middle[1], ClassCounter))


def fit_from_rows(estimator: Any, X: pd.DataFrame, rows: np.ndarray, y: np.ndarray) -> Any:
    """Fit `estimator` (one that `fits_from_rows`) on `rows` of X with labels `y` (one per row)."""
    steps = [step for _, step in estimator.steps]
    prep, model = steps[0], steps[-1]
    prep.fit_rows(X, rows)
    y = np.asarray(y)
    if len(steps) == 4:
        sampler, counter = steps[1], steps[2]
        stand_in = np.broadcast_to(np.zeros(1), (len(rows), 1))  # the sampler reads only the labels
        sampler.fit_resample(stand_in, y)
        chosen = sampler.sample_indices_
        rows, y = rows[chosen], y[chosen]
        counter.fit(None, y)
    values, columns = X.to_numpy(copy=False), X.columns  # a view of a one-block frame (else one copy)

    def read(batch: np.ndarray) -> np.ndarray:
        return prep.transform(pd.DataFrame(values[batch], columns=columns, copy=False))

    n_columns = read(rows[:1]).shape[1]  # the imputer drops columns empty in training (unless it keeps them)
    with dataset_from_rows(TrainingRows(read, rows, n_columns)) as placeholder:
        model.fit(placeholder, y)
    return estimator
