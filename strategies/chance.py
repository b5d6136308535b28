"""Chance as rows: the models `prior` and `random` (family `baseline`), reference rows of every board.

A practitioner's first yardstick is what no learning gives. Prevalence is AP's value for a constant
score, but on folds with few positives a *random ranking* scores well above it on average (its exact
expectation is `foundation.metrics.expected_random_ap`), so both are rows a board shows below its
ranked strategies, never ranked or tested:

- `prior`: every row scored with the training fold's prevalence — the all-negative classifier at any
  threshold above it (scikit-learn's `DummyClassifier(strategy="prior")`);
- `random`: seeded uniform scores, independent of the features.

They take strategy `none` only (`Strategy.can_exist`: any other combination is never enumerated),
and their cells are stored with family `baseline`, so analysis knows them without this registry. A
constant score is what `prior` is for, so its cells are not flagged degenerate.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.utils.validation import check_is_fitted

from imbench.strategies.models import BASELINE_FAMILY, ModelSpec, register_model


class RandomScorer(ClassifierMixin, BaseEstimator):
    """Uniform random scores in [0, 1), seeded: the same rows in the same order get the same scores
    (a fresh generator per call), so a prediction can be repeated exactly."""

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> "RandomScorer":
        self.classes_ = np.unique(np.asarray(y))
        self.n_features_in_ = np.shape(X)[1] if np.ndim(X) == 2 else 1
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "classes_")
        scores = np.random.default_rng(self.random_state).random(len(X))
        return np.column_stack([1 - scores, scores])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _prior(seed: int) -> ClassifierMixin:
    return DummyClassifier(strategy="prior")


def _random(seed: int) -> ClassifierMixin:
    return RandomScorer(random_state=seed)


#: The chance models: `imbench list models` shows them; a grid adds them like any model.
CHANCE_MODELS = ("prior", "random")

register_model(ModelSpec(
    "prior", _prior, frozenset(), "", False,
    "chance reference: every row scored with the training prevalence (strategy none only)",
    family=BASELINE_FAMILY))
register_model(ModelSpec(
    "random", _random, frozenset(), "", False,
    "chance reference: seeded uniform random scores (strategy none only)", family=BASELINE_FAMILY))
