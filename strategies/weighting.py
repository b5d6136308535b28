"""Cost-sensitive training by weighting the positive class, through each model's own knob.

`ratio` is the cost of missing a positive relative to a false alarm: "balanced" means n_neg/n_pos of
the training fold. `knob` picks how the weight reaches the model: "auto" uses the model's declared
`weight_knob`; "class_weight", "sample_weight", "scale_pos_weight" (XGBoost, LightGBM) or
"is_unbalance" (LightGBM's own balanced weighting, only with ratio = "balanced") name one explicitly,
and a model without that knob gives a skipped cell saying which knobs it has.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone

from imbench.foundation.params import Param, Requires, Uniform
from imbench.strategies.base import (Strategy, TrainingContext, fitted_step, model_pipeline,
                             register_strategy)
from imbench.strategies.models import ModelSpec

KNOBS = ("auto", "class_weight", "sample_weight", "scale_pos_weight", "is_unbalance")


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
    return ctx.n_neg / max(ctx.n_pos, 1) if ratio == "balanced" else float(ratio)


def weighted_estimator(model: ModelSpec, weight: float, seed: int, knob: str = "auto") -> ClassifierMixin:
    """The model with its positive class weighted by `weight`, through `knob` (auto: the model's own)."""
    estimator = model.make(seed)
    knob = model.weight_knob if knob == "auto" else knob
    if knob == "class_weight":
        return estimator.set_params(class_weight={0: 1.0, 1: weight})
    if knob == "scale_pos_weight":
        return estimator.set_params(scale_pos_weight=weight)
    if knob == "is_unbalance":
        return estimator.set_params(is_unbalance=True)
    return PositiveClassWeighted(estimator, weight)


def fitted_positive_weight(model_step: Any, y: np.ndarray) -> float:
    """The positive weight a fitted model step really used (read back from its knob)."""
    if isinstance(model_step, PositiveClassWeighted):
        return float(model_step.positive_weight)
    params = model_step.get_params()
    if params.get("is_unbalance"):
        n_pos = int(np.sum(y == 1))
        return (len(y) - n_pos) / max(n_pos, 1)
    if isinstance(params.get("class_weight"), dict):
        return float(params["class_weight"][1]) / float(params["class_weight"].get(0, 1.0))
    if params.get("scale_pos_weight") is not None:
        return float(params["scale_pos_weight"])
    return 1.0


@register_strategy
class ClassWeight(Strategy):
    name = "class-weight"
    family = "weighting"
    description = "weight positives by n_neg/n_pos or a cost ratio through the model's weighting knob"
    parameters = (Param("ratio", float, "balanced", low=0.0, low_open=True, also=("balanced",), search=Uniform(1.0, 100.0, log=True),
                    doc="cost of a missed positive in false alarms (balanced: n_neg/n_pos of the fold)"),
              Param("knob", str, "auto", options=KNOBS, doc="how the weight reaches the model (auto: its own knob)"))
    rules = (Requires("knob", "is_unbalance", {"ratio": "balanced"},
                      "LightGBM's is_unbalance weights by n_neg/n_pos only; use knob = \"scale_pos_weight\" for a cost ratio"),)
    shifts_prior = True
    prior_rule = "weights"

    def supports(self, model: ModelSpec, params: dict[str, Any]) -> tuple[bool, str]:
        knob = params["knob"]
        if knob != "auto" and knob not in model.capabilities:
            knobs = sorted(set(model.capabilities) & set(KNOBS))
            return False, f"model {model.name!r} has no {knob} knob (it has {', '.join(knobs)})"
        return super().supports(model, params)

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        weight = positive_weight(params["ratio"], ctx)
        return model_pipeline(model, ctx, weighted_estimator(model, weight, seed, params["knob"]))

    def training_prior(self, fitted: BaseEstimator, params: dict[str, Any], y: np.ndarray) -> float | None:
        """A positive weight w acts like w-fold duplication of the positives: π' = wπ / (wπ + 1 − π)."""
        y = np.asarray(y)
        prior = float(np.mean(y == 1))
        weight = fitted_positive_weight(fitted_step(fitted, "model"), y)
        return weight * prior / (weight * prior + 1 - prior)
