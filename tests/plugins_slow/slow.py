"""Test plugin: a strategy whose fit sleeps first (loaded with --plugins), so a run lasts as long
as a test needs it to (kill -9 and concurrency tests) without heavy computation."""
from __future__ import annotations

import time
from typing import Any

from sklearn.base import BaseEstimator

from imbench.foundation.params import Param
from imbench.strategies import ModelSpec, Strategy, TrainingContext, register_strategy
from imbench.strategies.base import model_pipeline


class Sleepy(BaseEstimator):
    """Sleeps `seconds`, then fits and predicts like the estimator it wraps."""

    def __init__(self, estimator: Any = None, seconds: float = 0.2) -> None:
        self.estimator = estimator
        self.seconds = seconds

    def fit(self, X: Any, y: Any) -> "Sleepy":
        time.sleep(self.seconds)
        self.estimator_ = self.estimator.fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: Any) -> Any:
        return self.estimator_.predict_proba(X)


@register_strategy
class SleepThenFit(Strategy):
    name = "test-sleep"
    family = "none"
    description = "test only: sleeps `seconds` before fitting the model"
    parameters = (Param("seconds", float, 0.2, low=0.0, doc="how long to sleep"),)

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        return model_pipeline(model, ctx, Sleepy(model.make(seed), params["seconds"]))
