"""`leaky-smote`: the classic mistake, kept to measure it — SMOTE on the whole dataset, then split.

Synthetic positives interpolated from test-fold positives end up in the training data, so the model
has effectively seen the test positives' neighbourhoods. The cell reproduces a notebook that runs
`SMOTE().fit_resample(X, y)` before cross-validation: the whole dataset (median-imputed on all rows,
also part of the mistake) is resampled, each synthetic row falls in the training part with the fold's
training share (as a split of the resampled data would put it), and the model is scored on the
*original* test rows of the fold — the same rows in-fold `smote` is scored on, so the two pair up
fold by fold (`imbench leakage RESULTS`).

It is declared `anti_pattern` (flagged in every cell's `extra`, left out of leaderboards unless asked
for) and is the only kind of strategy the runner lets see test rows (`uses_full_dataset`, which
`register_strategy` refuses for anything that is not an anti-pattern).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE
from sklearn.base import BaseEstimator

from imbench.strategies.base import Strategy, TrainingContext, model_pipeline, register_strategy
from imbench.strategies.resampling import neighbours, sampling_ratio
from imbench.strategies.models import ModelSpec


@register_strategy
class LeakySmote(Strategy):
    name = "leaky-smote"
    family = "oversampling"
    description = "SMOTE on the whole dataset before splitting, so test positives leak into training"
    parameters = (sampling_ratio(), neighbours())
    anti_pattern = True
    uses_full_dataset = True
    #: The training rows are partly synthetic from the whole dataset: no prior to correct from.
    shifts_prior = None

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        if ctx.categorical_columns:
            return False, "leaky-smote demonstrates the leak on numeric datasets only (this one has categorical columns)"
        k = params["k_neighbors"]
        if ctx.n_pos <= k:  # the same rule as in-fold smote, so the two skip on the same cells
            return False, (f"SMOTE with k_neighbors={k} needs at least {k + 1} positives in the training fold, "
                           f"found {ctx.n_pos}")
        if ctx.n_neg and ctx.n_pos / ctx.n_neg > params["sampling_ratio"]:
            return False, f"the data already has minority/majority > sampling_ratio {params['sampling_ratio']:g}"
        return super().check(model, params, ctx)

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        return model_pipeline(model, ctx, model.make(seed))

    def training_data(self, X: pd.DataFrame, y: np.ndarray, train: np.ndarray, params: dict[str, Any], seed: int
                      ) -> tuple[pd.DataFrame, np.ndarray]:
        filled = X.fillna(X.median(numeric_only=True))
        smote = SMOTE(sampling_strategy=params["sampling_ratio"], k_neighbors=params["k_neighbors"],
                      random_state=seed)
        X_all, y_all = smote.fit_resample(filled, y)
        synthetic, y_synthetic = X_all.iloc[len(X):], np.asarray(y_all)[len(X):]
        in_training = np.random.default_rng(seed).random(len(synthetic)) < len(train) / len(y)
        X_fit = pd.concat([X.iloc[train], synthetic.iloc[np.flatnonzero(in_training)]], ignore_index=True)
        y_fit = np.concatenate([np.asarray(y)[train], y_synthetic[in_training]]).astype(np.int8)
        return X_fit, y_fit
