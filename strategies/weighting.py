"""Cost-sensitive training by weighting the positive class, through each model's own knob."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone

from strategies.base import InvalidParamsError, Strategy, TrainingContext, model_pipeline, register_strategy
from strategies.models import ModelSpec


class PositiveClassWeighted(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fits `estimator` with sample weights `positive_weight` for y == 1 and 1 otherwise.

    For models whose only weighting knob is `sample_weight` in `fit`; written here because a
    pipeline cannot route a weight that depends on the training fold's labels by itself.
    """

    def __init__(self, estimator: ClassifierMixin, positive_weight: float = 1.0) -> None:
        self.estimator = estimator
        self.positive_weight = positive_weight

    def fit(self, X: Any, y: Any) -> "PositiveClassWeighted":
        y = np.asarray(y)
        weights = np.where(y == 1, self.positive_weight, 1.0)
        self.estimator_ = clone(self.estimator).fit(X, y, sample_weight=weights)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        return self.estimator_.predict(X)


def positive_weight(ratio: Any, ctx: TrainingContext) -> float:
    """`"balanced"` → n_neg / n_pos of the training fold; a number → that cost ratio."""
    if ratio == "balanced":
        return ctx.n_neg / max(ctx.n_pos, 1)
    try:
        value = float(ratio)
    except (TypeError, ValueError):
        raise InvalidParamsError(f"class-weight ratio must be 'balanced' or a positive number, got {ratio!r}") from None
    if value <= 0:
        raise InvalidParamsError(f"class-weight ratio must be positive, got {value}")
    return value


def weighted_estimator(model: ModelSpec, weight: float, seed: int) -> ClassifierMixin:
    """The model with its positive class weighted by `weight`, using the model's declared knob."""
    estimator = model.make(seed)
    if model.weight_knob == "class_weight":
        return estimator.set_params(class_weight={0: 1.0, 1: weight})
    if model.weight_knob == "scale_pos_weight":
        return estimator.set_params(scale_pos_weight=weight)
    return PositiveClassWeighted(estimator, weight)


@register_strategy
class ClassWeight(Strategy):
    name = "class-weight"
    family = "weighting"
    description = "weight positives by n_neg/n_pos (or a cost ratio) via class_weight, scale_pos_weight or sample_weight"
    defaults = {"ratio": "balanced"}

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        positive_weight(params["ratio"], ctx)  # raises on a malformed ratio
        return super().check(model, params, ctx)

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        weight = positive_weight(params["ratio"], ctx)
        return model_pipeline(model, ctx, weighted_estimator(model, weight, seed))
