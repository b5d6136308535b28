"""`none`: the model as it comes — the baseline every other strategy is compared with."""
from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator

from imbench.strategies.base import Strategy, TrainingContext, model_pipeline, register_strategy
from imbench.strategies.models import ModelSpec


@register_strategy
class NoStrategy(Strategy):
    name = "none"
    family = "none"
    description = "train on the data as it is (the baseline)"

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        return model_pipeline(model, ctx, model.make(seed))
